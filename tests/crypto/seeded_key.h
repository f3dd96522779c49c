// The identity key the crypto known-answer vectors were computed with
// (tests/crypto/data, refusal_test, purge_confirmation_test, identity_test,
// node_card_test): Ed25519 from the seed 00 01 .. 1f; and the message and
// parties the refusal and purge confirmation vectors name.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <utility>

#include "schakel/crypto/envelope.h"

namespace schakel::crypto::kat {

inline constexpr char kMessageId[] = "msg-2026-0001";
inline constexpr char kSender[] = "school-trajectum";
inline constexpr char kRecipient[] = "wijkteam-overvecht";

inline SigningKeyPair SeededKey() {
  EnsureInitialised();
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i);
  PublicKey pk{};
  SecureBuffer sk(64);
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  return std::move(SigningKeyPairFromSecret(sk.span())).value();
}

}  // namespace schakel::crypto::kat
