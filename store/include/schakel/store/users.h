// Users of a node and their roles (DESIGN.md "Roles"). A user authenticates
// with a bearer token; only the SHA-256 of the token is stored, so a copy of
// the database does not yield working tokens.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"

namespace schakel::store {

enum class Role : uint8_t { kStaff = 0, kCoordinator = 1, kAuditor = 2, kAdmin = 3 };
std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);

struct User {
  std::string user_id;
  std::string name;
  Role role = Role::kStaff;
  std::string created;
  std::optional<std::string> disabled_at;
  // Issue 16, "Accounts end" (the accounts migration in store/src/migrations.cpp):
  std::optional<std::string> token_expires;  // RFC 3339; the token is refused from then on
  std::optional<std::string> removed_at;     // removed accounts keep their row and name
  std::optional<Role> pending_role;          // a content role awaiting a coordinator's confirmation
  std::string pending_by;                    // who asked for it (a user id or "os:<user>")
  bool active = true;                        // false: a new account whose role is not yet confirmed
  std::string confirmed_by;                  // who confirmed the last content-role grant
  int64_t auth_epoch = 0;                    // raised by every change that ends console sessions
  // Schema v13: the function held inside the organisation
  // (IsValidFunctionName), e.g. the one `[meldcode] approver_role` names.
  std::optional<std::string> function;
  // Schema v16: where e-mail notices go ([notify]); none: no notices.
  std::optional<std::string> email;

  // May sign in with a token or at the console (token expiry aside).
  bool Usable() const { return active && !disabled_at && !removed_at; }
};

using TokenHash = std::array<uint8_t, 32>;

// kAlreadyExists when the name is taken.
Status InsertUser(Database& db, const User& user, const TokenHash& token_hash);
Result<std::optional<User>> FindUserByTokenHash(Database& db, const TokenHash& token_hash);
Result<std::optional<User>> FindUserByName(Database& db, const std::string& name);
Result<std::optional<User>> FindUserById(Database& db, const std::string& user_id);
Result<std::vector<User>> ListUsers(Database& db);
// Users with a content role waiting for confirmation, by name.
Result<std::vector<User>> ListPendingGrants(Database& db);
// Usable users whose token expires before `before` (RFC 3339), by expiry.
Result<std::vector<User>> TokensExpiringBefore(Database& db, const std::string& before);

// The columns of one change to a user, each written only when set. Every
// change raises auth_epoch when `end_sessions` is set.
struct UserUpdate {
  std::optional<std::optional<std::string>> disabled_at;
  std::optional<std::string> removed_at;
  std::optional<Role> role;
  std::optional<std::optional<Role>> pending_role;  // nullopt inside: clear
  std::optional<std::string> pending_by;
  std::optional<bool> active;
  std::optional<std::string> confirmed_by;
  std::optional<TokenHash> token_hash;
  std::optional<std::string> token_expires;
  std::optional<std::optional<std::string>> function;  // nullopt inside: clear
  std::optional<std::optional<std::string>> email;     // nullopt inside: clear
  bool end_sessions = false;
};
// kNotFound when no such user exists.
Status UpdateUser(Database& db, const std::string& user_id, const UserUpdate& update);
// Usable coordinators (active, not disabled, not removed), other than `except`.
Result<int64_t> CountUsableCoordinators(Database& db, const std::string& except);
// True while no account holds the coordinator role yet (disabled and removed
// accounts count: their rows stay): the node's first coordinator may then be
// made without a confirmation (docs/api.md "Accounts").
Result<bool> BootstrapCoordinatorOpen(Database& db);

// Console sign-in (table user_credentials, schema v5): an Argon2id password
// hash in crypto_pwhash_str form, a 20-byte TOTP secret, and the last TOTP
// time step used, so a code is accepted once.
struct Credentials {
  std::string password_hash;
  crypto::SecureBuffer totp_secret;  // empty when no second factor is set
  int64_t totp_last_step = 0;
  std::string updated;
};

// Sets (or replaces) a user's password hash and TOTP secret and resets the
// last used step; raises the user's auth_epoch, so console sessions that
// began before end. kNotFound when no such user exists.
Status SetCredentials(Database& db, const std::string& user_id, const std::string& password_hash,
                      std::span<const uint8_t> totp_secret, const std::string& updated);
Result<std::optional<Credentials>> GetCredentials(Database& db, const std::string& user_id);
// Records `step` as used, atomically and only when it is later than the last
// used step. Returns false when it was not (a replayed or older code).
Result<bool> UseTotpStep(Database& db, const std::string& user_id, int64_t step);

}  // namespace schakel::store
