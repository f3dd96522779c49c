// Test-only seam for envelopes: Seal with a given ephemeral key and nonce, so
// known-answer vectors (tests/crypto/data/) can pin the byte format. Reusing
// an ephemeral key or nonce in production would be a serious mistake, so
// this lives in the test tree only (built into crypto_tests), over
// crypto's private crypto/src/envelope_internal.h.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "envelope_internal.h"
#include "schakel/crypto/envelope.h"

namespace schakel::crypto::envelope_testing {

// Seal, with ephemeral_secret (32 bytes, X25519) and nonce (24 bytes) given
// instead of drawn from the system's randomness.
inline Result<std::string> SealDeterministic(const EnvelopeHeader& header, std::string_view body,
                                             const SigningKeyPair& sender, const PublicKey& recipient_enc_pk,
                                             std::span<const uint8_t> ephemeral_secret,
                                             const std::array<uint8_t, 24>& nonce) {
  return internal::SealWithFixedRandomness(header, body, sender, recipient_enc_pk, ephemeral_secret, nonce);
}

}  // namespace schakel::crypto::envelope_testing
