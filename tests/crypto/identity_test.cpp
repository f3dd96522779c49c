// Identity keys, signatures, fingerprints, base64 and SHA-256.
#include "schakel/crypto/identity.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <regex>
#include <set>

#include "schakel/base/strings.h"
#include "seeded_key.h"

namespace schakel::crypto {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// The identity used by the known-answer tests (seed 00 01 02 ... 1f).
using kat::SeededKey;

TEST(IdentityTest, SignAndVerify) {
  SigningKeyPair key = GenerateSigningKeyPair();
  ASSERT_EQ(key.secret.size(), 64u);
  Signature sig = Sign(key, "hello partner");
  EXPECT_TRUE(Verify(key.public_key, "hello partner", sig));
  EXPECT_FALSE(Verify(key.public_key, "hello partneR", sig));
  EXPECT_FALSE(Verify(key.public_key, "", sig));

  SigningKeyPair other = GenerateSigningKeyPair();
  EXPECT_NE(other.public_key, key.public_key);
  EXPECT_FALSE(Verify(other.public_key, "hello partner", sig));

  for (size_t i = 0; i < sig.size(); i += 7) {
    Signature bad = sig;
    bad[i] ^= 0x01;
    EXPECT_FALSE(Verify(key.public_key, "hello partner", bad)) << "byte " << i;
  }
}

TEST(IdentityTest, SigningKeyPairFromSecret) {
  SigningKeyPair key = GenerateSigningKeyPair();
  auto again = SigningKeyPairFromSecret(key.secret.span());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->public_key, key.public_key);
  EXPECT_TRUE(again->secret.Equals(key.secret.span()));

  auto short_key = SigningKeyPairFromSecret(key.secret.span().first(32));
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().code(), Code::kInvalidInput);

  // A secret whose public half belongs to another key.
  SecureBuffer mixed = key.secret.Clone();
  SigningKeyPair other = GenerateSigningKeyPair();
  std::copy(other.public_key.begin(), other.public_key.end(), mixed.data() + 32);
  auto bad = SigningKeyPairFromSecret(mixed.span());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kCorruption);
}

TEST(IdentityTest, EncryptionKeyIsSignedByIdentity) {
  SigningKeyPair identity = GenerateSigningKeyPair();
  EncryptionKeyPair enc = GenerateEncryptionKeyPair(identity);
  ASSERT_EQ(enc.secret.size(), 32u);
  EXPECT_TRUE(Verify(identity.public_key, EncKeySignedMessage(enc.public_key), enc.signature));

  // The public half is X25519 of the secret.
  PublicKey expect{};
  ASSERT_EQ(crypto_scalarmult_base(expect.data(), enc.secret.data()), 0);
  EXPECT_EQ(enc.public_key, expect);

  SigningKeyPair other = GenerateSigningKeyPair();
  EXPECT_FALSE(Verify(other.public_key, EncKeySignedMessage(enc.public_key), enc.signature));

  // Rebuilding from the stored secret gives the same key and, Ed25519 being
  // deterministic, the same signature.
  auto again = EncryptionKeyPairFromSecret(enc.secret.span(), identity);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->public_key, enc.public_key);
  EXPECT_EQ(again->signature, enc.signature);
  EXPECT_FALSE(EncryptionKeyPairFromSecret(enc.secret.span().first(31), identity).ok());
}

TEST(IdentityTest, EncKeySignedMessageLayout) {
  PublicKey pk{};
  for (size_t i = 0; i < pk.size(); ++i) pk[i] = static_cast<uint8_t>(0xa0 + i);
  std::string m = EncKeySignedMessage(pk);
  ASSERT_EQ(m.size(), 19u + 32u);
  EXPECT_EQ(m.substr(0, 18), "schakel/enc-key/v1");
  EXPECT_EQ(m[18], '\0');
  EXPECT_EQ(m.substr(19), std::string(reinterpret_cast<const char*>(pk.data()), pk.size()));
}

TEST(IdentityTest, FingerprintFormat) {
  const std::regex kShape("^([0-9]{5} ){11}[0-9]{5}$");
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    SigningKeyPair key = GenerateSigningKeyPair();
    std::string fp = Fingerprint(key.public_key);
    EXPECT_TRUE(std::regex_match(fp, kShape)) << fp;
    EXPECT_EQ(fp, Fingerprint(key.public_key));
    seen.insert(fp);
  }
  EXPECT_EQ(seen.size(), 20u);
}

