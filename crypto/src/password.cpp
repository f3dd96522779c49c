#include "schakel/crypto/password.h"

#include <sodium.h>

#include "schakel/crypto/kdf_helper.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

Result<std::string> HashPassword(std::string_view password) {
  EnsureInitialised();
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength) {
    return Status::InvalidInput("password: must be 12 to 1024 characters");
  }
  KdfRequest request;
  request.op = KdfOp::kHash;
  request.ops_limit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  request.mem_limit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  request.password = SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(password.data()), password.size()});
  KdfOutcome hashed = RunKdfApart(request);
  if (hashed.status != KdfStatus::kDone) {
    return Status::ResourceExhausted("password hashing ran out of memory");
  }
  return std::string(reinterpret_cast<const char*>(hashed.bytes.data()), hashed.bytes.size());
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  EnsureInitialised();
  if (password.size() > kMaxPasswordLength || stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) {
    return false;
  }
  if (stored_hash.find('\0') != std::string_view::npos) return false;
  KdfRequest request;
  request.op = KdfOp::kVerify;
  // The cost is the stored string's own; these only pass the request's checks.
  request.ops_limit = crypto_pwhash_OPSLIMIT_MIN;
  request.mem_limit = crypto_pwhash_MEMLIMIT_MIN;
  request.password = SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(password.data()), password.size()});
  request.stored = std::string(stored_hash);
  return RunKdfApart(request).status == KdfStatus::kDone;
}

}  // namespace schakel::crypto
