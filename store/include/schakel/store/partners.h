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
// kNotFound if unknown.
Status RemovePartner(Database& db, const std::string& node_id);

}  // namespace schakel::store
