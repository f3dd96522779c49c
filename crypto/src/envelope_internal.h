// Private to crypto/ (and the test-only seam in tests/crypto): Seal with the
// ephemeral key and nonce given instead of drawn. Reusing either in
// production would be a serious mistake, so no public header declares it;
// tests/crypto/envelope_testing.h wraps it for the known-answer vectors.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "schakel/crypto/envelope.h"

namespace schakel::crypto::internal {

Result<std::string> SealWithFixedRandomness(const EnvelopeHeader& header, std::string_view body,
                                            const SigningKeyPair& sender, const PublicKey& recipient_enc_pk,
                                            std::span<const uint8_t> ephemeral_secret,
                                            const std::array<uint8_t, 24>& nonce);

}  // namespace schakel::crypto::internal
