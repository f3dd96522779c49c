// Typed queries for the node's working data: cases (with every earlier
// version kept), consents (with evidence and withdrawal), shares (the sender's
// view of what left), the durable delivery queue, and the inbox (the
// recipient's view, purged on revocation or retention, leaving a tombstone).
//
// Times are RFC 3339 UTC with milliseconds (FormatInstantMs), so text order is
// time order. Lists are stored as JSON arrays of names.
//
// Callers hold the connection's lock and open transactions where several
// writes must land together (a share, its queue entry and its audit entry).
// Errors: Status values from the database layer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/consent/engine.h"
#include "schakel/store/database.h"

namespace schakel::store {

// ---- cases ---------------------------------------------------------------

struct CaseRecord {
  std::string case_id;
  std::string student_id;
  std::string birth_date;  // YYYY-MM-DD
  std::string created_by;  // user id
  std::string created;
  std::string updated;
  int64_t version = 1;
  std::string summary;                // JSON of the current version
  std::vector<std::string> assigned;  // user ids, besides the creator
};

struct CaseVersion {
  int64_t version = 0;
  std::string updated_by;
  std::string updated;
  std::string summary;
};

// Inserts version 1. kAlreadyExists when the case id is taken.
Status InsertCase(Database& db, const CaseRecord& record);
// Adds a version; the earlier ones stay. kNotFound for an unknown case.
Result<int64_t> UpdateCase(Database& db, const std::string& case_id, const std::string& student_id,
                           const std::string& birth_date, const std::string& summary, const std::string& updated_by,
                           const std::string& updated);
Result<std::optional<CaseRecord>> FindCase(Database& db, const std::string& case_id);
// All cases, or only those a user created or is assigned to.
Result<std::vector<CaseRecord>> ListCases(Database& db, const std::optional<std::string>& visible_to);
Result<std::vector<CaseVersion>> CaseHistory(Database& db, const std::string& case_id);
Status AssignCase(Database& db, const std::string& case_id, const std::string& user_id);

// ---- students (the register, schema v8) ---------------------------------

struct GuardianRecord {
  std::string name;
  bool authority = false;
  bool operator==(const GuardianRecord&) const = default;
};

struct StudentRecord {
  std::string student_id;
  std::string name;        // empty for a student registered by the v8 migration
  std::string birth_date;  // YYYY-MM-DD
  std::vector<GuardianRecord> guardians;
  std::string added;
  std::string updated;
  std::string updated_by;  // user id, or "migration"
};

// kAlreadyExists when the id is taken.
Status InsertStudent(Database& db, const StudentRecord& r);
// Replaces name, birth date and guardians. kNotFound for an unknown student.
Status UpdateStudent(Database& db, const StudentRecord& r);
Result<std::optional<StudentRecord>> FindStudent(Database& db, const std::string& student_id);
Result<std::vector<StudentRecord>> ListStudents(Database& db);
std::string GuardiansText(const std::vector<GuardianRecord>& guardians);

// ---- consents ------------------------------------------------------------

struct ConsentRecord {
  consent::Consent consent;
  std::string recorded_by;
  std::string recorded_at;
  std::string evidence;  // how it was given: "formulier getekend 2026-09-02", ...
  std::optional<std::string> withdrawn_by;
};

Status InsertConsent(Database& db, const ConsentRecord& record);
Result<std::optional<ConsentRecord>> FindConsent(Database& db, const std::string& consent_id);
Result<std::vector<ConsentRecord>> ConsentsForSubject(Database& db, const std::string& subject_id);
// kNotFound if unknown; kAlreadyExists if already withdrawn.
Status WithdrawConsent(Database& db, const std::string& consent_id, Instant at, const std::string& by);

// ---- shares (sender side) ------------------------------------------------

// queued -> sending -> delivered, then revoked -> purged; cancelled before
// it left; refused by the recipient's gate (the code in state_reason).
enum class ShareState { kPendingApproval, kQueued, kSending, kDelivered, kCancelled, kRevoked, kPurged, kRefused };
std::string_view ShareStateName(ShareState s);
std::optional<ShareState> ParseShareState(std::string_view s);

struct ShareRecord {
  std::string message_id;
  std::string case_id;
  int64_t case_version = 0;
  std::string student_id;
  std::string recipient_id;
  std::string recipient_type;
  std::string purpose;
  std::string legal_basis;
  consent::CategorySet categories;
  consent::CategorySet withheld;
  std::vector<std::string> consent_ids;
  ShareState state = ShareState::kQueued;
  std::string requested_by;
  std::optional<std::string> approved_by;
  std::optional<std::string> justification;
  std::string created;
  std::string retain_until;
  std::vector<uint8_t> body_hash;
  std::vector<uint8_t> receipt;
  std::optional<std::string> delivered_at;
  std::optional<std::string> state_reason;
  std::string state_changed;
};

Status InsertShare(Database& db, const ShareRecord& record);
Result<std::optional<ShareRecord>> FindShare(Database& db, const std::string& message_id);
Result<std::vector<ShareRecord>> ListShares(Database& db);
// Shares that relied on a consent, in any state.
Result<std::vector<ShareRecord>> SharesUsingConsent(Database& db, const std::string& consent_id);
// The consents a share relies on, replaced (a consent narrowed to fewer
// categories hands the share on to its narrowed copy).
Status SetShareConsentIds(Database& db, const std::string& message_id, const std::vector<std::string>& consent_ids);
Status SetShareState(Database& db, const std::string& message_id, ShareState state, const std::string& reason,
                     const std::string& at);
// The meta key whose value "1" says that queued shares may have left
// without a durable `sending` (service/on_the_wire.h): the next start takes
// every queued share as sending. Set by a run before its first share goes
// on the wire, and by a restore (the lost node may have sent them after the
// backup); cleared by a clean stop and by the start that settles it.
inline constexpr const char kMetaSharesOnTheWire[] = "shares_on_the_wire";
// queued -> sending (it may have reached the partner, service/on_the_wire.h);
// a share in another state is left as it is.
Status MarkShareMaybeSent(Database& db, const std::string& message_id, const std::string& at);
// Every queued share -> sending, after a stop that may have left some on the
// wire unrecorded; returns how many.
Result<int> MarkQueuedSharesMaybeSent(Database& db, const std::string& at);
Status SetShareApproved(Database& db, const std::string& message_id, const std::string& approved_by,
                        const std::string& at);
Status SetShareBodyHash(Database& db, const std::string& message_id, const std::vector<uint8_t>& body_hash);
// queued or sending -> delivered, with the recipient's receipt; a share in
// another state is left as it is.
Status MarkShareDelivered(Database& db, const std::string& message_id, const std::vector<uint8_t>& receipt,
                          const std::string& at);
// The receipt of a share that was cancelled or revoked while it was on its
// way: kept as evidence that the partner got it, the state unchanged.
Status KeepLateReceipt(Database& db, const std::string& message_id, const std::vector<uint8_t>& receipt,
                       const std::string& at);

// ---- dossier links (docs/links.md)

// A dossier link as stored. Categories, withheld and consent ids are kept
// as "a,b" text (the other tables use JSON; the on-disk format is left as
// it is until a migration changes it).
struct LinkRecord {
  std::string link_id;
  std::string case_id;
  int64_t case_version = 0;
  std::string student_id;
  std::string recipient_name;
  std::string recipient_type;
  std::string purpose;
  std::string legal_basis;
  std::string categories;   // "a,b"
  std::string withheld;     // "a,b"
  std::string consent_ids;  // "a,b"
  std::string created_by;
  std::string created;
  std::string expires;
  int64_t failed_attempts = 0;
  std::string state;         // active, locked, revoked, expired, purged
  std::string state_reason;  // e.g. consent_withdrawn, basis_gone; empty when none
  // The sealed content; all three empty once it is deleted (revoked,
  // expired) — has_content says whether a whole set is there.
  bool has_content = false;
  std::vector<uint8_t> kdf_salt;
  std::vector<uint8_t> nonce;
  std::vector<uint8_t> ciphertext;
};

// The sealed content of a link and the hash of its token (a new one on a
// new code).
struct LinkSecret {
  std::span<const uint8_t> token_hash;
  std::span<const uint8_t> kdf_salt;
  std::span<const uint8_t> nonce;
  std::span<const uint8_t> ciphertext;
};

// Stores a new active link with no failed attempts (state_changed = created).
Status InsertLink(Database& db, const LinkRecord& record, const LinkSecret& secret);
Result<std::optional<LinkRecord>> FindLink(Database& db, const std::string& link_id);
Result<std::optional<LinkRecord>> FindLinkByTokenHash(Database& db, std::span<const uint8_t> token_hash);
// The newest `limit` links, newest first.
Result<std::vector<LinkRecord>> ListLinks(Database& db, int limit);
// Active or locked links whose expiry is at or before `now`, at most `limit`.
Result<std::vector<LinkRecord>> DueLinks(Database& db, const std::string& now, int limit);
// A new token and content for a link still active or locked: active again,
// failed attempts 0, state_reason 'new_code'. False when the link is no
// longer active or locked.
Result<bool> UpdateLinkCode(Database& db, const std::string& link_id, const LinkSecret& secret, int64_t case_version,
                            const std::string& categories, const std::string& withheld, const std::string& consent_ids,
                            const std::string& at);
// State 'expired', its sealed content deleted.
Status MarkLinkExpired(Database& db, const std::string& link_id, const std::string& at);
// Counts one code attempt on an active link, before the code is tried.
// False when the link is no longer active.
Result<bool> CountLinkAttempt(Database& db, const std::string& link_id);
// Locks a link after too many wrong codes.
Status LockLink(Database& db, const std::string& link_id, const std::string& at);
// After the right code: last_read, and the attempt counted before it was
// tried given back.
Status RecordLinkRead(Database& db, const std::string& link_id, const std::string& at);

// A link that can still be opened (active or locked) and relied on a consent.
struct OpenLinkRef {
  std::string link_id;
  std::string student_id;
  std::string purpose;
  std::string legal_basis;
  std::string categories;   // comma-separated wire names
  std::string consent_ids;  // comma-separated
};
Result<std::vector<OpenLinkRef>> OpenLinksUsingConsent(Database& db, const std::string& consent_id);
// The consents a link relies on, replaced (comma-separated; see
// SetShareConsentIds).
Status SetLinkConsentIds(Database& db, const std::string& link_id, const std::string& consent_ids);
// Every link made under a consent, whatever its state: what the consent list
// shows beside the shares that relied on it.
struct LinkUseRef {
  std::string link_id;
  std::string recipient_name;
  std::string recipient_type;
  std::string state;  // active, locked, revoked, expired, purged
};
Result<std::vector<LinkUseRef>> LinksUsingConsent(Database& db, const std::string& consent_id);
// Revokes a link: state 'revoked' with `reason`, its sealed content deleted
// (salt, nonce, ciphertext). kNotFound for an unknown link.
Status RevokeLink(Database& db, const std::string& link_id, const std::string& reason, const std::string& at);

// ---- the durable delivery queue -------------------------------------------

struct OutgoingItem {
  int64_t id = 0;
  std::string kind;  // "share" or "revocation"
  std::string message_id;
  std::string recipient_id;
  std::string payload;
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;  // Unix milliseconds
  std::optional<std::string> last_error;
  std::string created;
};

Status EnqueueOutgoing(Database& db, const std::string& kind, const std::string& message_id,
                       const std::string& recipient_id, const std::string& payload, int64_t next_attempt_ms,
                       const std::string& created);
Result<std::vector<OutgoingItem>> DueOutgoing(Database& db, int64_t now_ms, int limit);
// The recipients with at least one item due at now_ms (at most `limit`,
// those waiting longest first), and the due items of one recipient: what
// the delivery's per-partner lanes read (peer/delivery.h).
Result<std::vector<std::string>> DueRecipients(Database& db, int64_t now_ms, int limit);
// `skip`: queue rows left out (a round still in flight; their payloads are
// not read).
Result<std::vector<OutgoingItem>> DueOutgoingTo(Database& db, const std::string& recipient_id, int64_t now_ms,
                                                int limit, const std::vector<int64_t>& skip = {});
// Whether anything at all waits for `recipient_id`, due or not (reads the
// index only, never a payload).
Result<bool> HasOutgoingTo(Database& db, const std::string& recipient_id);
Status RescheduleOutgoing(Database& db, int64_t id, int64_t attempts, int64_t next_attempt_ms,
                          const std::string& last_error);
// Makes every item for `recipient_id` due at `now_ms` (the partner answered
// again, so waiting out the backoff would only delay it).
Status ExpediteOutgoing(Database& db, const std::string& recipient_id, int64_t now_ms);
Status RemoveOutgoing(Database& db, const std::string& kind, const std::string& message_id);
Result<int64_t> CountOutgoing(Database& db);
// The creation time of the oldest queued item, if any.
Result<std::optional<std::string>> OldestOutgoing(Database& db);
// The queued items of one kind ("share" or "revocation"), for all
// recipients or (recipient_id not empty) one: how many, and the oldest
// one's `created`.
struct OutgoingSummary {
  int64_t count = 0;
  std::optional<std::string> oldest;
};
Result<OutgoingSummary> SummarizeOutgoing(Database& db, const std::string& kind, const std::string& recipient_id = "");

// ---- inbox (recipient side) ----------------------------------------------

struct InboxRecord {
  std::string sender_id;
  std::string message_id;
  std::string student_id;
  std::string purpose;
  consent::CategorySet categories;
  std::vector<std::string> consent_ids;
  std::string created;
  std::string received;
  std::string retain_until;
  std::optional<std::string> summary;  // nullopt once purged
  std::vector<uint8_t> body_hash;
  std::vector<uint8_t> receipt;
  std::string state;  // "received" or "purged"
  std::optional<std::string> purged_at;
  std::optional<std::string> purge_reason;
  // The user it is assigned to (schema v8); nullopt: in the coordinators'
  // queue. assigned_by: a coordinator's user id, or "route".
  std::optional<std::string> assigned_to;
  std::optional<std::string> assigned_by;
  // Taken into the recipient's own dossier (schema v12): when, by which
  // user, on which legal basis. Set: no purge by retention or revocation.
  std::optional<std::string> adopted_at;
  std::optional<std::string> adopted_by;
  std::optional<std::string> adopted_basis;
};

// Stores a received share once: false (and no change) when the
// (sender, message id) pair is already known.
Result<bool> InsertInboxIfNew(Database& db, const InboxRecord& record);
Result<std::optional<InboxRecord>> FindInbox(Database& db, const std::string& sender_id, const std::string& message_id);
Result<std::vector<InboxRecord>> ListInbox(Database& db);
// Only the rows assigned to `user_id`.
Result<std::vector<InboxRecord>> ListInboxAssignedTo(Database& db, const std::string& user_id);
// Received shares with this message id (from any sender), oldest first.
Result<std::vector<InboxRecord>> FindInboxByMessage(Database& db, const std::string& message_id);
// kNotFound when no such row.
Status AssignInbox(Database& db, const std::string& sender_id, const std::string& message_id,
                   const std::string& user_id, const std::string& assigned_by);

// A coordinator's confirmed match: what `sender_id` sends about its student
// `student_id` is assigned to `user_id` on arrival.
struct InboxRoute {
  std::string sender_id;
  std::string student_id;
  std::string user_id;
  std::string confirmed_by;
  std::string confirmed;
};
// Sets or replaces the route of (sender, student).
Status SetInboxRoute(Database& db, const InboxRoute& r);
Result<std::optional<InboxRoute>> FindInboxRoute(Database& db, const std::string& sender_id,
                                                 const std::string& student_id);
Result<std::vector<InboxRoute>> ListInboxRoutes(Database& db);
// What one partner sent that was stored (purged rows included): the number
// of inbox rows received at or after `since` (RFC 3339 ms, UTC) and the sum
// of their summaries' sizes. For the recipient's per-partner quotas.
struct InboundVolume {
  int64_t shares = 0;
  int64_t bytes = 0;
};
Result<InboundVolume> InboundSince(Database& db, const std::string& sender_id, const std::string& since);
// The same for the rows received at or after `from` and before `to` (the
// rows a sliding window let go of as it moved from `from` to `to`).
Result<InboundVolume> InboundBetween(Database& db, const std::string& sender_id, const std::string& from,
                                     const std::string& to);
// Marks a received share adopted into the dossier. kNotFound if unknown or
// purged; kAlreadyExists when it is adopted already.
Status AdoptInbox(Database& db, const std::string& sender_id, const std::string& message_id, const std::string& user_id,
                  const std::string& basis, const std::string& at);
// Drops the content, keeping the tombstone. kNotFound if unknown. A row
// adopted into the dossier is left as it is (and Ok): callers that must
// answer for it check `adopted_at` first (InboxHandler::Revoke).
Status PurgeInbox(Database& db, const std::string& sender_id, const std::string& message_id, const std::string& reason,
                  const std::string& at);
// Received shares whose retain-until lies before `now` (RFC 3339 ms).
Result<std::vector<InboxRecord>> ExpiredInbox(Database& db, const std::string& now);

// ---- what is new (schema v15) ----------------------------------------------

// `user_id` opened the received share (sender, message id) at `at`; a second
// opening changes nothing.
Status MarkInboxSeen(Database& db, const std::string& sender_id, const std::string& message_id,
                     const std::string& user_id, const std::string& at);
// The (sender id, message id) pairs `user_id` has opened.
Result<std::set<std::pair<std::string, std::string>>> InboxSeenBy(Database& db, const std::string& user_id);

// The start page's counts for one user. `all`: a coordinator, who sees
// every received share, every Meldcode report waiting and every link.
struct StartCounts {
  int64_t new_shares = 0;        // received, not purged, not opened by the user
  int64_t meldcode_waiting = 0;  // pending approval, asked by someone else (coordinators)
  int64_t consents_ending = 0;   // standing, valid_until within the window (coordinators)
  int64_t links_expiring = 0;    // active, expiring within the window
};
struct StartCountWindow {
  std::string today;           // YYYY-MM-DD (Amsterdam)
  std::string consents_until;  // YYYY-MM-DD: consents ending on or before it
  std::string now;             // RFC 3339 ms
  std::string links_before;    // RFC 3339 ms: links expiring before it
};
Result<StartCounts> CountStart(Database& db, const std::string& user_id, bool all, const StartCountWindow& w);

// What the last e-mail notice to a user counted (schema v16): a notice goes
// out only when more waits than then. nullopt: never counted.
struct NoticeState {
  int64_t new_shares = 0;
  int64_t meldcode_waiting = 0;
};
Result<std::optional<NoticeState>> FindNoticeState(Database& db, const std::string& user_id);
// Sets the counts; `notified_at` (RFC 3339 ms) when a notice went out now.
Status SetNoticeState(Database& db, const std::string& user_id, const NoticeState& state,
                      const std::optional<std::string>& notified_at);

}  // namespace schakel::store
