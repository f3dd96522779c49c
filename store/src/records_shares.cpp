// Typed records, shares and the outbox ("outgoing"): every SQL statement on
// those tables.
//
// Their UPDATEs say OR ROLLBACK: an UPDATE that may fail on a constraint
// with ABORT, inside a transaction, makes SQLite journal every page it
// changes for the statement alone, and SQLCipher encrypts and authenticates
// each of those pages once more (about 40 % of such an UPDATE; issue 19,
// docs/performance.md "No statement journals"). With ROLLBACK a failure ends
// the whole transaction instead, which every caller rolls back on an error
// anyway; Database refuses any further statement in it.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "records_internal.h"
#include "rows.h"
#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/store/records.h"

namespace schakel::store {
namespace {

using internal::CategoriesFrom;
using internal::CategoriesText;
using internal::ListFrom;
using internal::ListText;
using nlohmann::json;

// ---- shares ----

constexpr const char* kShareSelect =
    "SELECT message_id, case_id, case_version, student_id, recipient_id, recipient_type, purpose, "
    "legal_basis, categories, withheld, consent_ids, state, requested_by, approved_by, "
    "justification, created, retain_until, body_hash, receipt, delivered_at, state_reason, "
    "state_changed FROM shares ";

Result<ShareRecord> ReadShare(Statement& s) {
  ShareRecord r;
  r.message_id = s.Text(0);
  r.case_id = s.Text(1);
  r.case_version = s.Int(2);
  r.student_id = s.Text(3);
  r.recipient_id = s.Text(4);
  r.recipient_type = s.Text(5);
  r.purpose = s.Text(6);
  r.legal_basis = s.Text(7);
  r.categories = CategoriesFrom(s.Text(8));
  r.withheld = CategoriesFrom(s.Text(9));
  r.consent_ids = ListFrom(s.Text(10));
  auto state = ParseShareState(s.Text(11));
  if (!state) return Status::Corruption("stored share has an unknown state");
  r.state = *state;
  r.requested_by = s.Text(12);
  r.approved_by = s.OptText(13);
  r.justification = s.OptText(14);
  r.created = s.Text(15);
  r.retain_until = s.Text(16);
  r.body_hash = s.Blob(17);
  r.receipt = s.Blob(18);
  r.delivered_at = s.OptText(19);
  r.state_reason = s.OptText(20);
  r.state_changed = s.Text(21);
  return r;
}

// What ReadOutgoing reads, in its order: the queue row `o` joined with its
// payload `p` (schema 23), then the caller's WHERE ... ORDER BY ... LIMIT.
constexpr std::string_view kSelectOutgoing =
    "SELECT o.id, o.kind, o.message_id, o.recipient_id, p.payload, o.attempts, o.next_attempt, o.last_error, "
    "o.created FROM outgoing o JOIN outgoing_payloads p ON p.id = o.id ";

Result<OutgoingItem> ReadOutgoing(Statement& s) {
  OutgoingItem o;
  o.id = s.Int(0);
  o.kind = s.Text(1);
  o.message_id = s.Text(2);
  o.recipient_id = s.Text(3);
  o.payload = s.Text(4);
  o.attempts = s.Int(5);
  o.next_attempt_ms = s.Int(6);
  o.last_error = s.OptText(7);
  o.created = s.Text(8);
  return o;
}

}  // namespace

// ---- shares ----

std::string_view ShareStateName(ShareState s) {
  switch (s) {
    case ShareState::kPendingApproval:
      return "pending_approval";
    case ShareState::kQueued:
      return "queued";
    case ShareState::kSending:
      return "sending";
    case ShareState::kDelivered:
      return "delivered";
    case ShareState::kCancelled:
      return "cancelled";
    case ShareState::kRevoked:
      return "revoked";
    case ShareState::kPurged:
      return "purged";
    case ShareState::kRefused:
      return "refused";
  }
  return "?";
}

std::optional<ShareState> ParseShareState(std::string_view s) {
  for (ShareState st : {ShareState::kPendingApproval, ShareState::kQueued, ShareState::kSending, ShareState::kDelivered,
                        ShareState::kCancelled, ShareState::kRevoked, ShareState::kPurged, ShareState::kRefused}) {
    if (ShareStateName(st) == s) return st;
  }
  return std::nullopt;
}

Status InsertShare(Database& db, const ShareRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT INTO shares (message_id, case_id, case_version, student_id, recipient_id, "
                 "recipient_type, purpose, legal_basis, categories, withheld, consent_ids, state, requested_by, "
                 "approved_by, justification, created, retain_until, body_hash, receipt, delivered_at, "
                 "state_reason, state_changed) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?);"));
  s.Bind(1, r.message_id).Bind(2, r.case_id).Bind(3, r.case_version).Bind(4, r.student_id);
  s.Bind(5, r.recipient_id).Bind(6, r.recipient_type).Bind(7, r.purpose).Bind(8, r.legal_basis);
  s.Bind(9, CategoriesText(r.categories)).Bind(10, CategoriesText(r.withheld));
  s.Bind(11, ListText(r.consent_ids)).Bind(12, ShareStateName(r.state)).Bind(13, r.requested_by);
  s.BindOpt(14, r.approved_by).BindOpt(15, r.justification).Bind(16, r.created).Bind(17, r.retain_until);
  s.BindBlob(18, r.body_hash).BindOpt(19, r.state_reason).Bind(20, r.state_changed);
  return s.Run();
}

