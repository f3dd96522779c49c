#include "api_server.h"
#include "schakel/daemon/daemon.h"

#include "api_json.h"
#include "metrics.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/formats/api_request.h"
#include "schakel/formats/json.h"
#include "schakel/http/router.h"
#include "schakel/http/web_server.h"
#include "subject_report_nl.h"

namespace schakel::daemon {
namespace {

using service::Op;

http::WebResponse JsonAnswer(int status, std::string body, std::string content_type = "application/json") {
  http::WebResponse res;
  res.status = status;
  res.content_type = std::move(content_type);
  res.body = std::move(body);
  return res;
}

// The answers the HTTP core gives by itself (a request it cannot read, too
// many connections), in the API's JSON error format.
http::WebResponse ApiErrorPage(const http::CoreError& e) {
  Status st = e.status == 503   ? Status::Unavailable(e.reason)
              : e.status == 500 ? Status::Internal(e.reason)
                                : Status::InvalidInput(e.reason);
  return JsonAnswer(e.status, ErrorBody(st).dump());
}

http::WebServerOptions WebOptionsFor(const ApiOptions& o) {
  http::WebServerOptions w;
  w.name = "api";
  w.tls = false;
  w.browser_headers = false;
  w.serve_stylesheet = false;
  w.split_target = false;  // formats::ParseRequestTarget reads the raw target
  w.header_limit = o.header_limit;
  w.body_limit = o.body_limit;
  // A new connection must start its request within the read deadline (one
  // that sends nothing is cut off soon); later requests may start within the
  // idle deadline. Each is then read within the read deadline.
  w.first_request_timeout = o.read_timeout;
  w.read_timeout = o.read_timeout;
  w.idle_timeout = o.idle_timeout;
  w.max_connections = o.max_connections;
  w.max_connections_per_ip = o.max_connections_per_address;
  w.max_overflow = o.max_overflow;
  w.error_page = ApiErrorPage;
  // The Service is safe to call from several threads (its locks,
  // node_core.h): a request waiting for the node lock or doing Argon2id (a
  // dossier link's code) does not hold up a status poll or a share.
  w.handler_threads = 4;
  return w;
}

// GET /v1/audit/subject/{id}: JSON as the audit library writes it, or the
// Dutch text `schakel audit subject` prints (subject_report_nl.h).
Result<service::Export> SubjectReportExport(service::Service& svc, const service::Caller& c, const std::string& subject,
                                            bool as_json, bool internal) {
  SCHAKEL_ASSIGN_OR_RETURN(audit::SubjectAccessReport report, svc.SubjectReport(c, subject, internal));
  if (as_json) return service::Export{audit::SubjectReportJson(report), "application/json"};
  auto names = svc.DisplayNames(c);
  std::map<std::string, std::string> known = names.ok() ? std::move(*names) : std::map<std::string, std::string>{};
  std::string node = known.count(report.node_id) ? known[report.node_id] : report.node_id;
  return service::Export{SubjectReportTextNl(report, known, node), "text/plain; charset=utf-8"};
}

}  // namespace

struct ApiServer::Impl {
  Service& service;
  ApiOptions options;
  NodeCore* core;                      // for /metrics; may be null
  LinkService* links;                  // for /v1/links; may be null
  SignInThrottle* throttle;            // for /v1/users/*/unlock (with core); may be null
  service::ConsentRequests* requests;  // for /v1/consent-requests; may be null
  Instant started{};
  // Declared last: destroyed (its thread stopped) first, while the members
  // its handler uses still exist.
  std::unique_ptr<http::WebServer> server;

  Impl(Service& s, ApiOptions o, NodeCore* c, LinkService* l, SignInThrottle* t, service::ConsentRequests* q)
      : service(s), options(std::move(o)), core(c), links(l), throttle(t), requests(q) {}

