// audit::ParseWitnessRequest ("SCHW") and audit::ParseCountersignature
// ("SCHC"), the witnessing payloads of peer protocol 5, on arbitrary bytes.
// Round trip: what parses encodes back to the same bytes (one encoding per
// value), and the re-encoding parses again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/audit/witness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  auto request = schakel::audit::ParseWitnessRequest(bytes);
  if (request.ok()) {
    const std::string encoded = schakel::audit::EncodeWitnessRequest(*request);
    FUZZ_CHECK(encoded == bytes);
    FUZZ_CHECK(schakel::audit::IsWitnessRequest(encoded));
    FUZZ_CHECK(schakel::audit::ParseWitnessRequest(encoded).ok());
  }
  auto cs = schakel::audit::ParseCountersignature(bytes);
  if (!cs.ok()) return 0;
  const std::string encoded = schakel::audit::EncodeCountersignature(*cs);
  FUZZ_CHECK(encoded == bytes);
  auto again = schakel::audit::ParseCountersignature(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(schakel::audit::EncodeCountersignature(*again) == encoded);
  return 0;
}
