// Password hashing for console sign-in: Argon2id through libsodium's
// crypto_pwhash_str, whose output string carries its own salt and cost
// parameters, so the parameters can be raised later without a migration.
//
// Thread-safety: pure functions (each hash takes ~64 MiB and tens of ms, so
// callers do not hold a lock while hashing). Errors: Result values.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::crypto {

constexpr size_t kMinPasswordLength = 12;
constexpr size_t kMaxPasswordLength = 1024;

// kInvalidInput when the password is shorter than 12 or longer than 1024 bytes.
Result<std::string> HashPassword(std::string_view password);
// True when the password matches the stored hash; false for a wrong password
// or an unreadable hash.
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

}  // namespace schakel::crypto
