// Typed records, dossier links: every SQL statement on the links table.
#include <nlohmann/json.hpp>

#include "records_internal.h"
#include "rows.h"
#include "schakel/base/time.h"
#include "schakel/store/records.h"

namespace schakel::store {
namespace {

using nlohmann::json;

constexpr const char* kLinkColumns =
    "SELECT link_id, case_id, case_version, student_id, recipient_name, recipient_type, purpose, legal_basis, "
    "categories, withheld, consent_ids, created_by, created, expires, failed_attempts, state, kdf_salt, nonce, "
    "ciphertext, state_reason FROM links ";

Result<LinkRecord> ReadLink(Statement& s) {
  LinkRecord r;
  r.link_id = s.Text(0);
  r.case_id = s.Text(1);
  r.case_version = s.Int(2);
  r.student_id = s.Text(3);
  r.recipient_name = s.Text(4);
  r.recipient_type = s.Text(5);
  r.purpose = s.Text(6);
  r.legal_basis = s.Text(7);
  r.categories = s.Text(8);
  r.withheld = s.Text(9);
  r.consent_ids = s.Text(10);
  r.created_by = s.Text(11);
  r.created = s.Text(12);
  r.expires = s.Text(13);
  r.failed_attempts = s.Int(14);
  r.state = s.Text(15);
  if (!s.IsNull(16) && !s.IsNull(17) && !s.IsNull(18)) {
    r.kdf_salt = s.Blob(16);
    r.nonce = s.Blob(17);
    r.ciphertext = s.Blob(18);
    r.has_content = true;
  }
  if (!s.IsNull(19)) r.state_reason = s.Text(19);
  return r;
}

}  // namespace

Status InsertLink(Database& db, const LinkRecord& r, const LinkSecret& secret) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "INSERT INTO links (link_id, token_hash, case_id, case_version, student_id, recipient_name, "
          "recipient_type, purpose, legal_basis, categories, withheld, consent_ids, created_by, created, expires, "
          "kdf_salt, nonce, ciphertext, failed_attempts, state, state_changed) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'active', ?);"));
  return s.Bind(1, r.link_id)
      .BindBlob(2, secret.token_hash)
      .Bind(3, r.case_id)
      .Bind(4, r.case_version)
      .Bind(5, r.student_id)
      .Bind(6, r.recipient_name)
      .Bind(7, r.recipient_type)
      .Bind(8, r.purpose)
      .Bind(9, r.legal_basis)
      .Bind(10, r.categories)
      .Bind(11, r.withheld)
      .Bind(12, r.consent_ids)
      .Bind(13, r.created_by)
      .Bind(14, r.created)
      .Bind(15, r.expires)
      .BindBlob(16, secret.kdf_salt)
      .BindBlob(17, secret.nonce)
      .BindBlob(18, secret.ciphertext)
      .Bind(19, r.created)
      .Run();
}

Result<std::optional<LinkRecord>> FindLink(Database& db, const std::string& link_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kLinkColumns) + "WHERE link_id = ?;"));
  s.Bind(1, link_id);
  return OneRow<LinkRecord>(s, ReadLink);
}

Result<std::optional<LinkRecord>> FindLinkByTokenHash(Database& db, std::span<const uint8_t> token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kLinkColumns) + "WHERE token_hash = ?;"));
  s.BindBlob(1, token_hash);
  return OneRow<LinkRecord>(s, ReadLink);
}

Result<std::vector<LinkRecord>> ListLinks(Database& db, int limit) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kLinkColumns) + "ORDER BY created DESC LIMIT ?;"));
  s.Bind(1, static_cast<int64_t>(limit));
  return AllRows<LinkRecord>(s, ReadLink);
}

Result<std::vector<LinkRecord>> DueLinks(Database& db, const std::string& now, int limit) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kLinkColumns) +
                                                   "WHERE state IN ('active', 'locked') AND expires <= ? LIMIT ?;"));
  s.Bind(1, now).Bind(2, static_cast<int64_t>(limit));
  return AllRows<LinkRecord>(s, ReadLink);
}

