// Secrets of a dossier link (docs/links.md): the URL token, the access code,
// and the sealing of the link's content under both.
//
// token: 32 random bytes, base64url without padding (43 characters), the
// last path segment of the URL. The database keeps only SHA-256(token).
// code: 10 characters from an unambiguous 32-letter alphabet (no 0/O, 1/I),
// about 50 bits, shown as XXXXX-XXXXX; accepted in lower case and with or
// without the dash or spaces.
// content key = Argon2id(token || normalised code, 16-byte random salt),
// libsodium crypto_pwhash with the INTERACTIVE limits (2 passes, 64 MiB);
// content = XChaCha20-Poly1305-IETF(key, 24-byte random nonce, plaintext,
// associated data = link id). A wrong code is an AEAD failure
// (kUnauthenticated), indistinguishable from a wrong token.
//
// Keys live in guarded memory and are wiped; the opened plaintext comes back
// in a SecureBuffer. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

inline constexpr size_t kLinkTokenChars = 43;
inline constexpr size_t kAccessCodeChars = 10;
inline constexpr std::string_view kAccessCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

struct LinkKdfParams {
  // Default: libsodium's INTERACTIVE limits.
  unsigned long long ops_limit = 2;
  size_t mem_limit = size_t{64} * 1024 * 1024;
};

struct SealedLink {
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 24> nonce{};
  std::vector<uint8_t> ciphertext;
};

std::string NewLinkToken();
// Whether `token` has the shape of a link token (43 base64url characters).
bool IsLinkTokenShape(std::string_view token);
std::array<uint8_t, 32> LinkTokenHash(std::string_view token);

// A fresh code as "XXXXX-XXXXX".
std::string NewAccessCode();
// "abcde-23456", "ABCDE 23456", "abcde23456" -> "ABCDE23456"; nullopt when it
// is not 10 characters of the alphabet after removing dashes and spaces.
std::optional<std::string> NormaliseAccessCode(std::string_view typed);

Result<SealedLink> SealLinkContent(std::string_view token, std::string_view normalised_code, std::string_view link_id,
                                   std::string_view plaintext, const LinkKdfParams& params = {});
Result<SecureBuffer> OpenLinkContent(std::string_view token, std::string_view normalised_code, std::string_view link_id,
                                     const SealedLink& sealed, const LinkKdfParams& params = {});

}  // namespace schakel::crypto
