#include "api_server.h"

#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/formats/api_request.h"
#include "schakel/formats/json.h"
#include "schakel/http/web_server.h"

namespace schakel::daemon {
namespace {

Json ErrorBody(const Status& st, Json details = Json::object()) {
  details["error"] = {{"code", std::string(st.CodeName())}, {"message", st.message()}};
  return details;
}

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
  w.split_target = false;  // formats::ParseRequestTarget and the ExtraRoutes read the raw target
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
  return w;
}

}  // namespace

struct ApiServer::Impl {
  Service& service;
  ApiOptions options;
  Instant started{};
  std::vector<ExtraRoute> routes;
  // Declared last: destroyed (its thread stopped) first, while the members
  // its handler uses still exist.
  std::unique_ptr<http::WebServer> server;

  Impl(Service& s, ApiOptions o) : service(s), options(std::move(o)) {}

  Reply Route(const Caller& caller, const std::string& method, const formats::RequestTarget& t,
              const std::string& body) {
    const auto& p = t.parts;
    auto is = [&](std::initializer_list<const char*> want) {
      if (p.size() != want.size()) return false;
      size_t i = 0;
      for (const char* w : want) {
        if (std::string(w) != "*" && p[i] != w) return false;
        ++i;
      }
      return true;
    };
    if (p.empty() || p[0] != "v1") return Reply::Error(Status::NotFound("no such endpoint"));
    if (method == "GET" && is({"v1", "status"})) return service.NodeStatus(caller, started);
    if (method == "POST" && is({"v1", "cases"})) return service.AddCase(caller, body);
    if (method == "GET" && is({"v1", "cases"})) return service.ListCases(caller);
    if (method == "GET" && is({"v1", "cases", "*"})) return service.ShowCase(caller, p[2]);
    if (method == "PUT" && is({"v1", "cases", "*"})) return service.UpdateCase(caller, p[2], body);
    if (method == "POST" && is({"v1", "cases", "*", "assign"})) {
      auto user = formats::ParseSingleStringField(body, "user");
      if (!user.ok()) return Reply::Error(user.status());
      return service.AssignCase(caller, p[2], *user);
    }
    if (method == "POST" && is({"v1", "consents"})) return service.AddConsent(caller, body);
    if (method == "GET" && is({"v1", "consents"})) {
      auto it = t.query.find("student");
      if (it == t.query.end()) return Reply::Error(Status::InvalidInput("student: missing"));
      return service.ListConsents(caller, it->second);
    }
    if (method == "POST" && is({"v1", "consents", "*", "withdraw"})) return service.WithdrawConsent(caller, p[2]);
    if (method == "POST" && is({"v1", "shares"})) {
      auto req = formats::ParseShareRequest(body);
      if (!req.ok()) return Reply::Error(req.status());
      return service.Share(caller, *req);
    }
    if (method == "GET" && is({"v1", "shares"})) return service.ListShares(caller);
    if (method == "POST" && is({"v1", "shares", "*", "approve"})) return service.ApproveMeldcode(caller, p[2]);
    if (method == "GET" && is({"v1", "audit", "export"})) return service.AuditExport(caller);
    if (method == "GET" && is({"v1", "audit", "subject", "*"})) {
      return service.AuditSubject(caller, p[3], t.query.count("format") && t.query.at("format") == "json");
    }
    if (method == "GET" && is({"v1", "audit", "entries"})) {
      audit::AuditFilter filter;
      if (auto it = t.query.find("student"); it != t.query.end()) filter.subject = it->second;
      if (auto it = t.query.find("user"); it != t.query.end()) filter.user = it->second;
      if (auto it = t.query.find("action"); it != t.query.end()) filter.action = it->second;
      if (auto it = t.query.find("since"); it != t.query.end()) {
        auto since = ParseInstant(it->second);
        if (!since.ok()) return Reply::Error(since.status().WithContext("since"));
        filter.since = *since;
      }
      return service.AuditQuery(caller, filter);
    }
    if (method == "GET" && is({"v1", "inbox"})) return service.ListInbox(caller);
    if (method == "GET" && is({"v1", "inbox", "*"})) return service.ShowInbox(caller, p[2]);
    return Reply::Error(Status::NotFound("no such endpoint: " + method + " /" + Join(p, "/")));
  }

  http::WebResponse Handle(const http::WebRequest& req) {
    auto finish = [](const Reply& reply, const std::string& content_type = "application/json") {
      if (!reply.status.ok()) {
        return JsonAnswer(http::HttpStatusFor(reply.status), ErrorBody(reply.status, reply.body).dump(), content_type);
      }
      if (reply.raw) return JsonAnswer(200, *reply.raw, reply.content_type);
      return JsonAnswer(200, content_type == "application/json" ? reply.body.dump() : reply.body.get<std::string>(),
                        content_type);
    };
    const std::string& auth = req.authorization;
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.compare(0, kBearer.size(), kBearer) != 0) {
      return finish(Reply::Error(Status::Unauthenticated("missing bearer token (Authorization: Bearer ...)")));
    }
    auto caller = service.Authenticate(std::string_view(auth).substr(kBearer.size()));
    if (!caller.ok()) return finish(Reply::Error(caller.status()));
    for (const auto& route : routes) {
      Reply reply;
      std::string content_type = "application/json";
      if (route(*caller, req.method, req.target, req.body, &reply, &content_type)) return finish(reply, content_type);
    }
    auto t = formats::ParseRequestTarget(req.target);
    if (!t.ok()) return finish(Reply::Error(t.status()));
    return finish(Route(*caller, req.method, *t, req.body));
  }
};

ApiServer::ApiServer(Service& service, ApiOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<http::WebServer>([impl](const http::WebRequest& r) { return impl->Handle(r); },
                                                    WebOptionsFor(impl_->options));
}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::AddRoute(ExtraRoute route) { impl_->routes.push_back(std::move(route)); }

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
