// Case summaries (the groeidocument) as JSON, CONTRACT.md "Case summary".
//
// A summary is one object whose top-level keys are the ten data categories
// plus the metadata every share carries (case_id, student_id, birth_date,
// created, updated). Data minimisation is a projection onto allowed keys:
// Project() keeps the metadata and only the permitted categories.
//
// ParseCaseSummary is strict: unknown top-level keys are errors (a misspelt
// category must not slip past the gate as metadata), a bsn must pass the
// elfproef, dates must be dates, the whole document is at most
// kMaxCaseSummaryBytes and nested at most 16 deep. Category values are free
// JSON (objects, lists, strings, null) because schools write them in their
// own words; their size is bounded by the document limit. Errors are
// kInvalidInput naming the field; they never echo case contents.
//
// Pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/json.h"

namespace schakel::formats {

inline constexpr size_t kMaxCaseSummaryBytes = size_t{256} * 1024;

struct CaseSummary {
  std::string case_id;     // [A-Za-z0-9._-]{1,128}; may be empty on create (the node assigns)
  std::string student_id;  // [A-Za-z0-9._-]{1,128}
  Date birth_date;
  Json document;  // the whole object as given (validated)

  // Categories present with a non-null value.
  consent::CategorySet Present() const;
};

// With require_case_id=false an absent case_id is allowed.
Result<CaseSummary> ParseCaseSummary(std::string_view json, bool require_case_id);

// The summary restricted to `allowed` categories plus metadata, as compact
// JSON text; it parses as a case summary again (without a case_id when the
// summary had none).
std::string Project(const CaseSummary& summary, consent::CategorySet allowed);

// The elfproef for a BSN: nine digits, sum of digit * (9..2) minus the last
// digit divisible by 11, not all zeros.
bool IsValidBsn(std::string_view bsn);

}  // namespace schakel::formats
