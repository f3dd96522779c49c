#include "schakel/crypto/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

}  // namespace

std::string Base32Encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

Result<std::vector<uint8_t>> Base32Decode(std::string_view text, size_t max_bytes) {
  if (text.size() > 8 * max_bytes) return Status::InvalidInput("base32 text is too long");
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = Base32Value(c);
    if (v < 0 || padding) return Status::InvalidInput("not base32 text (letters A-Z and digits 2-7)");
    buffer = ((buffer << 5) | static_cast<uint32_t>(v)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
      if (out.size() > max_bytes) return Status::InvalidInput("base32 text is too long");
    }
  }
  return out;
}

uint32_t Hotp(std::span<const uint8_t> key, uint64_t counter, int digits) {
  std::array<uint8_t, 8> msg{};
  for (int i = 7; i >= 0; --i) {
    msg[static_cast<size_t>(i)] = static_cast<uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac.data(), &mac_len) ==
          nullptr ||
      mac_len != 20) {
    return 0xffffffffu;  // never a valid code (at most 8 digits)
  }
  size_t offset = mac[19] & 0x0f;
  uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                 (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  Wipe(mac.data(), mac.size());
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  return bin % mod;
}

std::string FormatOtp(uint32_t code, int digits) {
  std::string s = std::to_string(code);
  if (s.size() < static_cast<size_t>(digits)) s.insert(0, static_cast<size_t>(digits) - s.size(), '0');
  return s;
}

int64_t TotpStep(Instant t) {
  int64_t ms = t.time_since_epoch().count();
  if (ms < 0) return 0;
  return ms / 1000 / kTotpStepSeconds;
}

std::optional<int64_t> VerifyTotp(std::span<const uint8_t> key, std::string_view code, Instant now,
                                  int64_t last_used_step) {
  if (key.empty() || code.size() != static_cast<size_t>(kTotpDigits)) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t step = TotpStep(now);
  std::optional<int64_t> match;
  // Every candidate is computed and compared, so the time taken does not
  // reveal which step matched.
  for (int64_t s = step - 1; s <= step + 1; ++s) {
    if (s < 0) continue;
    std::string expected = FormatOtp(Hotp(key, static_cast<uint64_t>(s)), kTotpDigits);
    bool equal = ConstantTimeEqual(expected, code);
    Wipe(expected.data(), expected.size());
    if (equal && s > last_used_step && !match) match = s;
  }
  return match;
}

std::string TotpUri(std::string_view issuer, std::string_view account, std::span<const uint8_t> key) {
  std::string secret = Base32Encode(key);
  std::string uri = "otpauth://totp/" + PercentEncode(issuer) + ":" + PercentEncode(account) + "?secret=" + secret +
                    "&issuer=" + PercentEncode(issuer) + "&algorithm=SHA1&digits=6&period=30";
  Wipe(secret.data(), secret.size());
  return uri;
}

}  // namespace schakel::crypto
