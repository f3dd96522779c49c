#include "schakel/crypto/password.h"

#include <sodium.h>

#include "schakel/crypto/low_priority.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

Result<std::string> HashPassword(std::string_view password) {
  EnsureInitialised();
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return Status::InvalidInput("password: must be 12 to 1024 characters");
  }
  char out[crypto_pwhash_STRBYTES];
  int rc = -1;
  RunAtLowPriority([&] {
    rc = crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
  });
  if (rc != 0) {
    return Status::ResourceExhausted("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  EnsureInitialised();
  if (password.size() > kMaxPasswordLength || stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) {
    return false;
  }
  char buf[crypto_pwhash_STRBYTES] = {};
  stored_hash.copy(buf, stored_hash.size());
  int rc = -1;
  RunAtLowPriority([&] { rc = crypto_pwhash_str_verify(buf, password.data(), password.size()); });
  return rc == 0;
}

}  // namespace schakel::crypto
