// formats::ParseJsonLimited on arbitrary bytes. Round trip: whatever parses,
// dumped compactly, parses again to an equal value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/formats/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::formats::Json;
  using schakel::formats::JsonLimits;
  using schakel::formats::ParseJsonLimited;
  const std::string_view text = schakel::fuzz::AsText(data, size);
  // Small limits so that the depth and size checks are reached too.
  auto small = ParseJsonLimited(text, JsonLimits{.max_bytes = 4096, .max_depth = 8});
  auto parsed = ParseJsonLimited(text);
  if (small.ok()) FUZZ_CHECK(parsed.ok() && *small == *parsed);
  if (!parsed.ok()) return 0;
  const std::string dumped = parsed->dump();
  auto again = ParseJsonLimited(dumped, JsonLimits{.max_bytes = dumped.size() + 1, .max_depth = 32});
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(again->dump() == dumped);
  return 0;
}
