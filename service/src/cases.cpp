// Cases: create, change, read, list, assign.
#include <mutex>

#include "schakel/base/strings.h"
#include "schakel/formats/case_summary.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using internal::CanSeeCase;
using internal::LoadCase;
using store::Role;

namespace {

// A case names a student of the register, with the register's birth date
// (which decides whose consent counts): only a coordinator changes either,
// in the register (docs/students.md).
Status CheckRegistered(NodeCore::Held& held, const std::string& student_id, const std::string& birth_date) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> student, store::FindStudent(held.db(), student_id));
  if (!student) {
    return Status::InvalidInput("student_id: " + student_id +
                                " is not in the student register; a coordinator adds students "
                                "(schakel student import)");
  }
  if (student->birth_date != birth_date) {
    return Status::InvalidInput("birth_date: the register has " + student->birth_date + " for " + student_id +
                                "; only a coordinator changes it, in the register");
  }
  return Status::Ok();
}

}  // namespace

Result<CaseSaved> Service::AddCase(const Caller& c, formats::CaseSummary s) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAddCase));
  if (s.case_id.empty()) s.case_id = internal::RandomId("casus-", 8);
  s.document["case_id"] = s.case_id;
  std::string now = FormatInstantMs(core_.clock->Now());
  store::CaseRecord r;
  r.case_id = s.case_id;
  r.student_id = s.student_id;
  r.birth_date = FormatDate(s.birth_date);
  r.created_by = c.user_id;
  r.created = r.updated = now;
  r.summary = s.document.dump();
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(CheckRegistered(held, r.student_id, r.birth_date));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertCase(held.db(), r));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "case.create", r.student_id, r.case_id, "", "", "ok", ""));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return CaseSaved{r.case_id, 1};
}

Result<CaseSaved> Service::UpdateCase(const Caller& c, const std::string& case_id, formats::CaseSummary s) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kUpdateCase));
  if (!s.case_id.empty() && s.case_id != case_id) {
    return Status::InvalidInput("case_id: does not match the case being updated");
  }
  s.document["case_id"] = case_id;
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(store::CaseRecord kase, LoadCase(held, case_id));
  if (!CanSeeCase(c, kase)) return Status::Denied("case " + case_id + " is not yours");
  if (s.student_id != kase.student_id) {
    return Status::InvalidInput("student_id: a case's student does not change (the case is about " + kase.student_id +
                                "); make a new case for another student");
  }
  SCHAKEL_RETURN_IF_ERROR(CheckRegistered(held, s.student_id, FormatDate(s.birth_date)));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(
      int64_t version, store::UpdateCase(held.db(), case_id, s.student_id, FormatDate(s.birth_date), s.document.dump(),
                                         c.user_id, FormatInstantMs(core_.clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "case.update", s.student_id, case_id, "", "", "ok", ""));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return CaseSaved{case_id, version};
}

Result<CaseView> Service::ShowCase(const Caller& c, const std::string& case_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShowCase));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(store::CaseRecord kase, LoadCase(held, case_id));
  if (!CanSeeCase(c, kase)) {
    AuditBestEffort(held, c, "case.read", kase.student_id, case_id, "", "", "deny", "not_assigned");
    return Status::Denied("case " + case_id + " is not yours");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::CaseVersion> history, store::CaseHistory(held.db(), case_id));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "case.read", kase.student_id, case_id, "", "", "ok", ""));
  CaseView v;
  v.case_id = kase.case_id;
  v.student_id = kase.student_id;
  v.version = kase.version;
  v.created_by = kase.created_by;
  v.created = kase.created;
  v.updated = kase.updated;
  v.assigned = kase.assigned;
  for (const auto& h : history) v.versions.push_back({h.version, h.updated_by, h.updated});
  v.summary_json = std::move(kase.summary);
  return v;
}

Result<std::vector<CaseListItem>> Service::ListCases(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListCases));
  NodeCore::Held held(core_);
  std::optional<std::string> visible;
  if (c.role == Role::kStaff) visible = c.user_id;
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::CaseRecord> cases, store::ListCases(held.db(), visible));
  std::vector<CaseListItem> list;
  list.reserve(cases.size());
  for (const auto& r : cases) list.push_back({r.case_id, r.student_id, r.version, r.updated, r.created_by});
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "case.list", "", "", "", "", "ok", std::to_string(list.size())));
  return list;
}

Result<CaseAssignment> Service::AssignCase(const Caller& c, const std::string& case_id, const std::string& user_name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAssignCase));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(store::CaseRecord kase, LoadCase(held, case_id));
  if (c.role != Role::kCoordinator && kase.created_by != c.user_id) {
    return Status::Denied("only the case's creator or a coordinator may assign it");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserByName(held.db(), user_name));
  if (!user) return Status::InvalidInput("no user named \"" + user_name + "\"");
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::AssignCase(held.db(), case_id, user->user_id));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "case.assign", kase.student_id, case_id, "", "", "ok", user->user_id));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return CaseAssignment{case_id, user->user_id};
}

}  // namespace schakel::service
