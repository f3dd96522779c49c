// Taking a regional directory (docs/region.md): the rule that brings a
// node's partners in line with a signed directory of a region it trusts,
// shared by `schakel directory trust|update` (a file) and the daemon's inbox
// (a directory a partner passes along, peer protocol 7).
//
// A directory never touches a partner an administrator imported by hand
// (source ""), nor one another region brought; such a member is a conflict,
// reported and audited (directory.conflict), and the rest of the directory is
// still taken. A member whose card changes its identity key or org type is a
// conflict too: that needs an administrator (partner remove, then trust or
// add again). Members the directory adds are imported, newer cards replace
// older ones, and members it no longer lists (or no longer of an accepted
// type) are removed, so traffic to them stops. Every change is audited with
// the reason "directory REGION serial N".
//
// Thread-safety: the caller holds the node (the CLI's offline node, or the
// daemon's node lock) and runs these inside its own transaction, so the
// changes and their audit entries are stored together or not at all.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/directory.h"
#include "schakel/store/database.h"
#include "schakel/store/directories.h"

namespace schakel::service {

// How the caller writes one audit entry (action, object, reason) as its
// actor: the CLI's administrator, or the partner that passed the directory.
using DirectoryAudit =
    std::function<Status(const std::string& action, const std::string& object, const std::string& reason)>;

struct DirectoryContext {
  store::Database& db;
  const config::NodeConfig& config;
  DirectoryAudit audit;
  Instant now;
  // Let members with a loopback or link-local address in (the region was
  // trusted with --allow-local-address, or the command was given it).
  bool allow_local_address = false;
};

// What taking one directory did to the partners.
struct DirectoryChanges {
  std::vector<std::string> added, updated, removed;
  std::vector<std::string> conflicts;  // "node: why"
  std::vector<std::string> notes;      // addresses not checked now (ResolveHost), for the administrator
};

// Brings the partners of `trusted.region` in line with `dir` (verified by
// the caller), auditing each change.
Result<DirectoryChanges> ApplyDirectory(const DirectoryContext& ctx, const store::RegionDirectory& trusted,
                                        const crypto::Directory& dir);

// A newer directory of a trusted region, checked against the one held
// (crypto::CheckDirectoryUpdate) and taken: the held directory replaced,
// directory.update audited ("serial A -> B from SOURCE"), then
// ApplyDirectory.
struct TakenDirectory {
  enum Outcome { kTaken, kHeld, kRefused } outcome = kHeld;
  int64_t previous_serial = 0;
  DirectoryChanges changes;
  // kRefused: why. The refusal is audited (directory.refused) in the
  // caller's transaction, which the caller commits before it reports it: a
  // rollback or a second version under one serial is something the keeper
  // must hear of.
  Status refusal;
};
// `text` is the directory as received (kept verbatim); `source` says where
// it came from ("file dir.json", "partner school-a"). kNotFound when the
// region is not trusted here.
Result<TakenDirectory> TakeDirectory(const DirectoryContext& ctx, const crypto::Directory& dir, std::string_view text,
                                     const std::string& source);

}  // namespace schakel::service
