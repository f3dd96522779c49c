#include "schakel/audit/audit_log.h"

#include <algorithm>
#include <cstring>
#include <ostream>

#include <nlohmann/json.hpp>

#include "schakel/base/strings.h"

namespace schakel::audit {
namespace {

constexpr std::string_view kEntryColumns =
    "seq, ts, actor_user, actor_role, actor_org, action, subject, object, purpose, legal_basis, "
    "outcome, reason, source, prev_hash, hash, format, recipient, categories, consents";

// Resets a cached statement when the scope ends, so no read stays open.
class ResetOnExit {
 public:
  explicit ResetOnExit(store::Statement& s) : s_(s) {}
  ~ResetOnExit() { (void)s_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  store::Statement& s_;
};

// Ends a read transaction this code opened (a snapshot for export and
// verification); leaves a caller's transaction alone.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(store::Database& db) : db_(db) {}
  ~ReadSnapshot() {
    if (own_) db_.Rollback();
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  Status Begin() {
    if (db_.InTransaction()) return Status::Ok();
    SCHAKEL_RETURN_IF_ERROR(db_.Exec("BEGIN DEFERRED;"));
    own_ = true;
    return Status::Ok();
  }

 private:
  store::Database& db_;
  bool own_ = false;
};

struct Tail {
  int64_t seq = 0;
  Hash hash{};
};

Status BlobToHash(const store::Statement& q, int col, int64_t seq, std::string_view what, Hash* out) {
  std::vector<uint8_t> b = q.Blob(col);
  if (b.size() != out->size()) {
    return Status::Corruption("audit log: seq " + std::to_string(seq) + ": " + std::string(what) + " is not 32 bytes");
  }
  std::copy(b.begin(), b.end(), out->begin());
  return Status::Ok();
}

// Reads a row of kEntryColumns into *e, keeping the stored ts text in *ts.
Status ReadEntryRow(const store::Statement& q, AuditEntry* e, std::string* ts) {
  e->seq = q.Int(0);
  *ts = q.Text(1);
  e->actor_user = q.Text(2);
  e->actor_role = q.Text(3);
  e->actor_org = q.Text(4);
  e->action = q.Text(5);
  e->subject = q.Text(6);
  e->object = q.Text(7);
  e->purpose = q.Text(8);
  e->legal_basis = q.Text(9);
  e->outcome = q.Text(10);
  e->reason = q.Text(11);
  e->source = q.Text(12);
  SCHAKEL_RETURN_IF_ERROR(BlobToHash(q, 13, e->seq, "prev_hash", &e->prev_hash));
  SCHAKEL_RETURN_IF_ERROR(BlobToHash(q, 14, e->seq, "hash", &e->hash));
  int64_t format = q.Int(15);
  e->recipient = q.Text(16);
  e->categories = q.Text(17);
  e->consents = q.Text(18);
  if (format != kEntryFormat1 && format != kEntryFormat2) {
    return Status::Corruption("audit log: seq " + std::to_string(e->seq) + ": entry format " + std::to_string(format) +
                              " is not one this schakel reads (1 and 2)");
  }
  e->format = static_cast<int>(format);
  if (e->format == kEntryFormat1 && !(e->recipient.empty() && e->categories.empty() && e->consents.empty())) {
    // Format 1's hash does not cover these: they were added afterwards.
    return Status::Corruption("audit log: seq " + std::to_string(e->seq) +
                              ": a format-1 entry holds fields of format 2 that its hash does not cover");
  }
  auto t = ParseInstant(*ts);
  if (!t.ok() || !IsCanonicalTimestamp(*ts)) {
    return Status::Corruption("audit log: seq " + std::to_string(e->seq) + ": bad ts");
  }
  e->ts = *t;
  return Status::Ok();
}

struct CheckpointRow {
  int64_t seq = 0;
  Hash hash{};
  std::string ts;
  crypto::Signature sig{};
};

Status ReadCheckpointRow(const store::Statement& q, CheckpointRow* c) {
  c->seq = q.Int(0);
  SCHAKEL_RETURN_IF_ERROR(BlobToHash(q, 1, c->seq, "checkpoint hash", &c->hash));
  c->ts = q.Text(2);
  std::vector<uint8_t> sig = q.Blob(3);
  if (sig.size() != c->sig.size() || !IsCanonicalTimestamp(c->ts)) {
    return Status::Corruption("audit checkpoint for seq " + std::to_string(c->seq) + ": bad signature or time");
  }
  std::copy(sig.begin(), sig.end(), c->sig.begin());
  return Status::Ok();
}

// Walks audit_checkpoints in seq order beside the entries.
class CheckpointCursor {
 public:
  Status Open(store::Database& db) {
    auto q = db.Prepare("SELECT seq, hash, ts, sig FROM audit_checkpoints ORDER BY seq;");
    if (!q.ok()) return q.status();
    q_.emplace(std::move(q).value());
    return Next();
  }
  bool has() const { return has_; }
  const CheckpointRow& row() const { return row_; }
  Status Next() {
    auto step = q_->Step();
    if (!step.ok()) return step.status();
    has_ = *step;
    if (has_) return ReadCheckpointRow(*q_, &row_);
    return Status::Ok();
  }

