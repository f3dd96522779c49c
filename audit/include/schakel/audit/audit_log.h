// AuditLog: the node's append-only, hash-chained access log in the store
// (tables audit_log and audit_checkpoints of schema v2), with checkpoints
// signed by the node's identity key (DESIGN.md "The audit log").
//
// Every entry's hash covers its fields and the previous entry's hash
// (format.h, docs/audit.md). A checkpoint is the identity's Ed25519
// signature over (node id, seq, hash, time) of an entry; one is written when
// `checkpoint_every_entries` entries are uncovered, when the oldest
// uncovered entry is older than `checkpoint_every` (checked on Append and
// MaybeCheckpoint -- the daemon calls MaybeCheckpoint on a timer), on
// Export, and on Close. The store's triggers refuse UPDATE and DELETE on
// both tables.
//
// Transactions: Append (and Checkpoint) work on their own -- each then runs
// in its own BEGIN IMMEDIATE transaction and is durable when it returns --
// or inside a transaction the caller opened with store::Transaction (BEGIN
// IMMEDIATE), so that an action and its audit entry commit or roll back
// together. An event refused by validation writes nothing; after any other
// error inside a caller's transaction the caller must roll back (the entry
// may be written without the checkpoint that was due). Nothing is cached
// between calls (the tail of the chain is read inside the transaction), so
// a rolled-back Append leaves no trace and no gap, and other processes
// (offline `schakel` commands) may append to the same database too.
//
// Ownership: the AuditLog keeps references to the Database, the identity
// key pair and the Clock (never a copy of the secret key); all three must
// outlive it.
//
// Thread-safety: none. The daemon guards its Database with a mutex; call
// every AuditLog method under that same lock -- for Append, the lock the
// caller's transaction runs under.
//
// Errors: Status values. ValidateEvent's kInvalidInput for a bad field
// (nothing is written, nothing is cut short); store errors as the store
// reports them; kCorruption from VerifyStored and from reading a row that
// does not parse.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/audit/format.h"
#include "schakel/base/clock.h"
#include "schakel/base/status.h"
#include "schakel/crypto/identity.h"
#include "schakel/store/database.h"

