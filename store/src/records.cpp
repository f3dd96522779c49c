#include "schakel/store/records.h"

#include <nlohmann/json.hpp>

#include "rows.h"
#include "schakel/base/time.h"

namespace schakel::store {
namespace {

using nlohmann::json;

std::string ListText(const std::vector<std::string>& items) { return json(items).dump(); }

std::vector<std::string> ListFrom(const std::string& text) {
  std::vector<std::string> out;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string CategoriesText(consent::CategorySet set) {
  std::vector<std::string> names;
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) names.emplace_back(consent::Name(c));
  }
  return ListText(names);
}

consent::CategorySet CategoriesFrom(const std::string& text) {
  consent::CategorySet set;
  for (const auto& name : ListFrom(text)) {
    if (auto c = consent::ParseCategory(name)) set.Add(*c);
  }
  return set;
}

// ---- cases ----

constexpr const char* kCaseSelect =
    "SELECT c.case_id, c.student_id, c.birth_date, c.created_by, c.created, c.updated, c.version, "
    "v.summary FROM cases c JOIN case_versions v ON v.case_id = c.case_id AND v.version = c.version ";

Result<std::vector<std::string>> Assigned(Database& db, const std::string& case_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT user_id FROM case_assignments WHERE case_id = ? ORDER BY user_id;"));
  s.Bind(1, case_id);
  return AllRows<std::string>(s, [](Statement& st) -> Result<std::string> { return st.Text(0); });
}

Result<CaseRecord> ReadCase(Statement& s) {
  CaseRecord r;
  r.case_id = s.Text(0);
  r.student_id = s.Text(1);
  r.birth_date = s.Text(2);
  r.created_by = s.Text(3);
  r.created = s.Text(4);
  r.updated = s.Text(5);
  r.version = s.Int(6);
  r.summary = s.Text(7);
  return r;
}

// ---- consents ----

constexpr const char* kConsentSelect =
    "SELECT consent_id, subject_id, grantor_role, purposes, recipients, categories, valid_from, "
    "valid_until, withdrawn_at, withdrawn_by, recorded_by, recorded_at, evidence FROM consents ";

Result<ConsentRecord> ReadConsent(Statement& s) {
  ConsentRecord r;
  consent::Consent& c = r.consent;
  c.id = s.Text(0);
  c.subject_id = s.Text(1);
  auto role = consent::ParseGrantorRole(s.Text(2));
  if (!role) return Status::Corruption("stored consent has an unknown grantor role");
  c.grantor_role = *role;
  c.purposes = ListFrom(s.Text(3));
  c.recipients = ListFrom(s.Text(4));
  c.categories = CategoriesFrom(s.Text(5));
  auto from = ParseDate(s.Text(6));
  if (!from.ok()) return Status::Corruption("stored consent has a bad valid_from");
  c.valid_from = *from;
  if (auto until = s.OptText(7)) {
    auto d = ParseDate(*until);
    if (!d.ok()) return Status::Corruption("stored consent has a bad valid_until");
    c.valid_until = *d;
  }
  if (auto w = s.OptText(8)) {
    auto t = ParseInstant(*w);
    if (!t.ok()) return Status::Corruption("stored consent has a bad withdrawn_at");
    c.withdrawn_at = *t;
  }
  r.withdrawn_by = s.OptText(9);
  r.recorded_by = s.Text(10);
  r.recorded_at = s.Text(11);
  r.evidence = s.Text(12);
  return r;
}

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

// ---- inbox ----

constexpr const char* kInboxSelect =
    "SELECT sender_id, message_id, student_id, purpose, categories, consent_ids, created, received, "
    "retain_until, summary, body_hash, receipt, state, purged_at, purge_reason FROM inbox ";

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
  return r;
}

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

// ---- cases ----

