// `schakel directory trust|update|list`: a node that takes its partners from
// a regional directory (docs/region.md).
//
//   trust   pins a region's directory key after one fingerprint check (the
//           keeper reads it by phone) and imports the directory's members of
//           the org types the administrator accepts (--accept-types).
//   update  takes a newer signed directory of a trusted region: members it
//           adds are imported, newer cards replace older ones, and members it
//           no longer lists (or no longer of an accepted type) are removed,
//           so traffic to them stops.
//   list    the trusted regions, their serial, age and members.
//
// A directory never touches a partner an administrator imported by hand
// (source ""), nor one another region brought; such a member is a conflict,
// reported and audited (directory.conflict), and the rest of the directory is
// still taken. A member whose card changes its identity key or org type is a
// conflict too: that needs an administrator (partner remove, then trust or
// add again). Every change is audited with the reason "directory REGION
// serial N", in one transaction with the change.
#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

#include "command.h"
#include "node_access.h"
#include "partner_address.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/directory.h"
#include "schakel/store/directories.h"
#include "schakel/store/partners.h"

namespace schakel::cli {
namespace {

struct NodeDirectoryArgs {
  std::string file;
  std::string fingerprint;
  std::string accept_types;
  bool allow_local_address = false;
};

// What taking one directory did.
struct Applied {
  std::vector<std::string> added, updated, removed;
  std::vector<std::string> conflicts;  // "node: why"
};

Result<std::vector<std::string>> ParseAcceptTypes(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    if (!consent::ParseOrgType(item)) {
      return Status::InvalidInput("--accept-types: unknown org type \"" + item +
                                  "\" (one of school, wijkteam, rmc, lvs, ggd, ...)");
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) return Status::InvalidInput("--accept-types: name at least one org type, e.g. wijkteam,ggd,lvs");
  return out;
}

Result<crypto::Directory> ReadSigned(const std::string& file) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(file, crypto::kMaxDirectoryBytes));
  auto dir = crypto::ParseDirectory(text);
  if (!dir.ok()) return dir.status().WithContext(file);
  return dir;
}

// Brings the partners of `region` in line with `dir`, inside the caller's
// transaction, auditing each change.
Result<Applied> ApplyDirectory(OfflineNode& node, const store::RegionDirectory& trusted, const crypto::Directory& dir,
                               bool allow_local_address, std::ostream& notes) {
  Applied out;
  const std::string source = store::DirectorySource(dir.region);
  const std::string reason = "directory " + dir.region + " serial " + std::to_string(dir.serial);
  std::string now = FormatInstant(NowUtc());
  auto accepted = [&](const crypto::NodeCard& c) {
    return std::find(trusted.accept_types.begin(), trusted.accept_types.end(), c.org_type) !=
           trusted.accept_types.end();
  };
  auto conflict = [&](const std::string& node_id, const std::string& why) -> Status {
    out.conflicts.push_back(node_id + ": " + why);
    return AuditOffline(node, "directory.conflict", node_id, reason + ": " + why);
  };

  std::set<std::string> listed;
  for (const crypto::NodeCard& card : dir.members) {
    if (card.node_id == node.config.node_id || !accepted(card)) continue;
    listed.insert(card.node_id);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> known, store::FindPartner(*node.db, card.node_id));
    if (known && known->source != source) {
      if (crypto::CanonicalCardText(known->card) != crypto::CanonicalCardText(card)) {
        SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, known->source.empty()
                                                           ? "paired by hand with another card; left as it is"
                                                           : "brought by " + known->source + "; left as it is"));
      }
      continue;
    }
    std::string note;
    if (Status st = CheckPartnerAddress(card.address, node.config, LocalAddresses(), allow_local_address, &note);
        !st.ok()) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
      continue;
    }
    if (!note.empty()) notes << "note: " << note << "\n";
    store::Partner partner{card, crypto::NodeCardToJson(card), now, now, source, std::nullopt, "", ""};
    if (!known) {
      Status st = store::InsertPartner(*node.db, partner);
      if (st.code() == Code::kDenied) {
        SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
        continue;
      }
      SCHAKEL_RETURN_IF_ERROR(st);
      SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "partner.add", card.node_id, reason));
      out.added.push_back(card.node_id);
      continue;
    }
    if (crypto::CanonicalCardText(known->card) == crypto::CanonicalCardText(card)) continue;
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
    Status st = store::UpdatePartnerCard(*node.db, partner);
    if (st.code() == Code::kDenied) {
      SCHAKEL_RETURN_IF_ERROR(conflict(card.node_id, st.message()));
      continue;
    }
    SCHAKEL_RETURN_IF_ERROR(st);
    SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "partner.update", card.node_id, reason));
    out.updated.push_back(card.node_id);
  }

  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(*node.db));
  for (const auto& p : partners) {
    if (p.source != source || listed.count(p.card.node_id)) continue;
    SCHAKEL_RETURN_IF_ERROR(store::RemovePartner(*node.db, p.card.node_id));
    SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "partner.remove", p.card.node_id, reason));
    out.removed.push_back(p.card.node_id);
  }
  return out;
}

