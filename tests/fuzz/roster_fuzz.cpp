// formats::ParseRoster on arbitrary bytes. Round trip: an accepted file,
// written again with WriteRosterRow, parses to the same students.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/formats/roster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schakel::formats;
  const std::string_view text = schakel::fuzz::AsText(data, size);
  RosterLimits small;
  small.max_rows = 8;
  small.max_field = 32;
  auto rows = ParseRoster(text, small);
  if (!rows.ok()) return 0;
  FUZZ_CHECK(rows->size() <= small.max_rows);
  size_t guardians = 0;
  for (const auto& r : *rows) guardians = std::max(guardians, r.guardians.size());
  std::string again = WriteRosterHeader(guardians);
  for (const auto& r : *rows) again += WriteRosterRow(r, guardians);
  auto reparsed = ParseRoster(again);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->size() == rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    RosterRow a = (*rows)[i];
    RosterRow b = (*reparsed)[i];
    a.line = b.line = 0;
    FUZZ_CHECK(a == b);
  }
  return 0;
}
