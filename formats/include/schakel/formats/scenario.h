// Policy-evaluation scenarios and decisions as JSON (CONTRACT.md "Offline
// policy evaluation"): the input of `schakel policy eval` and its output.
//
// Input shape:
//   {"now": "2026-11-23T10:00:00Z",
//    "subject": {"id": "stu-1", "birth_date": "2010-05-01"},
//    "sender": {"org_id": "school-trajectum", "org_type": "school"},
//    "recipient": {"org_id": "wijkteam-overvecht", "org_type": "wijkteam"},
//    "purpose": "doorverwijzing",
//    "categories": ["identificatie", "hulpvraag"],
//    "consents": [ <consent, see consent_json.h, "id" required> ],
//    "override": null | {"requested_by": "u1", "approved_by": "u2",
//                        "justification": "..."}}
//
// Parsing is strict about names: unknown keys, an unknown category, org type
// or grantor role, a bad date or an instant without a zone are errors
// (kInvalidInput) naming the field, e.g.
// "consents[1].valid_from: expected a date YYYY-MM-DD". An unknown purpose
// is not an error: the engine denies it (`unknown_purpose`), since a
// protocol file may add purposes. "consents" and "override" may be absent
// (no consents, no override). Limits: input at most 1 MiB, nesting 32, at
// most 1000 consents, 32 requested categories, and strings bounded per
// field (ids 128 bytes, purposes 64, justification 4 KiB).
//
// Pure and thread-safe; no exception leaves these functions.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/consent/engine.h"
#include "schakel/formats/json.h"

namespace schakel::formats {

inline constexpr size_t kMaxScenarioBytes = 1 << 20;
inline constexpr size_t kMaxScenarioConsents = 1000;
inline constexpr size_t kMaxRequestCategories = 32;
inline constexpr size_t kMaxJustificationLength = 4096;

Result<consent::Request> ParseScenario(std::string_view json);
// The same from an already parsed document (e.g. a fixture's "input").
Result<consent::Request> ParseScenarioJson(const Json& root);

// The decision document: {"decision", "legal_basis", "legal_source",
// "categories", "withheld", "consents_used", "reasons": [{"code",
// "message"[, "category"]}]}. Category lists are sorted by name,
// consents_used by id; on deny legal_basis and legal_source are null.
Json DecisionToJsonValue(const consent::Decision& d);
// The same, indented by two spaces, without a trailing newline.
std::string DecisionToJson(const consent::Decision& d);

}  // namespace schakel::formats
