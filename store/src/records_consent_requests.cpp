// Typed records, permission requests: every SQL statement on the
// consent_requests and consent_request_grantors tables.
#include "records_internal.h"
#include "rows.h"
#include "schakel/store/consent_requests.h"

namespace schakel::store {
namespace {

using internal::CategoriesFrom;
using internal::CategoriesText;
using internal::ListFrom;
using internal::ListText;

constexpr const char* kRequestColumns =
    "SELECT request_id, student_id, purposes, recipients, categories, valid_from, valid_until, created_by, created, "
    "expires, text_version FROM consent_requests ";

Result<ConsentRequestRecord> ReadRequest(Statement& s) {
  ConsentRequestRecord r;
  r.request_id = s.Text(0);
  r.student_id = s.Text(1);
  r.purposes = ListFrom(s.Text(2));
  r.recipients = ListFrom(s.Text(3));
  r.categories = CategoriesFrom(s.Text(4));
  r.valid_from = s.Text(5);
  r.valid_until = s.Text(6);
  r.created_by = s.Text(7);
  r.created = s.Text(8);
  r.expires = s.Text(9);
  r.text_version = s.Text(10);
  return r;
}

constexpr const char* kGrantColumns =
    "SELECT grant_id, request_id, grantor_role, state, state_changed, failed_attempts, answer, consent_id, kdf_salt, "
    "nonce, ciphertext, guardian FROM consent_request_grantors ";

Result<ConsentGrantRecord> ReadGrant(Statement& s) {
  ConsentGrantRecord r;
  r.grant_id = s.Text(0);
  r.request_id = s.Text(1);
  r.grantor_role = s.Text(2);
  r.state = s.Text(3);
  r.state_changed = s.Text(4);
  r.failed_attempts = s.Int(5);
  r.answer = s.Text(6);
  r.consent_id = s.Text(7);
  if (!s.IsNull(8) && !s.IsNull(9) && !s.IsNull(10)) {
    r.kdf_salt = s.Blob(8);
    r.nonce = s.Blob(9);
    r.ciphertext = s.Blob(10);
    r.has_content = true;
  }
  r.guardian = s.Text(11);
  return r;
}

// Sets `state` on the grants `select_sql` names (one bound text parameter
// per entry of `binds`) and deletes their sealed content.
Result<std::vector<std::string>> EndGrants(Database& db, const std::string& select_sql,
                                           const std::vector<std::string>& binds, const std::string& state,
                                           const std::string& at) {
  std::vector<std::string> ids;
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(select_sql));
    for (size_t i = 0; i < binds.size(); ++i) s.Bind(static_cast<int>(i + 1), binds[i]);
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ids.push_back(s.Text(0));
    }
  }
  for (const auto& id : ids) {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement u, db.Prepare("UPDATE consent_request_grantors SET state = ?, state_changed = ?, kdf_salt = NULL, "
                                "nonce = NULL, ciphertext = NULL WHERE grant_id = ?;"));
    SCHAKEL_RETURN_IF_ERROR(u.Bind(1, state).Bind(2, at).Bind(3, id).Run());
  }
  return ids;
}

}  // namespace

Status InsertConsentRequest(Database& db, const ConsentRequestRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("INSERT INTO consent_requests (request_id, student_id, purposes, recipients, categories, "
                              "valid_from, valid_until, created_by, created, expires, text_version) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  return s.Bind(1, r.request_id)
      .Bind(2, r.student_id)
      .Bind(3, ListText(r.purposes))
      .Bind(4, ListText(r.recipients))
      .Bind(5, CategoriesText(r.categories))
      .Bind(6, r.valid_from)
      .Bind(7, r.valid_until)
      .Bind(8, r.created_by)
      .Bind(9, r.created)
      .Bind(10, r.expires)
      .Bind(11, r.text_version)
      .Run();
}

Result<std::optional<ConsentRequestRecord>> FindConsentRequest(Database& db, const std::string& request_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kRequestColumns) + "WHERE request_id = ?;"));
  s.Bind(1, request_id);
  return OneRow<ConsentRequestRecord>(s, ReadRequest);
}

Result<std::vector<ConsentRequestRecord>> ConsentRequestsForStudent(Database& db, const std::string& student_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare(std::string(kRequestColumns) + "WHERE student_id = ? ORDER BY created DESC LIMIT 200;"));
  s.Bind(1, student_id);
  return AllRows<ConsentRequestRecord>(s, ReadRequest);
}

Status InsertConsentGrant(Database& db, const ConsentGrantRecord& r, const GrantSecret& secret, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT INTO consent_request_grantors (grant_id, request_id, grantor_role, token_hash, kdf_salt, "
                 "nonce, ciphertext, failed_attempts, state, state_changed, guardian) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'open', ?, ?);"));
  return s.Bind(1, r.grant_id)
      .Bind(2, r.request_id)
      .Bind(3, r.grantor_role)
      .BindBlob(4, secret.token_hash)
      .BindBlob(5, secret.kdf_salt)
      .BindBlob(6, secret.nonce)
      .BindBlob(7, secret.ciphertext)
      .Bind(8, at)
      .Bind(9, r.guardian)
      .Run();
}

Result<std::optional<ConsentGrantRecord>> FindConsentGrantByTokenHash(Database& db,
                                                                      std::span<const uint8_t> token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kGrantColumns) + "WHERE token_hash = ?;"));
  s.BindBlob(1, token_hash);
  return OneRow<ConsentGrantRecord>(s, ReadGrant);
}

