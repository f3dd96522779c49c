#include "schakel/peer/directory_announce.h"

#include "schakel/crypto/directory.h"

namespace schakel::peer {
namespace {

constexpr std::string_view kMagic = "SCHD";
constexpr char kVersion = 0x01;

}  // namespace

bool IsDirectoryAnnouncement(std::string_view payload) { return payload.substr(0, kMagic.size()) == kMagic; }

std::string EncodeDirectoryAnnouncement(std::string_view directory_json) {
  std::string out(kMagic);
  out.push_back(kVersion);
  out.append(directory_json);
  return out;
}

Result<std::string_view> DirectoryAnnouncementJson(std::string_view payload) {
  if (!IsDirectoryAnnouncement(payload) || payload.size() < kMagic.size() + 1) {
    return Status::InvalidInput("directory announcement: not one");
  }
  if (payload[kMagic.size()] != kVersion) {
    return Status::InvalidInput("directory announcement: unsupported version " +
                                std::to_string(static_cast<unsigned char>(payload[kMagic.size()])));
  }
  std::string_view json = payload.substr(kMagic.size() + 1);
  if (json.size() > crypto::kMaxDirectoryBytes) {
    return Status::InvalidInput("directory announcement: the directory is larger than " +
                                std::to_string(crypto::kMaxDirectoryBytes) + " bytes");
  }
  return json;
}

std::string EncodeDirectoryAnswer(std::string_view word) {
  std::string out(kMagic);
  out.push_back(kVersion);
  out.append(word);
  return out;
}

Result<std::string_view> ParseDirectoryAnswer(std::string_view payload) {
  if (payload.size() > kMagic.size() + 1 && payload.substr(0, kMagic.size()) == kMagic &&
      payload[kMagic.size()] == kVersion) {
    std::string_view word = payload.substr(kMagic.size() + 1);
    if (word == kDirectoryTaken) return kDirectoryTaken;
    if (word == kDirectoryHeld) return kDirectoryHeld;
    if (word == kDirectoryUnknown) return kDirectoryUnknown;
  }
  return Status::InvalidInput("directory announcement: the partner's answer is not one");
}

}  // namespace schakel::peer