 private:
  std::optional<store::Statement> q_;
  CheckpointRow row_;
  bool has_ = false;
};

// Walks audit_witnesses (schema 18) in seq order beside the entries.
class WitnessCursor {
 public:
  Status Open(store::Database& db) {
    auto q = db.Prepare("SELECT seq, witness_id, hash, ts, sig FROM audit_witnesses ORDER BY seq, witness_id;");
    if (!q.ok()) return q.status();
    q_.emplace(std::move(q).value());
    return Next();
  }
  bool has() const { return has_; }
  int64_t seq() const { return seq_; }
  void Append(std::string_view node_id, std::string* out) const {
    AppendWitnessLine(node_id, seq_, ts_, hash_, witness_, sig_, out);
  }
  Status Next() {
    auto step = q_->Step();
    if (!step.ok()) return step.status();
    has_ = *step;
    if (!has_) return Status::Ok();
    seq_ = q_->Int(0);
    witness_ = q_->Text(1);
    SCHAKEL_RETURN_IF_ERROR(BlobToHash(*q_, 2, seq_, "witnessed hash", &hash_));
    ts_ = q_->Text(3);
    std::vector<uint8_t> sig = q_->Blob(4);
    if (sig.size() != sig_.size() || !IsCanonicalTimestamp(ts_) || !IsValidNodeId(witness_)) {
      return Status::Corruption("audit witness for seq " + std::to_string(seq_) + ": bad row");
    }
    std::copy(sig.begin(), sig.end(), sig_.begin());
    return Status::Ok();
  }

