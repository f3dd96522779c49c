// Users of a node and their roles (DESIGN.md "Roles"). A user authenticates
// with a bearer token; only the SHA-256 of the token is stored, so a copy of
// the database does not yield working tokens.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
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

}  // namespace schakel::store
