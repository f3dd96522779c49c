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
};

Result<std::optional<Partner>> FindPartner(Database& db, const std::string& node_id);
Result<std::vector<Partner>> ListPartners(Database& db);
// Inserts a new partner; kAlreadyExists if the node id is known.
Status InsertPartner(Database& db, const Partner& partner);
// Replaces a known partner's card (a signed rotation); kNotFound if unknown.
Status UpdatePartnerCard(Database& db, const Partner& partner);
// kNotFound if unknown.
Status RemovePartner(Database& db, const std::string& node_id);

}  // namespace schakel::store
