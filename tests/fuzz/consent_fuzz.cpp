// formats::ParseConsent on arbitrary bytes, with and without a required id.
// Round trip: a consent that parses, written with ConsentToJsonValue, parses
// again to a consent that writes the same JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/formats/consent_json.h"

namespace {

void Check(std::string_view text, bool require_id) {
  auto consent = schakel::formats::ParseConsent(text, require_id);
  if (!consent.ok()) return;
  const std::string written = schakel::formats::ConsentToJsonValue(*consent).dump();
  auto again = schakel::formats::ParseConsent(written, require_id);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(schakel::formats::ConsentToJsonValue(*again).dump() == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = schakel::fuzz::AsText(data, size);
  Check(text, /*require_id=*/true);
  Check(text, /*require_id=*/false);
  return 0;
}
