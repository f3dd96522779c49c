#include "schakel/peer/directory_announce.h"

#include "schakel/crypto/directory.h"
#include "tagged_payload.h"

namespace schakel::peer {
namespace {

using peer_internal::EncodeTagged;
using peer_internal::IsTagged;
using peer_internal::TaggedBody;
using peer_internal::TaggedWord;

constexpr std::string_view kDirectoryMagic = "SCHD";
constexpr const char* kDirectoryWhat = "directory announcement";

}  // namespace

bool IsDirectoryAnnouncement(std::string_view payload) { return IsTagged(payload, kDirectoryMagic); }

std::string EncodeDirectoryAnnouncement(std::string_view directory_json) {
  return EncodeTagged(kDirectoryMagic, directory_json);
}

Result<std::string_view> DirectoryAnnouncementJson(std::string_view payload) {
  return TaggedBody(payload, kDirectoryMagic, crypto::kMaxDirectoryBytes, kDirectoryWhat, "directory");
}

std::string EncodeDirectoryAnswer(std::string_view word) { return EncodeTagged(kDirectoryMagic, word); }

Result<std::string_view> ParseDirectoryAnswer(std::string_view payload) {
  return TaggedWord(payload, kDirectoryMagic, {kDirectoryTaken, kDirectoryHeld, kDirectoryUnknown}, kDirectoryWhat);
}

}  // namespace schakel::peer
