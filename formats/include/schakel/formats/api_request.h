// The local API's request parsing (docs/api.md), apart from the HTTP server so
// that it can be unit-tested and fuzzed: the request target (path segments and
// query string) and the small JSON bodies that are not a case or a consent
// (those have their own parsers in case_summary.h and consent_json.h).
//
// Everything here is outside input from a caller holding a token: lengths,
// segment counts and JSON size and depth are bounded; unknown JSON keys are
// refused; errors are kInvalidInput naming the field. Pure functions,
// thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"

namespace schakel::formats {

// "/v1/cases/abc?x=1" -> segments {"v1", "cases", "abc"} and query {x: 1}.
// Empty segments ("//") are skipped; a segment may not hold '%' (ids never
// need escaping); the query is an urlencoded form (duplicate names refused).
struct RequestTarget {
  std::vector<std::string> parts;
  std::map<std::string, std::string> query;
};

inline constexpr size_t kMaxRequestTarget = 2048;
inline constexpr size_t kMaxTargetSegments = 16;

Result<RequestTarget> ParseRequestTarget(std::string_view target);

// POST /v1/shares: {"case_id", "to", "purpose", "categories"?, "allow_partial"?,
// "dry_run"?, "justification"?}.
struct ShareRequest {
  std::string case_id;
  std::string to;  // partner node id
  std::string purpose;
  std::vector<std::string> categories;  // empty: every category the case holds
  bool allow_partial = false;
  bool dry_run = false;
  std::string justification;  // meldcode only
  // Meldcode only, and then required: why each requested category is
  // necessary for the report (Wmo 2015 art. 5.2.6), by category wire name;
  // each 1..kMaxCategoryReasonBytes printable bytes on one line.
  std::map<std::string, std::string> category_reasons;
};
inline constexpr size_t kMaxCategoryReasonBytes = 300;
// A reason of category_reasons: 1..kMaxCategoryReasonBytes printable bytes
// on one line. Checked by the parser and again by the service, which also
// takes reasons from the console's form.
Status CheckCategoryReason(std::string_view category, std::string_view reason);

Result<ShareRequest> ParseShareRequest(std::string_view body);

// POST /v1/links: {"case_id", "for", "type", "purpose", "categories"?,
// "expires_days"? (1..kMaxLinkDays, default kDefaultLinkDays),
// "allow_partial"?}.
inline constexpr int kDefaultLinkDays = 7;
inline constexpr int kMaxLinkDays = 30;

struct LinkRequest {
  std::string case_id;
  std::string for_name;  // the person, e.g. "dr. A. Jansen (jeugdarts)"
  std::string org_type;  // the recipient's org type
  std::string purpose;
  std::vector<std::string> categories;  // empty: every category the case holds
  int expires_days = kDefaultLinkDays;
  bool allow_partial = false;
};

Result<LinkRequest> ParseLinkRequest(std::string_view body);

// A body holding one string field and nothing else, e.g. {"user": "jan"} for
// POST /v1/cases/{id}/assign. The value: 1..max_bytes bytes of printable
// text.
// PUT /v1/students/{id}: {"name"?, "birth_date"?, "guardians"?: [{"name",
// "authority"?}]} with at least one field; a coordinator's change.
struct GuardianField {
  std::string name;
  bool authority = false;
};
struct StudentChangeRequest {
  std::optional<std::string> name;
  std::optional<Date> birth_date;
  std::optional<std::vector<GuardianField>> guardians;
};
Result<StudentChangeRequest> ParseStudentChange(std::string_view body);

// POST /v1/students/import: {"csv": "<the roster file>"} (roster.h), at most
// kMaxRosterBody bytes of JSON.
inline constexpr size_t kMaxRosterBody = 1000 * 1000;
Result<std::string> ParseRosterUpload(std::string_view body);

// POST /v1/inbox-routes: {"sender", "student", "user"}.
struct InboxRouteRequest {
  std::string sender;
  std::string student;
  std::string user;
};
Result<InboxRouteRequest> ParseInboxRoute(std::string_view body);

Result<std::string> ParseSingleStringField(std::string_view body, const std::string& key, size_t max_bytes = 200);

// POST /v1/consent-requests (docs/consent-requests.md): {"student",
// "recipients": [partner ids or org types], "purposes": [...],
// "categories": [...], "valid_until": "YYYY-MM-DD", "answer_days"?
// (1..kMaxAnswerDays, default kDefaultAnswerDays)}. Shapes only; the
// service checks the names.
inline constexpr int kDefaultAnswerDays = 14;
inline constexpr int kMaxAnswerDays = 60;
struct ConsentRequestBody {
  std::string student;
  std::vector<std::string> recipients;
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::string valid_until;
  int answer_days = kDefaultAnswerDays;
};
Result<ConsentRequestBody> ParseConsentRequestBody(std::string_view body);

// POST /v1/inzage-links: {"student", "for": "ouder" | "jongere", "days"?
// (1..kMaxInzageDays, default kDefaultInzageDays)}.
inline constexpr int kDefaultInzageDays = 14;
inline constexpr int kMaxInzageDays = 30;
struct InzageLinkBody {
  std::string student;
  std::string for_role;
  int days = kDefaultInzageDays;
};
Result<InzageLinkBody> ParseInzageLinkBody(std::string_view body);

}  // namespace schakel::formats
