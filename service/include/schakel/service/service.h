// What users can ask of their node, with roles enforced
// here (DESIGN.md "Roles"; one table: operations.h) and every decision on
// personal data audited.
//
// Each operation takes typed input (the API parses JSON into it, the console
// builds it from its forms) and returns a typed Result (results.h): no JSON
// and no HTTP here. A Status carries the contract's exit-code classes
// (kInvalidInput 2, kDenied 3, ...); operations that pass the egress gate
// return Gated<T>, which on a refusal also carries the consent engine's
// decision. Messages name fields and concepts, never a front end's flags.
//
// The egress gate (gate.h) is here: Share() is the only path from a case to the
// delivery queue. It asks the consent engine, projects the case onto the
// permitted categories, seals it for the recipient and queues it with its
// audit entry. The sealing runs without the lock; the share is stored only if
// the decision still holds when the lock is taken again.
//
// Thread-safety: calls may come from several threads; each takes the node
// lock (NodeCore::Held) for its database work, never across sealing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schakel/consent/engine.h"
#include "schakel/formats/api_request.h"
#include "schakel/formats/case_summary.h"
#include "schakel/service/gate.h"
#include "schakel/service/node_core.h"
#include "schakel/service/operations.h"
#include "schakel/service/results.h"
#include "schakel/store/records.h"
#include "schakel/store/users.h"

namespace schakel::service {

struct Caller {
  std::string user_id;
  std::string name;
  store::Role role = store::Role::kStaff;
  std::string source = "api";  // where the request came from, for the audit log
  int64_t auth_epoch = 0;      // the user's auth_epoch when authenticated (Revalidate)
  // Who acts, in audit entries, when it is not a user's role: "ouder" or
  // "jongere" on the permission pages (consent_requests.h). Empty: the role.
  std::string actor_role;
};

// POST /v1/shares, parsed by formats::ParseShareRequest.
using ShareRequest = formats::ShareRequest;

// The longest reason a coordinator may give for rejecting a Meldcode share.
inline constexpr size_t kMaxRejectReasonBytes = 500;

class Service {
 public:
  explicit Service(NodeCore& core) : core_(core), gate_(core) {}

  // Finds the user a bearer token belongs to; kUnauthenticated otherwise.
  Result<Caller> Authenticate(std::string_view bearer_token);

  // `summary` as parsed by formats::ParseCaseSummary (case_id optional: a new
  // one is made when empty).
  Result<CaseSaved> AddCase(const Caller& c, formats::CaseSummary summary);
  Result<CaseSaved> UpdateCase(const Caller& c, const std::string& case_id, formats::CaseSummary summary);
  Result<CaseView> ShowCase(const Caller& c, const std::string& case_id);
  Result<std::vector<CaseListItem>> ListCases(const Caller& c);
  Result<CaseAssignment> AssignCase(const Caller& c, const std::string& case_id, const std::string& user_name);

  // Returns the consent's id (made when the consent has none).
  Result<std::string> AddConsent(const Caller& c, NewConsent consent);
  Result<ConsentWithdrawal> WithdrawConsent(const Caller& c, const std::string& consent_id);
  // The same withdrawal by the person who gave the consent, on their
  // permission page (consent_requests.h): no role is asked; `c` names them
  // for the audit log (actor_role "ouder" or "jongere").
  Result<ConsentWithdrawal> WithdrawConsentByGrantor(const Caller& c, const std::string& consent_id);
  // Some categories withdrawn by that person (the management page): the
  // consent is withdrawn and a narrowed copy naming the rest takes its
  // place (same grantor, request, parent and period; its evidence is the
  // original's plus what was withdrawn when: ConsentWithdrawal::replaced_by).
  // Shares and dossier links carrying a withdrawn category end as under a
  // withdrawal; the rest rely on the copy. Withdrawing every category the
  // consent names is a withdrawal.
  Result<ConsentWithdrawal> NarrowConsentByGrantor(const Caller& c, const std::string& consent_id,
                                                   consent::CategorySet withdrawn);
  Result<StudentConsents> ListConsents(const Caller& c, const std::string& student_id);