namespace schakel::audit {

struct AuditLogOptions {
  // A checkpoint is written once this many entries are not covered by one.
  // Default: 1000. REQUIRES: >= 1.
  int64_t checkpoint_every_entries = 1000;
  // ... or once the oldest uncovered entry is this old. Default: 300 s.
  // REQUIRES: >= 0 (0: checkpoint after every entry).
  std::chrono::milliseconds checkpoint_every = std::chrono::seconds(300);
};

inline constexpr size_t kMaxQueryLimit = 10000;

// Which entries Query returns: all conditions hold (empty = any).
struct AuditFilter {
  std::string subject;  // student reference
  std::string user;     // actor_user
  std::string action;
  std::optional<Instant> since;  // ts >= since
  int64_t after_seq = 0;         // seq > after_seq, for paging
  size_t limit = 1000;           // REQUIRES: 1..kMaxQueryLimit
};

// Everything the log holds about one student, for a subject access request
// (AVG art. 15): who did what about them, when, why and on what basis.
struct SubjectAccessReport {
  std::string node_id;
  std::string subject;
  Instant generated{};
  std::vector<AuditEntry> entries;  // oldest first
  bool truncated = false;           // more entries than the report's limit
  // Set by RedactForFamily: the entries name no staff member.
  bool for_family = false;
};

// The access right (AVG art. 15) covers dates, purposes, recipients and
// categories, not which staff member did it (CJEU C-579/21). For a report
// given to the family: every actor is named by role and organisation only
// (the user id is cleared), and a recipient who is one of `staff_user_ids`
// (a case assigned inside the organisation) becomes "a staff member of
// <node>". The auditor's internal report is the unredacted one.
void RedactForFamily(SubjectAccessReport& report, const std::set<std::string>& staff_user_ids);

// Plain text (one line per entry, English, for a letter to the family) and
// JSON (one document) renderings of a report.
std::string SubjectReportText(const SubjectAccessReport& report);
std::string SubjectReportJson(const SubjectAccessReport& report);

// Where the chain stands against its checkpoints (for `schakel status`).
struct CheckpointSchedule {
  int64_t last_seq = 0;     // the last entry (0: none)
  int64_t covered_seq = 0;  // the last entry a checkpoint covers (0: none)
  // When a checkpoint becomes due by the options (by count: now); empty
  // when every entry is covered. MaybeCheckpoint or the next Append at or
  // after this time writes it.
  std::optional<Instant> due;
};

// AuditLog::Schedule on any connection to the log's database (a reader
// beside the writer: status never waits for an append).
Result<CheckpointSchedule> ReadSchedule(store::Database& db, const AuditLogOptions& options, Instant now);

// What CarryTail did. `diverged`: the replaced log does not continue the
// restored one (its entry at the restored last seq differs, or it is
// shorter and different), so nothing was carried.
struct CarriedTail {
  int64_t after_seq = 0;  // the restored copy's last entry before the carry
  int64_t carried = 0;    // entries copied
  int64_t checkpoints = 0;
  int64_t last_seq = 0;  // the last carried entry (0: none)
  // Countersignature rows looked at (audit_witnesses and audit_witnessed;
  // those the restored copy had already are left as they were).
  int64_t witness_rows = 0;
  bool diverged = false;
};

// For `schakel restore`: copies the entries and checkpoints that `source`
// (the log being replaced) holds after the last entry of `target` (a
// restored backup of the same log) into `target`, as stored -- same seq,
// fields and hashes -- so the chain goes on unbroken and no sequence number
// is given out twice; and the partners' countersignatures (audit_witnesses,
// audit_witnessed) the restored copy lacks, even when no entry came after
// the backup. Only when `source` holds `target`'s last entry with the same
// hash; otherwise copies nothing and says `diverged`. One
// transaction on `target`; `source` is only read.
Result<CarriedTail> CarryTail(store::Database& source, store::Database& target);

// What AuditLog::ApplyRetention deleted. through_seq == 0: nothing was due.
struct RetentionResult {
  int64_t from_seq = 0;     // the first entry deleted
  int64_t through_seq = 0;  // the last entry deleted: the new boundary
  int64_t entries = 0;
  int64_t checkpoints = 0;  // checkpoints before the boundary, deleted with their entries
};

// Where the stored log starts: after the latest retention boundary (0 and
// the zero hash when nothing was ever deleted).
struct LogStart {
  int64_t after_seq = 0;
  Hash hash{};
};
Result<LogStart> ReadLogStart(store::Database& db);

// Retention passes delete at most about this many entries each (whole
// segments; a single segment larger than this goes whole).
inline constexpr int64_t kRetentionBatchEntries = 20000;

class AuditLog {
 public:
  // Checks the arguments: node_id as in the node config ([a-z0-9-]{3,64}),
  // a 64-byte identity secret, options within their REQUIRES.
  static Result<std::unique_ptr<AuditLog>> Create(store::Database& db, std::string node_id,
                                                  const crypto::SigningKeyPair& identity, const Clock& clock,
                                                  AuditLogOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Validates the event, appends it as the next entry (time from the Clock)
  // and writes a checkpoint when one is due. Returns the entry's seq.
  Result<int64_t> Append(const AuditEvent& event);

  // Signs a checkpoint for the last entry unless there are no entries or
  // the last one is covered already.
  Status Checkpoint();
  // Checkpoint() when one is due by count or age (AuditLogOptions).
  Status MaybeCheckpoint();
  // Reads where the chain stands; writes nothing.
  Result<CheckpointSchedule> Schedule();
  // Checkpoint() and releases prepared statements; for shutdown. The log
  // may be used again afterwards.
  Status Close();

  // Entries matching the filter, by seq ascending.
  Result<std::vector<AuditEntry>> Query(const AuditFilter& filter);
  // Every entry about `subject`, at most max_entries of them.
  Result<SubjectAccessReport> SubjectReport(std::string_view subject, size_t max_entries = 100000);

  // Writes a checkpoint if entries are uncovered, then every entry and
  // checkpoint as JSON Lines (format.h), each checkpoint right after the
  // entry it covers, from one consistent snapshot. The caller logs the
  // export itself (Append an "audit.export" event) before calling this.
  Status Export(std::ostream& out);

  // Recomputes the whole chain in the database and checks every checkpoint
  // (signature under this node's key, hash of the entry at its seq).
  // kCorruption naming the first bad seq. Entries after the last
  // checkpoint are checked for the chain only (their checkpoint is due).
  Status VerifyStored();

  // Retention (docs/audit.md "Retention"; [audit] retention_years): deletes
  // the oldest whole segments -- the entries after the last boundary up to
  // and including a checkpointed entry -- whose every entry is older than
  // `keep` by the Clock, at most about kRetentionBatchEntries per call (the
  // daemon calls it on its maintenance timer, so a backlog goes in steps).
  // Before deleting it re-verifies the segment (chain and the boundary
  // checkpoint's signature; kCorruption and nothing deleted when either
  // fails), appends an "audit.retention" entry naming the range and records
  // the boundary in audit_segments, all in one transaction. What remains
  // verifies from the boundary; Export starts with the boundary checkpoint.
  // REQUIRES: keep > 0.
  Result<RetentionResult> ApplyRetention(std::chrono::hours keep);

  const std::string& node_id() const { return node_id_; }

 private:
  struct Statements;
  AuditLog(store::Database& db, std::string node_id, const crypto::SigningKeyPair& identity, const Clock& clock,
           AuditLogOptions options);

  // Runs fn inside a transaction: the caller's, or a new BEGIN IMMEDIATE one.
  template <typename Fn>
  Status InTransaction(Fn&& fn);
  Result<Statements*> Prepared();
  Status CheckpointLocked(bool only_if_due);

  store::Database& db_;
  std::string node_id_;
  const crypto::SigningKeyPair& identity_;
  const Clock& clock_;
  AuditLogOptions options_;
  std::unique_ptr<Statements> stmts_;
};

}  // namespace schakel::audit
