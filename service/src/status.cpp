// The node's health for every role: partners and their reachability, the
// outbox, the audit log's checkpoints and the database's size. Nothing here
// is personal data.
#include <algorithm>
#include <filesystem>
#include <mutex>

#include "schakel/base/version.h"
#include "schakel/service/service.h"
#include "schakel/store/directories.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/partners.h"
#include "schakel/store/users.h"
#include "service_internal.h"

namespace schakel::service {
namespace {

// The size of a file in bytes; 0 when it does not exist (no WAL yet).
int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// When the daemon will write the next audit checkpoint: at the first
// maintenance run at or after the time it is due (an entry appended after
// that time writes it too); empty when every entry is covered.
std::optional<Instant> NextCheckpoint(const NodeCore& core, const audit::CheckpointSchedule& schedule) {
  if (!schedule.due) return std::nullopt;
  int64_t due = schedule.due->time_since_epoch().count();
  int64_t tick = core.next_maintenance_ms.load();
  int64_t every = core.maintenance_interval.count();
  if (tick == 0 || every <= 0 || due <= tick) return Instant{std::chrono::milliseconds{std::max(due, tick)}};
  int64_t ticks = (due - tick + every - 1) / every;
  return Instant{std::chrono::milliseconds{tick + ticks * every}};
}

}  // namespace

Result<NodeStatusView> Service::NodeStatus(const Caller& c, Instant started) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kNodeStatus));
  // Read beside the writer (NodeCore::Reading): a status poll never waits on
  // a delivery or a share being stored.
  NodeCore::Reading reading(core_);
  store::Database& db = reading.db();
  // Its counts agree with each other: all read from one snapshot.
  store::ReadSnapshot snapshot(db);
  SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
  NodeStatusView v;
  v.now = core_.clock->Now();
  SCHAKEL_ASSIGN_OR_RETURN(audit::CheckpointSchedule schedule, audit::ReadSchedule(db, core_.audit_options, v.now));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(db));
  SCHAKEL_ASSIGN_OR_RETURN(v.outbox_depth, store::CountOutgoing(db));
  SCHAKEL_ASSIGN_OR_RETURN(v.queued_shares, store::SummarizeOutgoing(db, "share"));
  SCHAKEL_ASSIGN_OR_RETURN(v.pending_revocations, store::SummarizeOutgoing(db, "revocation"));
  for (const auto& p : partners) {
    PartnerStatus ps{p.card.node_id, p.card.name, p.card.org_type, p.card.address, p.source, std::nullopt, 0, 0,
                     std::nullopt};
    SCHAKEL_ASSIGN_OR_RETURN(store::OutgoingSummary queued, store::SummarizeOutgoing(db, "share", ps.node_id));
    SCHAKEL_ASSIGN_OR_RETURN(store::OutgoingSummary revoking, store::SummarizeOutgoing(db, "revocation", ps.node_id));
    ps.seen = core_.reachability.Get(ps.node_id);
    ps.queued_shares = queued.count;
    ps.pending_revocations = revoking.count;
    ps.oldest_queued = queued.oldest;
    if (revoking.oldest && (!ps.oldest_queued || *revoking.oldest < *ps.oldest_queued)) {
      ps.oldest_queued = revoking.oldest;
    }
    v.partners.push_back(std::move(ps));
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::RegionDirectory> regions, store::ListRegionDirectories(db));
  for (const auto& r : regions) {
    RegionStatus rs{r.region, r.serial, r.issued, r.expires, 0, false, {}, {}};
    if (auto issued = ParseInstant(r.issued); issued.ok()) {
      rs.age_days = std::chrono::duration_cast<std::chrono::days>(v.now - *issued).count();
    }
    auto expires = ParseInstant(r.expires);
    rs.expired = !expires.ok() || *expires <= v.now;
    for (const auto& ps : v.partners) {
      if (ps.source != store::DirectorySource(r.region)) continue;
      rs.members.push_back(ps.node_id);
      if (ps.seen && ps.seen->last_attempt && !ps.seen->last_attempt_ok) rs.unreachable.push_back(ps.node_id);
    }
    v.regions.push_back(std::move(rs));
  }
  store::NodePaths paths(core_.dir, core_.config.key_file);
  v.node_id = core_.config.node_id;
  v.org_type = std::string(consent::Name(core_.config.org_type));
  v.version = std::string(kVersion);
  v.started = started;
  v.audit_last_seq = schedule.last_seq;
  v.audit_checkpointed_seq = schedule.covered_seq;
  v.next_checkpoint = NextCheckpoint(core_, schedule);
  v.database_file = paths.database;
  v.db_bytes = FileBytes(paths.database);
  v.wal_bytes = FileBytes(paths.database + "-wal");
  // Tokens that stop working within a week: a warning for the admin.
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> expiring,
                           store::TokensExpiringBefore(db, FormatInstant(v.now + std::chrono::days(7))));
  for (const auto& u : expiring) v.expiring_tokens.emplace_back(u.name, *u.token_expires);
  v.self_signed_public = config::SelfSignedPublicListeners(core_.config);
  return v;
}

Result<std::map<std::string, std::string>> Service::DisplayNames(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kDisplayNames));
  NodeCore::Reading reading(core_);
  std::map<std::string, std::string> names;
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(reading.db()));
  for (const auto& p : partners) names[p.card.node_id] = p.card.name;
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(reading.db()));
  for (const auto& u : users) names[u.user_id] = u.name;
  names[core_.config.node_id] = core_.config.name;
  return names;
}

}  // namespace schakel::service
