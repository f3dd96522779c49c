// Private to service/: helpers the operations' files (cases.cpp, shares.cpp,
// consents.cpp, ...) and link_service.cpp share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/consent/engine.h"
#include "schakel/service/consent_requests.h"
#include "schakel/service/node_core.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::service::internal {

inline constexpr const char* kCaseContentType = "application/vnd.schakel.case+json";
inline constexpr const char* kPendingApprover = "(pending second approval)";

// prefix + hex of `bytes` random bytes.
std::string RandomId(const char* prefix, size_t bytes);

// The names of the categories in `set`, in vocabulary order.
std::vector<std::string> CategoryNames(consent::CategorySet set);
std::vector<consent::Category> CategoriesOf(consent::CategorySet set);

// The decision's reason codes, once each, comma-separated; and "code:
// message" for each reason, for messages.
std::string ReasonCodes(const consent::Decision& d);
std::string ReasonText(const consent::Decision& d);

// A coordinator sees every case; staff the cases they created or are
// assigned to; other roles none.
bool CanSeeCase(const Caller& c, const store::CaseRecord& r);

// The rest read the database: the caller holds the node lock (NodeCore::Held)
// or, for a read that needs no lock (the gate's decision before sealing,
// EgressGate::DecideReading), reads on the reader connection (`db`).
Result<store::CaseRecord> LoadCase(store::Database& db, const std::string& case_id);
Result<store::CaseRecord> LoadCase(NodeCore::Held& held, const std::string& case_id);
Result<store::Partner> LoadPartner(store::Database& db, const std::string& node_id);
Result<store::Partner> LoadPartner(NodeCore::Held& held, const std::string& node_id);
// The consent-engine request for sharing a case's student with a partner.
Result<consent::Request> BuildRequest(store::Database& db, const NodeCore& core, const store::CaseRecord& kase,
                                      const consent::Party& recipient, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override);
Result<consent::Request> BuildRequest(NodeCore::Held& held, const store::CaseRecord& kase,
                                      const consent::Party& recipient, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override);
Result<consent::Request> BuildRequest(NodeCore::Held& held, const store::CaseRecord& kase,
                                      const store::Partner& partner, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override);

// After content decided under the lock was sealed without it: the consents
// the decision used, read again now. Ok when every one is still on file and
// not withdrawn; otherwise kDenied "consent ID was withdrawn while <doing>;
// nothing was created". Shares and links both check this before storing.
Status ConsentsStillHold(NodeCore::Held& held, const std::vector<std::string>& consent_ids, std::string_view doing);

// The share, if it is waiting for a second approval; kNotFound, or
// kInvalidInput naming its state.
Result<store::ShareRecord> PendingShare(NodeCore::Held& held, const std::string& message_id);

// Whether the caller may decide (approve or reject) a Meldcode report under
// `[meldcode] approver_role`: any coordinator when it is "coordinator";
// otherwise only a coordinator holding that function. A refusal is audited
// (`action`, deny, "not_approver_role") and is kDenied naming the function.
Status CheckMeldcodeApprover(NodeCore::Held& held, const Caller& c, const store::ShareRecord& s, const char* action);

// Lower-case hex SHA-256 of a Meldcode justification's bytes.
std::string JustificationSha256(std::string_view justification);
// ",justification_sha256=<hex>", to append to an audit entry's reason codes.
std::string JustificationRef(std::string_view justification);

// Sealed content as stored (dossier links, permission and inzage links):
// nullopt when there is none, or the salt or nonce has the wrong size (then
// no code opens it).
std::optional<crypto::SealedLink> StoredSeal(bool has_content, const std::vector<uint8_t>& salt,
                                             const std::vector<uint8_t>& nonce, const std::vector<uint8_t>& ciphertext);

// A student's permission requests with each grantor's answer, newest first
// (consent_requests.cpp; the list and the inzage report).
Result<std::vector<ConsentRequestView>> RequestViewsFor(NodeCore::Held& held, const std::string& student_id);

// consent_request_who.cpp: whom a permission request for a student of `age`
// must ask (each purpose and recipient needs a flow on consent; refused
// otherwise), and one page's content per grantor asked.
Result<consent::NeededGrantors> NeededForRequest(const NodeCore& core, const ConsentRequestInput& in,
                                                 const std::vector<GrantRecipient>& named, int age);
std::vector<GrantContent> WhoIsAsked(const GrantContent& base, consent::NeededGrantors needed,
                                     consent::AgeRules::Parents rule,
                                     const std::vector<store::GuardianRecord>& guardians);

// The audit event for a caller's action.
audit::AuditEvent CallerEvent(const Caller& c, AuditWhat what, AuditTo to = {});

// What waits for a user (Service::StartCounts, the e-mail notices): zero for
// roles other than staff and coordinator.
Result<store::StartCounts> CountWaiting(store::Database& db, Instant now, const std::string& user_id, store::Role role);

}  // namespace schakel::service::internal