  Gated<ShareOutcome> Share(const Caller& c, const ShareRequest& request);
  // Every category the case holds, decided for `to` and `purpose` without
  // sharing anything (audited as a dry run: share.evaluated or share.denied).
  Gated<CategoryCheck> CheckShare(const Caller& c, const std::string& case_id, const std::string& to,
                                  const std::string& purpose);
  // Takes back a share, whatever its legal basis: one not yet sent is
  // cancelled, one that may have reached the partner is revoked (the partner
  // purges it and confirms). A coordinator may recall any share; staff their
  // own. `reason` is a code of crypto::RevocationReason.
  Result<ShareRecall> RecallShare(const Caller& c, const std::string& message_id, const std::string& reason);
  // The egress gate (gate.h), for the dossier links.
  Gated<GateResult> Gate(NodeCore::Held& held, const Caller& c, const GateRequest& g) {
    return gate_.Decide(held, c, g);
  }
  // The gate's re-check of what it let out (EgressGate::Recheck), for a
  // dossier link when it is opened.
  Status GateRecheck(NodeCore::Held& held, const GateRequest& g) { return gate_.Recheck(held, g); }
  // Meldcode four eyes (docs/consent.md "Meldcode"). Approve: a coordinator
  // other than the requester; the share is decided again and sealed.
  Gated<MeldcodeApproval> ApproveMeldcode(const Caller& c, const std::string& message_id);
  // A coordinator other than the requester refuses a pending share with a
  // reason (1 to kMaxRejectReasonBytes printable bytes, no tab or line
  // break): cancelled, meldcode_rejected; the reason is kept in the
  // share.rejected audit entry.
  Result<MeldcodeEnded> RejectMeldcode(const Caller& c, const std::string& message_id, const std::string& reason);
  // The requester withdraws their own pending share: cancelled,
  // cancelled_by_requester. Nobody else may.
  Result<MeldcodeEnded> CancelMeldcode(const Caller& c, const std::string& message_id);
  // One share; see ShareView for who sees a justification.
  Result<ShareView> ShowShare(const Caller& c, const std::string& message_id);
  // The justification and its hash, for coordinators and auditors; audited.
  Result<MeldcodeJustification> ReadJustification(const Caller& c, const std::string& message_id);
  Result<std::vector<store::ShareRecord>> ListShares(const Caller& c);

  // The received shares, without their content (InboxRecord::summary unset):
  // a coordinator sees all, staff only those assigned to them, each marked
  // unread until this user opened it. Audited.
  Result<std::vector<InboxListItem>> ListInbox(const Caller& c);
  // One received share; opening it (content shown) marks it read for `c`.
  //
  // A received share is (sender, message id): two partners may pick the
  // same id. Here and in AssignInbox/AdoptInbox `from` names the sender;
  // empty, the id must be one partner's only (two partners' shares with it
  // are refused with kInvalidInput naming them, never one picked).
  Result<InboxView> ShowInbox(const Caller& c, const std::string& message_id, const std::string& from = "");
  // What waits for `c` (the console's start page): received shares not yet
  // opened, and for coordinators Meldcode reports waiting for a second
  // coordinator and consents ending within 30 days; links (their own, or for
  // a coordinator all) expiring within 3 days. Zero for auditors and admins.
  // Counts only: not audited, no personal data.
  Result<store::StartCounts> StartCounts(const Caller& c);
  // The e-mail notices due now (docs/console.md "What is new"): usable staff
  // and coordinators with an address for whom more received shares or
  // Meldcode reports wait than their last notice counted. Counts that went
  // down are recorded at once, so the next rise is noticed. Counts only.
  Result<std::vector<NoticeDue>> NoticesDue();
  // A notice went out: its counts are recorded, and audited notice.sent
  // (object: the user id; no address, no content).
  Status NoticeSent(const NoticeDue& notice);
  // A coordinator assigns a received share to a staff member or coordinator.
  Result<InboxAssignment> AssignInbox(const Caller& c, const std::string& message_id, const std::string& user_name,
                                      const std::string& from = "");
  // A coordinator takes a received share into the organisation's own
  // dossier on a legal basis of its own (docs/legal-basis.md "Adopted into the
  // dossier"): from then on neither retention nor a revocation purges it;
  // a revocation is answered "adopted into dossier". Audited inbox.adopted.
  Result<InboxAdoption> AdoptInbox(const Caller& c, const std::string& message_id, const std::string& basis,
                                   const std::string& from = "");
  // A coordinator confirms once that what `sender_id` sends about its
  // student `student_id` goes to `user_name` on arrival.
  Result<store::InboxRoute> RouteInbox(const Caller& c, const std::string& sender_id, const std::string& student_id,
                                       const std::string& user_name);
  Result<std::vector<store::InboxRoute>> ListInboxRoutes(const Caller& c);

