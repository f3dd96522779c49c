// crypto::DecodeReceipt (the "SCHR" wire form) on arbitrary bytes. Round
// trip: a receipt that decodes encodes back to the same bytes (the format has
// one encoding per receipt), and the re-encoding decodes again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  auto receipt = schakel::crypto::DecodeReceipt(bytes);
  if (!receipt.ok()) return 0;
  const std::string encoded = schakel::crypto::EncodeReceipt(*receipt);
  FUZZ_CHECK(encoded == bytes);
  auto again = schakel::crypto::DecodeReceipt(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(schakel::crypto::EncodeReceipt(*again) == encoded);
  return 0;
}
