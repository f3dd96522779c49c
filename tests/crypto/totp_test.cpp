// TOTP against RFC 6238 Appendix B (the SHA1 rows), base32 against RFC 4648
// section 10, and the verification rules: ±1 step, no replay, no malformed codes.
#include "schakel/crypto/totp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "schakel/crypto/password.h"

namespace schakel::crypto {
namespace {

std::span<const uint8_t> AsciiBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Instant AtUnixSeconds(int64_t unix_seconds) { return Instant{std::chrono::milliseconds{unix_seconds * 1000}}; }

TEST(TotpTest, Rfc6238AppendixBSha1Vectors) {
  const std::string_view key = "12345678901234567890";
  struct Row {
    int64_t t;
    const char* code;
  };
  const Row rows[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
                      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const Row& r : rows) {
    int64_t step = TotpStep(AtUnixSeconds(r.t));
    EXPECT_EQ(FormatOtp(Hotp(AsciiBytes(key), static_cast<uint64_t>(step), 8), 8), r.code) << "T=" << r.t;
  }
}

TEST(TotpTest, Rfc4226HotpSixDigits) {
  // RFC 4226 Appendix D, counters 0..3.
  const char* want[] = {"755224", "287082", "359152", "969429"};
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(FormatOtp(Hotp(AsciiBytes("12345678901234567890"), i)), want[i]);
  }
}

TEST(TotpTest, Base32Rfc4648Vectors) {
  EXPECT_EQ(Base32Encode(AsciiBytes("")), "");
  EXPECT_EQ(Base32Encode(AsciiBytes("f")), "MY");
  EXPECT_EQ(Base32Encode(AsciiBytes("fo")), "MZXQ");
  EXPECT_EQ(Base32Encode(AsciiBytes("foo")), "MZXW6");
  EXPECT_EQ(Base32Encode(AsciiBytes("foob")), "MZXW6YQ");
  EXPECT_EQ(Base32Encode(AsciiBytes("fooba")), "MZXW6YTB");
  EXPECT_EQ(Base32Encode(AsciiBytes("foobar")), "MZXW6YTBOI");
  auto d = Base32Decode("MZXW6YTBOI======");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::string(d->begin(), d->end()), "foobar");
  auto lower = Base32Decode("mzxw 6ytb oi");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(std::string(lower->begin(), lower->end()), "foobar");
}

TEST(TotpTest, Base32RefusesBadTextAndLimits) {
  EXPECT_FALSE(Base32Decode("MZ1W").ok());    // '1' is not in the alphabet
  EXPECT_FALSE(Base32Decode("MZ==XW").ok());  // data after padding
  EXPECT_FALSE(Base32Decode(std::string(200, 'A'), 20).ok());
  EXPECT_TRUE(Base32Decode(std::string(32, 'A'), 20).ok());  // 32 chars = 20 bytes
}

TEST(TotpTest, VerifyAcceptsOneStepDriftAndRefusesReplay) {
  const std::string_view key = "12345678901234567890";
  Instant now = AtUnixSeconds(1111111111);
  int64_t step = TotpStep(now);
  std::string current = FormatOtp(Hotp(AsciiBytes(key), static_cast<uint64_t>(step)));
  std::string previous = FormatOtp(Hotp(AsciiBytes(key), static_cast<uint64_t>(step - 1)));
  std::string next = FormatOtp(Hotp(AsciiBytes(key), static_cast<uint64_t>(step + 1)));
  std::string too_old = FormatOtp(Hotp(AsciiBytes(key), static_cast<uint64_t>(step - 2)));
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), current, now, 0), step);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), previous, now, 0), step - 1);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), next, now, 0), step + 1);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), too_old, now, 0), std::nullopt);
  // Replay: the step was used already, and so was a later one.
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), current, now, step), std::nullopt);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), previous, now, step - 1), std::nullopt);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), next, now, step), step + 1);
  // Malformed codes.
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), "12345", now, 0), std::nullopt);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), "12345a", now, 0), std::nullopt);
  EXPECT_EQ(VerifyTotp(AsciiBytes(key), current + "0", now, 0), std::nullopt);
  EXPECT_EQ(VerifyTotp({}, current, now, 0), std::nullopt);
}

TEST(TotpTest, UriCarriesIssuerAccountAndSecret) {
  std::string uri = TotpUri("Schakel", "mentor jan@school-a", AsciiBytes("12345678901234567890"));
  EXPECT_EQ(uri,
            "otpauth://totp/Schakel:mentor%20jan@school-a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Schakel"
            "&algorithm=SHA1&digits=6&period=30");
}

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok()) << hash.status().message();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword("", "correct horse battery"));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse battery"));
  auto again = HashPassword("correct horse battery");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *hash);  // a fresh salt each time
}

TEST(PasswordTest, LengthLimits) {
  EXPECT_EQ(HashPassword("short").status().code(), Code::kInvalidInput);
  EXPECT_EQ(HashPassword(std::string(11, 'x')).status().code(), Code::kInvalidInput);
  EXPECT_TRUE(HashPassword(std::string(12, 'x')).ok());
  EXPECT_EQ(HashPassword(std::string(1025, 'x')).status().code(), Code::kInvalidInput);
}

}  // namespace
}  // namespace schakel::crypto
