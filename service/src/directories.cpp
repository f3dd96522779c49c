#include "schakel/service/directories.h"

#include <algorithm>
#include <optional>
#include <set>

#include "schakel/crypto/node_card.h"
#include "schakel/service/partner_address.h"
#include "schakel/store/partners.h"

namespace schakel::service {

Result<DirectoryChanges> ApplyDirectory(const DirectoryContext& ctx, const store::RegionDirectory& trusted,
                                        const crypto::Directory& dir) {
  DirectoryChanges out;
  store::Database& db = ctx.db;
  const std::string source = store::DirectorySource(dir.region);
  const std::string reason = "directory " + dir.region + " serial " + std::to_string(dir.serial);
  const std::string now = FormatInstant(ctx.now);
  auto accepted = [&](const crypto::NodeCard& c) {
    return std::find(trusted.accept_types.begin(), trusted.accept_types.end(), c.org_type) !=
           trusted.accept_types.end();
  };
  auto conflict = [&](const std::string& node_id, const std::string& why) -> Status {
    out.conflicts.push_back(node_id + ": " + why);
    return ctx.audit("directory.conflict", node_id, reason + ": " + why);
  };
  // This machine's addresses, read once and only when a member is checked.
  std::optional<std::vector<config::IpAddress>> own_addresses;

  std::set<std::string> listed;
  for (const crypto::NodeCard& card : dir.members) {
    if (card.node_id == ctx.config.node_id || !accepted(card)) continue;
    listed.insert(card.node_id);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> known, store::FindPartner(db, card.node_id));
    if (known && known->source != source) {
      if (crypto::CanonicalCardText(known->card) != crypto::CanonicalCardText(card)) {
        SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, known->source.empty()
                                                           ? "paired by hand with another card; left as it is"
                                                           : "brought by " + known->source + "; left as it is"));
      }
      continue;
    }
    if (known && crypto::CanonicalCardText(known->card) == crypto::CanonicalCardText(card)) continue;
    if (!own_addresses) own_addresses = LocalAddresses();
    std::string note;
    if (Status st = CheckPartnerAddress(card.address, ctx.config, *own_addresses, ctx.allow_local_address, &note);
        !st.ok()) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
      continue;
    }
    if (!note.empty()) out.notes.push_back(note);
    store::Partner partner{card, crypto::NodeCardToJson(card), now, now, source, std::nullopt, "", ""};
    if (!known) {
      Status st = store::InsertPartner(db, partner);
      if (st.code() == Code::kDenied) {
        SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
        continue;
      }
      SCHAKEL_RETURN_IF_ERROR(st);
      SCHAKEL_RETURN_IF_ERROR(ctx.audit("partner.add", card.node_id, reason));
      out.added.push_back(card.node_id);
      continue;
    }
    if (known->card.sign_pk != card.sign_pk) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id,
                                       "the directory gives it another identity key; an administrator "
                                       "must confirm that by phone (partner remove, then add)"));
      continue;
    }
    if (known->card.org_type != card.org_type) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, "the directory changes its org type from " + known->card.org_type +
                                                         " to " + card.org_type +
                                                         "; an administrator must confirm that"));
      continue;
    }
    auto old_created = ParseInstant(known->card.created);
    auto new_created = ParseInstant(card.created);
    if (!old_created.ok() || !new_created.ok() || *new_created <= *old_created) {
      // The partner's own newer card may have reached this node first.
      continue;
    }
    partner.added = known->added;
    Status st = store::UpdatePartnerCard(db, partner);
    if (st.code() == Code::kDenied) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
      continue;
    }
    SCHAKEL_RETURN_IF_ERROR(st);
    SCHAKEL_RETURN_IF_ERROR(ctx.audit("partner.update", card.node_id, reason));
    out.updated.push_back(card.node_id);
  }

  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(db));
  for (const auto& p : partners) {
    if (p.source != source || listed.count(p.card.node_id)) continue;
    SCHAKEL_RETURN_IF_ERROR(store::RemovePartner(db, p.card.node_id));
    SCHAKEL_RETURN_IF_ERROR(ctx.audit("partner.remove", p.card.node_id, reason));
    out.removed.push_back(p.card.node_id);
  }
  return out;
}

Result<TakenDirectory> TakeDirectory(const DirectoryContext& ctx, const crypto::Directory& dir, std::string_view text,
                                     const std::string& source) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::RegionDirectory> trusted,
                           store::FindRegionDirectory(ctx.db, dir.region));
  if (!trusted) {
    return Status::NotFound("region " + dir.region +
                            " is not trusted on this node; trust it first (schakel directory trust --file F "
                            "--fingerprint FP --accept-types T)");
  }
  auto held = crypto::ParseDirectory(trusted->directory_json);
  if (!held.ok()) return held.status().WithContext("the directory held for region " + dir.region);
  TakenDirectory out;
  out.previous_serial = held->serial;
  Status check = crypto::CheckDirectoryUpdate(trusted->directory_pk, trusted->region, &*held, dir, ctx.now);
  if (check.code() == Code::kAlreadyExists) return out;
  if (!check.ok()) {
    SCHAKEL_RETURN_IF_ERROR(ctx.audit("directory.refused", dir.region, check.message() + " (from " + source + ")"));
    out.outcome = TakenDirectory::kRefused;
    out.refusal = check;
    return out;
  }
  trusted->serial = dir.serial;
  trusted->issued = dir.issued;
  trusted->expires = dir.expires;
  trusted->directory_json = std::string(text);
  trusted->updated_at = FormatInstant(ctx.now);
  trusted->source = source;
  SCHAKEL_RETURN_IF_ERROR(store::UpdateRegionDirectory(ctx.db, *trusted));
  SCHAKEL_RETURN_IF_ERROR(
      ctx.audit("directory.update", dir.region,
                "serial " + std::to_string(held->serial) + " -> " + std::to_string(dir.serial) + " from " + source));
  DirectoryContext apply = ctx;
  apply.allow_local_address = ctx.allow_local_address || trusted->allow_local_address;
  SCHAKEL_ASSIGN_OR_RETURN(out.changes, ApplyDirectory(apply, *trusted, dir));
  out.outcome = TakenDirectory::kTaken;
  return out;
}

}  // namespace schakel::service
