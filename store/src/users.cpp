#include "schakel/store/users.h"

#include <array>

#include "rows.h"

namespace schakel::store {
namespace {

constexpr std::array<Role, 4> kRoles = {Role::kStaff, Role::kCoordinator, Role::kAuditor, Role::kAdmin};

Result<User> ReadUser(Statement& s) {
  User u;
  u.user_id = s.Text(0);
  u.name = s.Text(1);
  auto role = ParseRole(s.Text(2));
  if (!role) return Status::Corruption("stored user has an unknown role");
  u.role = *role;
  u.created = s.Text(3);
  u.disabled_at = s.OptText(4);
  u.token_expires = s.OptText(5);
  u.removed_at = s.OptText(6);
  if (!s.IsNull(7)) {
    u.pending_role = ParseRole(s.Text(7));
    if (!u.pending_role) return Status::Corruption("stored user has an unknown pending role");
  }
  u.pending_by = s.IsNull(8) ? "" : s.Text(8);
  u.active = s.Int(9) != 0;
  u.confirmed_by = s.IsNull(10) ? "" : s.Text(10);
  u.auth_epoch = s.Int(11);
  u.function = s.OptText(12);
  u.email = s.OptText(13);
  return u;
}

constexpr std::string_view kUserColumns =
    "SELECT user_id, name, role, created, disabled_at, token_expires, removed_at, pending_role, pending_by, active, "
    "confirmed_by, auth_epoch, function, email FROM users ";

std::string Select(std::string_view rest) { return std::string(kUserColumns) + std::string(rest); }

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
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT INTO users (user_id, name, role, token_hash, created, "
                                                   "token_expires, pending_role, pending_by, active, confirmed_by) "
                                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  s.Bind(1, user.user_id).Bind(2, user.name).Bind(3, RoleName(user.role)).BindBlob(4, token_hash);
  s.Bind(5, user.created);
  if (user.token_expires) {
    s.Bind(6, *user.token_expires);
  } else {
    s.BindNull(6);
  }
  if (user.pending_role) {
    s.Bind(7, RoleName(*user.pending_role)).Bind(8, user.pending_by);
  } else {
    s.BindNull(7).BindNull(8);
  }
  s.Bind(9, int64_t{user.active ? 1 : 0});
  if (user.confirmed_by.empty()) {
    s.BindNull(10);
  } else {
    s.Bind(10, user.confirmed_by);
  }
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return Status::AlreadyExists("a user named \"" + user.name + "\" exists already");
  }
  return st;
}

Result<std::optional<User>> FindUserByTokenHash(Database& db, const TokenHash& token_hash) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(Select("WHERE token_hash = ?;")));
  s.BindBlob(1, token_hash);
  return OneRow<User>(s, ReadUser);
}

Result<std::optional<User>> FindUserByName(Database& db, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(Select("WHERE name = ?;")));
  s.Bind(1, name);
  return OneRow<User>(s, ReadUser);
}

Result<std::optional<User>> FindUserById(Database& db, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(Select("WHERE user_id = ?;")));
  s.Bind(1, user_id);
  return OneRow<User>(s, ReadUser);
}

Result<std::vector<User>> ListUsers(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(Select("ORDER BY name;")));
  return AllRows<User>(s, ReadUser);
}

Result<std::vector<User>> ListPendingGrants(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(Select("WHERE pending_role IS NOT NULL AND removed_at IS NULL ORDER BY name;")));
  return AllRows<User>(s, ReadUser);
}

Result<std::vector<User>> TokensExpiringBefore(Database& db, const std::string& before) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(Select("WHERE active = 1 AND disabled_at IS NULL AND removed_at IS "
                                                          "NULL AND token_expires < ? ORDER BY token_expires, name;")));
  s.Bind(1, before);
  return AllRows<User>(s, ReadUser);
}

Status UpdateUser(Database& db, const std::string& user_id, const UserUpdate& u) {
  std::string sql = "UPDATE users SET auth_epoch = auth_epoch + ?";
  if (u.disabled_at) sql += ", disabled_at = ?";
  if (u.removed_at) sql += ", removed_at = ?";
  if (u.role) sql += ", role = ?";
  if (u.pending_role) sql += ", pending_role = ?";
  if (u.pending_by) sql += ", pending_by = ?";
  if (u.active) sql += ", active = ?";
  if (u.confirmed_by) sql += ", confirmed_by = ?";
  if (u.token_hash) sql += ", token_hash = ?";
  if (u.token_expires) sql += ", token_expires = ?";
  if (u.function) sql += ", function = ?";
  if (u.email) sql += ", email = ?";
  sql += " WHERE user_id = ?;";
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  int i = 1;
  s.Bind(i++, int64_t{u.end_sessions ? 1 : 0});
  auto opt = [&](const std::optional<std::string>& v) {
    if (v) {
      s.Bind(i++, *v);
    } else {
      s.BindNull(i++);
    }
  };
  if (u.disabled_at) opt(*u.disabled_at);
  if (u.removed_at) s.Bind(i++, *u.removed_at);
  if (u.role) s.Bind(i++, RoleName(*u.role));
  if (u.pending_role)
    opt(*u.pending_role ? std::optional<std::string>(std::string(RoleName(**u.pending_role)))
                        : std::optional<std::string>());
  if (u.pending_by) s.Bind(i++, *u.pending_by);
  if (u.active) s.Bind(i++, int64_t{*u.active ? 1 : 0});
  if (u.confirmed_by) s.Bind(i++, *u.confirmed_by);
  if (u.token_hash) s.BindBlob(i++, *u.token_hash);
  if (u.token_expires) s.Bind(i++, *u.token_expires);
  if (u.function) opt(*u.function);
  if (u.email) opt(*u.email);
  s.Bind(i, user_id);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  if (db.Changes() != 1) return Status::NotFound("no user " + user_id);
  return Status::Ok();
}

Result<int64_t> CountUsableCoordinators(Database& db, const std::string& except) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT count(*) FROM users WHERE role = 'coordinator' AND active = 1 "
                                      "AND disabled_at IS NULL AND removed_at IS NULL AND user_id != ?;"));
  s.Bind(1, except);
  SCHAKEL_RETURN_IF_ERROR(s.Step().status());
  return s.Int(0);
}

Result<bool> BootstrapCoordinatorOpen(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT count(*) FROM users WHERE role = 'coordinator' AND active = 1;"));
  SCHAKEL_RETURN_IF_ERROR(s.Step().status());
  return s.Int(0) == 0;
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
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  SCHAKEL_ASSIGN_OR_RETURN(Statement epoch,
                           db.Prepare("UPDATE users SET auth_epoch = auth_epoch + 1 WHERE user_id = ?;"));
  epoch.Bind(1, user_id);
  return epoch.Run();
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