Result<std::optional<ShareRecord>> FindShare(Database& db, const std::string& message_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kShareSelect) + "WHERE message_id = ?;"));
  s.Bind(1, message_id);
  return OneRow<ShareRecord>(s, ReadShare);
}

Result<std::vector<ShareRecord>> ListShares(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kShareSelect) + "ORDER BY created, message_id;"));
  return AllRows<ShareRecord>(s, ReadShare);
}

Result<std::vector<ShareRecord>> SharesUsingConsent(Database& db, const std::string& consent_id) {
  // Consent ids cannot contain quotes, so the quoted id matches one list item exactly.
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kShareSelect) + "WHERE instr(consent_ids, ?) > 0 ORDER BY created;"));
  s.Bind(1, json(consent_id).dump());
  return AllRows<ShareRecord>(s, ReadShare);
}
Status SetShareConsentIds(Database& db, const std::string& message_id, const std::vector<std::string>& consent_ids) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("UPDATE OR ROLLBACK shares SET consent_ids = ? WHERE message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, ListText(consent_ids)).Bind(2, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no share " + message_id);
  return Status::Ok();
}

Status SetShareState(Database& db, const std::string& message_id, ShareState state, const std::string& reason,
                     const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE OR ROLLBACK shares SET state = ?, state_reason = ?, state_changed = ? WHERE message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, ShareStateName(state)).Bind(2, reason).Bind(3, at).Bind(4, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no share " + message_id);
  return Status::Ok();
}

Status SetShareApproved(Database& db, const std::string& message_id, const std::string& approved_by,
                        const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "UPDATE OR ROLLBACK shares SET approved_by = ?, state = 'queued', state_changed = ? WHERE message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, approved_by).Bind(2, at).Bind(3, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no share " + message_id);
  return Status::Ok();
}

Status SetShareBodyHash(Database& db, const std::string& message_id, const std::vector<uint8_t>& body_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("UPDATE OR ROLLBACK shares SET body_hash = ? WHERE message_id = ?;"));
  return s.BindBlob(1, body_hash).Bind(2, message_id).Run();
}

Status MarkShareDelivered(Database& db, const std::string& message_id, const std::vector<uint8_t>& receipt,
                          const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE OR ROLLBACK shares SET state = 'delivered', receipt = ?, delivered_at = ?, state_changed = ? "
                 "WHERE message_id = ? AND state IN ('queued', 'sending');"));
  return s.BindBlob(1, receipt).Bind(2, at).Bind(3, at).Bind(4, message_id).Run();
}

