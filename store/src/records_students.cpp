// Typed records, the student register and the inbox's routes: every SQL
// statement on the tables `students` and `inbox_routes` (schema v8).
#include <nlohmann/json.hpp>

#include "rows.h"
#include "schakel/store/records.h"

namespace schakel::store {
namespace {

using nlohmann::json;

constexpr const char* kStudentSelect =
    "SELECT student_id, name, birth_date, guardians, added, updated, updated_by FROM students ";

std::vector<GuardianRecord> GuardiansFrom(const std::string& text) {
  std::vector<GuardianRecord> out;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& g : j) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string()) continue;
    out.push_back({g["name"].get<std::string>(), g.value("authority", false)});
  }
  return out;
}

Result<StudentRecord> ReadStudent(Statement& s) {
  StudentRecord r;
  r.student_id = s.Text(0);
  r.name = s.Text(1);
  r.birth_date = s.Text(2);
  r.guardians = GuardiansFrom(s.Text(3));
  r.added = s.Text(4);
  r.updated = s.Text(5);
  r.updated_by = s.Text(6);
  return r;
}

constexpr const char* kRouteSelect =
    "SELECT sender_id, student_id, user_id, confirmed_by, confirmed FROM inbox_routes ";

Result<InboxRoute> ReadRoute(Statement& s) { return InboxRoute{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4)}; }

}  // namespace

std::string GuardiansText(const std::vector<GuardianRecord>& guardians) {
  json list = json::array();
  for (const auto& g : guardians) list.push_back({{"name", g.name}, {"authority", g.authority}});
  return list.dump();
}

Status InsertStudent(Database& db, const StudentRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO students (student_id, name, birth_date, guardians, "
                                                   "added, updated, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?);"));
  s.Bind(1, r.student_id).Bind(2, r.name).Bind(3, r.birth_date).Bind(4, GuardiansText(r.guardians));
  s.Bind(5, r.added).Bind(6, r.updated).Bind(7, r.updated_by);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) return Status::AlreadyExists("student " + r.student_id + " exists already");
  return st;
}

Status UpdateStudent(Database& db, const StudentRecord& r) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE students SET name = ?, birth_date = ?, guardians = ?, "
                                                   "updated = ?, updated_by = ? WHERE student_id = ?;"));
  s.Bind(1, r.name).Bind(2, r.birth_date).Bind(3, GuardiansText(r.guardians)).Bind(4, r.updated);
  s.Bind(5, r.updated_by).Bind(6, r.student_id);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  if (db.Changes() == 0) return Status::NotFound("no student " + r.student_id + " in the register");
  return Status::Ok();
}

Result<std::optional<StudentRecord>> FindStudent(Database& db, const std::string& student_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kStudentSelect) + "WHERE student_id = ?;"));
  s.Bind(1, student_id);
  return OneRow<StudentRecord>(s, ReadStudent);
}

Result<std::vector<StudentRecord>> ListStudents(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kStudentSelect) + "ORDER BY student_id;"));
  return AllRows<StudentRecord>(s, ReadStudent);
}

Status SetInboxRoute(Database& db, const InboxRoute& r) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT OR REPLACE INTO inbox_routes (sender_id, student_id, "
                                                   "user_id, confirmed_by, confirmed) VALUES (?, ?, ?, ?, ?);"));
  s.Bind(1, r.sender_id).Bind(2, r.student_id).Bind(3, r.user_id).Bind(4, r.confirmed_by).Bind(5, r.confirmed);
  return s.Run();
}

Result<std::optional<InboxRoute>> FindInboxRoute(Database& db, const std::string& sender_id,
                                                 const std::string& student_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string(kRouteSelect) + "WHERE sender_id = ? AND student_id = ?;"));
  s.Bind(1, sender_id).Bind(2, student_id);
  return OneRow<InboxRoute>(s, ReadRoute);
}

Result<std::vector<InboxRoute>> ListInboxRoutes(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string(kRouteSelect) + "ORDER BY sender_id, student_id;"));
  return AllRows<InboxRoute>(s, ReadRoute);
}

}  // namespace schakel::store
