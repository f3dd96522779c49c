// Typed records, cases and consents: every SQL statement on those tables.
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
    "valid_until, withdrawn_at, withdrawn_by, recorded_by, recorded_at, evidence, guardian, request_id FROM consents ";

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
  c.guardian = s.Text(13);
  c.request_id = s.Text(14);
  return r;
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
                 "valid_from, valid_until, withdrawn_at, withdrawn_by, recorded_by, recorded_at, evidence, guardian, "
                 "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  s.Bind(1, c.id).Bind(2, c.subject_id).Bind(3, consent::Name(c.grantor_role));
  s.Bind(4, ListText(c.purposes)).Bind(5, ListText(c.recipients)).Bind(6, CategoriesText(c.categories));
  s.Bind(7, FormatDate(c.valid_from));
  s.BindOpt(8, c.valid_until ? std::optional<std::string>(FormatDate(*c.valid_until)) : std::nullopt);
  s.BindOpt(9, c.withdrawn_at ? std::optional<std::string>(FormatInstantMs(*c.withdrawn_at)) : std::nullopt);
  s.BindOpt(10, r.withdrawn_by).Bind(11, r.recorded_by).Bind(12, r.recorded_at).Bind(13, r.evidence);
  s.Bind(14, c.guardian).Bind(15, c.request_id);
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
}  // namespace schakel::store
