// The student register's CSV import (roster.h).
#include "schakel/formats/roster.h"

#include <array>
#include <optional>
#include <set>

#include "schakel/base/strings.h"

namespace schakel::formats {
namespace {

Status LineError(size_t line, const std::string& what) {
  return Status::InvalidInput("line " + std::to_string(line) + ": " + what);
}

// One line split into fields. Quotes as RFC 4180, within the line.
Result<std::vector<std::string>> SplitLine(std::string_view line, size_t line_no, const RosterLimits& limits) {
  std::vector<std::string> fields;
  std::string field;
  size_t i = 0;
  bool done = false;
  while (!done) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.push_back(line[i++]);
        if (field.size() > limits.max_field) break;
      }
      if (field.size() > limits.max_field) {
        return LineError(line_no, "a field is longer than " + std::to_string(limits.max_field) + " bytes");
      }
      if (!closed) return LineError(line_no, "a quoted field is not closed on its line");
      if (i < line.size() && line[i] != ',') return LineError(line_no, "text after a closing quote");
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return LineError(line_no, "a quote inside an unquoted field");
        field.push_back(line[i++]);
        if (field.size() > limits.max_field) {
          return LineError(line_no, "a field is longer than " + std::to_string(limits.max_field) + " bytes");
        }
      }
    }
    fields.push_back(field);
    if (fields.size() > 3 + 2 * kMaxGuardians) return LineError(line_no, "more fields than columns");
    if (i < line.size() && line[i] == ',') {
      ++i;
    } else {
      done = true;
    }
  }
  return fields;
}

std::optional<bool> ParseAuthority(std::string_view v) {
  if (v.empty() || v == "nee" || v == "no" || v == "false" || v == "0") return false;
  if (v == "ja" || v == "yes" || v == "true" || v == "1") return true;
  return std::nullopt;
}

enum class Column { kStudentId, kName, kBirthDate, kGuardianName, kGuardianAuthority };
struct ColumnRef {
  Column column;
  size_t guardian = 0;  // 0-based, for the guardian columns
};

std::optional<ColumnRef> ParseColumn(std::string_view h) {
  if (h == "student_id") return ColumnRef{Column::kStudentId};
  if (h == "name") return ColumnRef{Column::kName};
  if (h == "birth_date") return ColumnRef{Column::kBirthDate};
  for (size_t n = 1; n <= kMaxGuardians; ++n) {
    const std::string prefix = "guardian" + std::to_string(n) + "_";
    if (h == prefix + "name") return ColumnRef{Column::kGuardianName, n - 1};
    if (h == prefix + "authority") return ColumnRef{Column::kGuardianAuthority, n - 1};
  }
  return std::nullopt;
}

bool NeedsQuotes(std::string_view s) { return s.find_first_of(",\"") != std::string_view::npos || s.empty(); }

