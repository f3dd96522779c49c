// Consents as JSON: the object of a scenario's "consents" list (CONTRACT.md
// "Offline policy evaluation"), which is also what `schakel consent add
// --file F` takes (without "id": the node assigns it).
//
//   {"id": "c1", "subject_id": "stu-1", "grantor_role": "ouder",
//    "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
//    "categories": ["identificatie", "hulpvraag"],
//    "valid_from": "2026-09-01", "valid_until": "2027-07-31",
//    "withdrawn_at": null}
//
// Strict: unknown keys are errors (a misspelt "valid_untill" must not
// silently mean "no end date"). "valid_until" and "withdrawn_at" may be null
// or absent. Every error is kInvalidInput and names the field with its path,
// e.g. "consents[1].valid_from: expected a date YYYY-MM-DD". Values that are
// echoed in messages are echoed only when they look like names.
//
// Pure and thread-safe; no exception leaves these functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/consent/engine.h"
#include "schakel/formats/json.h"

namespace schakel::formats {

// Limits on one consent. Default values suit hand-written and stored consents.
inline constexpr size_t kMaxConsentPurposes = 32;
inline constexpr size_t kMaxConsentRecipients = 64;
inline constexpr size_t kMaxPurposeLength = 64;

// Reads a consent object found at `path` ("consents[1]", or "" for a
// document of its own). With require_id the "id" is required; without it an
// "id" is optional (left empty when absent or null) for the node to assign.
Result<consent::Consent> ParseConsentJson(const Json& obj, std::string path, bool require_id);

// A whole consent document (e.g. the file of `consent add`), at most 64 KiB.
Result<consent::Consent> ParseConsent(std::string_view json, bool require_id);

// The consent in the same shape (lists of categories sorted by name; null
// valid_until / withdrawn_at when absent; "id" omitted when empty).
Json ConsentToJsonValue(const consent::Consent& c);

// A list of category names at fields.key: each must be a known category
// ("categories[2]: unknown category ..."); duplicates are allowed here and
// count once wherever the list is used as a set. REQUIRES: max_items > 0.
Result<std::vector<consent::Category>> CategoryListField(const Fields& fields, std::string_view key, size_t max_items);

// An org type at fields.key ("recipient.org_type: unknown org type ...").
Result<consent::OrgType> OrgTypeField(const Fields& fields, std::string_view key);

}  // namespace schakel::formats
