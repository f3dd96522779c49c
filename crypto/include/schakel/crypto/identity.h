// Node identity: the long-lived Ed25519 signing key that partners pin, the
// rotatable X25519 encryption key it signs, and the human fingerprint two
// admins read to each other over the phone.
//
// Private halves live in SecureBuffer. Public halves are plain arrays.
// Thread-safety: values; functions are thread-safe.
// Errors: Status values; a signature that does not verify is kCorruption
// for stored data and kInvalidInput for data from outside (callers choose).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

using PublicKey = std::array<uint8_t, 32>;  // Ed25519 or X25519 public key
using Signature = std::array<uint8_t, 64>;  // Ed25519 signature

// Ed25519 identity key pair. secret is libsodium's 64-byte secret key (seed
// followed by the public key).
struct SigningKeyPair {
  PublicKey public_key{};
  SecureBuffer secret;  // 64 bytes
};

// X25519 encryption key pair with the identity's signature over its public
// half (see EncKeySignedMessage), so a partner that pinned the identity key
// accepts a rotated encryption key.
struct EncryptionKeyPair {
  PublicKey public_key{};
  SecureBuffer secret;    // 32 bytes
  Signature signature{};  // by the identity key over EncKeySignedMessage(public_key)
};

SigningKeyPair GenerateSigningKeyPair();
// Rebuilds a pair from a stored 64-byte secret key; checks that its public
// half matches.
Result<SigningKeyPair> SigningKeyPairFromSecret(std::span<const uint8_t> secret64);
// The pair libsodium derives from a 32-byte seed (a regional directory key is
// kept as its seed in a 0600 key file; docs/region.md).
Result<SigningKeyPair> SigningKeyPairFromSeed(std::span<const uint8_t> seed32);

EncryptionKeyPair GenerateEncryptionKeyPair(const SigningKeyPair& identity);
// Rebuilds from a stored 32-byte secret, recomputing the public key and
// re-signing it with the identity (signatures are deterministic).
Result<EncryptionKeyPair> EncryptionKeyPairFromSecret(std::span<const uint8_t> secret32,
                                                      const SigningKeyPair& identity);

// Domain-separated message signed to bless an encryption key:
// "schakel/enc-key/v1\0" || enc_pk.
std::string EncKeySignedMessage(const PublicKey& enc_pk);

Signature Sign(const SigningKeyPair& key, std::string_view message);
bool Verify(const PublicKey& public_key, std::string_view message, const Signature& sig);

// The identity's fingerprint: SHA-512 over "schakel/fingerprint/v1\0" ||
// sign_pk, read as twelve 5-byte big-endian numbers, each mod 100000, printed
// as twelve groups of five digits separated by spaces (60 digits, ~199 bits),
// like Signal's safety numbers. Example: "01234 56789 ...".
std::string Fingerprint(const PublicKey& sign_pk);
// Normalises a typed fingerprint (spaces, dashes and newlines removed) and
// compares it with the key's in constant time.
bool FingerprintMatches(const PublicKey& sign_pk, std::string_view typed);

// Base64 (standard alphabet, padded) without secrets: libsodium's codec.
std::string Base64Encode(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> Base64Decode(std::string_view text, size_t max_decoded);

std::array<uint8_t, 32> Sha256(std::span<const uint8_t> bytes);

}  // namespace schakel::crypto