std::string Field(std::string_view s) {
  if (!NeedsQuotes(s) || s.empty()) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

namespace {

// The header row: which column each field is; every required one present.
Result<std::vector<ColumnRef>> ParseHeader(const std::vector<std::string>& fields, size_t line_no) {
  std::vector<ColumnRef> columns;
  std::array<bool, 3> have{};
  std::array<std::array<bool, 2>, kMaxGuardians> guardian_cols{};
  for (const auto& h : fields) {
    auto col = ParseColumn(h);
    if (!col) {
      return LineError(line_no, "unknown column \"" + (IsPrintableUtf8(h) ? h : std::string("?")) +
                                    "\" (student_id, name, birth_date, guardianN_name, guardianN_authority)");
    }
    bool* slot = col->column == Column::kGuardianName        ? &guardian_cols[col->guardian][0]
                 : col->column == Column::kGuardianAuthority ? &guardian_cols[col->guardian][1]
                                                             : &have[static_cast<size_t>(col->column)];
    if (*slot) return LineError(line_no, "column \"" + h + "\" appears twice");
    *slot = true;
    columns.push_back(*col);
  }
  for (size_t k = 0; k < have.size(); ++k) {
    static constexpr std::array<const char*, 3> kNames = {"student_id", "name", "birth_date"};
    if (!have[k]) return LineError(line_no, std::string("the header has no column ") + kNames[k]);
  }
  return columns;
}

// One student's row, its fields in the header's columns.
Result<RosterRow> ParseRow(std::vector<std::string>& fields, const std::vector<ColumnRef>& columns, size_t line_no) {
  RosterRow row;
  row.line = line_no;
  std::array<RosterGuardian, kMaxGuardians> guardians{};
  std::array<bool, kMaxGuardians> authority_given{};
  std::string birth;
  for (size_t k = 0; k < fields.size(); ++k) {
    std::string& v = fields[k];
    if (!IsPrintableUtf8(v) || v.find('\t') != std::string::npos) {
      return LineError(line_no, "a field holds control characters or is not UTF-8");
    }
    switch (columns[k].column) {
      case Column::kStudentId:
        row.student_id = std::move(v);
        break;
      case Column::kName:
        row.name = std::move(v);
        break;
      case Column::kBirthDate:
        birth = std::move(v);
        break;
      case Column::kGuardianName:
        guardians[columns[k].guardian].name = std::move(v);
        break;
      case Column::kGuardianAuthority: {
        auto a = ParseAuthority(v);
        if (!a) return LineError(line_no, "guardian authority must be ja or nee (or yes/no, true/false, 1/0)");
        guardians[columns[k].guardian].authority = *a;
        authority_given[columns[k].guardian] = !v.empty();
        break;
      }
    }
  }
  if (!IsValidObjectId(row.student_id)) return LineError(line_no, "student_id: not a student id ([A-Za-z0-9._-])");
  if (row.name.empty()) return LineError(line_no, "name: empty");
  auto date = ParseDate(birth);
  if (!date.ok()) return LineError(line_no, "birth_date: not a date YYYY-MM-DD");
  row.birth_date = *date;
  for (size_t g = 0; g < kMaxGuardians; ++g) {
    if (guardians[g].name.empty()) {
      if (authority_given[g]) {
        return LineError(line_no, "guardian" + std::to_string(g + 1) + "_authority without a guardian name");
      }
      continue;
    }
    row.guardians.push_back(std::move(guardians[g]));
  }
  return row;
}

}  // namespace

Result<std::vector<RosterRow>> ParseRoster(std::string_view csv, const RosterLimits& limits) {
  if (csv.size() > limits.max_bytes) {
    return Status::InvalidInput("the file is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  std::vector<ColumnRef> columns;
  std::vector<RosterRow> rows;
  std::set<std::string> seen_ids;
  size_t line_no = 0;
  while (!csv.empty()) {
    size_t end = csv.find('\n');
    std::string_view line = csv.substr(0, end);
    csv.remove_prefix(end == std::string_view::npos ? csv.size() : end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.find('\r') != std::string_view::npos) return LineError(line_no, "a carriage return inside the line");
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<std::string> fields, SplitLine(line, line_no, limits));
    if (columns.empty()) {
      SCHAKEL_ASSIGN_OR_RETURN(columns, ParseHeader(fields, line_no));
      continue;
    }
    if (fields.size() != columns.size()) {
      return LineError(
          line_no, std::to_string(fields.size()) + " fields where the header has " + std::to_string(columns.size()));
    }
    if (rows.size() == limits.max_rows) {
      return LineError(line_no, "more than " + std::to_string(limits.max_rows) + " students in one file");
    }
    SCHAKEL_ASSIGN_OR_RETURN(RosterRow row, ParseRow(fields, columns, line_no));
    if (!seen_ids.insert(row.student_id).second) {
      return LineError(line_no, "student " + row.student_id + " appears twice");
    }
    rows.push_back(std::move(row));
  }
  if (columns.empty()) return Status::InvalidInput("line 1: the file has no header row");
  return rows;
}

std::string WriteRosterHeader(size_t guardians) {
  std::string out = "student_id,name,birth_date";
  for (size_t g = 1; g <= guardians; ++g) {
    out += ",guardian" + std::to_string(g) + "_name,guardian" + std::to_string(g) + "_authority";
  }
  return out + "\n";
}

std::string WriteRosterRow(const RosterRow& row, size_t guardians) {
  std::string out = Field(row.student_id) + "," + Field(row.name) + "," + FormatDate(row.birth_date);
  for (size_t g = 0; g < guardians; ++g) {
    if (g < row.guardians.size()) {
      out += "," + Field(row.guardians[g].name) + "," + (row.guardians[g].authority ? "ja" : "nee");
    } else {
      out += ",,";
    }
  }
  return out + "\n";
}

}  // namespace schakel::formats
