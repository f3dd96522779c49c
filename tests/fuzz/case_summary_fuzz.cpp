// formats::ParseCaseSummary on arbitrary bytes, with and without a required
// case id. Round trip: the validated document, dumped, parses again to the
// same case id and document; its projection onto the categories present
// parses as a case summary too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/formats/case_summary.h"

namespace {

void Check(std::string_view text, bool require_case_id) {
  using schakel::formats::ParseCaseSummary;
  auto summary = ParseCaseSummary(text, require_case_id);
  if (!summary.ok()) return;
  const std::string dumped = summary->document.dump();
  auto again = ParseCaseSummary(dumped, require_case_id);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->case_id == summary->case_id);
  FUZZ_CHECK(again->document == summary->document);
  const std::string projected = schakel::formats::Project(*summary, summary->Present());
  FUZZ_CHECK(ParseCaseSummary(projected, require_case_id).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = schakel::fuzz::AsText(data, size);
  Check(text, /*require_case_id=*/true);
  Check(text, /*require_case_id=*/false);
  return 0;
}
