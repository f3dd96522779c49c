// Purge confirmations: a known-answer vector (computed apart from this code,
// with Python's cryptography package, from the format in envelope.h), the
// round trip, and what the verifier refuses.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include <nlohmann/json.hpp>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "seeded_key.h"

namespace schakel::crypto {
namespace {

using kat::kMessageId;
using kat::kRecipient;
using kat::kSender;
using kat::SeededKey;

constexpr char kExpected[] =
    R"({"message_id":"msg-2026-0001","purged_at":"2026-11-24T09:30:00.250Z","recipient_id":"wijkteam-overvecht",)"
    R"("sender_id":"school-trajectum",)"
    R"("sig":"qdTNPHBvipdcvj+E+u0w3xh1oU8LJAt/PtRrt1DADsbwwgQM3QBVlYOI2w9AVAMaIMR5AFuij5o8SyMCjjunAA=="})";

TEST(PurgeConfirmationTest, KnownAnswer) {
  SigningKeyPair key = SeededKey();
  EXPECT_EQ(ToHex(key.public_key), "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
  std::string made = MakePurgeConfirmation(kMessageId, kSender, kRecipient, true,
                                           ParseInstant("2026-11-24T09:30:00.250Z").value(), key,
                                           /*version=*/1);
  EXPECT_EQ(made, kExpected);
  auto v1 = VerifyPurgeConfirmation(kExpected, kMessageId, kSender, kRecipient, key.public_key);
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->held, std::nullopt);  // version 1 did not say
}

TEST(PurgeConfirmationTest, RoundTrip) {
  SigningKeyPair key = GenerateSigningKeyPair();
  std::string made =
      MakePurgeConfirmation("m-1", "node-a", "node-b", true, ParseInstant("2026-01-01T00:00:00Z").value(), key);
  auto v2 = VerifyPurgeConfirmation(made, "m-1", "node-a", "node-b", key.public_key);
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->held, true);
  EXPECT_EQ(v2->purged_at, "2026-01-01T00:00:00.000Z");
  std::string nothing =
      MakePurgeConfirmation("m-1", "node-a", "node-b", false, ParseInstant("2026-01-01T00:00:00Z").value(), key);
  auto none = VerifyPurgeConfirmation(nothing, "m-1", "node-a", "node-b", key.public_key);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->held, false);
}

// Version 2 signs whether anything was held and when it was purged: a
// partner cannot turn "nothing held" into "purged" or move the time.
TEST(PurgeConfirmationTest, VersionTwoSignsHeldAndPurgedAt) {
  SigningKeyPair key = GenerateSigningKeyPair();
  std::string made =
      MakePurgeConfirmation("m-1", "node-a", "node-b", false, ParseInstant("2026-01-01T00:00:00Z").value(), key);
  auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = made;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    Status st = VerifyPurgeConfirmation(text, "m-1", "node-a", "node-b", key.public_key).status();
    return st.ok() ? std::string("ok") : st.message();
  };
  EXPECT_EQ(changed("\"held\":false", "\"held\":true"), "purge confirmation: signature does not verify");
  EXPECT_EQ(changed("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"),
            "purge confirmation: signature does not verify");
  EXPECT_EQ(changed("\"version\":2", "\"version\":3"), "purge confirmation.version: this build knows versions 1 and 2");
  EXPECT_EQ(changed("\"held\":false", "\"held\":0"), "purge confirmation.held: expected true or false");
  EXPECT_EQ(changed("2026-01-01T00:00:00.000Z", "yesterday"), "purge confirmation.purged_at: not an instant");
}

