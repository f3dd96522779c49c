// Link secrets: token and code shapes, code normalisation, sealing under
// token+code, wrong code / wrong token / wrong link id / tampering fail.
#include "schakel/crypto/link_secret.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace schakel::crypto {
namespace {

// Small Argon2id limits so the tests are quick; the default is measured below.
const LinkKdfParams kFastLinkKdf{1, 8 * 1024};

TEST(LinkSecret, TokenAndCodeShapes) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string t = NewLinkToken();
    EXPECT_TRUE(IsLinkTokenShape(t)) << t;
    EXPECT_TRUE(seen.insert(t).second);
    std::string c = NewAccessCode();
    ASSERT_EQ(c.size(), 11u);
    EXPECT_EQ(c[5], '-');
    auto n = NormaliseAccessCode(c);
    ASSERT_TRUE(n.has_value()) << c;
    EXPECT_EQ(n->size(), 10u);
    for (char ch : *n) EXPECT_NE(kAccessCodeAlphabet.find(ch), std::string::npos);
  }
  EXPECT_FALSE(IsLinkTokenShape("short"));
  EXPECT_FALSE(IsLinkTokenShape(std::string(42, 'a') + "/"));
}

TEST(LinkSecret, NormalisesTypedCodes) {
  EXPECT_EQ(NormaliseAccessCode("abcde-23456").value(), "ABCDE23456");
  EXPECT_EQ(NormaliseAccessCode("ABCDE 23456").value(), "ABCDE23456");
  EXPECT_EQ(NormaliseAccessCode("abcde23456").value(), "ABCDE23456");
  EXPECT_FALSE(NormaliseAccessCode("ABCDE-2345").has_value());    // too short
  EXPECT_FALSE(NormaliseAccessCode("ABCDE-234567").has_value());  // too long
  EXPECT_FALSE(NormaliseAccessCode("ABCD0-23456").has_value());   // 0 is not in the alphabet
  EXPECT_FALSE(NormaliseAccessCode("ABCDI-23456").has_value());   // neither is I
  EXPECT_FALSE(NormaliseAccessCode("").has_value());
}

TEST(LinkSecret, SealsAndOpensOnlyWithTokenCodeAndLinkId) {
  std::string token = NewLinkToken();
  std::string code = *NormaliseAccessCode(NewAccessCode());
  auto sealed = SealLinkContent(token, code, "l-1", "{\"x\":\"Sanne\"}", kFastLinkKdf);
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  std::string ct(sealed->ciphertext.begin(), sealed->ciphertext.end());
  EXPECT_EQ(ct.find("Sanne"), std::string::npos);
  auto opened = OpenLinkContent(token, code, "l-1", *sealed, kFastLinkKdf);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()), "{\"x\":\"Sanne\"}");

  std::string other_code = code;
  other_code[0] = other_code[0] == 'A' ? 'B' : 'A';
  auto wrong = OpenLinkContent(token, other_code, "l-1", *sealed, kFastLinkKdf);
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_FALSE(OpenLinkContent(NewLinkToken(), code, "l-1", *sealed, kFastLinkKdf).ok());
  EXPECT_FALSE(OpenLinkContent(token, code, "l-2", *sealed, kFastLinkKdf).ok());
  SealedLink tampered = *sealed;
  tampered.ciphertext[0] ^= 1;
  EXPECT_FALSE(OpenLinkContent(token, code, "l-1", tampered, kFastLinkKdf).ok());
  SealedLink salted = *sealed;
  salted.salt[0] ^= 1;
  EXPECT_FALSE(OpenLinkContent(token, code, "l-1", salted, kFastLinkKdf).ok());
  EXPECT_NE(LinkTokenHash(token), LinkTokenHash(NewLinkToken()));
}

TEST(LinkSecret, DefaultArgon2idCostIsMeasured) {
  std::string token = NewLinkToken();
  std::string code = *NormaliseAccessCode(NewAccessCode());
  auto start = std::chrono::steady_clock::now();
  auto sealed = SealLinkContent(token, code, "l-1", "x");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(sealed.ok());
  std::printf("link Argon2id (interactive: 2 passes, 64 MiB): %lld ms\n", static_cast<long long>(ms));
  EXPECT_GT(ms, 0);
  EXPECT_TRUE(OpenLinkContent(token, code, "l-1", *sealed).ok());
}

}  // namespace
}  // namespace schakel::crypto