Status InsertCase(Database& db, const CaseRecord& r) {
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO cases (case_id, student_id, birth_date, created_by, created, updated, version) "
                   "VALUES (?, ?, ?, ?, ?, ?, 1);"));
    s.Bind(1, r.case_id).Bind(2, r.student_id).Bind(3, r.birth_date).Bind(4, r.created_by);
    s.Bind(5, r.created).Bind(6, r.updated);
    Status st = s.Run();
    if (st.code() == Code::kAlreadyExists) return Status::AlreadyExists("case " + r.case_id + " exists already");
    SCHAKEL_RETURN_IF_ERROR(st);
  }
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement v,
      db.Prepare("INSERT INTO case_versions (case_id, version, summary, updated_by, updated) VALUES (?, 1, ?, ?, ?);"));
  v.Bind(1, r.case_id).Bind(2, r.summary).Bind(3, r.created_by).Bind(4, r.created);
  SCHAKEL_RETURN_IF_ERROR(v.Run());
  for (const auto& user : r.assigned) SCHAKEL_RETURN_IF_ERROR(AssignCase(db, r.case_id, user));
  return Status::Ok();
}

Result<int64_t> UpdateCase(Database& db, const std::string& case_id, const std::string& student_id,
                           const std::string& birth_date, const std::string& summary, const std::string& updated_by,
                           const std::string& updated) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement u, db.Prepare("UPDATE cases SET version = version + 1, updated = ?, student_id = ?, birth_date = ? "
                              "WHERE case_id = ?;"));
  u.Bind(1, updated).Bind(2, student_id).Bind(3, birth_date).Bind(4, case_id);
  SCHAKEL_RETURN_IF_ERROR(u.Run());
  if (db.Changes() == 0) return Status::NotFound("no case " + case_id);
  SCHAKEL_ASSIGN_OR_RETURN(Statement q, db.Prepare("SELECT version FROM cases WHERE case_id = ?;"));
  q.Bind(1, case_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no case " + case_id);
  int64_t version = q.Int(0);
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement v,
      db.Prepare("INSERT INTO case_versions (case_id, version, summary, updated_by, updated) VALUES (?, ?, ?, ?, ?);"));
  v.Bind(1, case_id).Bind(2, version).Bind(3, summary).Bind(4, updated_by).Bind(5, updated);
  SCHAKEL_RETURN_IF_ERROR(v.Run());
  return version;
}

Result<std::optional<CaseRecord>> FindCase(Database& db, const std::string& case_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kCaseSelect) + "WHERE c.case_id = ?;"));
  s.Bind(1, case_id);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<CaseRecord> r, OneRow<CaseRecord>(s, ReadCase));
  if (r) {
    SCHAKEL_ASSIGN_OR_RETURN(r->assigned, Assigned(db, case_id));
  }
  return r;
}

Result<std::vector<CaseRecord>> ListCases(Database& db, const std::optional<std::string>& visible_to) {
  std::string sql = kCaseSelect;
  if (visible_to) {
    sql +=
        "WHERE c.created_by = ?1 OR EXISTS (SELECT 1 FROM case_assignments a "
        "WHERE a.case_id = c.case_id AND a.user_id = ?1) ";
  }
  sql += "ORDER BY c.case_id;";
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  if (visible_to) s.Bind(1, *visible_to);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<CaseRecord> out, AllRows<CaseRecord>(s, ReadCase));
  for (auto& r : out) {
    SCHAKEL_ASSIGN_OR_RETURN(r.assigned, Assigned(db, r.case_id));
  }
  return out;
}

Result<std::vector<CaseVersion>> CaseHistory(Database& db, const std::string& case_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT version, updated_by, updated, summary FROM case_versions WHERE case_id = ? "
                              "ORDER BY version;"));
  s.Bind(1, case_id);
  return AllRows<CaseVersion>(s, [](Statement& st) -> Result<CaseVersion> {
    return CaseVersion{st.Int(0), st.Text(1), st.Text(2), st.Text(3)};
  });
}

Status AssignCase(Database& db, const std::string& case_id, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("INSERT OR IGNORE INTO case_assignments (case_id, user_id) VALUES (?, ?);"));
  return s.Bind(1, case_id).Bind(2, user_id).Run();
}

// ---- consents ----

