// The consent engine: given the privacy protocol, a request to share data
// about one student, and the consents on record, decides what may be shared.
//
// Decide() follows CONTRACT.md ("Default privacy protocol", "Consent rules",
// "Offline policy evaluation") and docs/consent.md, which explains each rule
// and reason code for privacy officers and coordinators. In short:
//
//   1. The purpose must be in the protocol (else deny `unknown_purpose`) and
//      a flow must allow sender -> recipient (else deny `no_flow`).
//   2. Requested categories outside the flow are withheld
//      (`category_not_in_flow`).
//   3. legal_obligation: nothing more is needed. meldcode: an override with a
//      non-empty justification, approved by someone other than the requester
//      (`override_missing`, `override_invalid`). consent: the grantors the
//      student's age requires (AgeRules) must each have a valid covering
//      consent (`missing_consent_ouder`, `missing_consent_jongere`); only
//      categories that every needed grantor named are allowed
//      (`category_not_consented`). Special categories (gezondheid, justitie)
//      therefore pass only where the consents name them.
//   4. If nothing is left, the answer is deny.
//
// The engine has no clock and does no I/O: the moment of the decision is
// Request::now. Dates (age, validity) are Europe/Amsterdam calendar dates of
// that moment (base/time.h AmsterdamDate). The decision does not depend on
// the order of the consents or of the requested categories. Reason messages
// name purposes, organisations, consent ids, dates and categories, never the
// contents of a case.
//
// Pure and thread-safe; Decide never fails (a bad request is a deny with a
// reason), so it returns a Decision, not a Result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/time.h"
#include "schakel/consent/protocol.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::consent {

// A recorded consent (toestemming) of one grantor about one student.
struct Consent {
  std::string id;
  std::string subject_id;
  GrantorRole grantor_role = GrantorRole::kOuder;
  std::vector<std::string> purposes;
  // Recipient org ids ("wijkteam-overvecht") or org type names ("wijkteam").
  std::vector<std::string> recipients;
  CategorySet categories;
  Date valid_from;
  std::optional<Date> valid_until;      // inclusive; nullopt: no end date
  std::optional<Instant> withdrawn_at;  // withdrawn at or before `now`: not valid
  // Which parent gave it (a name from the student's guardians); empty when
  // not recorded. Parents are told apart by it under
  // AgeRules::Parents::kAllWithAuthority; consents with an empty guardian
  // count as one parent.
  std::string guardian;
  // The permission request it answered (docs/consent-requests.md), or
  // empty. Parents' consents of one request stand or fall together: when one
  // parent's is withdrawn, the others' no longer count either.
  std::string request_id;

  bool operator==(const Consent&) const = default;
};

// The four-eyes approval of a Meldcode share.
struct Override {
  std::string requested_by;
  std::string approved_by;
  std::string justification;

  bool operator==(const Override&) const = default;
};

struct Request {
  Instant now;
  std::string subject_id;
  Date birth_date;
  Party sender;
  Party recipient;
  std::string purpose;
  // As requested: any order, duplicates allowed (they count once).
  std::vector<Category> categories;
  std::vector<Consent> consents;
  std::optional<Override> override;
  // Parents with parental authority on the student's record; under
  // AgeRules::Parents::kAllWithAuthority that many distinct parents (by
  // Consent::guardian) must consent. Values below 1 count as 1.
  int parents_with_authority = 1;
};

struct Reason {
  std::string code;     // one of the kReason* codes below
  std::string message;  // plain English a coordinator can act on
  // The withheld category this reason explains, for the category-level
  // codes (category_not_in_flow, category_not_consented).
  std::optional<Category> category;

  bool operator==(const Reason&) const = default;
};

struct Decision {
  bool permit = false;
  std::optional<LegalBasis> legal_basis;   // nullopt on deny
  CategorySet categories;                  // what may be sent; empty on deny
  CategorySet withheld;                    // the rest of the request
  std::vector<std::string> consents_used;  // sorted; empty on deny
  std::vector<Reason> reasons;
  // From the flow, on permit: its legal source and retention (nullopt: the
  // node's default). Empty/nullopt on deny.
  std::string legal_source;
  std::optional<int> retention_days;
};

// Reason codes. Fixed: users, scripts and the audit log rely on them.
inline constexpr std::string_view kReasonNoFlow = "no_flow";
inline constexpr std::string_view kReasonUnknownPurpose = "unknown_purpose";
inline constexpr std::string_view kReasonNoCategories = "no_categories";
inline constexpr std::string_view kReasonBirthDateInFuture = "birth_date_in_future";
inline constexpr std::string_view kReasonMissingConsentOuder = "missing_consent_ouder";
inline constexpr std::string_view kReasonMissingConsentJongere = "missing_consent_jongere";
inline constexpr std::string_view kReasonConsentExpired = "consent_expired";
inline constexpr std::string_view kReasonConsentNotYetValid = "consent_not_yet_valid";
inline constexpr std::string_view kReasonConsentWithdrawn = "consent_withdrawn";
inline constexpr std::string_view kReasonCategoryNotInFlow = "category_not_in_flow";
inline constexpr std::string_view kReasonCategoryNotConsented = "category_not_consented";
inline constexpr std::string_view kReasonOverrideMissing = "override_missing";
inline constexpr std::string_view kReasonOverrideInvalid = "override_invalid";

// The grantors whose consent a student of `age` needs under `ages`.
struct NeededGrantors {
  bool ouder = false;
  bool jongere = false;
};
NeededGrantors NeededFor(int age, const AgeRules& ages);
// The age rules a consent flow applies: the protocol's, with the young
// person alone from the flow's youth_alone_from when it is set and lower.
AgeRules AgesFor(const Protocol& protocol, const Flow& flow);

// Whether consent `c` covers a share of `purpose` to `recipient` about
// `subject_id` at `now`, ignoring categories and grantor (CONTRACT.md
// "Consent rules"): subject, purpose and recipient match, the Amsterdam date
// of `now` lies within valid_from..valid_until, and it is not withdrawn.
bool Covers(const Consent& c, std::string_view subject_id, std::string_view purpose, const Party& recipient,
            Instant now);

Decision Decide(const Protocol& protocol, const Request& request);

}  // namespace schakel::consent
