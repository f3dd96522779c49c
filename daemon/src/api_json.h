// Private to daemon/: the service's typed results as the local API's JSON
// bodies (docs/api.md), and the API's JSON request bodies as the service's
// typed inputs, and Reply, an answer on its way to HTTP.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/formats/case_summary.h"
#include "service_names.h"

namespace schakel::daemon {

using Json = nlohmann::json;

// One API answer before it becomes HTTP: a status and a JSON body (on an
// error, details beside {"error": ...}), or raw bytes with their content type.
struct Reply {
  Status status;
  Json body = Json::object();
  // When set, sent as is with this content type instead of `body`.
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

Json ToJson(const consent::Decision& d);
Json ToJson(const service::CaseSaved& r);                      // {case_id, version}
Json ToJson(const service::CaseView& r);                       // GET /v1/cases/{id}
Json ToJson(const std::vector<service::CaseListItem>& list);   // {cases: [...]}
Json ToJson(const service::CaseAssignment& r);                 // {case_id, assigned}
Json ToJson(const service::ConsentWithdrawal& r);              // {consent_id, withdrawn_at, cancelled, ...}
Json ToJson(const service::StudentConsents& r);                // {student_id, consents: [...]}
Json ToJson(const service::ShareOutcome& r);                   // {message_id, state, decision} or dry run
Json ToJson(const service::ShareRecall& r);                    // {message_id, state, reason}
Json ToJson(const service::MeldcodeApproval& r);               // {message_id, state, approved_by}
Json ToJson(const service::MeldcodeEnded& r);                  // {message_id, state, state_reason, by}
Json ToJson(const service::ShareView& r);                      // one share, justification when shown
Json ToJson(const service::MeldcodeJustification& r);          // {message_id, ..., justification, sha256}
Json ToJson(const std::vector<store::ShareRecord>& list);      // {shares: [...]}
Json ToJson(const std::vector<service::InboxListItem>& list);  // {inbox: [...]}, each with unread
Json ToJson(const service::InboxView& r);                      // one item with its summary
Json ToJson(const service::InboxAssignment& r);                // {message_id, from, assigned}
Json ToJson(const service::InboxAdoption& r);                  // {message_id, from, adopted_at, adopted_by, basis}
Json ToJson(const store::InboxRoute& r);                       // {sender, student, user, confirmed_by, confirmed}
Json ToJson(const std::vector<store::InboxRoute>& list);       // {routes: [...]}
Json ToJson(const service::StudentImport& r);                  // {added, updated, unchanged}
Json ToJson(const store::StudentRecord& r);                    // one registered student
Json ToJson(const std::vector<store::StudentRecord>& list);    // {students: [...]}
Json ToJson(const service::NodeStatusView& r);                 // GET /v1/status
Json ToJson(const service::AuditFound& found);                 // {entries: [...]}, with actor and org names
Json ToJson(const std::vector<service::UserView>& list);       // {users: [...]}
Json ToJson(const std::vector<service::PartnerView>& list);    // {partners: [...]}
Json ToJson(const service::AccountChanged& r);                 // {name, user_id, action}
Json ToJson(const std::vector<service::PendingGrant>& list);   // {pending: [...]}
Json ToJson(const service::AuditVerification& r);              // {ok[, problem]}
Json ConsentIdJson(const std::string& consent_id);             // {consent_id}
Json ToJson(const service::LinkCreated& r);                    // {link_id, url, code, expires, categories, ...}
Json ToJson(const std::vector<service::LinkView>& list);       // {links: [...]}
Json ToJson(const service::LinkRevoked& r);                    // {link_id, state}
Json ToJson(const service::LinkNewCode& r);                    // {link_id, url, code, expires}
// POST /v1/consent-requests: {request_id, expires, links: [{grant_id, grantor_role, url, code}]}
Json ToJson(const service::ConsentRequestCreated& r);
// GET /v1/consent-requests?student=: {requests: [{..., grantors: [...]}]}
Json ToJson(const std::vector<service::ConsentRequestView>& list);
// POST /v1/inzage-links: {link_id, url, code, expires}
Json ToJson(const service::InzageLinkCreated& r);

// An error's body: {"error": {"code", "message"}} beside `details`.
Json ErrorBody(const Status& st, Json details = Json::object());

// A service answer as the API's JSON reply; a gate refusal carries its
// decision beside the error.
template <typename T, typename Render>
Reply JsonReply(const Result<T>& r, Render render) {
  if (!r.ok()) return Reply::Error(r.status());
  return Reply::Ok(render(*r));
}
template <typename T>
Reply JsonReply(const Result<T>& r) {
  return JsonReply(r, [](const T& v) { return ToJson(v); });
}
template <typename T>
Reply JsonReply(const service::Gated<T>& r) {
  if (!r.ok()) {
    Json details = Json::object();
    if (r.refused_on()) details["decision"] = ToJson(*r.refused_on());
    return Reply::Error(r.status(), std::move(details));
  }
  return Reply::Ok(ToJson(*r));
}
// Bytes as they are (exports).
Reply RawReply(const Result<service::Export>& r);

// POST /v1/cases and PUT /v1/cases/{id}: a case summary, case_id optional.
Result<formats::CaseSummary> ParseCaseBody(std::string_view body);
// POST /v1/consents: the consent itself, or {"consent": {...}, "evidence": "..."}.
Result<service::NewConsent> ParseConsentBody(std::string_view body);

}  // namespace schakel::daemon