 private:
  std::optional<store::Statement> q_;
  bool has_ = false;
  int64_t seq_ = 0;
  std::string witness_;
  Hash hash_{};
  std::string ts_;
  crypto::Signature sig_{};
};

}  // namespace

constexpr const char* kTailSql = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;";
constexpr const char* kLastCheckpointSql = "SELECT seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1;";
constexpr const char* kTsAtSql = "SELECT ts FROM audit_log WHERE seq = ?;";

struct AuditLog::Statements {
  store::Statement tail;
  store::Statement last_checkpoint;
  store::Statement ts_at;
  store::Statement insert;
  store::Statement insert_checkpoint;
};

AuditLog::AuditLog(store::Database& db, std::string node_id, const crypto::SigningKeyPair& identity, const Clock& clock,
                   AuditLogOptions options)
    : db_(db), node_id_(std::move(node_id)), identity_(identity), clock_(clock), options_(options) {}

AuditLog::~AuditLog() = default;

Result<std::unique_ptr<AuditLog>> AuditLog::Create(store::Database& db, std::string node_id,
                                                   const crypto::SigningKeyPair& identity, const Clock& clock,
                                                   AuditLogOptions options) {
  if (!IsValidNodeId(node_id)) {
    return Status::InvalidInput("audit log: node id must be [a-z0-9-]{3,64}");
  }
  if (identity.secret.size() != 64) {
    return Status::InvalidInput("audit log: the identity key must be a 64-byte Ed25519 secret");
  }
  if (options.checkpoint_every_entries < 1 || options.checkpoint_every.count() < 0) {
    return Status::InvalidInput("audit log: checkpoint_every_entries must be >= 1 and checkpoint_every >= 0");
  }
  return std::unique_ptr<AuditLog>(new AuditLog(db, std::move(node_id), identity, clock, options));
}

Result<AuditLog::Statements*> AuditLog::Prepared() {
  if (stmts_) return stmts_.get();
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement tail, db_.Prepare(kTailSql));
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement last_checkpoint, db_.Prepare(kLastCheckpointSql));
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement ts_at, db_.Prepare(kTsAtSql));
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement insert,
                           db_.Prepare("INSERT OR ROLLBACK INTO audit_log (" + std::string(kEntryColumns) +
                                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  SCHAKEL_ASSIGN_OR_RETURN(
      store::Statement insert_checkpoint,
      db_.Prepare("INSERT OR ROLLBACK INTO audit_checkpoints (seq, hash, ts, sig) VALUES (?, ?, ?, ?);"));
  stmts_ = std::make_unique<Statements>(Statements{std::move(tail), std::move(last_checkpoint), std::move(ts_at),
                                                   std::move(insert), std::move(insert_checkpoint)});
  return stmts_.get();
}

template <typename Fn>
Status AuditLog::InTransaction(Fn&& fn) {
  if (db_.InTransaction()) {
    // The caller's transaction. No savepoint: SQLCipher encrypts every page
    // a savepoint journals, which made an append four times as expensive
    // (bench/audit_bench.cpp). For the same reason the inserts say OR
    // ROLLBACK and the append-only triggers RAISE(ROLLBACK) (schema 24): with
    // ABORT, SQLite journals the statement's pages on its own. A failed
    // insert ends the caller's transaction, which the caller rolls back on
    // every error anyway; Database refuses any further statement in it.
    return fn();
  }
  store::Transaction tx(db_);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(fn());
  return tx.Commit();
}

namespace {

Result<Tail> ReadTail(store::Statement& q) {
  ResetOnExit reset(q);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  Tail t;
  if (!row) return t;
  t.seq = q.Int(0);
  SCHAKEL_RETURN_IF_ERROR(BlobToHash(q, 1, t.seq, "hash", &t.hash));
  return t;
}

Result<int64_t> ReadLastCheckpointSeq(store::Statement& q) {
  ResetOnExit reset(q);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : int64_t{0};
}

}  // namespace

Result<int64_t> AuditLog::Append(const AuditEvent& event) {
  SCHAKEL_RETURN_IF_ERROR(ValidateEvent(event));
  SCHAKEL_ASSIGN_OR_RETURN(Statements * s, Prepared());
  int64_t seq = 0;
  Status st = InTransaction([&]() -> Status {
    SCHAKEL_ASSIGN_OR_RETURN(Tail tail, ReadTail(s->tail));
    seq = tail.seq + 1;
    std::string ts = FormatInstantMs(clock_.Now());
    if (!IsCanonicalTimestamp(ts)) return Status::Internal("audit log: the clock is out of range");
    Hash hash = ComputeEntryHash(kCurrentEntryFormat, seq, TextOf(event, ts), tail.hash);
    store::Statement& ins = s->insert;
    ResetOnExit reset(ins);
    ins.Bind(1, seq)
        .Bind(2, ts)
        .Bind(3, event.actor_user)
        .Bind(4, event.actor_role)
        .Bind(5, event.actor_org)
        .Bind(6, event.action)
        .Bind(7, event.subject)
        .Bind(8, event.object)
        .Bind(9, event.purpose)
        .Bind(10, event.legal_basis)
        .Bind(11, event.outcome)
        .Bind(12, event.reason)
        .Bind(13, event.source)
        .BindBlob(14, tail.hash)
        .BindBlob(15, hash)
        .Bind(16, int64_t{kCurrentEntryFormat})
        .Bind(17, event.recipient)
        .Bind(18, event.categories)
        .Bind(19, event.consents);
    SCHAKEL_RETURN_IF_ERROR(ins.Run());
    return CheckpointLocked(/*only_if_due=*/true);
  });
  if (!st.ok()) return st.WithContext("audit log");
  return seq;
}

