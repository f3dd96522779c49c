#include "schakel/store/users.h"

#include <array>

#include "rows.h"

namespace schakel::store {
namespace {

constexpr std::array<Role, 4> kRoles = {Role::kStaff, Role::kCoordinator, Role::kAuditor, Role::kAdmin};

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

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kStaff:
      return "staff";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
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
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("INSERT INTO users (user_id, name, role, token_hash, created) VALUES (?, ?, ?, ?, ?);"));
  s.Bind(1, user.user_id).Bind(2, user.name).Bind(3, RoleName(user.role)).BindBlob(4, token_hash);
  s.Bind(5, user.created);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return Status::AlreadyExists("a user named \"" + user.name + "\" exists already");
  }
  return st;
}

Result<std::optional<User>> FindUserByTokenHash(Database& db, const TokenHash& token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT user_id, name, role, created, disabled_at FROM users WHERE token_hash = ?;"));
  s.BindBlob(1, token_hash);
  return OneRow<User>(s, Read);
}

Result<std::optional<User>> FindUserByName(Database& db, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT user_id, name, role, created, disabled_at FROM users WHERE name = ?;"));
  s.Bind(1, name);
  return OneRow<User>(s, Read);
}

Result<std::vector<User>> ListUsers(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT user_id, name, role, created, disabled_at FROM users ORDER BY name;"));
  return AllRows<User>(s, Read);
}

Status SetCredentials(Database& db, const std::string& user_id, const std::string& password_hash,
                      std::span<const uint8_t> totp_secret, const std::string& updated) {
  if (totp_secret.size() != 20) return Status::InvalidInput("a TOTP secret is 20 bytes");
  SCHAKEL_ASSIGN_OR_RETURN(Statement find, db.Prepare("SELECT 1 FROM users WHERE user_id = ?;"));
  find.Bind(1, user_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool exists, find.Step());
  if (!exists) return Status::NotFound("no user " + user_id);
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "INSERT OR REPLACE INTO user_credentials (user_id, password_hash, totp_secret, totp_last_step, updated) "
          "VALUES (?, ?, ?, 0, ?);"));
  s.Bind(1, user_id).Bind(2, password_hash).BindBlob(3, totp_secret).Bind(4, updated);
  return s.Run();
}

Result<std::optional<Credentials>> GetCredentials(Database& db, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare(
          "SELECT password_hash, totp_secret, totp_last_step, updated FROM user_credentials WHERE user_id = ?;"));
  s.Bind(1, user_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Credentials>();
  Credentials c;
  c.password_hash = s.Text(0);
  if (!s.IsNull(1)) c.totp_secret = s.BlobSecret(1);
  c.totp_last_step = s.Int(2);
  c.updated = s.Text(3);
  return std::optional<Credentials>(std::move(c));
}

Result<bool> UseTotpStep(Database& db, const std::string& user_id, int64_t step) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE user_credentials SET totp_last_step = ? WHERE user_id = ? AND totp_last_step < ?;"));
  s.Bind(1, step).Bind(2, user_id).Bind(3, step);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  return db.Changes() == 1;
}

}  // namespace schakel::store
