// formats::ParseJsonLimited on arbitrary bytes.
//  - Against nlohmann::json's own parser with a callback that refuses
//    duplicate keys (what ParseJsonLimited was until it got a parser of its
//    own): both accept the same inputs, give the same value (compared as
//    compact text, so 1 and 1.0 differ), and refuse the others for the same
//    kind of reason (malformed, duplicate key, too deep, too large). One
//    difference on purpose: nlohmann stops at a NUL byte and ignores the
//    rest; ParseJsonLimited refuses it.
//  - Round trip: whatever parses, dumped compactly, parses again to an equal
//    value.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "schakel/formats/json.h"

namespace {

using schakel::formats::Json;
using schakel::formats::JsonLimits;
using schakel::formats::ParseJsonLimited;

// The reference: nlohmann's parser, duplicates refused through its
// callback. Returns the value, or the kind of refusal.
struct Reference {
  bool ok = false;
  Json value;
  std::string refusal;  // "malformed" or "duplicate"
};

Reference ParseWithNlohmann(std::string_view text) {
  std::vector<std::set<std::string>> keys_stack;
  bool duplicate = false;
  auto callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) -> bool {
    if (event == Json::parse_event_t::object_start) keys_stack.emplace_back();
    if (event == Json::parse_event_t::object_end && !keys_stack.empty()) keys_stack.pop_back();
    if (event == Json::parse_event_t::key && !keys_stack.empty()) {
      if (!keys_stack.back().insert(parsed.get_ref<const std::string&>()).second) duplicate = true;
    }
    return true;
  };
  Reference r;
  try {
    r.value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const std::exception&) {
    r.refusal = "malformed";
    return r;
  }
  if (duplicate) {
    r.refusal = "duplicate";
    return r;
  }
  r.ok = true;
  return r;
}

// The nesting bound as ParseJsonLimited first had it: one byte at a time,
// brackets inside strings not counted.
bool DeeperThan(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string KindOf(const std::string& message) {
  if (message.rfind("malformed JSON", 0) == 0) return "malformed";
  if (message.rfind("duplicate key", 0) == 0) return "duplicate";
  if (message.rfind("JSON nested deeper", 0) == 0) return "deep";
  if (message.rfind("JSON input is larger", 0) == 0) return "large";
  return "other: " + message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = schakel::fuzz::AsText(data, size);
  // Small limits so that the depth and size checks are reached too.
  auto small = ParseJsonLimited(text, JsonLimits{.max_bytes = 4096, .max_depth = 8});
  auto parsed = ParseJsonLimited(text);
  if (small.ok()) FUZZ_CHECK(parsed.ok() && *small == *parsed);

  // Depth is checked before either parser runs, as it always was; below
  // it, the two parsers agree.
  const bool deep = DeeperThan(text, JsonLimits{}.max_depth);
  FUZZ_CHECK(deep == (!parsed.ok() && KindOf(parsed.status().message()) == "deep"));
  if (text.size() <= 4096) {
    FUZZ_CHECK(DeeperThan(text, 8) == (!small.ok() && KindOf(small.status().message()) == "deep"));
  }
  if (!deep) {
    Reference want = ParseWithNlohmann(text);
    // nlohmann takes a NUL byte for the end of the input and ignores what
    // follows it; ParseJsonLimited refuses a NUL outside a string like any
    // other stray byte (inside one it is a control character for both).
    if (text.find('\0') != std::string_view::npos) {
      want.ok = false;
      want.refusal = "malformed";
    }
    FUZZ_CHECK(want.ok == parsed.ok());
    if (want.ok) {
      FUZZ_CHECK(want.value.dump() == parsed->dump());
    } else {
      FUZZ_CHECK(KindOf(parsed.status().message()) == want.refusal);
    }
  }

  if (!parsed.ok()) return 0;
  const std::string dumped = parsed->dump();
  auto again = ParseJsonLimited(dumped, JsonLimits{.max_bytes = dumped.size() + 1, .max_depth = 32});
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(again->dump() == dumped);
  return 0;
}