Status AuditLog::CheckpointLocked(bool only_if_due) {
  SCHAKEL_ASSIGN_OR_RETURN(Statements * s, Prepared());
  SCHAKEL_ASSIGN_OR_RETURN(Tail tail, ReadTail(s->tail));
  if (tail.seq == 0) return Status::Ok();
  SCHAKEL_ASSIGN_OR_RETURN(int64_t covered, ReadLastCheckpointSeq(s->last_checkpoint));
  if (covered >= tail.seq) return Status::Ok();
  Instant now = clock_.Now();
  if (only_if_due && tail.seq - covered < options_.checkpoint_every_entries) {
    // Due by age when the oldest uncovered entry is old enough.
    store::Statement& q = s->ts_at;
    ResetOnExit reset(q);
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Bind(1, covered + 1).Step());
    if (!row) {
      return Status::Corruption("audit log: entry " + std::to_string(covered + 1) + " is missing");
    }
    auto oldest = ParseInstant(q.Text(0));
    if (!oldest.ok()) {
      return Status::Corruption("audit log: seq " + std::to_string(covered + 1) + ": bad ts");
    }
    if (now - *oldest < options_.checkpoint_every) return Status::Ok();
  }
  std::string ts = FormatInstantMs(now);
  if (!IsCanonicalTimestamp(ts)) return Status::Internal("audit log: the clock is out of range");
  crypto::Signature sig = crypto::Sign(identity_, CheckpointMessage(node_id_, tail.seq, tail.hash, ts));
  store::Statement& ins = s->insert_checkpoint;
  ResetOnExit reset(ins);
  ins.Bind(1, tail.seq).BindBlob(2, tail.hash).Bind(3, ts).BindBlob(4, sig);
  return ins.Run();
}

Status AuditLog::Checkpoint() {
  return InTransaction([&] { return CheckpointLocked(false); }).WithContext("audit checkpoint");
}

Status AuditLog::MaybeCheckpoint() {
  return InTransaction([&] { return CheckpointLocked(true); }).WithContext("audit checkpoint");
}

namespace {

// Where the chain stands, from the three reads Schedule needs.
Result<CheckpointSchedule> ScheduleFrom(store::Statement& tail_q, store::Statement& checkpoint_q,
                                        store::Statement& ts_q, const AuditLogOptions& options, Instant now) {
  CheckpointSchedule out;
  SCHAKEL_ASSIGN_OR_RETURN(Tail tail, ReadTail(tail_q));
  SCHAKEL_ASSIGN_OR_RETURN(out.covered_seq, ReadLastCheckpointSeq(checkpoint_q));
  out.last_seq = tail.seq;
  if (out.covered_seq >= out.last_seq) return out;
  if (out.last_seq - out.covered_seq >= options.checkpoint_every_entries) {
    out.due = now;
    return out;
  }
  ResetOnExit reset(ts_q);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, ts_q.Bind(1, out.covered_seq + 1).Step());
  if (!row) return Status::Corruption("audit log: entry " + std::to_string(out.covered_seq + 1) + " is missing");
  auto oldest = ParseInstant(ts_q.Text(0));
  if (!oldest.ok()) return Status::Corruption("audit log: seq " + std::to_string(out.covered_seq + 1) + ": bad ts");
  out.due = *oldest + options.checkpoint_every;
  return out;
}

}  // namespace

