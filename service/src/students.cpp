// The student register (docs/students.md): import, read and change, by
// coordinators; the cases and the consent engine rely on it.
#include <mutex>

#include "schakel/base/strings.h"
#include "schakel/formats/roster.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

namespace {

constexpr size_t kMaxStudentName = 200;

// Guardians as counts: the audit log (and its exports, which leave the
// encrypted store) names no parent.
std::string GuardiansSummary(const std::vector<store::GuardianRecord>& guardians) {
  size_t authority = 0;
  for (const auto& g : guardians) authority += g.authority ? 1 : 0;
  return std::to_string(guardians.size()) + " (" + std::to_string(authority) + " with gezag)";
}

// "birth_date 2012-05-01 -> 2012-06-01, guardians 2 (2 with gezag) -> 1 (1
// with gezag)": what the audit entry of a change keeps; names only as
// "changed".
std::string Difference(const store::StudentRecord& before, const store::StudentRecord& after) {
  std::vector<std::string> parts;
  if (before.name != after.name) parts.push_back("name changed");
  if (before.birth_date != after.birth_date)
    parts.push_back("birth_date " + before.birth_date + " -> " + after.birth_date);
  if (before.guardians != after.guardians) {
    // A changed name with the same counts still shows as a change.
    parts.push_back("guardians " + GuardiansSummary(before.guardians) + " -> " + GuardiansSummary(after.guardians));
  }
  return Join(parts, ", ");
}

}  // namespace

Result<StudentImport> Service::ImportStudents(const Caller& c, std::string_view csv) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kImportStudents));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<formats::RosterRow> rows, formats::ParseRoster(csv));
  std::string now = FormatInstantMs(core_.clock->Now());
  StudentImport out;
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  for (const auto& row : rows) {
    store::StudentRecord r;
    r.student_id = row.student_id;
    r.name = row.name;
    r.birth_date = FormatDate(row.birth_date);
    for (const auto& g : row.guardians) r.guardians.push_back({g.name, g.authority});
    r.updated = now;
    r.updated_by = c.user_id;
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> known, store::FindStudent(held.db(), r.student_id));
    if (!known) {
      r.added = now;
      SCHAKEL_RETURN_IF_ERROR(store::InsertStudent(held.db(), r));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "student.add", r.student_id, r.student_id, "", "", "ok", "import"));
      ++out.added;
      continue;
    }
    std::string diff = Difference(*known, r);
    if (diff.empty()) {
      ++out.unchanged;
      continue;
    }
    SCHAKEL_RETURN_IF_ERROR(store::UpdateStudent(held.db(), r));
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "student.update", r.student_id, r.student_id, "", "", "ok", diff));
    ++out.updated;
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::vector<store::StudentRecord>> Service::ListStudents(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListStudents));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::StudentRecord> list, store::ListStudents(held.db()));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "student.list", "", "", "", "", "ok", std::to_string(list.size())));
  return list;
}

Result<store::StudentRecord> Service::ShowStudent(const Caller& c, const std::string& student_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListStudents));
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> r, store::FindStudent(held.db(), student_id));
  if (!r) return Status::NotFound("no student " + student_id + " in the register");
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "student.read", student_id, student_id, "", "", "ok", ""));
  return *r;
}

Result<store::StudentRecord> Service::UpdateStudent(const Caller& c, const std::string& student_id,
                                                    StudentChange change) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kUpdateStudent));
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  if (change.name &&
      (change.name->empty() || change.name->size() > kMaxStudentName || !IsPrintableUtf8(*change.name))) {
    return Status::InvalidInput("name: 1 to 200 printable characters");
  }
  if (change.guardians) {
    if (change.guardians->size() > formats::kMaxGuardians) {
      return Status::InvalidInput("guardians: at most " + std::to_string(formats::kMaxGuardians));
    }
    for (const auto& g : *change.guardians) {
      if (g.name.empty() || g.name.size() > kMaxStudentName || !IsPrintableUtf8(g.name)) {
        return Status::InvalidInput("guardians: each name 1 to 200 printable characters");
      }
    }
  }
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> known, store::FindStudent(held.db(), student_id));
  if (!known) return Status::NotFound("no student " + student_id + " in the register");
  store::StudentRecord r = *known;
  if (change.name) r.name = *change.name;
  if (change.birth_date) r.birth_date = FormatDate(*change.birth_date);
  if (change.guardians) r.guardians = *change.guardians;
  std::string diff = Difference(*known, r);
  if (diff.empty()) return r;
  r.updated = FormatInstantMs(core_.clock->Now());
  r.updated_by = c.user_id;
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::UpdateStudent(held.db(), r));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "student.update", student_id, student_id, "", "", "ok", diff));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return r;
}

}  // namespace schakel::service
