// crypto::PeekHeader and crypto::Open on arbitrary bytes, with the fixed keys
// of the first known-answer vector (tests/crypto/data/envelope_v1.kat,
// "small-json"), so that its envelope in the corpus opens and mutations of it
// reach every check up to the AEAD and the signature.
//
// Properties: Open never succeeds where PeekHeader fails; when both succeed
// they report the same header; the error code is set exactly when the call
// fails.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sodium.h>

#include "fuzz_support.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"

namespace {

namespace crypto = schakel::crypto;

std::vector<uint8_t> Hex(std::string_view hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  size_t n = 0;
  FUZZ_CHECK(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &n, nullptr) == 0);
  out.resize(n);
  return out;
}

crypto::SigningKeyPair FromSeed(std::string_view seed_hex) {
  const std::vector<uint8_t> seed = Hex(seed_hex);
  FUZZ_CHECK(seed.size() == crypto_sign_SEEDBYTES);
  crypto::PublicKey pk{};
  crypto::SecureBuffer sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  auto pair = crypto::SigningKeyPairFromSecret(sk.span());
  FUZZ_CHECK(pair.ok());
  return std::move(pair).value();
}

struct Keys {
  crypto::PublicKey sender_sign_pk{};
  crypto::SigningKeyPair recipient;
  crypto::EncryptionKeyPair recipient_enc;
};

// The keys of the "small-json" vector.
const Keys& TestKeys() {
  static const Keys* keys = [] {
    FUZZ_CHECK(sodium_init() >= 0);
    auto* k = new Keys;
    k->sender_sign_pk = FromSeed("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").public_key;
    k->recipient = FromSeed("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
    auto enc = crypto::EncryptionKeyPairFromSecret(
        Hex("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"), k->recipient);
    FUZZ_CHECK(enc.ok());
    k->recipient_enc = std::move(enc).value();
    return k;
  }();
  return *keys;
}

bool SameHeader(const crypto::EnvelopeHeader& a, const crypto::EnvelopeHeader& b) {
  return a.version == b.version && a.message_id == b.message_id && a.sender_id == b.sender_id &&
         a.recipient_id == b.recipient_id && a.created == b.created && a.retain_until == b.retain_until &&
         a.purpose == b.purpose && a.consent_ids == b.consent_ids && a.content_type == b.content_type &&
         a.recipient_key_id == b.recipient_key_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Keys& keys = TestKeys();
  const std::string_view envelope = schakel::fuzz::AsText(data, size);

  crypto::EnvelopeError peek_error = crypto::EnvelopeError::kNone;
  auto header = crypto::PeekHeader(envelope, &peek_error);
  FUZZ_CHECK(header.ok() == (peek_error == crypto::EnvelopeError::kNone));

  crypto::EnvelopeError open_error = crypto::EnvelopeError::kNone;
  auto opened = crypto::Open(envelope, keys.recipient_enc, keys.sender_sign_pk, "wijkteam-overvecht", &open_error);
  FUZZ_CHECK(opened.ok() == (open_error == crypto::EnvelopeError::kNone));
  if (!header.ok()) {
    FUZZ_CHECK(!opened.ok());
    return 0;
  }
  if (opened.ok()) {
    FUZZ_CHECK(SameHeader(opened->header(), *header));
    FUZZ_CHECK(opened->body().size() < envelope.size());
  }
  return 0;
}