Result<CheckpointSchedule> AuditLog::Schedule() {
  SCHAKEL_ASSIGN_OR_RETURN(Statements * s, Prepared());
  return ScheduleFrom(s->tail, s->last_checkpoint, s->ts_at, options_, clock_.Now());
}

Result<CheckpointSchedule> ReadSchedule(store::Database& db, const AuditLogOptions& options, Instant now) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement tail, db.Prepare(kTailSql));
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement checkpoint, db.Prepare(kLastCheckpointSql));
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement ts, db.Prepare(kTsAtSql));
  return ScheduleFrom(tail, checkpoint, ts, options, now);
}

Status AuditLog::Close() {
  Status st = Checkpoint();
  stmts_.reset();
  return st;
}

Result<std::vector<AuditEntry>> AuditLog::Query(const AuditFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxQueryLimit) {
    return Status::InvalidInput("audit query: limit must be 1.." + std::to_string(kMaxQueryLimit));
  }
  if (filter.after_seq < 0) return Status::InvalidInput("audit query: after_seq must be >= 0");
  std::string sql = "SELECT " + std::string(kEntryColumns) + " FROM audit_log WHERE seq > ?";
  if (!filter.subject.empty()) sql += " AND subject = ?";
  if (!filter.user.empty()) sql += " AND actor_user = ?";
  if (!filter.action.empty()) sql += " AND action = ?";
  // The fixed-width ts text sorts as the instants do.
  if (filter.since) sql += " AND ts >= ?";
  sql += " ORDER BY seq LIMIT ?;";
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q, db_.Prepare(sql));
  int i = 1;
  q.Bind(i++, filter.after_seq);
  if (!filter.subject.empty()) q.Bind(i++, filter.subject);
  if (!filter.user.empty()) q.Bind(i++, filter.user);
  if (!filter.action.empty()) q.Bind(i++, filter.action);
  if (filter.since) q.Bind(i++, FormatInstantMs(*filter.since));
  q.Bind(i, static_cast<int64_t>(filter.limit));
  std::vector<AuditEntry> out;
  std::string ts;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    AuditEntry e;
    SCHAKEL_RETURN_IF_ERROR(ReadEntryRow(q, &e, &ts));
    out.push_back(std::move(e));
  }
  return out;
}

Result<SubjectAccessReport> AuditLog::SubjectReport(std::string_view subject, size_t max_entries) {
  if (max_entries < 1) return Status::InvalidInput("subject report: max_entries must be >= 1");
  if (!IsValidObjectId(subject)) {
    return Status::InvalidInput("subject report: expected a student reference [A-Za-z0-9._-]{1,128}");
  }
  SubjectAccessReport report;
  report.node_id = node_id_;
  report.subject = std::string(subject);
  report.generated = clock_.Now();
  AuditFilter f;
  f.subject = report.subject;
  ReadSnapshot snapshot(db_);
  SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
  while (true) {
    // One more than needed tells whether the report is complete.
    size_t want = max_entries + 1 - report.entries.size();
    f.limit = std::min(want, kMaxQueryLimit);
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<AuditEntry> page, Query(f));
    for (auto& e : page) {
      if (report.entries.size() == max_entries) {
        report.truncated = true;
        break;
      }
      report.entries.push_back(std::move(e));
    }
    if (report.truncated || page.size() < f.limit) break;
    f.after_seq = report.entries.back().seq;
  }
  return report;
}