Status InsertConsent(Database& db, const ConsentRecord& r) {
  const consent::Consent& c = r.consent;
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT INTO consents (consent_id, subject_id, grantor_role, purposes, recipients, categories, "
                 "valid_from, valid_until, withdrawn_at, withdrawn_by, recorded_by, recorded_at, evidence) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  s.Bind(1, c.id).Bind(2, c.subject_id).Bind(3, consent::Name(c.grantor_role));
  s.Bind(4, ListText(c.purposes)).Bind(5, ListText(c.recipients)).Bind(6, CategoriesText(c.categories));
  s.Bind(7, FormatDate(c.valid_from));
  s.BindOpt(8, c.valid_until ? std::optional<std::string>(FormatDate(*c.valid_until)) : std::nullopt);
  s.BindOpt(9, c.withdrawn_at ? std::optional<std::string>(FormatInstantMs(*c.withdrawn_at)) : std::nullopt);
  s.BindOpt(10, r.withdrawn_by).Bind(11, r.recorded_by).Bind(12, r.recorded_at).Bind(13, r.evidence);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) return Status::AlreadyExists("consent " + c.id + " exists already");
  return st;
}

Result<std::optional<ConsentRecord>> FindConsent(Database& db, const std::string& consent_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kConsentSelect) + "WHERE consent_id = ?;"));
  s.Bind(1, consent_id);
  return OneRow<ConsentRecord>(s, ReadConsent);
}

Result<std::vector<ConsentRecord>> ConsentsForSubject(Database& db, const std::string& subject_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kConsentSelect) + "WHERE subject_id = ? ORDER BY consent_id;"));
  s.Bind(1, subject_id);
  return AllRows<ConsentRecord>(s, ReadConsent);
}

Status WithdrawConsent(Database& db, const std::string& consent_id, Instant at, const std::string& by) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<ConsentRecord> r, FindConsent(db, consent_id));
  if (!r) return Status::NotFound("no consent " + consent_id);
  if (r->consent.withdrawn_at) return Status::AlreadyExists("consent " + consent_id + " was withdrawn already");
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("UPDATE consents SET withdrawn_at = ?, withdrawn_by = ? WHERE consent_id = ?;"));
  return s.Bind(1, FormatInstantMs(at)).Bind(2, by).Bind(3, consent_id).Run();
}

// ---- shares ----

std::string_view ShareStateName(ShareState s) {
  switch (s) {
    case ShareState::kPendingApproval:
      return "pending_approval";
    case ShareState::kQueued:
      return "queued";
    case ShareState::kDelivered:
      return "delivered";
    case ShareState::kCancelled:
      return "cancelled";
    case ShareState::kRevoked:
      return "revoked";
    case ShareState::kPurged:
      return "purged";
  }
  return "?";
}

std::optional<ShareState> ParseShareState(std::string_view s) {
  for (ShareState st : {ShareState::kPendingApproval, ShareState::kQueued, ShareState::kDelivered,
                        ShareState::kCancelled, ShareState::kRevoked, ShareState::kPurged}) {
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

namespace {

constexpr const char* kLinkColumns =
    "SELECT link_id, case_id, case_version, student_id, recipient_name, recipient_type, purpose, legal_basis, "
    "categories, withheld, consent_ids, created_by, created, expires, failed_attempts, state, kdf_salt, nonce, "
    "ciphertext FROM links ";

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
      db.Prepare("SELECT link_id, student_id, purpose, legal_basis FROM links WHERE state IN ('active', 'locked') "
                 "AND instr(',' || consent_ids || ',', ',' || ? || ',') > 0 ORDER BY created;"));
  s.Bind(1, consent_id);
  return AllRows<OpenLinkRef>(s, [](Statement& st) -> Result<OpenLinkRef> {
    return OpenLinkRef{st.Text(0), st.Text(1), st.Text(2), st.Text(3)};
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

Status SetShareState(Database& db, const std::string& message_id, ShareState state, const std::string& reason,
                     const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE shares SET state = ?, state_reason = ?, state_changed = ? WHERE message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, ShareStateName(state)).Bind(2, reason).Bind(3, at).Bind(4, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no share " + message_id);
  return Status::Ok();
}

Status SetShareApproved(Database& db, const std::string& message_id, const std::string& approved_by,
                        const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE shares SET approved_by = ?, state = 'queued', state_changed = ? WHERE message_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, approved_by).Bind(2, at).Bind(3, message_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no share " + message_id);
  return Status::Ok();
}

Status SetShareBodyHash(Database& db, const std::string& message_id, const std::vector<uint8_t>& body_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE shares SET body_hash = ? WHERE message_id = ?;"));
  return s.BindBlob(1, body_hash).Bind(2, message_id).Run();
}

Status MarkShareDelivered(Database& db, const std::string& message_id, const std::vector<uint8_t>& receipt,
                          const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE shares SET state = 'delivered', receipt = ?, delivered_at = ?, state_changed = ? "
                              "WHERE message_id = ? AND state = 'queued';"));
  return s.BindBlob(1, receipt).Bind(2, at).Bind(3, at).Bind(4, message_id).Run();
}

// ---- outgoing ----

Status EnqueueOutgoing(Database& db, const std::string& kind, const std::string& message_id,
                       const std::string& recipient_id, const std::string& payload, int64_t next_attempt_ms,
                       const std::string& created) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("INSERT INTO outgoing (kind, message_id, recipient_id, payload, next_attempt, created) "
                              "VALUES (?, ?, ?, ?, ?, ?);"));
  s.Bind(1, kind).Bind(2, message_id).Bind(3, recipient_id);
  s.BindBlob(4, {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
  return s.Bind(5, next_attempt_ms).Bind(6, created).Run();
}

Result<std::vector<OutgoingItem>> DueOutgoing(Database& db, int64_t now_ms, int limit) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT id, kind, message_id, recipient_id, payload, attempts, next_attempt, last_error, "
                              "created FROM outgoing WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?;"));
  s.Bind(1, now_ms).Bind(2, static_cast<int64_t>(limit));
  return AllRows<OutgoingItem>(s, ReadOutgoing);
}