Status MarkShareMaybeSent(Database& db, const std::string& message_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE OR ROLLBACK shares SET state = 'sending', state_changed = ? "
                                                   "WHERE message_id = ? AND state = 'queued';"));
  return s.Bind(1, at).Bind(2, message_id).Run();
}

Result<int> MarkQueuedSharesMaybeSent(Database& db, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE OR ROLLBACK shares SET state = 'sending', state_changed = ? WHERE state = 'queued';"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, at).Run());
  return db.Changes();
}

Status KeepLateReceipt(Database& db, const std::string& message_id, const std::vector<uint8_t>& receipt,
                       const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE OR ROLLBACK shares SET receipt = ?, delivered_at = ? WHERE message_id = ?;"));
  return s.BindBlob(1, receipt).Bind(2, at).Bind(3, message_id).Run();
}

// ---- outgoing ----

Status EnqueueOutgoing(Database& db, const std::string& kind, const std::string& message_id,
                       const std::string& recipient_id, const std::string& payload, int64_t next_attempt_ms,
                       const std::string& created) {
  // Two rows, the queue row and its payload under the same id (schema 23:
  // the payload apart), in the caller's transaction or one of their own: a
  // queue row without its payload would never be sent.
  std::optional<Transaction> own;
  if (!db.InTransaction()) {
    own.emplace(db);
    SCHAKEL_RETURN_IF_ERROR(own->Begin());
  }
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("INSERT INTO outgoing (kind, message_id, recipient_id, next_attempt, created) "
                                      "VALUES (?, ?, ?, ?, ?);"));
  SCHAKEL_RETURN_IF_ERROR(
      s.Bind(1, kind).Bind(2, message_id).Bind(3, recipient_id).Bind(4, next_attempt_ms).Bind(5, created).Run());
  SCHAKEL_ASSIGN_OR_RETURN(Statement p,
                           db.Prepare("INSERT INTO outgoing_payloads (id, payload) VALUES (last_insert_rowid(), ?);"));
  p.BindBlob(1, {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
  SCHAKEL_RETURN_IF_ERROR(p.Run());
  return own ? own->Commit() : Status::Ok();
}

Result<std::vector<OutgoingItem>> DueOutgoing(Database& db, int64_t now_ms, int limit) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kSelectOutgoing) +
                                                   "WHERE o.next_attempt <= ? ORDER BY o.next_attempt, o.id LIMIT ?;"));
  s.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
  return AllRows<OutgoingItem>(s, ReadOutgoing);
}

Result<std::vector<std::string>> DueRecipients(Database& db, int64_t now_ms, int limit) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT recipient_id FROM outgoing WHERE next_attempt <= ? GROUP BY recipient_id "
                                      "ORDER BY min(next_attempt), recipient_id LIMIT ?;"));
  s.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Result<std::vector<OutgoingItem>> DueOutgoingTo(Database& db, const std::string& recipient_id, int64_t now_ms,
                                                int limit, const std::vector<int64_t>& skip) {
  if (skip.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare(std::string(kSelectOutgoing) +
                   "WHERE o.recipient_id = ? AND o.next_attempt <= ? ORDER BY o.next_attempt, o.id LIMIT ?;"));
    s.Bind(1, recipient_id).Bind(2, now_ms).Bind(3, static_cast<int64_t>(limit));
    return AllRows<OutgoingItem>(s, ReadOutgoing);
  }
  // The ids first (no payload read), then the items kept, each by its id.
  SCHAKEL_ASSIGN_OR_RETURN(Statement ids,
                           db.Prepare("SELECT id FROM outgoing WHERE recipient_id = ? AND next_attempt <= ? "
                                      "ORDER BY next_attempt, id LIMIT ?;"));
  ids.Bind(1, recipient_id).Bind(2, now_ms).Bind(3, static_cast<int64_t>(limit) + static_cast<int64_t>(skip.size()));
  std::vector<int64_t> wanted;
  while (static_cast<int>(wanted.size()) < limit) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, ids.Step());
    if (!row) break;
    int64_t id = ids.Int(0);
    if (std::find(skip.begin(), skip.end(), id) == skip.end()) wanted.push_back(id);
  }
  SCHAKEL_ASSIGN_OR_RETURN(Statement one, db.Prepare(std::string(kSelectOutgoing) + "WHERE o.id = ?;"));
  std::vector<OutgoingItem> out;
  out.reserve(wanted.size());
  for (int64_t id : wanted) {
    SCHAKEL_RETURN_IF_ERROR(one.Reset());
    one.Bind(1, id);
    SCHAKEL_ASSIGN_OR_RETURN(bool row, one.Step());
    if (!row) continue;  // delivered or ended in between: not due any more
    SCHAKEL_ASSIGN_OR_RETURN(OutgoingItem item, ReadOutgoing(one));
    out.push_back(std::move(item));
  }
  return out;
}

