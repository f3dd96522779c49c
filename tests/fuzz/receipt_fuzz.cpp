// crypto::DecodeReceipt (the "SCHR" wire form) and crypto::DecodeRefusal
// (the "SCHN" wire form) on arbitrary bytes. Round trip: a receipt or refusal
// that decodes encodes back to the same bytes (each format has one encoding
// per value), and the re-encoding decodes again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  auto refusal = schakel::crypto::DecodeRefusal(bytes);
  if (refusal.ok()) {
    const std::string encoded = schakel::crypto::EncodeRefusal(*refusal);
    FUZZ_CHECK(encoded == bytes);
    FUZZ_CHECK(schakel::crypto::IsRefusal(encoded));
    auto again = schakel::crypto::DecodeRefusal(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(schakel::crypto::EncodeRefusal(*again) == encoded);
  }
  auto receipt = schakel::crypto::DecodeReceipt(bytes);
  if (!receipt.ok()) return 0;
  const std::string encoded = schakel::crypto::EncodeReceipt(*receipt);
  FUZZ_CHECK(encoded == bytes);
  auto again = schakel::crypto::DecodeReceipt(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(schakel::crypto::EncodeReceipt(*again) == encoded);
  return 0;
}
