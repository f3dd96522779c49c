// Refusals ("SCHN"): a known-answer vector (computed apart from this code,
// with Python's cryptography package, from the format in docs/envelope.md),
// the round trip, and what the decoder and the verifier refuse.
#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "seeded_key.h"

namespace schakel::crypto {
namespace {

using kat::SeededKey;

// Also the seed tests/fuzz/corpus/receipt/kat-refusal.bin.
constexpr char kExpectedHex[] =
    "5343484e01000d6d73672d323032362d3030303100107363686f6f6c2d7472616a656374756d001277696a6b7465616d2d6f766572766563"
    "6874001463617465676f72795f6e6f745f616c6c6f776564000001a20ce406ba3005a6c2ff62021f54e0e52a6b23b44c239c275e57ee26"
    "6039c2cc9832e0a826ad94d2d2f6c741b02336602c9ca06718624288e9a3e6452bd023463cd4663e09";

Refusal Made(const SigningKeyPair& key, RefusalCode code = RefusalCode::kCategoryNotAllowed) {
  auto r = MakeRefusal(kat::kMessageId, kat::kSender, kat::kRecipient, code,
                       ParseInstant("2026-11-24T09:30:00.250Z").value(), key);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

TEST(RefusalTest, KnownAnswer) {
  SigningKeyPair key = SeededKey();
  std::string wire = EncodeRefusal(Made(key));
  EXPECT_EQ(ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wire.data()), wire.size())), kExpectedHex);
  EXPECT_TRUE(IsRefusal(wire));
  auto decoded = DecodeRefusal(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->code, RefusalCode::kCategoryNotAllowed);
  EXPECT_TRUE(VerifyRefusal(*decoded, key.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
}

TEST(RefusalTest, EveryCodeRoundTripsByItsName) {
  SigningKeyPair key = GenerateSigningKeyPair();
  for (const char* name : {"unknown_purpose", "category_not_allowed", "retention_too_long", "quota", "unsupported"}) {
    auto code = ParseRefusalCode(name);
    ASSERT_TRUE(code) << name;
    EXPECT_EQ(RefusalCodeName(*code), name);
    auto decoded = DecodeRefusal(EncodeRefusal(Made(key, *code)));
    ASSERT_TRUE(decoded.ok()) << decoded.status().message();
    EXPECT_EQ(decoded->code, *code);
    EXPECT_TRUE(VerifyRefusal(*decoded, key.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
  }
  EXPECT_FALSE(ParseRefusalCode("because I said so"));
}

TEST(RefusalTest, VerifierRefusesAnotherKeyMessageSenderOrRecipient) {
  SigningKeyPair key = GenerateSigningKeyPair();
  SigningKeyPair other = GenerateSigningKeyPair();
  Refusal r = Made(key);
  EXPECT_FALSE(VerifyRefusal(r, other.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
  EXPECT_FALSE(VerifyRefusal(r, key.public_key, "msg-other", kat::kSender, kat::kRecipient).ok());
  EXPECT_FALSE(VerifyRefusal(r, key.public_key, kat::kMessageId, "school-other", kat::kRecipient).ok());
  EXPECT_FALSE(VerifyRefusal(r, key.public_key, kat::kMessageId, kat::kSender, "wijkteam-other").ok());
  // A changed code or time breaks the signature.
  Refusal changed = r;
  changed.code = RefusalCode::kQuota;
  EXPECT_FALSE(VerifyRefusal(changed, key.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
  changed = r;
  changed.refused_at += std::chrono::milliseconds(1);
  EXPECT_FALSE(VerifyRefusal(changed, key.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
  // A flipped signature byte on the wire decodes but does not verify.
  std::string wire = EncodeRefusal(r);
  wire.back() = static_cast<char>(wire.back() ^ 1);
  auto decoded = DecodeRefusal(wire);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(VerifyRefusal(*decoded, key.public_key, kat::kMessageId, kat::kSender, kat::kRecipient).ok());
}

TEST(RefusalTest, DecoderRefusesMalformedAndOversizeInput) {
  SigningKeyPair key = GenerateSigningKeyPair();
  std::string wire = EncodeRefusal(Made(key));
  EXPECT_FALSE(DecodeRefusal("").ok());
  EXPECT_FALSE(DecodeRefusal("SCHN").ok());
  EXPECT_FALSE(DecodeRefusal("SCHR" + wire.substr(4)).ok());                      // another magic
  EXPECT_FALSE(DecodeRefusal(wire.substr(0, 4) + '\x02' + wire.substr(5)).ok());  // unknown version
  for (size_t cut = 0; cut < wire.size(); cut += 7) EXPECT_FALSE(DecodeRefusal(wire.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(DecodeRefusal(wire + "x").ok());                                  // trailing bytes
  EXPECT_FALSE(DecodeRefusal(wire + std::string(kMaxRefusalBytes, '\0')).ok());  // oversize
  // A code outside the fixed list, with a valid signature over it.
  std::string free_text = wire;
  size_t at = free_text.find("category_not_allowed");
  ASSERT_NE(at, std::string::npos);
  free_text.replace(at, 20, "category_not_allowex");
  EXPECT_FALSE(DecodeRefusal(free_text).ok());
  // Field limits: an invalid message id or node id is refused by Make and Decode.
  EXPECT_FALSE(MakeRefusal("bad id!", kat::kSender, kat::kRecipient, RefusalCode::kQuota, Instant{}, key).ok());
  EXPECT_FALSE(MakeRefusal(kat::kMessageId, "X", kat::kRecipient, RefusalCode::kQuota, Instant{}, key).ok());
  std::string bad_sender = wire;
  at = bad_sender.find(kat::kSender);
  bad_sender[at] = 'S';
  EXPECT_FALSE(DecodeRefusal(bad_sender).ok());
  EXPECT_FALSE(IsRefusal("SCHR"));
  EXPECT_FALSE(IsRefusal("SCH"));
}

}  // namespace
}  // namespace schakel::crypto
