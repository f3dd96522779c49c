// The typed answers of the service's operations (service.h): plain structs,
// no JSON and no HTTP. The front ends (daemon/: the API renders them as JSON,
// the console as pages) decide how they look.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schakel/audit/format.h"
#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/config/node_config.h"
#include "schakel/consent/engine.h"
#include "schakel/service/reachability.h"
#include "schakel/store/records.h"
#include "schakel/store/users.h"

namespace schakel::service {

// An answer the egress gate may refuse: a Result<T> that, when the consent
// engine decided and refused, also carries that decision (the front ends show
// it with the error). Refusals before the engine decides (roles, a case that
// is not yours, bad input, storage) carry no decision.
template <typename T>
class Gated {
 public:
  Gated(T value) : result_(std::move(value)) {}         // NOLINT: implicit like Result<T>
  Gated(Status status) : result_(std::move(status)) {}  // NOLINT
  Gated(Status status, consent::Decision refused_on) : result_(std::move(status)), refused_on_(std::move(refused_on)) {}

  bool ok() const { return result_.ok(); }
  const Status& status() const { return result_.status(); }
  T& value() { return result_.value(); }
  const T& value() const { return result_.value(); }
  T& operator*() { return result_.value(); }
  const T& operator*() const { return result_.value(); }
  T* operator->() { return &result_.value(); }
  const T* operator->() const { return &result_.value(); }
  // The decision a refusal was made on; empty on success and for refusals
  // made before the consent engine was asked.
  const std::optional<consent::Decision>& refused_on() const { return refused_on_; }
  // This refusal as another operation's answer. REQUIRES: !ok().
  template <typename U>
  Gated<U> Refused() const {
    return refused_on_ ? Gated<U>(status(), *refused_on_) : Gated<U>(status());
  }