Result<bool> UpdateLinkCode(Database& db, const std::string& link_id, const LinkSecret& secret, int64_t case_version,
                            const std::string& categories, const std::string& withheld, const std::string& consent_ids,
                            const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE links SET token_hash = ?, kdf_salt = ?, nonce = ?, ciphertext = ?, failed_attempts = 0, "
                 "state = 'active', state_reason = 'new_code', state_changed = ?, case_version = ?, categories = ?, "
                 "withheld = ?, consent_ids = ? WHERE link_id = ? AND state IN ('active', 'locked');"));
  SCHAKEL_RETURN_IF_ERROR(s.BindBlob(1, secret.token_hash)
                              .BindBlob(2, secret.kdf_salt)
                              .BindBlob(3, secret.nonce)
                              .BindBlob(4, secret.ciphertext)
                              .Bind(5, at)
                              .Bind(6, case_version)
                              .Bind(7, categories)
                              .Bind(8, withheld)
                              .Bind(9, consent_ids)
                              .Bind(10, link_id)
                              .Run());
  return db.Changes() > 0;
}

Status MarkLinkExpired(Database& db, const std::string& link_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE links SET state = 'expired', state_reason = 'expired', state_changed = ?, kdf_salt = NULL, "
                 "nonce = NULL, ciphertext = NULL WHERE link_id = ?;"));
  return s.Bind(1, at).Bind(2, link_id).Run();
}

Result<bool> CountLinkAttempt(Database& db, const std::string& link_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE links SET failed_attempts = failed_attempts + 1 WHERE link_id = ? AND state = 'active';"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, link_id).Run());
  return db.Changes() > 0;
}

Status LockLink(Database& db, const std::string& link_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE links SET state = 'locked', state_reason = 'too_many_wrong_codes', state_changed = ? "
                 "WHERE link_id = ?;"));
  return s.Bind(1, at).Bind(2, link_id).Run();
}

Status RecordLinkRead(Database& db, const std::string& link_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE links SET last_read = ?, failed_attempts = max(failed_attempts - 1, 0) WHERE link_id = ?;"));
  return s.Bind(1, at).Bind(2, link_id).Run();
}

Result<std::vector<OpenLinkRef>> OpenLinksUsingConsent(Database& db, const std::string& consent_id) {
  // consent_ids is a comma-separated list; consent ids hold no commas.
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "SELECT link_id, student_id, purpose, legal_basis, categories, consent_ids FROM links WHERE state "
          "IN ('active', 'locked') AND instr(',' || consent_ids || ',', ',' || ? || ',') > 0 ORDER BY created;"));
  s.Bind(1, consent_id);
  return AllRows<OpenLinkRef>(s, [](Statement& st) -> Result<OpenLinkRef> {
    return OpenLinkRef{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5)};
  });
}

Status SetLinkConsentIds(Database& db, const std::string& link_id, const std::string& consent_ids) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE links SET consent_ids = ? WHERE link_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, consent_ids).Bind(2, link_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no link " + link_id);
  return Status::Ok();
}

Result<std::vector<LinkUseRef>> LinksUsingConsent(Database& db, const std::string& consent_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT link_id, recipient_name, recipient_type, state FROM links WHERE "
                              "instr(',' || consent_ids || ',', ',' || ? || ',') > 0 ORDER BY created, link_id;"));
  s.Bind(1, consent_id);
  return AllRows<LinkUseRef>(s, [](Statement& st) -> Result<LinkUseRef> {
    return LinkUseRef{st.Text(0), st.Text(1), st.Text(2), st.Text(3)};
  });
}

Status RevokeLink(Database& db, const std::string& link_id, const std::string& reason, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "UPDATE links SET state = 'revoked', state_reason = ?, state_changed = ?, kdf_salt = NULL, nonce = NULL, "
          "ciphertext = NULL WHERE link_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, reason).Bind(2, at).Bind(3, link_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no link " + link_id);
  return Status::Ok();
}
}  // namespace schakel::store