Status AuditLog::Export(std::ostream& out) {
  SCHAKEL_RETURN_IF_ERROR(Checkpoint());
  ReadSnapshot snapshot(db_);
  SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db_.Prepare("SELECT " + std::string(kEntryColumns) + " FROM audit_log ORDER BY seq;"));
  CheckpointCursor cps;
  SCHAKEL_RETURN_IF_ERROR(cps.Open(db_));
  WitnessCursor wit;
  SCHAKEL_RETURN_IF_ERROR(wit.Open(db_));
  // After retention the export starts at the boundary's checkpoint; the
  // countersignatures of checkpoints deleted with their entries stay in
  // the table but have nothing left to be checked against.
  SCHAKEL_ASSIGN_OR_RETURN(LogStart start, ReadLogStart(db_));
  while (wit.has() && wit.seq() < start.after_seq) SCHAKEL_RETURN_IF_ERROR(wit.Next());
  std::string buf;
  buf.reserve(1 << 17);
  auto flush = [&]() -> Status {
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
    return out.good() ? Status::Ok() : Status::IoError("audit export: cannot write the output");
  };
  auto write_checkpoint = [&](const CheckpointRow& c) {
    AppendCheckpointLine(node_id_, c.seq, c.ts, c.hash, c.sig, &buf);
  };
  AuditEntry e;
  std::string ts;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SCHAKEL_RETURN_IF_ERROR(ReadEntryRow(q, &e, &ts));
    // Checkpoints of seqs without an entry come out where they fall; the
    // verifier reports them.
    while (cps.has() && cps.row().seq < e.seq) {
      write_checkpoint(cps.row());
      while (wit.has() && wit.seq() == cps.row().seq) {  // the retention boundary's
        wit.Append(node_id_, &buf);
        SCHAKEL_RETURN_IF_ERROR(wit.Next());
      }
      SCHAKEL_RETURN_IF_ERROR(cps.Next());
    }
    AppendEntryLine(e.format, e.seq, TextOf(e, ts), e.prev_hash, e.hash, &buf);
    while (cps.has() && cps.row().seq == e.seq) {
      write_checkpoint(cps.row());
      SCHAKEL_RETURN_IF_ERROR(cps.Next());
    }
    // Partners' countersignatures right after the checkpoint they
    // countersigned: each names the seq, hash and time it saw, so a log
    // rewritten since contradicts them (docs/audit.md "Witnessing").
    while (wit.has() && wit.seq() <= e.seq) {
      wit.Append(node_id_, &buf);
      SCHAKEL_RETURN_IF_ERROR(wit.Next());
    }
    if (buf.size() >= (1 << 16)) SCHAKEL_RETURN_IF_ERROR(flush());
  }
  while (cps.has()) {
    write_checkpoint(cps.row());
    SCHAKEL_RETURN_IF_ERROR(cps.Next());
  }
  while (wit.has()) {
    wit.Append(node_id_, &buf);
    SCHAKEL_RETURN_IF_ERROR(wit.Next());
  }
  SCHAKEL_RETURN_IF_ERROR(flush());
  out.flush();
  return out.good() ? Status::Ok() : Status::IoError("audit export: cannot write the output");
}

