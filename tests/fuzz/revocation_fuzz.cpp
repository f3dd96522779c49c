// crypto::DecodeRevocation (the "SCHV" wire form) on arbitrary bytes. Round
// trip: a revocation that decodes encodes back to the same bytes, and the
// re-encoding decodes again. The answer to a revocation, the purge
// confirmation (JSON, versions 1 and 2) or the adoption notice, is read from
// the same bytes: neither may ever be accepted without a signature by the
// key it is checked with.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  // An all-zero key signs nothing: no input may pass as confirmed.
  const schakel::crypto::PublicKey no_key{};
  auto confirmation = schakel::crypto::VerifyPurgeConfirmation(bytes, "msg-2026-0001", "school-trajectum",
                                                               "wijkteam-overvecht", no_key);
  FUZZ_CHECK(!confirmation.ok());
  (void)schakel::crypto::IsAdoptionNotice(bytes);
  auto adoption =
      schakel::crypto::VerifyAdoptionNotice(bytes, "msg-2026-0001", "school-trajectum", "wijkteam-overvecht", no_key);
  FUZZ_CHECK(!adoption.ok());
  auto revocation = schakel::crypto::DecodeRevocation(bytes);
  if (!revocation.ok()) return 0;
  const std::string encoded = schakel::crypto::EncodeRevocation(*revocation);
  FUZZ_CHECK(encoded == bytes);
  auto again = schakel::crypto::DecodeRevocation(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(schakel::crypto::EncodeRevocation(*again) == encoded);
  return 0;
}