  // The student register (docs/students.md), coordinators only. An import
  // is checked whole before anything is stored (formats::ParseRoster) and
  // lands in one transaction; each new student and each change is audited,
  // a change with its old and new value.
  Result<StudentImport> ImportStudents(const Caller& c, std::string_view csv);
  Result<std::vector<store::StudentRecord>> ListStudents(const Caller& c);
  Result<store::StudentRecord> ShowStudent(const Caller& c, const std::string& student_id);
  Result<store::StudentRecord> UpdateStudent(const Caller& c, const std::string& student_id, StudentChange change);

  Result<NodeStatusView> NodeStatus(const Caller& c, Instant started);
  // The names people read instead of ids: each partner's node id -> its
  // organisation's name, each user id -> the user's name. Any role, not
  // audited (no student's data).
  Result<std::map<std::string, std::string>> DisplayNames(const Caller& c);

  // The access log, for auditors only; each read is itself logged.
  // The entries found, with the names of the users and partners they name.
  Result<AuditFound> AuditQuery(const Caller& c, const audit::AuditFilter& filter);
  Result<Export> AuditExport(const Caller& c);
  // The same log as Logboek Dataverwerkingen records (audit/ldv.h; one JSON
  // line per entry, subjects pseudonymised under a node-local key). Logged
  // as audit.export with reason "format=ldv".
  Result<Export> AuditExportLdv(const Caller& c);
  // A subject access report (AVG art. 15) as entries, for whoever renders
  // it (the console's table, the API's JSON and Dutch text): for the family
  // unless `internal`, with no staff member named (audit::RedactForFamily);
  // `internal` keeps the user ids, for the auditor's own use. Audited as
  // audit.subject_report, saying which of the two it was.
  Result<audit::SubjectAccessReport> SubjectReport(const Caller& c, const std::string& subject, bool internal);

  // Console sign-in (docs/console.md). The password is checked against the
  // user's Argon2id hash without holding the core lock; kUnauthenticated for
  // an unknown user, a user without console password, a disabled user or a
  // wrong password (one message for all). Failures and successes are audited.
  Result<Caller> CheckPassword(const std::string& name, std::string_view password, const std::string& source);
  // Second step: the TOTP code for the user, accepted once (replay refused).
  Status CheckTotp(const Caller& c, std::string_view code);
  // Admins: users (with whether they have a console password) and partners
  // (with the fingerprints to compare out of band).
  Result<std::vector<UserView>> ListUsers(const Caller& c);
  Result<std::vector<PartnerView>> ListPartners(const Caller& c);
  // Accounts (store/accounts.h has the rules; each change audited): admins
  // disable, enable, remove and change roles (staff and coordinator wait for
  // a coordinator); coordinators list and confirm those grants.
  Result<AccountChanged> DisableUser(const Caller& c, const std::string& name);
  Result<AccountChanged> EnableUser(const Caller& c, const std::string& name);
  Result<AccountChanged> RemoveUser(const Caller& c, const std::string& name);
  Result<AccountChanged> SetUserRole(const Caller& c, const std::string& name, store::Role role);
  Result<AccountChanged> ConfirmGrant(const Caller& c, const std::string& name);
  Result<std::vector<PendingGrant>> ListPendingGrants(const Caller& c);
  // The caller of a console session as its user is now: kUnauthenticated
  // when the user is gone, disabled, pending or their token expired, or
  // when a change since the session began (auth_epoch: a new password, a
  // new token, a disable) ends it; else the caller with the current role.
  Result<Caller> Revalidate(const Caller& c);
  // Auditors: recomputes the stored chain and checkpoints.
  Result<AuditVerification> AuditVerify(const Caller& c);