  // What one API route gets: the caller, the parsed target, its "*"
  // segments and the body.
  struct Call {
    const Caller& caller;
    const std::string& method;
    const formats::RequestTarget& target;
    const std::vector<std::string>& params;
    const std::string& body;
    std::string Query(const char* key) const {
      auto it = target.query.find(key);
      return it == target.query.end() ? std::string() : it->second;
    }
  };
  using Handler = Reply (*)(Impl&, const Call&);

  // The API's routes, one row each (docs/api.md); roles are checked per
  // operation (operations.h) by the Service and the LinkService, and
  // refusals audited there; /metrics checks its Op here.
  // long-function: one table, a row per route, read in one place.
  static const http::RouteTable<Handler>& Routes() {
    static const http::RouteTable<Handler> table({
        {"GET", "/v1/status", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.NodeStatus(c.caller, i.started)); }},
        {"POST", "/v1/cases", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kAddCase); !st.ok()) return Reply::Error(st);
           auto summary = ParseCaseBody(c.body);
           if (!summary.ok()) return Reply::Error(summary.status());
           return JsonReply(i.service.AddCase(c.caller, std::move(*summary)));
         }},
        {"GET", "/v1/cases", 0, [](Impl& i, const Call& c) { return JsonReply(i.service.ListCases(c.caller)); }},
        {"GET", "/v1/cases/*", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ShowCase(c.caller, c.params[0])); }},
        {"PUT", "/v1/cases/*", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kUpdateCase); !st.ok()) return Reply::Error(st);
           auto summary = ParseCaseBody(c.body);
           if (!summary.ok()) return Reply::Error(summary.status());
           return JsonReply(i.service.UpdateCase(c.caller, c.params[0], std::move(*summary)));
         }},
        {"POST", "/v1/cases/*/assign", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kAssignCase); !st.ok()) return Reply::Error(st);
           auto user = formats::ParseSingleStringField(c.body, "user");
           if (!user.ok()) return Reply::Error(user.status());
           return JsonReply(i.service.AssignCase(c.caller, c.params[0], *user));
         }},
        {"POST", "/v1/consents", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kAddConsent); !st.ok()) return Reply::Error(st);
           auto consent = ParseConsentBody(c.body);
           if (!consent.ok()) return Reply::Error(consent.status());
           return JsonReply(i.service.AddConsent(c.caller, std::move(*consent)), ConsentIdJson);
         }},
        {"GET", "/v1/consents", 0,
         [](Impl& i, const Call& c) {
           if (!c.target.query.count("student")) return Reply::Error(Status::InvalidInput("student: missing"));
           return JsonReply(i.service.ListConsents(c.caller, c.Query("student")));
         }},
        {"POST", "/v1/consents/*/withdraw", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.WithdrawConsent(c.caller, c.params[0])); }},
        {"POST", "/v1/shares", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kShare); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseShareRequest(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           return JsonReply(i.service.Share(c.caller, *req));
         }},
        {"GET", "/v1/shares", 0, [](Impl& i, const Call& c) { return JsonReply(i.service.ListShares(c.caller)); }},
        {"GET", "/v1/shares/*", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ShowShare(c.caller, c.params[0])); }},
        {"POST", "/v1/shares/*/approve", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ApproveMeldcode(c.caller, c.params[0])); }},
        {"POST", "/v1/shares/*/recall", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kRecallShare); !st.ok()) return Reply::Error(st);
           auto reason = formats::ParseSingleStringField(c.body, "reason");
           if (!reason.ok()) return Reply::Error(reason.status());
           return JsonReply(i.service.RecallShare(c.caller, c.params[0], *reason));
         }},
        {"POST", "/v1/shares/*/reject", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kRejectMeldcode); !st.ok()) return Reply::Error(st);
           auto reason = formats::ParseSingleStringField(c.body, "reason", service::kMaxRejectReasonBytes);
           if (!reason.ok()) return Reply::Error(reason.status());
           return JsonReply(i.service.RejectMeldcode(c.caller, c.params[0], *reason));
         }},
        {"POST", "/v1/shares/*/cancel", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.CancelMeldcode(c.caller, c.params[0])); }},
        {"GET", "/v1/shares/*/justification", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ReadJustification(c.caller, c.params[0])); }},
        {"GET", "/v1/audit/export", 0,
         [](Impl& i, const Call& c) {
           std::string format = c.Query("format");
           if (format == "ldv") return RawReply(i.service.AuditExportLdv(c.caller));
           if (!format.empty() && format != "schakel") {
             return Reply::Error(Status::InvalidInput("format: expected schakel (the default) or ldv"));
           }
           return RawReply(i.service.AuditExport(c.caller));
         }},
        {"GET", "/v1/audit/subject/*", 0,
         [](Impl& i, const Call& c) {
           return RawReply(SubjectReportExport(i.service, c.caller, c.params[0], c.Query("format") == "json",
                                               c.Query("internal") == "1"));
         }},
        {"GET", "/v1/audit/entries", 0,
         [](Impl& i, const Call& c) {
           audit::AuditFilter filter;
           filter.subject = c.Query("student");
           filter.user = c.Query("user");
           filter.action = c.Query("action");
           if (c.target.query.count("since")) {
             auto since = ParseInstant(c.Query("since"));
             if (!since.ok()) return Reply::Error(since.status().WithContext("since"));
             filter.since = *since;
           }
           return JsonReply(i.service.AuditQuery(c.caller, filter));
         }},
        {"GET", "/v1/inbox", 0, [](Impl& i, const Call& c) { return JsonReply(i.service.ListInbox(c.caller)); }},
        {"GET", "/v1/inbox/*", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ShowInbox(c.caller, c.params[0], c.Query("from"))); }},
        {"POST", "/v1/inbox/*/assign", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kAssignInbox); !st.ok()) return Reply::Error(st);
           auto user = formats::ParseSingleStringField(c.body, "user");
           if (!user.ok()) return Reply::Error(user.status());
           return JsonReply(i.service.AssignInbox(c.caller, c.params[0], *user, c.Query("from")));
         }},
        {"POST", "/v1/inbox/*/adopt", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kAdoptInbox); !st.ok()) return Reply::Error(st);
           auto basis = formats::ParseSingleStringField(c.body, "basis");
           if (!basis.ok()) return Reply::Error(basis.status());
           return JsonReply(i.service.AdoptInbox(c.caller, c.params[0], *basis, c.Query("from")));
         }},
        {"GET", "/v1/inbox-routes", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ListInboxRoutes(c.caller)); }},
        {"POST", "/v1/inbox-routes", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kRouteInbox); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseInboxRoute(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           return JsonReply(i.service.RouteInbox(c.caller, req->sender, req->student, req->user));
         }},
        {"POST", "/v1/students/import", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kImportStudents); !st.ok()) return Reply::Error(st);
           auto csv = formats::ParseRosterUpload(c.body);
           if (!csv.ok()) return Reply::Error(csv.status());
           return JsonReply(i.service.ImportStudents(c.caller, *csv));
         }},
        {"GET", "/v1/students", 0, [](Impl& i, const Call& c) { return JsonReply(i.service.ListStudents(c.caller)); }},
        {"GET", "/v1/students/*", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ShowStudent(c.caller, c.params[0])); }},
        {"PUT", "/v1/students/*", 0,
         [](Impl& i, const Call& c) {
           if (Status st = service::Authorize(c.caller, Op::kUpdateStudent); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseStudentChange(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           service::StudentChange change{req->name, req->birth_date, std::nullopt};
           if (req->guardians) {
             change.guardians.emplace();
             for (const auto& g : *req->guardians) change.guardians->push_back({g.name, g.authority});
           }
           return JsonReply(i.service.UpdateStudent(c.caller, c.params[0], std::move(change)));
         }},
        {"GET", "/v1/links", 0,
         [](Impl& i, const Call& c) {
           if (i.links == nullptr) return NoEndpoint(c);
           return JsonReply(i.links->List(c.caller));
         }},
        {"POST", "/v1/links", 0,
         [](Impl& i, const Call& c) {
           if (i.links == nullptr) return NoEndpoint(c);
           if (Status st = service::Authorize(c.caller, Op::kCreateLink); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseLinkRequest(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           return JsonReply(i.links->Create(c.caller, *req));
         }},
        {"POST", "/v1/links/*/revoke", 0,
         [](Impl& i, const Call& c) {
           if (i.links == nullptr) return NoEndpoint(c);
           if (!IsValidObjectId(c.params[0])) return Reply::Error(Status::InvalidInput("not a link id"));
           return JsonReply(i.links->Revoke(c.caller, c.params[0]));
         }},
        {"POST", "/v1/links/*/new-code", 0,
         [](Impl& i, const Call& c) {
           if (i.links == nullptr) return NoEndpoint(c);
           if (!IsValidObjectId(c.params[0])) return Reply::Error(Status::InvalidInput("not a link id"));
           return JsonReply(i.links->NewCode(c.caller, c.params[0]));
         }},
        {"POST", "/v1/consent-requests", 0,
         [](Impl& i, const Call& c) {
           if (i.requests == nullptr) return NoEndpoint(c);
           if (Status st = service::Authorize(c.caller, Op::kRequestConsent); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseConsentRequestBody(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           service::ConsentRequestInput in{req->student,    req->recipients,  req->purposes,
                                           req->categories, req->valid_until, req->answer_days};
           return JsonReply(i.requests->Create(c.caller, in));
         }},
        {"GET", "/v1/consent-requests", 0,
         [](Impl& i, const Call& c) {
           if (i.requests == nullptr) return NoEndpoint(c);
           if (!c.target.query.count("student")) return Reply::Error(Status::InvalidInput("student: missing"));
           return JsonReply(i.requests->ListForStudent(c.caller, c.Query("student")));
         }},
        {"POST", "/v1/inzage-links", 0,
         [](Impl& i, const Call& c) {
           if (i.requests == nullptr) return NoEndpoint(c);
           if (Status st = service::Authorize(c.caller, Op::kIssueInzage); !st.ok()) return Reply::Error(st);
           auto req = formats::ParseInzageLinkBody(c.body);
           if (!req.ok()) return Reply::Error(req.status());
           return JsonReply(i.requests->CreateInzage(c.caller, req->student, req->for_role, req->days));
         }},
        // Clears a user's console sign-in waits (sign_in_throttle.h), admin only.
        {"POST", "/v1/users/*/unlock", 0,
         [](Impl& i, const Call& c) {
           if (i.core == nullptr || i.throttle == nullptr) return NoEndpoint(c);
           auto cleared = UnlockUser(*i.core, *i.throttle, c.caller, c.params[0]);
           if (!cleared.ok()) return Reply::Error(cleared.status());
           Reply r;
           r.body = {{"user", c.params[0]}, {"unlocked", true}, {"addresses", *cleared}};
           return r;
         }},
        {"GET", "/v1/users/pending", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ListPendingGrants(c.caller)); }},
        {"POST", "/v1/users/*/confirm", 0,
         [](Impl& i, const Call& c) { return JsonReply(i.service.ConfirmGrant(c.caller, c.params[0])); }},
        // Prometheus text (metrics.h), admin only.
        {"GET", "/metrics", 0,
         [](Impl& i, const Call& c) {
           if (i.core == nullptr) return NoEndpoint(c);
           if (Status st = service::Authorize(c.caller, Op::kReadMetrics); !st.ok()) return Reply::Error(st);
           Result<std::string> text = PrometheusText(*i.core);
           if (!text.ok()) return Reply::Error(text.status());
           Reply r;
           r.raw = std::move(*text);
           r.content_type = kPrometheusContentType;
           return r;
         }},
    });
    return table;
  }

  static Reply NoEndpoint(const Call& c) {
    return Reply::Error(Status::NotFound("no such endpoint: " + c.method + " /" + Join(c.target.parts, "/")));
  }

  Reply Route(const Caller& caller, const std::string& method, const formats::RequestTarget& t,
              const std::string& body) {
    const std::string path = "/" + Join(t.parts, "/");
    auto match = Routes().Find(method, path);
    if (match.route == nullptr) {
      if (t.parts.empty() || t.parts[0] != "v1") return Reply::Error(Status::NotFound("no such endpoint"));
      return Reply::Error(Status::NotFound("no such endpoint: " + method + " " + path));
    }
    return match.route->handler(*this, Call{caller, method, t, match.params, body});
  }

  http::WebResponse Handle(const http::WebRequest& req) {
    const std::string& auth = req.authorization;
    auto finish = [&auth](const Reply& reply, const std::string& content_type = "application/json") {
      if (!reply.status.ok()) {
        http::WebResponse res =
            JsonAnswer(http::HttpStatusFor(reply.status), ErrorBody(reply.status, reply.body).dump(), content_type);
        if (reply.status.code() == Code::kUnauthenticated) {
          // RFC 6750 section 3: the scheme, and why a token that was sent failed.
          res.headers.emplace_back("WWW-Authenticate", auth.empty()
                                                           ? "Bearer realm=\"schakel\""
                                                           : "Bearer realm=\"schakel\", error=\"invalid_token\"");
        }
        return res;
      }
      if (reply.raw) return JsonAnswer(200, *reply.raw, reply.content_type);
      return JsonAnswer(200, content_type == "application/json" ? reply.body.dump() : reply.body.get<std::string>(),
                        content_type);
    };
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.compare(0, kBearer.size(), kBearer) != 0) {
      return finish(Reply::Error(Status::Unauthenticated("missing bearer token (Authorization: Bearer ...)")));
    }
    auto caller = service.Authenticate(std::string_view(auth).substr(kBearer.size()));
    if (!caller.ok()) return finish(Reply::Error(caller.status()));
    auto t = formats::ParseRequestTarget(req.target);
    if (!t.ok()) return finish(Reply::Error(t.status()));
    const std::string path = "/" + Join(t->parts, "/");
    if (Routes().Find(req.method, path).route == nullptr) {
      // The path is served, the method is not: 405 with the methods that are.
      std::vector<std::string_view> allowed = Routes().MethodsFor(path);
      if (!allowed.empty()) {
        std::string list;
        for (auto m : allowed) list += (list.empty() ? "" : ", ") + std::string(m);
        Json body = {{"error",
                      {{"code", "method_not_allowed"},
                       {"message", req.method + " is not served at " + path + "; use " + list}}}};
        http::WebResponse res = JsonAnswer(405, body.dump());
        res.headers.emplace_back("Allow", list);
        return res;
      }
    }
    return finish(Route(*caller, req.method, *t, req.body));
  }
};

std::vector<std::string> ApiRoutes() {
  std::vector<std::string> out;
  for (const auto& r : ApiServer::Impl::Routes().routes())
    out.push_back(std::string(r.method) + " " + std::string(r.pattern));
  return out;
}

ApiServer::ApiServer(Service& service, ApiOptions options, NodeCore* core, LinkService* links, SignInThrottle* throttle,
                     service::ConsentRequests* requests)
    : impl_(std::make_unique<Impl>(service, std::move(options), core, links, throttle, requests)) {
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<http::WebServer>([impl](const http::WebRequest& r) { return impl->Handle(r); },
                                                    WebOptionsFor(impl_->options));
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const config::Address& address, Instant started) {
  impl_->started = started;
  SCHAKEL_RETURN_IF_ERROR(impl_->server->Start(address));
  port_ = impl_->server->port();
  return Status::Ok();
}

void ApiServer::Stop() {
  if (impl_) impl_->server->Stop();
}

}  // namespace schakel::daemon
