// What users can ask of their node, with roles enforced
// here (DESIGN.md "Roles") and every decision on personal data audited.
//
// The API server parses HTTP and JSON into these calls; the service never sees
// raw bytes from the network. Each call returns a Reply: a Status (the
// contract's exit-code classes: kInvalidInput 2, kDenied 3, ...) and a JSON
// body, which may carry details (a gate decision) even when the status is an
// error.
//
// The egress gate lives here: Share() is the only path from a case to the
// delivery queue. It asks the consent engine, projects the case onto the
// permitted categories, seals it for the recipient and queues it, in one
// transaction with its audit entry.
//
// Thread-safety: calls may come from several threads; each takes core.mu for
// its database work.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/consent/engine.h"
#include "schakel/formats/api_request.h"
#include "schakel/service/node_core.h"
#include "schakel/store/records.h"
#include "schakel/store/users.h"

namespace schakel::service {

using Json = nlohmann::json;

struct Caller {
  std::string user_id;
  std::string name;
  store::Role role = store::Role::kStaff;
  std::string source = "api";  // where the request came from, for the audit log
};

struct Reply {
  Status status;
  Json body = Json::object();
  // When set, sent as is with this content type instead of `body` (exports).
  std::optional<std::string> raw;
  std::string content_type = "application/json";

  static Reply Ok(Json body) {
    Reply r;
    r.body = std::move(body);
    return r;
  }
  static Reply Error(Status status, Json body = Json::object()) {
    Reply r;
    r.status = std::move(status);
    r.body = std::move(body);
    return r;
  }
};

// POST /v1/shares, parsed by formats::ParseShareRequest.
using ShareRequest = formats::ShareRequest;

// What the egress gate decides on: Share() and dossier links (link_service.h)
// both go through Service::Gate.
struct GateRequest {
  std::string case_id;
  std::string purpose;
  consent::Party recipient;
  std::vector<std::string> categories;  // names; empty: every category the case holds
  bool allow_partial = false;
  std::optional<consent::Override> override;
  std::string action;        // audit action prefix: "share", "link"
  std::string audit_object;  // object of a denial's audit entry
};
struct GateResult {
  store::CaseRecord kase;
  consent::Decision decision;
  Json decision_json;
  std::string legal_basis;
};

class Service {
 public:
  explicit Service(NodeCore& core) : core_(core) {}

  // Finds the user a bearer token belongs to; kUnauthenticated otherwise.
  Result<Caller> Authenticate(std::string_view bearer_token);

  Reply AddCase(const Caller& c, std::string_view summary_json);
  Reply UpdateCase(const Caller& c, const std::string& case_id, std::string_view summary_json);
  Reply ShowCase(const Caller& c, const std::string& case_id);
  Reply ListCases(const Caller& c);
  Reply AssignCase(const Caller& c, const std::string& case_id, const std::string& user_name);

  Reply AddConsent(const Caller& c, std::string_view consent_json);
  Reply WithdrawConsent(const Caller& c, const std::string& consent_id);
  Reply ListConsents(const Caller& c, const std::string& student_id);

  Reply Share(const Caller& c, const ShareRequest& request);
  // The egress gate: case access for the caller's role, the consent engine's
  // decision, and the partial rule (a permit that withholds a requested
  // category is refused unless allow_partial). Denials are audited as
  // "<action>.denied" and returned with the decision; on permit `out` holds
  // the case and decision and the Reply is Ok. REQUIRES: core.mu held.
  Reply Gate(const Caller& c, const GateRequest& g, GateResult* out);
  Reply ApproveMeldcode(const Caller& c, const std::string& message_id);
  Reply ListShares(const Caller& c);

  Reply ListInbox(const Caller& c);
  Reply ShowInbox(const Caller& c, const std::string& message_id);

  Reply NodeStatus(const Caller& c, Instant started);

  // The access log, for auditors only; each read is itself logged.
  Reply AuditQuery(const Caller& c, const audit::AuditFilter& filter);
  Reply AuditExport(const Caller& c);
  Reply AuditSubject(const Caller& c, const std::string& subject, bool as_json);

  // Console sign-in (docs/console.md). The password is checked against the
  // user's Argon2id hash without holding the core lock; kUnauthenticated for
  // an unknown user, a user without console password, a disabled user or a
  // wrong password (one message for all). Failures and successes are audited.
  Result<Caller> CheckPassword(const std::string& name, std::string_view password, const std::string& source);
  // Second step: the TOTP code for the user, accepted once (replay refused).
  Status CheckTotp(const Caller& c, std::string_view code);
  // Admins: users (with whether they have a console password) and partners
  // (with the fingerprints to compare out of band).
  Reply ListUsers(const Caller& c);
  Reply ListPartners(const Caller& c);
  // Auditors: recomputes the stored chain and checkpoints.
  Reply AuditVerify(const Caller& c);

  // Purges received shares whose retain-until has passed. Returns how many.
  Result<int> PurgeExpired();

 private:
  // The audit policy of node_core.h, with the caller as the actor.
  [[nodiscard]] Status AuditOrFail(const Caller& c, std::string action, std::string subject, std::string object,
                                   std::string purpose, std::string legal_basis, std::string outcome,
                                   std::string reason);
  void AuditBestEffort(const Caller& c, std::string action, std::string subject, std::string object,
                       std::string purpose, std::string legal_basis, std::string outcome, std::string reason);
  NodeCore& core_;
};

// Re-evaluates a queued share against the consents as they are now; used by
// the delivery worker right before transmission. Returns Ok when it may still
// go, kDenied with the reasons when it must be cancelled. REQUIRES: core.mu held.
Status RecheckShare(NodeCore& core, const store::ShareRecord& share);

}  // namespace schakel::service
