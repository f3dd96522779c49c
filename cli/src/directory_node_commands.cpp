// `schakel directory trust|update|list`: a node that takes its partners from
// a regional directory (docs/region.md). What taking a directory does to the
// partners is service/directories.h, shared with the daemon (a directory a
// partner passes along).
//
//   trust   pins a region's directory key after one fingerprint check (the
//           keeper reads it by phone) and imports the directory's members of
//           the org types the administrator accepts (--accept-types).
//   update  takes a newer signed directory of a trusted region: members it
//           adds are imported, newer cards replace older ones, and members it
//           no longer lists (or no longer of an accepted type) are removed,
//           so traffic to them stops.
//   fetch   fetches the directory of each region trusted with --url over
//           HTTPS now (the daemon does it every [directory] fetch_seconds).
//   list    the trusted regions, their serial, age and members.

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>
#include <sstream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/config/https_url.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/directory.h"
#include "schakel/http/fetch.h"
#include "schakel/service/directories.h"
#include "schakel/store/directories.h"
#include "schakel/store/partners.h"

namespace schakel::cli {
namespace {

struct NodeDirectoryArgs {
  std::string file;
  std::string url;
  std::string region;
  std::string fingerprint;
  std::string accept_types;
  bool allow_local_address = false;
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

// The CLI's way to take a directory: as the administrator running it.
service::DirectoryContext ContextFor(OfflineNode& node, bool allow_local_address) {
  return service::DirectoryContext{
      *node.db, node.config,
      [&node](const std::string& action, const std::string& object, const std::string& reason) {
        return AuditOffline(node, action, object, reason);
      },
      NowUtc(), allow_local_address};
}

void Report(Context* ctx, const std::string& verb, const crypto::Directory& dir, const service::DirectoryChanges& a) {
  for (const auto& note : a.notes) ctx->io.err << "note: " << note << "\n";
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
  if (!args.url.empty()) {
    auto url = config::ParseHttpsUrl(args.url);
    if (!url.ok()) return url.status().WithContext("--url");
  }
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadSigned(args.file));
  if (!crypto::FingerprintMatches(dir.directory_pk, args.fingerprint)) {
    return Status::Denied("the fingerprint does not match the key of this directory: call the keeper of region " +
                          dir.region + " again and compare; do not trust this file");
  }
  SCHAKEL_RETURN_IF_ERROR(crypto::CheckDirectoryUpdate(dir.directory_pk, dir.region, nullptr, dir, NowUtc()));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(args.file, crypto::kMaxDirectoryBytes));
  std::string now = FormatInstant(NowUtc());
  store::RegionDirectory trusted{
      dir.region,          dir.directory_pk,         types,   dir.serial, dir.issued, dir.expires, text, now, now,
      "file " + args.file, args.allow_local_address, args.url};
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertRegionDirectory(*node.db, trusted));
  std::string accepted;
  for (const auto& t : types) accepted += (accepted.empty() ? "" : ",") + t;
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "directory.trust", dir.region,
                                       "fingerprint_verified serial " + std::to_string(dir.serial) + " accept " +
                                           accepted + " from " + trusted.source +
                                           (args.url.empty() ? "" : ", fetched from " + args.url)));
  SCHAKEL_ASSIGN_OR_RETURN(service::DirectoryChanges applied,
                           service::ApplyDirectory(ContextFor(node, args.allow_local_address), trusted, dir));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  Report(ctx, "trusted", dir, applied);
  return Status::Ok();
}

Status RunUpdate(Context* ctx, const NodeDirectoryArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadSigned(args.file));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(args.file, crypto::kMaxDirectoryBytes));
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(
      service::TakenDirectory taken,
      service::TakeDirectory(ContextFor(node, args.allow_local_address), dir, text, "file " + args.file));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  switch (taken.outcome) {
    case service::TakenDirectory::kHeld:
      Report(ctx, "held already", dir, {});
      return Status::Ok();
    case service::TakenDirectory::kRefused:
      return taken.refusal;
    case service::TakenDirectory::kTaken:
      break;
  }
  Report(ctx, "taken", dir, taken.changes);
  return Status::Ok();
}