TEST(PurgeConfirmationTest, RefusesAnotherMessageKeyOrShape) {
  SigningKeyPair key = SeededKey();
  SigningKeyPair other = GenerateSigningKeyPair();
  const PublicKey& pk = key.public_key;
  auto refused = [&](std::string_view text, const std::string& mid, const PublicKey& with) {
    Status st = VerifyPurgeConfirmation(text, mid, kSender, kRecipient, with).status();
    return st.ok() ? std::string("ok") : st.message();
  };
  EXPECT_EQ(refused(kExpected, "msg-2026-0002", pk), "purge confirmation is for another message");
  EXPECT_EQ(refused(kExpected, kMessageId, other.public_key), "purge confirmation: signature does not verify");
  EXPECT_EQ(refused("[1]", kMessageId, pk), "purge confirmation: expected an object");
  EXPECT_EQ(refused("{\"extra\":1}", kMessageId, pk), "purge confirmation.extra: unknown field");
  EXPECT_EQ(refused("{}", kMessageId, pk), "purge confirmation.message_id: missing");
  EXPECT_EQ(refused("{\"message_id\":1}", kMessageId, pk), "purge confirmation.message_id: expected a string");
  EXPECT_EQ(refused("{\"sig\":\"a\",\"sig\":\"b\"}", kMessageId, pk), "duplicate key \"sig\"");
  EXPECT_EQ(refused("{", kMessageId, pk).rfind("malformed JSON", 0), 0u);
  EXPECT_EQ(refused("[[[[[1]]]]]", kMessageId, pk), "JSON nested deeper than 4 levels");
  EXPECT_EQ(refused(std::string(4097, ' '), kMessageId, pk), "JSON input is larger than 4096 bytes");
  std::string short_sig = kExpected;
  short_sig.replace(short_sig.find("qdTN"), 4, "");
  EXPECT_NE(refused(short_sig, kMessageId, pk), "ok");
}

// Adoption notices: the answer to a revocation of a share the recipient took
// into its own dossier; signed over the basis and the instant.
TEST(AdoptionNoticeTest, RoundTripAndWhatTheVerifierRefuses) {
  SigningKeyPair key = GenerateSigningKeyPair();
  const Instant at = ParseInstant("2026-11-30T10:00:00.250Z").value();
  std::string made = MakeAdoptionNotice(kMessageId, kSender, kRecipient, at, "Jeugdwet art. 7.3.8", key);
  EXPECT_TRUE(IsAdoptionNotice(made));
  EXPECT_FALSE(IsAdoptionNotice(
      MakePurgeConfirmation(kMessageId, kSender, kRecipient, true, at, key)));  // a purge is not an adoption
  auto ok = VerifyAdoptionNotice(made, kMessageId, kSender, kRecipient, key.public_key);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->basis, "Jeugdwet art. 7.3.8");
  EXPECT_EQ(ok->adopted_at, "2026-11-30T10:00:00.250Z");

  // Another message, another sender, another key.
  EXPECT_FALSE(VerifyAdoptionNotice(made, "msg-other", kSender, kRecipient, key.public_key).ok());
  EXPECT_FALSE(VerifyAdoptionNotice(made, kMessageId, "school-b", kRecipient, key.public_key).ok());
  EXPECT_FALSE(VerifyAdoptionNotice(made, kMessageId, kSender, kRecipient, GenerateSigningKeyPair().public_key).ok());
  // The basis is signed: changing it breaks the signature.
  std::string tampered = made;
  tampered.replace(tampered.find("7.3.8"), 5, "7.3.9");
  auto refused = VerifyAdoptionNotice(tampered, kMessageId, kSender, kRecipient, key.public_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("signature"), std::string::npos) << refused.status().message();
  // An unknown key, another version, a basis of two lines.
  auto j = nlohmann::json::parse(made);
  j["extra"] = 1;
  EXPECT_FALSE(VerifyAdoptionNotice(j.dump(), kMessageId, kSender, kRecipient, key.public_key).ok());
  j = nlohmann::json::parse(made);
  j["adoption"] = 2;
  EXPECT_NE(VerifyAdoptionNotice(j.dump(), kMessageId, kSender, kRecipient, key.public_key)
                .status()
                .message()
                .find("version 2"),
            std::string::npos);
  j = nlohmann::json::parse(made);
  j["basis"] = "Jeugdwet\nart. 7.3.8";
  EXPECT_FALSE(VerifyAdoptionNotice(j.dump(), kMessageId, kSender, kRecipient, key.public_key).ok());
}

TEST(AdoptionNoticeTest, TheBasisIsOneShortLine) {
  EXPECT_TRUE(CheckAdoptionBasis("Jeugdwet art. 7.3.8").ok());
  EXPECT_TRUE(CheckAdoptionBasis("Wmo 2015 art. 5.3.4 (Veilig Thuis)").ok());
  EXPECT_FALSE(CheckAdoptionBasis("").ok());
  EXPECT_FALSE(CheckAdoptionBasis(std::string(201, 'a')).ok());
  EXPECT_FALSE(CheckAdoptionBasis("a\tb").ok());
  EXPECT_FALSE(CheckAdoptionBasis("a\nb").ok());
  EXPECT_FALSE(CheckAdoptionBasis("\xff\xfe").ok());
}

}  // namespace
}  // namespace schakel::crypto
