// The student register's import file (docs/students.md): CSV, one header row,
// then one student per row.
//
//   student_id,name,birth_date[,guardian1_name,guardian1_authority,...]
//
// Required columns: student_id ([A-Za-z0-9._-]{1,128}), name (printable,
// 1..200 bytes), birth_date (YYYY-MM-DD). Optional: guardianN_name and
// guardianN_authority for N = 1..kMaxGuardians; authority is one of
// ja/nee/yes/no/true/false/1/0 (empty: no authority). Columns may come in any
// order; an unknown or repeated column is refused. Fields may be quoted
// ("..." with "" for a quote, as RFC 4180); a UTF-8 byte-order mark and CRLF
// line ends are accepted; empty lines are skipped.
//
// The whole file is checked before anything is used: the first bad row is
// refused with its line number, and the caller imports nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"

namespace schakel::formats {

inline constexpr size_t kMaxGuardians = 4;

struct RosterLimits {
  size_t max_bytes = 900 * 1000;  // fits the API's request body as JSON
  size_t max_rows = 10000;
  size_t max_field = 200;
};

struct RosterGuardian {
  std::string name;
  bool authority = false;  // holds parental authority (gezag)
  bool operator==(const RosterGuardian&) const = default;
};

struct RosterRow {
  size_t line = 0;  // 1-based line of the file the row started on
  std::string student_id;
  std::string name;
  Date birth_date;
  std::vector<RosterGuardian> guardians;
  bool operator==(const RosterRow&) const = default;
};

// kInvalidInput "line N: ..." for the first bad row or header.
Result<std::vector<RosterRow>> ParseRoster(std::string_view csv, const RosterLimits& limits = {});

// The row again as one CSV line (fields quoted where needed), with the
// header WriteRosterHeader(n) for n guardians; for round trips and exports.
std::string WriteRosterHeader(size_t guardians);
std::string WriteRosterRow(const RosterRow& row, size_t guardians);

}  // namespace schakel::formats
