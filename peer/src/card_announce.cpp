#include "schakel/peer/card_announce.h"

#include "schakel/crypto/node_card.h"
#include "tagged_payload.h"

namespace schakel::peer {
namespace {

using peer_internal::EncodeTagged;
using peer_internal::IsTagged;
using peer_internal::TaggedBody;
using peer_internal::TaggedWord;

constexpr std::string_view kCardMagic = "SCHA";
constexpr const char* kCardWhat = "card announcement";

}  // namespace

bool IsCardAnnouncement(std::string_view payload) { return IsTagged(payload, kCardMagic); }

std::string EncodeCardAnnouncement(std::string_view card_json) { return EncodeTagged(kCardMagic, card_json); }

Result<std::string_view> CardAnnouncementJson(std::string_view payload) {
  return TaggedBody(payload, kCardMagic, crypto::kMaxNodeCardBytes, kCardWhat, "card");
}

std::string EncodeCardAnswer(std::string_view word) { return EncodeTagged(kCardMagic, word); }

Result<std::string_view> ParseCardAnswer(std::string_view payload) {
  return TaggedWord(payload, kCardMagic, {kCardTaken, kCardHeld}, kCardWhat);
}

}  // namespace schakel::peer
