#include "schakel/store/users.h"

#include <array>

namespace schakel::store {
namespace {

constexpr std::array<Role, 4> kRoles = {Role::kStaff, Role::kCoordinator, Role::kAuditor,
                                        Role::kAdmin};

Result<User> Read(Statement& s) {
  User u;
  u.user_id = s.Text(0);
  u.name = s.Text(1);
  auto role = ParseRole(s.Text(2));
  if (!role) return Status::Corruption("stored user has an unknown role");
  u.role = *role;
  u.created = s.Text(3);
  u.disabled_at = s.OptText(4);
  return u;
}

Result<std::optional<User>> FindOne(Statement& s) {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<User>();
  SCHAKEL_ASSIGN_OR_RETURN(User u, Read(s));
  return std::optional<User>(std::move(u));
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kStaff: return "staff";
    case Role::kCoordinator: return "coordinator";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view s) {
  for (Role r : kRoles) {
    if (RoleName(r) == s) return r;
  }
  return std::nullopt;
}

Status InsertUser(Database& db, const User& user, const TokenHash& token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(
      "INSERT INTO users (user_id, name, role, token_hash, created) VALUES (?, ?, ?, ?, ?);"));
  s.Bind(1, user.user_id).Bind(2, user.name).Bind(3, RoleName(user.role)).BindBlob(4, token_hash);
  s.Bind(5, user.created);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return Status::AlreadyExists("a user named \"" + user.name + "\" exists already");
  }
  return st;
}

Result<std::optional<User>> FindUserByTokenHash(Database& db, const TokenHash& token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(
      "SELECT user_id, name, role, created, disabled_at FROM users WHERE token_hash = ?;"));
  s.BindBlob(1, token_hash);
  return FindOne(s);
}

Result<std::optional<User>> FindUserByName(Database& db, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(
      "SELECT user_id, name, role, created, disabled_at FROM users WHERE name = ?;"));
  s.Bind(1, name);
  return FindOne(s);
}

Result<std::vector<User>> ListUsers(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(
      "SELECT user_id, name, role, created, disabled_at FROM users ORDER BY name;"));
  std::vector<User> out;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    SCHAKEL_ASSIGN_OR_RETURN(User u, Read(s));
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace schakel::store
