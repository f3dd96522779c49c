// The partner directory: nodes whose signed cards an admin imported after
// comparing fingerprints out of band. The daemon dials and accepts only these,
// with the TLS pin and keys stored here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct Partner {
  crypto::NodeCard card;  // verified when it was imported
  std::string card_json;  // as received, for re-verification and export
  std::string added;      // RFC 3339
  std::string updated;    // RFC 3339
  // Where the card came from: "" when an administrator imported it by hand
  // (partner add), "directory:REGION" when a trusted regional directory
  // brought it (docs/region.md). A directory never touches the first kind.
  std::string source;
  // The TLS pin of the partner's previous card, still accepted until
  // previous_tls_until (RFC 3339), when the newer card came over the peer
  // channel (docs/region.md "Card updates"); empty: none.
  std::optional<std::array<uint8_t, 32>> previous_tls_spki;
  std::string previous_tls_until;
  // The `created` of this node's own card that the partner confirmed
  // holding; "" until it has.
  std::string card_acked;

  // Whether `pin` is the partner's: its card's, or its previous one until
  // previous_tls_until has passed.
  bool AcceptsPin(const std::array<uint8_t, 32>& pin, const std::string& now_rfc3339) const;
};

// The source of a partner a regional directory brought.
std::string DirectorySource(const std::string& region);

Result<std::optional<Partner>> FindPartner(Database& db, const std::string& node_id);
Result<std::vector<Partner>> ListPartners(Database& db);
// kDenied, naming the other partner, when another partner (a different node
// id) already uses the card's TLS pin (tls_spki_sha256) or identity key
// (sign_pk): two partners with one pin or one key would make it ambiguous
// which partner a connection or a signature comes from.
Status CheckCardKeysUnique(Database& db, const crypto::NodeCard& card);
// Inserts a new partner; kAlreadyExists if the node id is known; kDenied as
// CheckCardKeysUnique.
Status InsertPartner(Database& db, const Partner& partner);
// Replaces a known partner's card (a signed rotation), keeping its source; kNotFound if unknown;
// kDenied as CheckCardKeysUnique.
Status UpdatePartnerCard(Database& db, const Partner& partner);
// After a newer card came from the partner itself: keeps `pin` (its old
// card's) accepted until `until`. kNotFound if unknown.
Status SetPreviousPin(Database& db, const std::string& node_id, const std::array<uint8_t, 32>& pin,
                      const std::string& until);
// The partner confirmed holding this node's card of `created`.
Status SetCardAcked(Database& db, const std::string& node_id, const std::string& created);
// kNotFound if unknown.
Status RemovePartner(Database& db, const std::string& node_id);

}  // namespace schakel::store