void Report(Context* ctx, const std::string& verb, const crypto::Directory& dir, const Applied& a) {
  if (ctx->globals.json) {
    PrintJson(ctx, {{"region", dir.region},
                    {"serial", dir.serial},
                    {"result", verb},
                    {"added", a.added},
                    {"updated", a.updated},
                    {"removed", a.removed},
                    {"conflicts", a.conflicts}});
    return;
  }
  auto line = [&](const char* what, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    ctx->io.out << "  " << what << ":";
    for (const auto& id : ids) ctx->io.out << " " << id;
    ctx->io.out << "\n";
  };
  ctx->io.out << "Directory of region " << dir.region << " serial " << dir.serial << " " << verb << "\n";
  line("added", a.added);
  line("updated", a.updated);
  line("removed", a.removed);
  for (const auto& c : a.conflicts) ctx->io.out << "  conflict, left alone: " << c << "\n";
}

Status RunTrust(Context* ctx, const NodeDirectoryArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<std::string> types, ParseAcceptTypes(args.accept_types));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadSigned(args.file));
  if (!crypto::FingerprintMatches(dir.directory_pk, args.fingerprint)) {
    return Status::Denied("the fingerprint does not match the key of this directory: call the keeper of region " +
                          dir.region + " again and compare; do not trust this file");
  }
  SCHAKEL_RETURN_IF_ERROR(crypto::CheckDirectoryUpdate(dir.directory_pk, dir.region, nullptr, dir, NowUtc()));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(args.file, crypto::kMaxDirectoryBytes));
  std::string now = FormatInstant(NowUtc());
  store::RegionDirectory trusted{dir.region, dir.directory_pk,   types, dir.serial, dir.issued, dir.expires, text, now,
                                 now,        "file " + args.file};
  std::ostringstream notes;
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertRegionDirectory(*node.db, trusted));
  std::string accepted;
  for (const auto& t : types) accepted += (accepted.empty() ? "" : ",") + t;
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(
      node, "directory.trust", dir.region,
      "fingerprint_verified serial " + std::to_string(dir.serial) + " accept " + accepted + " from " + trusted.source));
  SCHAKEL_ASSIGN_OR_RETURN(Applied applied, ApplyDirectory(node, trusted, dir, args.allow_local_address, notes));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  ctx->io.err << notes.str();
  Report(ctx, "trusted", dir, applied);
  return Status::Ok();
}

Status RunUpdate(Context* ctx, const NodeDirectoryArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadSigned(args.file));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(args.file, crypto::kMaxDirectoryBytes));
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::RegionDirectory> trusted,
                           store::FindRegionDirectory(*node.db, dir.region));
  if (!trusted) {
    return Status::NotFound("region " + dir.region +
                            " is not trusted on this node; trust it first (schakel directory trust --file F "
                            "--fingerprint FP --accept-types T)");
  }
  auto held = crypto::ParseDirectory(trusted->directory_json);
  if (!held.ok()) return held.status().WithContext("the directory held for region " + dir.region);
  Status check = crypto::CheckDirectoryUpdate(trusted->directory_pk, trusted->region, &*held, dir, NowUtc());
  if (check.code() == Code::kAlreadyExists) {
    Report(ctx, "held already", dir, Applied{});
    return Status::Ok();
  }
  if (!check.ok()) {
    // Refused directories are audited too: a rollback or a second version
    // under one serial is something the keeper must hear of.
    SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "directory.refused", dir.region, check.message()));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
    return check;
  }
  trusted->serial = dir.serial;
  trusted->issued = dir.issued;
  trusted->expires = dir.expires;
  trusted->directory_json = text;
  trusted->updated_at = FormatInstant(NowUtc());
  trusted->source = "file " + args.file;
  SCHAKEL_RETURN_IF_ERROR(store::UpdateRegionDirectory(*node.db, *trusted));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(
      node, "directory.update", dir.region,
      "serial " + std::to_string(held->serial) + " -> " + std::to_string(dir.serial) + " from " + trusted->source));
  std::ostringstream notes;
  SCHAKEL_ASSIGN_OR_RETURN(Applied applied, ApplyDirectory(node, *trusted, dir, args.allow_local_address, notes));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  ctx->io.err << notes.str();
  Report(ctx, "taken", dir, applied);
  return Status::Ok();
}