  // Purges received shares whose retain-until has passed. Returns how many.
  Result<int> PurgeExpired();

 private:
  struct PreparedShare;
  Gated<PreparedShare> DecideShare(const Caller& c, const ShareRequest& req);
  Gated<ShareOutcome> StoreShare(const Caller& c, PreparedShare& p);
  Result<MeldcodeEnded> EndPending(const Caller& c, const std::string& message_id, bool reject,
                                   const std::string& reason);
  Gated<MeldcodeApproval> CancelOnApproval(NodeCore::Held& held, const Caller& c, const store::ShareRecord& s,
                                           consent::Decision d);
  Status EndWhatRelied(NodeCore::Held& held, const Caller& c, const std::string& consent_id, consent::CategorySet lost,
                       const std::string& replacement, Instant now, ConsentWithdrawal* out);

  // The audit policy of node_core.h, with the caller as the actor.
  [[nodiscard]] Status AuditOrFail(NodeCore::Held& held, const Caller& c, std::string action, std::string subject,
                                   std::string object, std::string purpose, std::string legal_basis,
                                   std::string outcome, std::string reason, AuditTo to = {});
  void AuditBestEffort(NodeCore::Held& held, const Caller& c, std::string action, std::string subject,
                       std::string object, std::string purpose, std::string legal_basis, std::string outcome,
                       std::string reason, AuditTo to = {});
  NodeCore& core_;
  EgressGate gate_;
};

// Re-evaluates a queued share against the consents as they are now; used by
// the delivery worker right before transmission. Returns Ok when it may still
// go, kDenied with the reasons when it must be cancelled.
Status RecheckShare(NodeCore::Held& held, const store::ShareRecord& share);

// A share that may be with its recipient (sending or delivered) is ended by
// a signed revocation: queues it (replacing one still queued), drops the
// share from the queue so it is not sent again, and marks the share revoked
// with the reason's code. Not audited here: the caller writes the entry, in
// the same transaction as this. REQUIRES: inside a transaction.
Status QueueRevocation(NodeCore::Held& held, const store::ShareRecord& share, crypto::RevocationReason reason,
                       Instant now);

// ---- Shares on the wire (on_the_wire.h; docs/consent.md "On the wire") ----

// The share as this node must treat it: a share whose row says `queued`
// but that a lane has put on the wire is shown `sending` (it may be with
// the partner: ending it needs a revocation). Exact under the node lock;
// without it, as it was a moment ago.
void SeeOnTheWire(const NodeCore& core, store::ShareRecord& share);

// A lane is about to send this share (its row read under this same hold
// says `queued`): it is on the wire from now until TakeOffTheWire. The
// first time in this process the durable marker is written first (one
// commit), so that a crash from here on makes the next start take every
// queued share as possibly sent. Not inside a transaction.
Status PutOnTheWire(NodeCore::Held& held, const std::string& message_id);

// The lane is done with a share on the wire whose answer was not recorded
// (the attempt failed, or its answer could not be written): its row goes
// `queued -> sending`, it may have reached the partner. Inside the caller's
// transaction; TakeOffTheWire once that has committed.
Status KeepAsMaybeSent(NodeCore::Held& held, const std::string& message_id);

// Off the wire, once what became of the share is durable (its answer
// recorded, or KeepAsMaybeSent committed). Until then it stays in the set:
// a share whose fate could not be written is still treated as possibly
// sent by this process, and the marker stays set for the next start.
void TakeOffTheWire(NodeCore::Held& held, const std::string& message_id);

// At start-up, before the API, the peer server or the lanes run: when the
// marker says the last run may have had shares on the wire and did not stop
// cleanly (or the database was restored from a backup), every queued share
// is taken as possibly sent (`sending`), in one transaction with clearing
// the marker. Returns how many.
Result<int> SettleAfterUncleanStop(NodeCore::Held& held, Instant now);

// At a clean stop, after the lanes have ended: clears the marker when
// nothing is left on the wire (a share whose `sending` could not be
// written keeps it set).
Status ClearOnTheWireMarker(NodeCore::Held& held);

}  // namespace schakel::service
