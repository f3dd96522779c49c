// Keys for the database: 32 random bytes in a key file, or Argon2id over a
// passphrase with a stored salt.
//
// Keys come back in SecureBuffer and are read or derived straight into it;
// no copy is left on the stack or heap. Thread-safe.
// Errors: DeriveKeyFromPassphrase: kInvalidInput for an empty passphrase or
// parameters outside libsodium's range, kResourceExhausted when mem_limit
// cannot be allocated. ReadKeyFile: kNotFound; kInvalidInput for a symbolic
// link, a non-regular file, a size other than 32 or a mode wider than 0600
// (the message gives the chmod that fixes it); kIoError. CreateKeyFile
// (O_CREAT|O_EXCL, mode exactly 0600, fsync of file and folder; a half-written
// file is removed): kAlreadyExists, kIoError, kResourceExhausted (disk full).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

inline constexpr size_t kDbKeyBytes = 32;
inline constexpr size_t kPassphraseSaltBytes = 16;

struct PassphraseParams {
  // Default: libsodium's MODERATE limits (3 passes, 256 MiB).
  unsigned long long ops_limit = 3;
  size_t mem_limit = size_t{256} * 1024 * 1024;
};

// Argon2id(passphrase, salt) -> 32 bytes. An empty passphrase is refused.
Result<SecureBuffer> DeriveKeyFromPassphrase(std::string_view passphrase,
                                             const std::array<uint8_t, kPassphraseSaltBytes>& salt,
                                             const PassphraseParams& params = {});

// Reads a key file: exactly 32 bytes, mode no wider than 0600.
Result<SecureBuffer> ReadKeyFile(const std::string& path);
// Writes 32 fresh random bytes to path with mode 0600 (fails if it exists);
// returns the key.
Result<SecureBuffer> CreateKeyFile(const std::string& path);

std::array<uint8_t, kPassphraseSaltBytes> RandomSalt();

}  // namespace schakel::crypto
