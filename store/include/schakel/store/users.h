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
};

using TokenHash = std::array<uint8_t, 32>;

// kAlreadyExists when the name is taken.
Status InsertUser(Database& db, const User& user, const TokenHash& token_hash);
Result<std::optional<User>> FindUserByTokenHash(Database& db, const TokenHash& token_hash);
Result<std::optional<User>> FindUserByName(Database& db, const std::string& name);
Result<std::vector<User>> ListUsers(Database& db);

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
// last used step. kNotFound when no such user exists.
Status SetCredentials(Database& db, const std::string& user_id, const std::string& password_hash,
                      std::span<const uint8_t> totp_secret, const std::string& updated);
Result<std::optional<Credentials>> GetCredentials(Database& db, const std::string& user_id);
// Records `step` as used, atomically and only when it is later than the last
// used step. Returns false when it was not (a replayed or older code).
Result<bool> UseTotpStep(Database& db, const std::string& user_id, int64_t step);

}  // namespace schakel::store