Status AuditLog::VerifyStored() {
  ReadSnapshot snapshot(db_);
  SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db_.Prepare("SELECT " + std::string(kEntryColumns) + " FROM audit_log ORDER BY seq;"));
  CheckpointCursor cps;
  SCHAKEL_RETURN_IF_ERROR(cps.Open(db_));
  auto bad = [](int64_t seq, const std::string& what) {
    return Status::Corruption("audit log: seq " + std::to_string(seq) + ": " + what);
  };
  // After a retention pass the log starts after its latest boundary, whose
  // checkpoint is the first one left (and must still verify).
  SCHAKEL_ASSIGN_OR_RETURN(LogStart start, ReadLogStart(db_));
  Hash prev = start.hash;
  int64_t expect = start.after_seq + 1;
  if (start.after_seq > 0) {
    if (!cps.has() || cps.row().seq != start.after_seq) {
      return bad(start.after_seq, "the retention boundary's checkpoint is missing");
    }
    const CheckpointRow& c = cps.row();
    if (c.hash != start.hash ||
        !crypto::Verify(identity_.public_key, CheckpointMessage(node_id_, c.seq, c.hash, c.ts), c.sig)) {
      return bad(c.seq, "the retention boundary's checkpoint does not verify under this node's key");
    }
    SCHAKEL_RETURN_IF_ERROR(cps.Next());
  }
  AuditEntry e;
  std::string ts;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SCHAKEL_RETURN_IF_ERROR(ReadEntryRow(q, &e, &ts));
    if (e.seq != expect) {
      return bad(std::min(e.seq, expect), "expected seq " + std::to_string(expect) + ", found " +
                                              std::to_string(e.seq) + " (an entry is missing)");
    }
    if (e.prev_hash != prev) {
      return bad(e.seq, "prev_hash is not the hash of seq " + std::to_string(e.seq - 1));
    }
    if (ComputeEntryHash(e.format, e.seq, TextOf(e, ts), prev) != e.hash) {
      return bad(e.seq, "hash does not match the entry's fields (the entry was altered)");
    }
    if (cps.has() && cps.row().seq < e.seq) {
      return bad(cps.row().seq, "checkpoint without its entry");
    }
    while (cps.has() && cps.row().seq == e.seq) {
      const CheckpointRow& c = cps.row();
      if (!crypto::Verify(identity_.public_key, CheckpointMessage(node_id_, c.seq, c.hash, c.ts), c.sig)) {
        return bad(c.seq, "checkpoint signature does not verify under this node's key");
      }
      if (c.hash != e.hash) {
        return bad(c.seq,
                   "the checkpoint's signed hash differs from the entry's: entries up to "
                   "here were rewritten");
      }
      SCHAKEL_RETURN_IF_ERROR(cps.Next());
    }
    prev = e.hash;
    ++expect;
  }
  if (cps.has()) {
    return bad(cps.row().seq,
               "checkpoint beyond the last entry " + std::to_string(expect - 1) + " (entries were deleted)");
  }
  return Status::Ok();
}

Result<LogStart> ReadLogStart(store::Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(
      store::Statement q,
      db.Prepare("SELECT through_seq, hash FROM audit_segments ORDER BY through_seq DESC LIMIT 1;"));
  LogStart start;
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return start;
  start.after_seq = q.Int(0);
  SCHAKEL_RETURN_IF_ERROR(BlobToHash(q, 1, start.after_seq, "retention boundary hash", &start.hash));
  return start;
}

namespace {

// The single integer (or NULL: nullopt) a one-row query returns.
Result<std::optional<int64_t>> QueryInt(store::Statement& q) {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(q.Int(0));
}

// The last checkpoint a retention pass may delete through: entries after
// `after` and before `keep_from`, at most kRetentionBatchEntries of them --
// or, when no checkpoint falls in that window, the first whole segment.
Result<std::optional<int64_t>> RetentionBoundary(store::Database& db, int64_t after, int64_t keep_from) {
  SCHAKEL_ASSIGN_OR_RETURN(
      store::Statement most,
      db.Prepare("SELECT MAX(seq) FROM audit_checkpoints WHERE seq > ? AND seq < ? AND seq <= ?;"));
  most.Bind(1, after).Bind(2, keep_from).Bind(3, after + kRetentionBatchEntries);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<int64_t> s, QueryInt(most));
  if (s) return s;
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement first,
                           db.Prepare("SELECT MIN(seq) FROM audit_checkpoints WHERE seq > ? AND seq < ?;"));
  first.Bind(1, after).Bind(2, keep_from);
  return QueryInt(first);
}

}  // namespace