Status RescheduleOutgoing(Database& db, int64_t id, int64_t attempts, int64_t next_attempt_ms,
                          const std::string& last_error) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE outgoing SET attempts = ?, next_attempt = ?, last_error = ? WHERE id = ?;"));
  return s.Bind(1, attempts).Bind(2, next_attempt_ms).Bind(3, last_error).Bind(4, id).Run();
}

Status ExpediteOutgoing(Database& db, const std::string& recipient_id, int64_t now_ms) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE outgoing SET next_attempt = ?1 WHERE recipient_id = ?2 AND next_attempt > ?1;"));
  return s.Bind(1, now_ms).Bind(2, recipient_id).Run();
}

Status RemoveOutgoing(Database& db, const std::string& kind, const std::string& message_id) {
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

// ---- inbox ----

Result<bool> InsertInboxIfNew(Database& db, const InboxRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("INSERT OR IGNORE INTO inbox (sender_id, message_id, student_id, purpose, categories, "
                              "consent_ids, created, received, retain_until, summary, body_hash, receipt, state) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received');"));
  s.Bind(1, r.sender_id).Bind(2, r.message_id).Bind(3, r.student_id).Bind(4, r.purpose);
  s.Bind(5, CategoriesText(r.categories)).Bind(6, ListText(r.consent_ids)).Bind(7, r.created);
  s.Bind(8, r.received).Bind(9, r.retain_until).BindOpt(10, r.summary).BindBlob(11, r.body_hash);
  s.BindBlob(12, r.receipt);
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

Result<std::vector<InboxRecord>> ListInbox(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kInboxSelect) + "ORDER BY received, message_id;"));
  return AllRows<InboxRecord>(s, ReadInbox);
}

Status PurgeInbox(Database& db, const std::string& sender_id, const std::string& message_id, const std::string& reason,
                  const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE inbox SET summary = NULL, state = 'purged', purged_at = ?, purge_reason = ? "
                              "WHERE sender_id = ? AND message_id = ? AND state = 'received';"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, at).Bind(2, reason).Bind(3, sender_id).Bind(4, message_id).Run());
  if (db.Changes() == 0) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<InboxRecord> known, FindInbox(db, sender_id, message_id));
    if (!known) return Status::NotFound("no received share " + message_id + " from " + sender_id);
  }
  return Status::Ok();
}

Result<std::vector<InboxRecord>> ExpiredInbox(Database& db, const std::string& now) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kInboxSelect) + "WHERE state = 'received' AND retain_until < ?;"));
  s.Bind(1, now);
  return AllRows<InboxRecord>(s, ReadInbox);
}

}  // namespace schakel::store