Status RunList(Context* ctx) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::RegionDirectory> regions, store::ListRegionDirectories(*node.db));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(*node.db));
  Instant now = NowUtc();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : regions) {
    std::vector<std::string> members;
    for (const auto& p : partners) {
      if (p.source == store::DirectorySource(r.region)) members.push_back(p.card.node_id);
    }
    const std::string& issued = r.issued;
    const std::string& expires = r.expires;
    auto issued_at = ParseInstant(issued);
    auto expires_at = ParseInstant(expires);
    long long age_days = issued_at.ok() ? std::chrono::duration_cast<std::chrono::days>(now - *issued_at).count() : -1;
    bool expired = !expires_at.ok() || *expires_at <= now;
    if (ctx->globals.json) {
      list.push_back({{"region", r.region},
                      {"serial", r.serial},
                      {"issued", issued},
                      {"expires", expires},
                      {"expired", expired},
                      {"age_days", age_days},
                      {"accept_types", r.accept_types},
                      {"fingerprint", crypto::Fingerprint(r.directory_pk)},
                      {"members", members},
                      {"updated_at", r.updated_at},
                      {"source", r.source}});
      continue;
    }
    ctx->io.out << r.region << "\tserial " << r.serial << ", issued " << issued << " (" << age_days << " days ago), "
                << (expired ? "EXPIRED at " : "valid until ") << expires << "\n"
                << "\taccepts";
    for (const auto& t : r.accept_types) ctx->io.out << " " << t;
    ctx->io.out << "; " << members.size() << " partners from it\n"
                << "\tkey fingerprint " << crypto::Fingerprint(r.directory_pk) << "\n";
  }
  if (ctx->globals.json) {
    PrintJson(ctx, {{"regions", list}});
  } else if (regions.empty()) {
    ctx->io.out << "No regional directory trusted (schakel directory trust --file F --fingerprint FP "
                   "--accept-types T)\n";
  }
  return Status::Ok();
}

}  // namespace

void AddDirectoryNodeCommands(CLI::App* directory, Context* ctx) {
  auto a = std::make_shared<NodeDirectoryArgs>();

  CLI::App* trust = directory->add_subcommand(
      "trust", "pin a region's directory key after comparing its fingerprint, and import its members");
  AddCommonOptions(trust, ctx);
  trust->add_option("--file", a->file, "the signed directory (JSON) the keeper gave you")->required();
  trust->add_option("--fingerprint", a->fingerprint, "the directory key's fingerprint the keeper read to you")
      ->required();
  trust
      ->add_option("--accept-types", a->accept_types,
                   "the org types to take from the directory, comma-separated (e.g. wijkteam,ggd,lvs)")
      ->required();
  trust->add_flag("--allow-local-address", a->allow_local_address,
                  "import members whose address is loopback or link-local (a test or demo on one machine)");
  trust->callback([ctx, a] { ctx->action = {"directory trust", [ctx, a] { return RunTrust(ctx, *a); }}; });

  CLI::App* update = directory->add_subcommand("update", "take a newer signed directory of a trusted region");
  AddCommonOptions(update, ctx);
  update->add_option("--file", a->file, "the signed directory (JSON)")->required();
  update->add_flag("--allow-local-address", a->allow_local_address,
                   "import members whose address is loopback or link-local (a test or demo on one machine)");
  update->callback([ctx, a] { ctx->action = {"directory update", [ctx, a] { return RunUpdate(ctx, *a); }}; });

  CLI::App* list = directory->add_subcommand("list", "the regions this node trusts, their serial, age and members");
  AddCommonOptions(list, ctx);
  list->callback([ctx] { ctx->action = {"directory list", [ctx] { return RunList(ctx); }}; });
}

}  // namespace schakel::cli