Result<RetentionResult> AuditLog::ApplyRetention(std::chrono::hours keep) {
  if (keep.count() <= 0) return Status::InvalidInput("audit retention: the period must be positive");
  RetentionResult out;
  Status st = InTransaction([&]() -> Status {
    std::string cutoff = FormatInstantMs(clock_.Now() - keep);
    SCHAKEL_ASSIGN_OR_RETURN(LogStart start, ReadLogStart(db_));
    SCHAKEL_ASSIGN_OR_RETURN(Statements * s, Prepared());
    SCHAKEL_ASSIGN_OR_RETURN(Tail tail, ReadTail(s->tail));
    // The fixed-width ts text sorts as the instants do.
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement young, db_.Prepare("SELECT MIN(seq) FROM audit_log WHERE ts >= ?;"));
    young.Bind(1, cutoff);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<int64_t> first_young, QueryInt(young));
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<int64_t> boundary,
                             RetentionBoundary(db_, start.after_seq, first_young.value_or(tail.seq + 1)));
    if (!boundary) return Status::Ok();
    int64_t through = *boundary;

    // The segment must verify before it goes: deleting a rewritten stretch
    // would hide the rewrite.
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                             db_.Prepare("SELECT " + std::string(kEntryColumns) +
                                         " FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq;"));
    q.Bind(1, start.after_seq).Bind(2, through);
    Hash prev = start.hash;
    int64_t expect = start.after_seq + 1;
    AuditEntry e;
    std::string ts;
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      SCHAKEL_RETURN_IF_ERROR(ReadEntryRow(q, &e, &ts));
      if (e.seq != expect || e.prev_hash != prev || ComputeEntryHash(e.format, e.seq, TextOf(e, ts), prev) != e.hash) {
        return Status::Corruption("audit log: seq " + std::to_string(std::min(e.seq, expect)) +
                                  " does not verify; retention deletes nothing until the log is checked "
                                  "(schakel audit verify)");
      }
      prev = e.hash;
      ++expect;
    }
    if (expect != through + 1) {
      return Status::Corruption("audit log: entry " + std::to_string(expect) + " is missing");
    }
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement cq,
                             db_.Prepare("SELECT seq, hash, ts, sig FROM audit_checkpoints WHERE seq = ?;"));
    cq.Bind(1, through);
    SCHAKEL_ASSIGN_OR_RETURN(bool found, cq.Step());
    CheckpointRow c;
    if (found) SCHAKEL_RETURN_IF_ERROR(ReadCheckpointRow(cq, &c));
    if (!found || c.hash != prev ||
        !crypto::Verify(identity_.public_key, CheckpointMessage(node_id_, c.seq, c.hash, c.ts), c.sig)) {
      return Status::Corruption("audit log: the checkpoint at seq " + std::to_string(through) +
                                " does not verify; retention deletes nothing");
    }
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement count,
                             db_.Prepare("SELECT COUNT(*) FROM audit_checkpoints WHERE seq < ?;"));
    count.Bind(1, through);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<int64_t> checkpoints, QueryInt(count));

    out.from_seq = start.after_seq + 1;
    out.through_seq = through;
    out.entries = through - start.after_seq;
    out.checkpoints = checkpoints.value_or(0);
    AuditEvent ev;
    ev.actor_user = "system";
    ev.actor_role = "system";
    ev.actor_org = node_id_;
    ev.action = "audit.retention";
    ev.object = "seq:" + std::to_string(out.from_seq) + "-" + std::to_string(through);
    ev.outcome = "ok";
    ev.reason = "entries older than " + cutoff + " deleted through the checkpoint at seq " + std::to_string(through) +
                " signed " + c.ts + "; the log now starts after it";
    ev.source = "maintenance";
    SCHAKEL_RETURN_IF_ERROR(Append(ev).status());

    SCHAKEL_ASSIGN_OR_RETURN(
        store::Statement seg,
        db_.Prepare("INSERT INTO audit_segments (through_seq, hash, ts, sig, cutoff, deleted_at, entries) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?);"));
    seg.Bind(1, through)
        .BindBlob(2, c.hash)
        .Bind(3, c.ts)
        .BindBlob(4, c.sig)
        .Bind(5, cutoff)
        .Bind(6, FormatInstantMs(clock_.Now()))
        .Bind(7, out.entries);
    SCHAKEL_RETURN_IF_ERROR(seg.Run());
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement del_cp, db_.Prepare("DELETE FROM audit_checkpoints WHERE seq < ?;"));
    SCHAKEL_RETURN_IF_ERROR(del_cp.Bind(1, through).Run());
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement del, db_.Prepare("DELETE FROM audit_log WHERE seq <= ?;"));
    return del.Bind(1, through).Run();
  });
  if (!st.ok()) return st.WithContext("audit retention");
  return out;
}

}  // namespace schakel::audit