Result<bool> HasOutgoingTo(Database& db, const std::string& recipient_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT EXISTS (SELECT 1 FROM outgoing WHERE recipient_id = ?);"));
  s.Bind(1, recipient_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  return row && s.Int(0) != 0;
}

Status RescheduleOutgoing(Database& db, int64_t id, int64_t attempts, int64_t next_attempt_ms,
                          const std::string& last_error) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE OR ROLLBACK outgoing SET attempts = ?, next_attempt = ?, last_error = ? WHERE id = ?;"));
  return s.Bind(1, attempts).Bind(2, next_attempt_ms).Bind(3, last_error).Bind(4, id).Run();
}

Status ExpediteOutgoing(Database& db, const std::string& recipient_id, int64_t now_ms) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE OR ROLLBACK outgoing SET next_attempt = ?1 WHERE recipient_id = ?2 AND next_attempt > ?1;"));
  return s.Bind(1, now_ms).Bind(2, recipient_id).Run();
}

Status RemoveOutgoing(Database& db, const std::string& kind, const std::string& message_id) {
  // The payload first, with secure_delete off for that one statement: its
  // freed pages keep their bytes (still under the database's encryption)
  // instead of being read, zeroed and written again, which for a 64 KB
  // share was most of what recording its receipt cost. What is left there is
  // a sealed envelope only its recipient can open (its header's fields are
  // kept in `shares` anyway) or a signed revocation. The queue row, and
  // everything else, is deleted with secure_delete on (docs/performance.md
  // "Less work per share").
  SCHAKEL_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = OFF;"));
  Status payload = [&] {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s, db.Prepare("DELETE FROM outgoing_payloads WHERE id IN (SELECT id FROM outgoing WHERE kind = ? AND "
                                "message_id = ?);"));
    return s.Bind(1, kind).Bind(2, message_id).Run();
  }();
  if (Status on = db.Exec("PRAGMA secure_delete = ON;"); !on.ok()) {
    // Never go on with it off: a purge after this would leave a summary's
    // bytes behind. The transaction is not committed; the daemon restarts.
    LogError("store: cannot turn secure_delete back on: " + on.message());
    std::abort();
  }
  SCHAKEL_RETURN_IF_ERROR(payload);
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM outgoing WHERE kind = ? AND message_id = ?;"));
  return s.Bind(1, kind).Bind(2, message_id).Run();
}

Result<int64_t> CountOutgoing(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*) FROM outgoing;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

Result<std::optional<std::string>> OldestOutgoing(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT min(created) FROM outgoing;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return s.OptText(0);
}

Result<OutgoingSummary> SummarizeOutgoing(Database& db, const std::string& kind, const std::string& recipient_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("SELECT count(*), min(created) FROM outgoing WHERE kind = ? AND (? = '' OR recipient_id = ?);"));
  s.Bind(1, kind).Bind(2, recipient_id).Bind(3, recipient_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  OutgoingSummary out;
  if (!row) return out;
  out.count = s.Int(0);
  out.oldest = s.OptText(1);
  return out;
}
}  // namespace schakel::store