// `directory fetch`: the directory of each region trusted with a URL (or of
// --region), fetched over HTTPS now and taken as `update` takes a file.
Status RunFetch(Context* ctx, const NodeDirectoryArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::RegionDirectory> regions, store::ListRegionDirectories(*node.db));
  http::FetchOptions options;
  options.ca_file = node.config.directory_ca_file;
  if (!options.ca_file.empty() && options.ca_file.front() != '/')
    options.ca_file = ctx->globals.dir + "/" + options.ca_file;
  Status first_failure;
  int fetched = 0;
  for (const store::RegionDirectory& r : regions) {
    if (!args.region.empty() && r.region != args.region) continue;
    if (r.url.empty()) {
      if (!args.region.empty()) {
        return Status::InvalidInput("region " + r.region + " was trusted without a URL (directory trust --url)");
      }
      continue;
    }
    ++fetched;
    auto taken = [&]() -> Status {
      SCHAKEL_ASSIGN_OR_RETURN(config::HttpsUrl url, config::ParseHttpsUrl(r.url));
      SCHAKEL_ASSIGN_OR_RETURN(std::string text, http::FetchHttps(url, options));
      auto dir = crypto::ParseDirectory(text);
      if (!dir.ok()) return dir.status().WithContext(r.url);
      if (dir->region != r.region) {
        return Status::Denied(r.url + " serves the directory of region " + dir->region + ", not " + r.region);
      }
      store::Transaction tx(*node.db);
      SCHAKEL_RETURN_IF_ERROR(tx.Begin());
      SCHAKEL_ASSIGN_OR_RETURN(service::TakenDirectory t,
                               service::TakeDirectory(ContextFor(node, false), *dir, text, "url " + r.url));
      SCHAKEL_RETURN_IF_ERROR(tx.Commit());
      if (t.outcome == service::TakenDirectory::kRefused) return t.refusal;
      Report(ctx, t.outcome == service::TakenDirectory::kTaken ? "taken" : "held already", *dir, t.changes);
      return Status::Ok();
    }();
    if (!taken.ok()) {
      ctx->io.err << "region " << r.region << ": " << taken.message() << "\n";
      if (first_failure.ok()) first_failure = taken;
    }
  }
  if (!args.region.empty() && fetched == 0) return Status::NotFound("region " + args.region + " is not trusted here");
  if (fetched == 0 && !ctx->globals.json) ctx->io.out << "No region trusted with a URL (directory trust --url)\n";
  return first_failure;
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
                      {"url", r.url},
                      {"source", r.source}});
      continue;
    }
    ctx->io.out << r.region << "\tserial " << r.serial << ", issued " << issued << " (" << age_days << " days ago), "
                << (expired ? "EXPIRED at " : "valid until ") << expires << "\n"
                << "\taccepts";
    for (const auto& t : r.accept_types) ctx->io.out << " " << t;
    ctx->io.out << "; " << members.size() << " partners from it\n"
                << "\tkey fingerprint " << crypto::Fingerprint(r.directory_pk) << "\n";
    if (!r.url.empty()) ctx->io.out << "\tfetched from " << r.url << "\n";
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
  trust->add_option("--url", a->url,
                    "fetch newer directories of the region from this https:// URL ([directory] fetch_seconds)");
  trust->add_flag("--allow-local-address", a->allow_local_address,
                  "import members whose address is loopback or link-local (a test or demo on one machine)");
  trust->callback([ctx, a] { ctx->action = {"directory trust", [ctx, a] { return RunTrust(ctx, *a); }}; });

  CLI::App* update = directory->add_subcommand("update", "take a newer signed directory of a trusted region");
  AddCommonOptions(update, ctx);
  update->add_option("--file", a->file, "the signed directory (JSON)")->required();
  update->add_flag("--allow-local-address", a->allow_local_address,
                   "import members whose address is loopback or link-local (a test or demo on one machine)");
  update->callback([ctx, a] { ctx->action = {"directory update", [ctx, a] { return RunUpdate(ctx, *a); }}; });

  CLI::App* fetch = directory->add_subcommand(
      "fetch", "fetch the directory of each region trusted with a URL now, and take it when it is newer");
  AddCommonOptions(fetch, ctx);
  fetch->add_option("--region", a->region, "only this region");
  fetch->callback([ctx, a] { ctx->action = {"directory fetch", [ctx, a] { return RunFetch(ctx, *a); }}; });

  CLI::App* list = directory->add_subcommand("list", "the regions this node trusts, their serial, age and members");
  AddCommonOptions(list, ctx);
  list->callback([ctx] { ctx->action = {"directory list", [ctx] { return RunList(ctx); }}; });
}

}  // namespace schakel::cli
