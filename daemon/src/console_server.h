// Private to daemon/: the staff console (docs/console.md), the request
// handler served by an http::WebServer on [console] listen.
//
// Every page that touches data calls the same Service methods as the JSON
// API, with a Caller whose source is "console"; roles, the egress gate and
// the audit log are enforced there. This class adds only what a browser
// needs: sign-in (password, then TOTP), sessions in a __Host- cookie
// (HttpOnly, Secure, SameSite=Strict), a CSRF token in every form checked on
// every POST, a same-origin check of Origin / Sec-Fetch-Site, and a growing
// wait after failed sign-ins per (user name, client address) plus a limit
// per client address (SignInThrottle, shared with the API's unlock route).
//
// Thread-safety: Handle() may be called from any thread; the sessions and the
// rate limiters lock their own state.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "console_sessions.h"
#include "schakel/base/clock.h"
#include "schakel/http/router.h"
#include "schakel/http/web_server.h"
#include "schakel/service/consent_requests.h"
#include "service_names.h"
#include "sign_in_throttle.h"

namespace schakel::daemon {

inline constexpr const char* kConsoleCookie = "__Host-schakel_sessie";

struct ConsoleOptions {
  ConsoleSessionOptions sessions;
  std::string node_id;
  std::string node_name;  // [node] name, shown in the header; node_id when empty
  Instant started{};
};

class ConsoleServer {
 public:
  // `throttle` counts failed sign-in steps; `links` may be null (then the
  // console offers no dossier links), `requests` too (then no permission
  // requests). All must outlive this server.
  ConsoleServer(Service& service, const Clock& clock, ConsoleOptions options, SignInThrottle& throttle,
                LinkService* links = nullptr, service::ConsentRequests* requests = nullptr);
  http::WebResponse Handle(const http::WebRequest& request);
  ConsoleSessions& sessions() { return sessions_; }
  friend std::vector<std::string> ConsoleRoutes();

 private:
  // The page for a sign-in step that must wait `wait` first.
  static http::WebResponse WaitPage(std::chrono::milliseconds wait);

  // A signed-in request whose CSRF token (on POST) was checked: looked up in
  // Routes() and handed to its page handler.
  http::WebResponse SignInPassword(const http::WebRequest& req, std::map<std::string, std::string>& form,
                                   const std::string& address);
  http::WebResponse SignInCode(const http::WebRequest& req, const std::map<std::string, std::string>& form,
                               const std::string& address, const std::string& cookie_id);
  http::WebResponse SignedIn(const http::WebRequest& req, const ConsoleSession& session,
                             const std::map<std::string, std::string>& form);

  // Authorize, parse (as the API does), AddCase.
  Result<service::CaseSaved> AddCaseFrom(const Caller& c, const std::string& json);

  struct PageCall;
  using PageHandler = http::WebResponse (ConsoleServer::*)(const PageCall&);
  static const http::RouteTable<PageHandler>& Routes();
  http::WebResponse Home(const PageCall& p);
  http::WebResponse UserAction(const PageCall& p);
  http::WebResponse PendingGrants(const PageCall& p);
  http::WebResponse ConfirmGrant(const PageCall& p);
  http::WebResponse CasesPage(const PageCall& p);
  http::WebResponse AddCase(const PageCall& p);
  http::WebResponse CasePage(const PageCall& p);
  http::WebResponse UpdateCase(const PageCall& p);
  http::WebResponse ExportCase(const PageCall& p);
  http::WebResponse CreateLink(const PageCall& p);
  http::WebResponse NothingTicked(const PageCall& p, service::Op op);
  http::WebResponse SharePreview(const PageCall& p);
  http::WebResponse ShareCheck(const PageCall& p);
  http::WebResponse LinkCheck(const PageCall& p);
  http::WebResponse ShareSend(const PageCall& p);
  http::WebResponse ShareForm(const PageCall& p, bool dry_run);
  http::WebResponse SharesPage(const PageCall& p);
  http::WebResponse SharePage(const PageCall& p);
  http::WebResponse ApproveMeldcode(const PageCall& p);
  http::WebResponse RejectMeldcode(const PageCall& p);
  http::WebResponse CancelMeldcode(const PageCall& p);
  http::WebResponse InboxPage(const PageCall& p);
  http::WebResponse InboxItemPage(const PageCall& p);
  http::WebResponse Feedback(const PageCall& p);
  http::WebResponse AssignInbox(const PageCall& p);
  http::WebResponse AdoptInbox(const PageCall& p);
  http::WebResponse StudentsPage(const PageCall& p);
  http::WebResponse ImportStudents(const PageCall& p);
  http::WebResponse ConsentsPage(const PageCall& p);
  http::WebResponse AddConsent(const PageCall& p);
  http::WebResponse WithdrawConsent(const PageCall& p);
  http::WebResponse RequestConsent(const PageCall& p);
  http::WebResponse AuditPage(const PageCall& p);
  http::WebResponse AuditVerify(const PageCall& p);
  http::WebResponse AuditExport(const PageCall& p);
  http::WebResponse AuditSubject(const PageCall& p);
  http::WebResponse AdminPage(const PageCall& p);

  Service& service_;
  LinkService* links_;
  service::ConsentRequests* requests_;
  ConsoleOptions options_;
  ConsoleSessions sessions_;
  SignInThrottle& throttle_;  // failed sign-in steps per (user, address) and per address
};

}  // namespace schakel::daemon
