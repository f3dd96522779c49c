// crypto::ParseNodeCard on arbitrary bytes. Round trip: a card that parses
// (its signatures verify), written with NodeCardToJson, parses again to a card
// with the same canonical text and signature.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/node_card.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::crypto::CanonicalCardText;
  auto card = schakel::crypto::ParseNodeCard(schakel::fuzz::AsText(data, size));
  if (!card.ok()) return 0;
  auto again = schakel::crypto::ParseNodeCard(schakel::crypto::NodeCardToJson(*card));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(CanonicalCardText(*again) == CanonicalCardText(*card));
  FUZZ_CHECK(again->sig == card->sig);
  return 0;
}