// Known-answer test. The values below were computed once by this code and
// then checked independently of libsodium and of this code with Python
// (hashlib for SHA-512, the `cryptography` package -- OpenSSL -- for Ed25519),
// so the test is not circular:
//
//   import hashlib
//   from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
//   from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
//   sk = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
//   pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
//   print(pk.hex())
//   h = hashlib.sha512(b"schakel/fingerprint/v1\0" + pk).digest()
//   print(" ".join("%05d" % (int.from_bytes(h[5*i:5*i+5], "big") % 100000)
//                  for i in range(12)))
TEST(IdentityTest, FingerprintKnownAnswer) {
  SigningKeyPair key = SeededKey();
  EXPECT_EQ(ToHex(key.public_key), "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
  EXPECT_EQ(Fingerprint(key.public_key), "15218 27053 03187 27761 38666 72329 75038 75422 61854 67475 50397 83593");
}

TEST(IdentityTest, FingerprintMatches) {
  SigningKeyPair key = SeededKey();
  const PublicKey& pk = key.public_key;
  EXPECT_TRUE(FingerprintMatches(pk, "15218 27053 03187 27761 38666 72329 75038 75422 61854 67475 50397 83593"));
  EXPECT_TRUE(FingerprintMatches(pk, "152182705303187277613866672329750387542261854674755039783593"));
  EXPECT_TRUE(FingerprintMatches(pk, "15218-27053-03187-27761-38666-72329\n75038-75422-61854-67475-50397-83593\n"));
  // One digit off, one group missing, one group extra, other characters.
  EXPECT_FALSE(FingerprintMatches(pk, "15218 27053 03187 27761 38666 72329 75038 75422 61854 67475 50397 83594"));
  EXPECT_FALSE(FingerprintMatches(pk, "15218 27053 03187 27761 38666 72329 75038 75422 61854 67475 50397"));
  EXPECT_FALSE(FingerprintMatches(pk, "15218 27053 03187 27761 38666 72329 75038 75422 61854 67475 50397 83593 00000"));
  EXPECT_FALSE(FingerprintMatches(pk, "15218.27053.03187.27761.38666.72329.75038.75422.61854.67475.50397.83593"));
  EXPECT_FALSE(FingerprintMatches(pk, ""));
  SigningKeyPair other = GenerateSigningKeyPair();
  EXPECT_FALSE(FingerprintMatches(pk, Fingerprint(other.public_key)));
  EXPECT_TRUE(FingerprintMatches(other.public_key, Fingerprint(other.public_key)));
}

TEST(IdentityTest, Base64Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> kVectors[] = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, b64] : kVectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), b64);
    auto back = Base64Decode(b64, plain.size());
    ASSERT_TRUE(back.ok()) << b64 << ": " << back.status().message();
    EXPECT_EQ(std::string(back->begin(), back->end()), plain);
  }
  std::vector<uint8_t> all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i);
  auto back = Base64Decode(Base64Encode(all), all.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(IdentityTest, Base64RefusesBadText) {
  EXPECT_FALSE(Base64Decode("Zm9v", 2).ok());      // longer than allowed
  EXPECT_FALSE(Base64Decode("Zg", 4).ok());        // padding missing
  EXPECT_FALSE(Base64Decode("Zh==", 4).ok());      // non-zero padding bits
  EXPECT_FALSE(Base64Decode("Zm9v\n", 8).ok());    // white space
  EXPECT_FALSE(Base64Decode("Zm-v", 8).ok());      // URL-safe alphabet
  EXPECT_FALSE(Base64Decode("Zm9v====", 8).ok());  // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zg==", 8).ok());  // data after padding
  auto e = Base64Decode("Zm9v", 2);
  EXPECT_EQ(e.status().code(), Code::kInvalidInput);
}

TEST(IdentityTest, Sha256KnownAnswer) {
  // FIPS 180-2, appendix B.1.
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // FIPS 180-2, appendix B.3: a million 'a'.
  std::string million(1000000, 'a');
  EXPECT_EQ(ToHex(Sha256(AsBytes(million))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // The same digest as libsodium's (the receipts of partners one release
  // behind were made with it), over lengths around the block size.
  for (size_t n : {size_t{55}, size_t{56}, size_t{64}, size_t{65}, size_t{4097}, size_t{65536}}) {
    std::vector<uint8_t> bytes(n);
    randombytes_buf(bytes.data(), bytes.size());
    std::array<uint8_t, 32> theirs{};
    crypto_hash_sha256(theirs.data(), bytes.data(), bytes.size());
    EXPECT_EQ(Sha256(bytes), theirs) << n;
  }
}

}  // namespace
}  // namespace schakel::crypto
