#include "schakel/peer/directory_announce.h"

#include "schakel/crypto/directory.h"
#include "tagged_payload.h"

namespace schakel::peer {
namespace {

using peer_internal::EncodeTagged;
using peer_internal::IsTagged;
using peer_internal::TaggedBody;
using peer_internal::TaggedWord;

constexpr std::string_view kMagic = "SCHD";
constexpr const char* kWhat = "directory announcement";

}  // namespace

bool IsDirectoryAnnouncement(std::string_view payload) { return IsTagged(payload, kMagic); }

std::string EncodeDirectoryAnnouncement(std::string_view directory_json) {
  return EncodeTagged(kMagic, directory_json);
}

Result<std::string_view> DirectoryAnnouncementJson(std::string_view payload) {
  return TaggedBody(payload, kMagic, crypto::kMaxDirectoryBytes, kWhat, "directory");
}

std::string EncodeDirectoryAnswer(std::string_view word) { return EncodeTagged(kMagic, word); }

Result<std::string_view> ParseDirectoryAnswer(std::string_view payload) {
  return TaggedWord(payload, kMagic, {kDirectoryTaken, kDirectoryHeld, kDirectoryUnknown}, kWhat);
}

}  // namespace schakel::peer
