// Permission requests (toestemmingsverzoeken, docs/consent-requests.md):
// every SQL statement on the consent_requests and consent_request_grantors
// tables (schema 14).
//
// A request names a student, recipients, purposes, categories and a period;
// each grantor the student's age needs (a parent, the young person) gets
// their own row with its own link: the SHA-256 of its token, the page's
// content sealed under Argon2id(token || code) (crypto/link_secret.h), a
// count of wrong codes, and once answered the answer itself (the evidence).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct ConsentRequestRecord {
  std::string request_id;
  std::string student_id;
  std::vector<std::string> purposes;
  std::vector<std::string> recipients;  // org ids or org type names, as in a consent
  consent::CategorySet categories;
  std::string valid_from;   // YYYY-MM-DD
  std::string valid_until;  // YYYY-MM-DD, inclusive
  std::string created_by;
  std::string created;  // RFC 3339, ms
  std::string expires;  // the links stop working then (RFC 3339, ms)
  std::string text_version;
};

// States of one grantor's link. Fixed: the API and the audit log use them.
//   open     — waiting for an answer
//   agreed   — answered yes to at least one category (a consent exists)
//   refused  — answered no to everything
//   locked   — too many wrong codes
//   expired  — not answered before the request expired
//   withdrawn — agreed, later withdrawn through the management page
//   ended    — agreed, and the consent's period is over
struct ConsentGrantRecord {
  std::string grant_id;
  std::string request_id;
  std::string grantor_role;  // "ouder" or "jongere"
  std::string guardian;      // the parent asked, by name; empty: any parent
  std::string state;
  std::string state_changed;
  int64_t failed_attempts = 0;
  // The answer (empty while open): JSON with the typed name, the chosen
  // categories, the time and the SHA-256 of the text shown.
  std::string answer;
  std::string consent_id;  // set when the answer made a consent
  bool has_content = false;
  std::vector<uint8_t> kdf_salt;
  std::vector<uint8_t> nonce;
  std::vector<uint8_t> ciphertext;
};

struct GrantSecret {
  std::span<const uint8_t> token_hash;
  std::span<const uint8_t> kdf_salt;
  std::span<const uint8_t> nonce;
  std::span<const uint8_t> ciphertext;
};

Status InsertConsentRequest(Database& db, const ConsentRequestRecord& r);
Result<std::optional<ConsentRequestRecord>> FindConsentRequest(Database& db, const std::string& request_id);
// A student's requests, newest first (at most 200).
Result<std::vector<ConsentRequestRecord>> ConsentRequestsForStudent(Database& db, const std::string& student_id);

// Stores an open grantor row (state_changed = `at`).
Status InsertConsentGrant(Database& db, const ConsentGrantRecord& r, const GrantSecret& secret, const std::string& at);
Result<std::optional<ConsentGrantRecord>> FindConsentGrantByTokenHash(Database& db,
                                                                      std::span<const uint8_t> token_hash);
Result<std::vector<ConsentGrantRecord>> ConsentGrantsOf(Database& db, const std::string& request_id);
// Counts one code attempt on a grant whose link still works (open or
// agreed), before the code is tried. False when it no longer does.
Result<bool> CountGrantAttempt(Database& db, const std::string& grant_id);
// After the right code: the attempt counted before it was tried given back.
Status ResetGrantAttempts(Database& db, const std::string& grant_id);
// Moves a grant from `from` to `to` (with its answer and consent id when
// given). False when it was not in state `from` (answered meanwhile: a
// replayed form changes nothing).
Result<bool> SetGrantState(Database& db, const std::string& grant_id, const std::string& from, const std::string& to,
                           const std::string& at, const std::optional<std::string>& answer = std::nullopt,
                           const std::optional<std::string>& consent_id = std::nullopt);
// Open grants whose request expired at or before `now` become 'expired';
// agreed grants whose consent period ended before `today` (YYYY-MM-DD)
// become 'ended' (the consent itself ends by its date). Both lose their
// sealed content. Returns the grant ids changed.
Result<std::vector<std::string>> ExpireConsentGrants(Database& db, const std::string& now, const std::string& today);

// ---- inzage links (AVG art. 15 for a parent or the young person)

struct InzageLinkRecord {
  std::string link_id;
  std::string student_id;
  std::string grantor_role;  // who it is for: "ouder" or "jongere"
  int64_t failed_attempts = 0;
  std::string state;  // active, locked, expired
  std::string created_by;
  std::string created;
  std::string expires;
  bool has_content = false;
  std::vector<uint8_t> kdf_salt;
  std::vector<uint8_t> nonce;
  std::vector<uint8_t> ciphertext;
};

Status InsertInzageLink(Database& db, const InzageLinkRecord& r, const GrantSecret& secret);
Result<std::optional<InzageLinkRecord>> FindInzageLinkByTokenHash(Database& db, std::span<const uint8_t> token_hash);
// Counts one code attempt on an active link before the code is tried; false
// when it is no longer active.
Result<bool> CountInzageAttempt(Database& db, const std::string& link_id);
Status ResetInzageAttempts(Database& db, const std::string& link_id);
// 'locked' or 'expired', the sealed content deleted.
Status EndInzageLink(Database& db, const std::string& link_id, const std::string& state);

}  // namespace schakel::store
