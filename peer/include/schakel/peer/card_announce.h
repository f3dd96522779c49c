// A partner's newer node card, sent by the partner itself over the peer
// channel after `schakel node rotate-keys` (peer protocol 6; docs/region.md
// "Card updates", docs/peer-protocol.md).
//
// Request (DELIVER payload): "SCHA", one version byte 0x01, then the card's
// JSON as node-card.json holds it (at most crypto::kMaxNodeCardBytes).
// Answer (RESPONSE payload): "SCHA", 0x01, then "taken" (the card replaced
// the one held) or "held" (it is the card held already). A refusal is a
// FAILURE with the recipient's Status.
//
// Thread-safety: pure functions. Errors: kInvalidInput naming what is wrong.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::peer {

inline constexpr std::string_view kCardTaken = "taken";
inline constexpr std::string_view kCardHeld = "held";

bool IsCardAnnouncement(std::string_view payload);
std::string EncodeCardAnnouncement(std::string_view card_json);
// The card's JSON inside an announcement (not yet parsed or verified).
Result<std::string_view> CardAnnouncementJson(std::string_view payload);
std::string EncodeCardAnswer(std::string_view word);
// kCardTaken or kCardHeld; kInvalidInput for anything else.
Result<std::string_view> ParseCardAnswer(std::string_view payload);

}  // namespace schakel::peer
