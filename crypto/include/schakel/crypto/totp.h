// TOTP (RFC 6238) second factor for the staff console, and the base32 text
// (RFC 4648) that authenticator apps use for its secret.
//
// HOTP/TOTP use HMAC-SHA1 (what common authenticator apps implement), a
// 30-second step and 6 digits. Verification accepts the current step and one
// step either side (clock drift), and refuses any step at or before the last
// one used, so a code cannot be replayed; the caller stores the returned step.
//
// Secrets are passed as byte spans; callers keep them in SecureBuffer.
// Thread-safety: pure functions. Errors: Result values (bad base32, bad sizes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"

namespace schakel::crypto {

constexpr size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
constexpr int64_t kTotpStepSeconds = 30;
constexpr int kTotpDigits = 6;

// RFC 4648 base32, upper case, without '=' padding.
std::string Base32Encode(std::span<const uint8_t> bytes);
// Accepts upper or lower case, optional '=' padding and spaces between groups.
// kInvalidInput for other characters or when more than max_bytes would result.
Result<std::vector<uint8_t>> Base32Decode(std::string_view text, size_t max_bytes = 64);

// HOTP (RFC 4226) with HMAC-SHA1: the code as a number below 10^digits.
// REQUIRES: 6 <= digits <= 8; key not empty.
uint32_t Hotp(std::span<const uint8_t> key, uint64_t counter, int digits = kTotpDigits);
// The code zero-padded to `digits` characters.
std::string FormatOtp(uint32_t code, int digits = kTotpDigits);
// The RFC 6238 time step of an instant (T0 = Unix epoch, 30 s).
int64_t TotpStep(Instant t);

// Checks a 6-digit code against steps now-1, now, now+1 that are greater than
// last_used_step. Returns the matching step (store it as the new last used
// step) or nullopt. Codes are compared in constant time.
std::optional<int64_t> VerifyTotp(std::span<const uint8_t> key, std::string_view code, Instant now,
                                  int64_t last_used_step);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
// (Key Uri Format), label and issuer percent-encoded.
std::string TotpUri(std::string_view issuer, std::string_view account, std::span<const uint8_t> key);

}  // namespace schakel::crypto