 private:
  Result<T> result_;
  std::optional<consent::Decision> refused_on_;
};

// ---- cases

// A case as stored after AddCase / UpdateCase.
struct CaseSaved {
  std::string case_id;
  int64_t version = 1;
};

struct CaseVersionInfo {
  int64_t version = 0;
  std::string updated_by;
  std::string updated;
};

struct CaseView {
  std::string case_id;
  std::string student_id;
  int64_t version = 1;
  std::string created_by;
  std::string created;
  std::string updated;
  std::vector<std::string> assigned;  // user ids, besides the creator
  std::vector<CaseVersionInfo> versions;
  std::string summary_json;  // the current version's summary as stored (JSON text)
};

struct CaseListItem {
  std::string case_id;
  std::string student_id;
  int64_t version = 1;
  std::string updated;
  std::string created_by;
};

struct CaseAssignment {
  std::string case_id;
  std::string assigned;  // user id
};

// ---- the student register (docs/students.md)

struct StudentImport {
  int added = 0;
  int updated = 0;
  int unchanged = 0;
};

// A coordinator's change of one registered student; fields left unset stay.
struct StudentChange {
  std::optional<std::string> name;
  std::optional<Date> birth_date;
  std::optional<std::vector<store::GuardianRecord>> guardians;
};

struct InboxAssignment {
  std::string message_id;
  std::string sender_id;
  std::string assigned;  // user id
};

// A received share taken into the dossier (Service::AdoptInbox).
struct InboxAdoption {
  std::string message_id;
  std::string sender_id;
  std::string adopted_at;
  std::string adopted_by;  // user id
  std::string basis;
};

// ---- consents

// A consent to record (POST /v1/consents): the consent itself and how it was
// given.
struct NewConsent {
  consent::Consent consent;
  std::string evidence = "not stated";
};

struct ConsentWithdrawal {
  std::string consent_id;
  std::string withdrawn_at;
  std::vector<std::string> cancelled;      // queued shares, cancelled
  std::vector<std::string> revoked;        // sending or delivered shares, revocation queued
  std::vector<std::string> links_revoked;  // dossier links, revoked
  std::string replaced_by;                 // the narrowed copy, when some categories were withdrawn
};

// The answer to a recall: the share's state after it (cancelled or revoked)
// and the reason's code.
struct ShareRecall {
  std::string message_id;
  store::ShareState state = store::ShareState::kCancelled;
  std::string reason;
};

// A share that relied on a consent.
struct ConsentUse {
  std::string message_id;
  std::string recipient;
  store::ShareState state = store::ShareState::kQueued;
};
struct ConsentEntry {
  store::ConsentRecord record;
  std::vector<ConsentUse> shares;
  std::vector<store::LinkUseRef> links;  // dossier links made under it
};
struct StudentConsents {
  std::string student_id;
  std::vector<ConsentEntry> consents;
};

// ---- shares

struct ShareOutcome {
  bool dry_run = false;
  // Empty for a dry run.
  std::string message_id;
  store::ShareState state = store::ShareState::kQueued;
  consent::Decision decision;
};

// What a share (or a dossier link) of everything a case holds would carry,
// category by category, before anyone chooses: the console's share and link
// forms show it beside each box. `meldcode`: decided as if a second person
// had approved (a Meldcode report waits for that approval).
struct CategoryCheck {
  consent::Decision decision;
  bool meldcode = false;
};

struct MeldcodeApproval {
  std::string message_id;
  store::ShareState state = store::ShareState::kQueued;
  std::string approved_by;  // user id
};

// A pending Meldcode share ended before it was sealed: rejected by a second
// coordinator (state_reason meldcode_rejected) or cancelled by its requester
// (cancelled_by_requester).
struct MeldcodeEnded {
  std::string message_id;
  store::ShareState state = store::ShareState::kCancelled;
  std::string state_reason;
  std::string by;  // user id
};

// One share (GET /v1/shares/{id}). record.justification is set only for a
// coordinator and for the share's requester (and its reading audited as
// share.justification_read); justification_sha256 whenever the share has
// a justification.
struct ShareView {
  store::ShareRecord record;
  std::optional<std::string> justification_sha256;  // lower-case hex of SHA-256 of the UTF-8 text
};

// A Meldcode share's written justification, read by a coordinator or an
// auditor (GET /v1/shares/{id}/justification), audited.
struct MeldcodeJustification {
  std::string message_id;
  std::string student_id;
  store::ShareState state = store::ShareState::kPendingApproval;
  std::string requested_by;
  std::string justification;
  std::string sha256;  // lower-case hex; the share's audit entries carry justification_sha256=<this>
};

// ---- inbox

// A received share with its content shown only in its permitted categories;
// record.summary is never set (the stored text may hold more).
struct InboxView {
  store::InboxRecord record;
  std::optional<std::string> summary_json;  // projected; empty once purged
};
// An e-mail notice due ([notify]): a user with an address for whom more
// waits than the last notice counted.
struct NoticeDue {
  std::string user_id;
  std::string email;
  store::StartCounts counts;
};

// A received share in the list, for the user asking: not yet opened by them
// ("nieuw" in the console).
struct InboxListItem {
  store::InboxRecord record;  // summary unset
  bool unread = false;
};

// ---- status

struct PartnerStatus {
  std::string node_id;
  std::string name;
  std::string org_type;
  std::string address;
  std::string source;                  // "" by hand, "directory:REGION" (store::Partner::source)
  std::optional<PartnerContact> seen;  // empty: nothing exchanged since start
  int64_t queued_shares = 0;
  int64_t pending_revocations = 0;
  std::optional<std::string> oldest_queued;  // the oldest item waiting for it (share or revocation)
};

// A regional directory this node trusts (docs/region.md).
struct RegionStatus {
  std::string region;
  int64_t serial = 0;
  std::string issued;    // RFC 3339
  std::string expires;   // RFC 3339
  int64_t age_days = 0;  // since issued
  bool expired = false;
  std::vector<std::string> members;      // partners it brought
  std::vector<std::string> unreachable;  // of those, the ones whose last delivery attempt failed
};

struct NodeStatusView {
  std::string node_id;
  std::string org_type;
  std::string version;
  Instant now{};
  Instant started{};
  std::vector<PartnerStatus> partners;
  std::vector<RegionStatus> regions;
  int64_t outbox_depth = 0;
  store::OutgoingSummary queued_shares;
  store::OutgoingSummary pending_revocations;
  int64_t audit_last_seq = 0;
  int64_t audit_checkpointed_seq = 0;
  std::optional<Instant> next_checkpoint;
  std::string database_file;
  int64_t db_bytes = 0;
  int64_t wal_bytes = 0;
  // Usable users whose token expires within a week (or has expired), by
  // expiry: name and RFC 3339 expiry.
  std::vector<std::pair<std::string, std::string>> expiring_tokens;
  // Web listeners others reach that serve the self-signed certificate.
  std::vector<config::SelfSignedPublicListener> self_signed_public;
};

// ---- audit

// Bytes to hand out as they are (an export, a report).
struct Export {
  std::string bytes;
  std::string content_type;
};

struct AuditVerification {
  bool ok = false;
  std::string problem;  // when not ok
};

// ---- admin views

struct UserView {
  store::User user;
  bool console = false;  // has a console password
};

// One change to an account (disable, enable, remove, set-role, confirm).
struct AccountChanged {
  std::string name;
  std::string user_id;
  std::string action;  // user.disable, user.grant_requested, ...
};

// A staff or coordinator role waiting for a coordinator's confirmation.
struct PendingGrant {
  std::string name;
  std::string user_id;
  std::string pending_role;
  std::string current_role;  // "" for a new account
  std::string requested_by;  // a user's name, or "os:<user>"
};

struct PartnerView {
  std::string node_id;
  std::string name;
  std::string org_type;
  std::string address;
  std::string fingerprint;
  std::string added;
};

// ---- dossier links (link_service.h)

// A link just made (LinkService::Create). The URL and code are shown only
// now: the node keeps neither.
struct LinkCreated {
  std::string link_id;
  std::string url;
  std::string code;
  std::string expires;
  std::vector<std::string> categories;  // category names, as sealed
  std::vector<std::string> withheld;    // category names
  consent::Decision decision;
};

// A link as its maker sees it in the list (no token, code or content).
struct LinkView {
  std::string link_id;
  std::string case_id;
  std::string recipient_name;
  std::string recipient_type;  // org type
  std::string purpose;
  std::string legal_basis;
  std::vector<std::string> categories;  // category names
  std::vector<std::string> withheld;    // category names
  std::string created_by;
  std::string created;
  std::string expires;
  std::string state;  // active, locked, revoked, expired, purged
  int64_t failed_attempts = 0;
};

// A link's new URL and code (LinkService::NewCode); the old ones stop working.
struct LinkNewCode {
  std::string link_id;
  std::string url;
  std::string code;
  std::string expires;
};

struct LinkRevoked {
  std::string link_id;
  std::string state = "revoked";
};

// ---- the access log

// What an auditor's query found, with the names behind the ids in it: user
// ids -> user names, node ids -> partner (or this node's) names. Names are
// not case content; the query is audited.
struct AuditFound {
  std::vector<audit::AuditEntry> entries;
  std::map<std::string, std::string> names;
};

}  // namespace schakel::service