Result<std::vector<ConsentGrantRecord>> ConsentGrantsOf(Database& db, const std::string& request_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kGrantColumns) + "WHERE request_id = ? ORDER BY grantor_role DESC;"));
  s.Bind(1, request_id);
  return AllRows<ConsentGrantRecord>(s, ReadGrant);
}

Result<bool> CountGrantAttempt(Database& db, const std::string& grant_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE consent_request_grantors SET failed_attempts = "
                                                   "failed_attempts + 1 WHERE grant_id = ? AND state IN ('open', "
                                                   "'agreed');"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, grant_id).Run());
  return db.Changes() > 0;
}

Status ResetGrantAttempts(Database& db, const std::string& grant_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("UPDATE consent_request_grantors SET failed_attempts = 0 WHERE grant_id = ?;"));
  return s.Bind(1, grant_id).Run();
}

Result<bool> SetGrantState(Database& db, const std::string& grant_id, const std::string& from, const std::string& to,
                           const std::string& at, const std::optional<std::string>& answer,
                           const std::optional<std::string>& consent_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE consent_request_grantors SET state = ?, state_changed = ?, "
                                                   "answer = COALESCE(?, answer), consent_id = COALESCE(?, consent_id) "
                                                   "WHERE grant_id = ? AND state = ?;"));
  SCHAKEL_RETURN_IF_ERROR(
      s.Bind(1, to).Bind(2, at).BindOpt(3, answer).BindOpt(4, consent_id).Bind(5, grant_id).Bind(6, from).Run());
  const bool changed = db.Changes() > 0;
  // A link that can no longer be answered or managed keeps no content.
  if (changed && to != "open" && to != "agreed") {
    SCHAKEL_ASSIGN_OR_RETURN(Statement d, db.Prepare("UPDATE consent_request_grantors SET kdf_salt = NULL, nonce = "
                                                     "NULL, ciphertext = NULL WHERE grant_id = ?;"));
    SCHAKEL_RETURN_IF_ERROR(d.Bind(1, grant_id).Run());
  }
  return changed;
}

Result<std::vector<std::string>> ExpireConsentGrants(Database& db, const std::string& now, const std::string& today) {
  SCHAKEL_ASSIGN_OR_RETURN(
      std::vector<std::string> expired,
      EndGrants(db,
                "SELECT g.grant_id FROM consent_request_grantors g JOIN consent_requests r USING (request_id) "
                "WHERE g.state IN ('open', 'locked') AND r.expires <= ? LIMIT 1000;",
                {now}, "expired", now));
  SCHAKEL_ASSIGN_OR_RETURN(
      std::vector<std::string> ended,
      EndGrants(db,
                "SELECT g.grant_id FROM consent_request_grantors g JOIN consent_requests r USING (request_id) "
                "WHERE g.state = 'agreed' AND r.valid_until < ? LIMIT 1000;",
                {today}, "ended", now));
  expired.insert(expired.end(), ended.begin(), ended.end());
  return expired;
}

// ---- inzage links

namespace {

Result<InzageLinkRecord> ReadInzage(Statement& s) {
  InzageLinkRecord r;
  r.link_id = s.Text(0);
  r.student_id = s.Text(1);
  r.grantor_role = s.Text(2);
  r.failed_attempts = s.Int(3);
  r.state = s.Text(4);
  r.created_by = s.Text(5);
  r.created = s.Text(6);
  r.expires = s.Text(7);
  if (!s.IsNull(8) && !s.IsNull(9) && !s.IsNull(10)) {
    r.kdf_salt = s.Blob(8);
    r.nonce = s.Blob(9);
    r.ciphertext = s.Blob(10);
    r.has_content = true;
  }
  return r;
}

}  // namespace

Status InsertInzageLink(Database& db, const InzageLinkRecord& r, const GrantSecret& secret) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT INTO inzage_links (link_id, student_id, grantor_role, token_hash, kdf_salt, nonce, "
                 "ciphertext, failed_attempts, state, created_by, created, expires) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'active', ?, ?, ?);"));
  return s.Bind(1, r.link_id)
      .Bind(2, r.student_id)
      .Bind(3, r.grantor_role)
      .BindBlob(4, secret.token_hash)
      .BindBlob(5, secret.kdf_salt)
      .BindBlob(6, secret.nonce)
      .BindBlob(7, secret.ciphertext)
      .Bind(8, r.created_by)
      .Bind(9, r.created)
      .Bind(10, r.expires)
      .Run();
}

Result<std::optional<InzageLinkRecord>> FindInzageLinkByTokenHash(Database& db, std::span<const uint8_t> token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT link_id, student_id, grantor_role, failed_attempts, state, created_by, created, "
                              "expires, kdf_salt, nonce, ciphertext FROM inzage_links WHERE token_hash = ?;"));
  s.BindBlob(1, token_hash);
  return OneRow<InzageLinkRecord>(s, ReadInzage);
}

Result<bool> CountInzageAttempt(Database& db, const std::string& link_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE inzage_links SET failed_attempts = failed_attempts + 1 "
                                                   "WHERE link_id = ? AND state = 'active';"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, link_id).Run());
  return db.Changes() > 0;
}

Status ResetInzageAttempts(Database& db, const std::string& link_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE inzage_links SET failed_attempts = 0 WHERE link_id = ?;"));
  return s.Bind(1, link_id).Run();
}

Status EndInzageLink(Database& db, const std::string& link_id, const std::string& state) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE inzage_links SET state = ?, kdf_salt = NULL, nonce = NULL, "
                                                   "ciphertext = NULL WHERE link_id = ?;"));
  return s.Bind(1, state).Bind(2, link_id).Run();
}

}  // namespace schakel::store
