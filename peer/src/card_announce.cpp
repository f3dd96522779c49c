#include "schakel/peer/card_announce.h"

#include "schakel/crypto/node_card.h"

namespace schakel::peer {
namespace {

constexpr std::string_view kMagic = "SCHA";
constexpr char kVersion = 0x01;

}  // namespace

bool IsCardAnnouncement(std::string_view payload) { return payload.substr(0, kMagic.size()) == kMagic; }

std::string EncodeCardAnnouncement(std::string_view card_json) {
  std::string out(kMagic);
  out.push_back(kVersion);
  out.append(card_json);
  return out;
}

Result<std::string_view> CardAnnouncementJson(std::string_view payload) {
  if (!IsCardAnnouncement(payload) || payload.size() < kMagic.size() + 1) {
    return Status::InvalidInput("card announcement: not one");
  }
  if (payload[kMagic.size()] != kVersion) {
    return Status::InvalidInput("card announcement: unsupported version " +
                                std::to_string(static_cast<unsigned char>(payload[kMagic.size()])));
  }
  std::string_view json = payload.substr(kMagic.size() + 1);
  if (json.size() > crypto::kMaxNodeCardBytes) {
    return Status::InvalidInput("card announcement: the card is larger than " +
                                std::to_string(crypto::kMaxNodeCardBytes) + " bytes");
  }
  return json;
}

std::string EncodeCardAnswer(std::string_view word) {
  std::string out(kMagic);
  out.push_back(kVersion);
  out.append(word);
  return out;
}

Result<std::string_view> ParseCardAnswer(std::string_view payload) {
  if (payload.size() > kMagic.size() + 1 && payload.substr(0, kMagic.size()) == kMagic &&
      payload[kMagic.size()] == kVersion) {
    std::string_view word = payload.substr(kMagic.size() + 1);
    if (word == kCardTaken) return kCardTaken;
    if (word == kCardHeld) return kCardHeld;
  }
  return Status::InvalidInput("card announcement: the partner's answer is not one");
}

}  // namespace schakel::peer
