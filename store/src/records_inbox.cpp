// Typed records, the inbox: every SQL statement on that table.
#include <nlohmann/json.hpp>

#include "records_internal.h"
#include "rows.h"
#include "schakel/base/time.h"
#include "schakel/store/records.h"

namespace schakel::store {
namespace {

using internal::CategoriesFrom;
using internal::CategoriesText;
using internal::ListFrom;
using internal::ListText;
using nlohmann::json;

// ---- inbox ----

constexpr const char* kInboxSelect =
    "SELECT sender_id, message_id, student_id, purpose, categories, consent_ids, created, received, "
    "retain_until, summary, body_hash, receipt, state, purged_at, purge_reason, assigned_to, assigned_by, adopted_at, "
    "adopted_by, adopted_basis FROM inbox ";

Result<InboxRecord> ReadInbox(Statement& s) {
  InboxRecord r;
  r.sender_id = s.Text(0);
  r.message_id = s.Text(1);
  r.student_id = s.Text(2);
  r.purpose = s.Text(3);
  r.categories = CategoriesFrom(s.Text(4));
  r.consent_ids = ListFrom(s.Text(5));
  r.created = s.Text(6);
  r.received = s.Text(7);
  r.retain_until = s.Text(8);
  r.summary = s.OptText(9);
  r.body_hash = s.Blob(10);
  r.receipt = s.Blob(11);
  r.state = s.Text(12);
  r.purged_at = s.OptText(13);
  r.purge_reason = s.OptText(14);
  r.assigned_to = s.OptText(15);
  r.assigned_by = s.OptText(16);
  r.adopted_at = s.OptText(17);
  r.adopted_by = s.OptText(18);
  r.adopted_basis = s.OptText(19);
  return r;
}

// The one row of an inbound count (count, bytes), its statement bound.
Result<InboundVolume> CountInbound(Statement& s) {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("inbox: count returned no row");
  return InboundVolume{s.Int(0), s.Int(1)};
}

}  // namespace

// ---- inbox ----

Result<bool> InsertInboxIfNew(Database& db, const InboxRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT OR IGNORE INTO inbox (sender_id, message_id, student_id, purpose, categories, "
                 "consent_ids, created, received, retain_until, summary, body_hash, receipt, state, summary_bytes, "
                 "assigned_to, assigned_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?);"));
  s.Bind(1, r.sender_id).Bind(2, r.message_id).Bind(3, r.student_id).Bind(4, r.purpose);
  s.Bind(5, CategoriesText(r.categories)).Bind(6, ListText(r.consent_ids)).Bind(7, r.created);
  s.Bind(8, r.received).Bind(9, r.retain_until).BindOpt(10, r.summary).BindBlob(11, r.body_hash);
  s.BindBlob(12, r.receipt).Bind(13, static_cast<int64_t>(r.summary ? r.summary->size() : 0));
  s.BindOpt(14, r.assigned_to).BindOpt(15, r.assigned_by);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  return db.Changes() > 0;
}

Result<std::optional<InboxRecord>> FindInbox(Database& db, const std::string& sender_id,
                                             const std::string& message_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kInboxSelect) + "WHERE sender_id = ? AND message_id = ?;"));
  s.Bind(1, sender_id).Bind(2, message_id);
  return OneRow<InboxRecord>(s, ReadInbox);
}

Result<InboundVolume> InboundSince(Database& db, const std::string& sender_id, const std::string& since) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*), coalesce(sum(summary_bytes), 0) FROM inbox "
                                                   "WHERE sender_id = ? AND received >= ?;"));
  s.Bind(1, sender_id).Bind(2, since);
  return CountInbound(s);
}

Result<InboundVolume> InboundBetween(Database& db, const std::string& sender_id, const std::string& from,
                                     const std::string& to) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*), coalesce(sum(summary_bytes), 0) FROM inbox "
                                                   "WHERE sender_id = ? AND received >= ? AND received < ?;"));
  s.Bind(1, sender_id).Bind(2, from).Bind(3, to);
  return CountInbound(s);
}

Result<std::vector<InboxRecord>> ListInbox(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kInboxSelect) + "ORDER BY received, message_id;"));
  return AllRows<InboxRecord>(s, ReadInbox);
}

Result<std::vector<InboxRecord>> ListInboxAssignedTo(Database& db, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare(std::string(kInboxSelect) + "WHERE assigned_to = ? ORDER BY received, message_id;"));
  s.Bind(1, user_id);
  return AllRows<InboxRecord>(s, ReadInbox);
}

Result<std::vector<InboxRecord>> FindInboxByMessage(Database& db, const std::string& message_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kInboxSelect) + "WHERE message_id = ? ORDER BY received;"));
  s.Bind(1, message_id);
  return AllRows<InboxRecord>(s, ReadInbox);
}

Status AssignInbox(Database& db, const std::string& sender_id, const std::string& message_id,
                   const std::string& user_id, const std::string& assigned_by) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE inbox SET assigned_to = ?, assigned_by = ? "
                                                   "WHERE sender_id = ? AND message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, user_id).Bind(2, assigned_by).Bind(3, sender_id).Bind(4, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no received share " + message_id + " from " + sender_id);
  return Status::Ok();
}

Status AdoptInbox(Database& db, const std::string& sender_id, const std::string& message_id, const std::string& user_id,
                  const std::string& basis, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE inbox SET adopted_at = ?, adopted_by = ?, adopted_basis = ? "
                                                   "WHERE sender_id = ? AND message_id = ? AND state = 'received' "
                                                   "AND adopted_at IS NULL;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, at).Bind(2, user_id).Bind(3, basis).Bind(4, sender_id).Bind(5, message_id).Run());
  if (db.Changes() > 0) return Status::Ok();
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<InboxRecord> known, FindInbox(db, sender_id, message_id));
  if (!known) return Status::NotFound("no received share " + message_id + " from " + sender_id);
  if (known->adopted_at) {
    return Status::AlreadyExists(message_id + " was adopted into the dossier already, on " + *known->adopted_at);
  }
  return Status::NotFound(message_id + " was purged (" + known->purge_reason.value_or("") +
                          "): nothing is left to adopt");
}

Status PurgeInbox(Database& db, const std::string& sender_id, const std::string& message_id, const std::string& reason,
                  const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE inbox SET summary = NULL, state = 'purged', purged_at = ?, purge_reason = ? "
                              "WHERE sender_id = ? AND message_id = ? AND state = 'received' AND adopted_at IS NULL;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, at).Bind(2, reason).Bind(3, sender_id).Bind(4, message_id).Run());
  if (db.Changes() == 0) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<InboxRecord> known, FindInbox(db, sender_id, message_id));
    if (!known) return Status::NotFound("no received share " + message_id + " from " + sender_id);
  }
  return Status::Ok();
}

Result<std::vector<InboxRecord>> ExpiredInbox(Database& db, const std::string& now) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(std::string(kInboxSelect) + "WHERE state = 'received' AND adopted_at IS NULL AND retain_until < ?;"));
  s.Bind(1, now);
  return AllRows<InboxRecord>(s, ReadInbox);
}

}  // namespace schakel::store
