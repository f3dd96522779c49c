#include "api_server.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/formats/api_request.h"
#include "schakel/formats/json.h"

namespace schakel::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

http::status HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case Code::kOk: return http::status::ok;
    case Code::kInvalidInput: return http::status::bad_request;
    case Code::kNotFound: return http::status::not_found;
    case Code::kAlreadyExists: return http::status::conflict;
    case Code::kDenied: return http::status::forbidden;
    case Code::kUnauthenticated: return http::status::unauthorized;
    case Code::kUnavailable: return http::status::service_unavailable;
    case Code::kResourceExhausted: return http::status::insufficient_storage;
    default: return http::status::internal_server_error;
  }
}

Json ErrorBody(const Status& st, Json details = Json::object()) {
  details["error"] = {{"code", std::string(st.CodeName())}, {"message", st.message()}};
  return details;
}

}  // namespace

struct ApiServer::Impl {
  Service& service;
  ApiOptions options;
  Instant started{};
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<int> connections{0};
  std::vector<ExtraRoute> routes;

  Impl(Service& s, ApiOptions o) : service(s), options(std::move(o)) {}

  Reply Route(const Caller& caller, const std::string& method, const formats::RequestTarget& t, const std::string& body) {
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

  http::response<http::string_body> Handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    auto finish = [&](const Reply& reply, const std::string& content_type = "application/json") {
      if (reply.status.ok()) {
        res.result(http::status::ok);
        if (reply.raw) {
          res.body() = *reply.raw;
          res.set(http::field::content_type, reply.content_type);
          res.prepare_payload();
          return res;
        }
        res.body() = content_type == "application/json" ? reply.body.dump() : reply.body.get<std::string>();
      } else {
        res.result(HttpStatusFor(reply.status));
        res.body() = ErrorBody(reply.status, reply.body).dump();
      }
      res.set(http::field::content_type, content_type);
      res.prepare_payload();
      return res;
    };
    std::string auth(req[http::field::authorization]);
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.compare(0, kBearer.size(), kBearer) != 0) {
      return finish(Reply::Error(Status::Unauthenticated("missing bearer token (Authorization: Bearer ...)")));
    }
    auto caller = service.Authenticate(std::string_view(auth).substr(kBearer.size()));
    if (!caller.ok()) return finish(Reply::Error(caller.status()));
    std::string method(req.method_string());
    std::string target(req.target());
    for (const auto& route : routes) {
      Reply reply;
      std::string content_type = "application/json";
      if (route(*caller, method, target, req.body(), &reply, &content_type)) return finish(reply, content_type);
    }
    auto t = formats::ParseRequestTarget(target);
    if (!t.ok()) return finish(Reply::Error(t.status()));
    return finish(Route(*caller, method, *t, req.body()));
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    struct Counter {
      std::atomic<int>& n;
      ~Counter() { n.fetch_sub(1); }
    } counter{connections};
    bool first = true;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      stream.expires_after(first ? options.read_timeout : options.idle_timeout);
      first = false;
      beast::error_code ec;
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        http::status status = http::status::unknown;
        if (ec == http::error::body_limit) status = http::status::payload_too_large;
        if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
        if (ec == http::error::bad_target || ec == http::error::bad_method || ec == http::error::bad_version ||
            ec == http::error::bad_field || ec == http::error::bad_value ||
            ec == http::error::bad_chunk || ec == http::error::bad_content_length) {
          status = http::status::bad_request;
        }
        if (status != http::status::unknown) {
          http::response<http::string_body> res{status, 11};
          res.set(http::field::content_type, "application/json");
          res.set(http::field::connection, "close");
          res.body() = ErrorBody(Status::InvalidInput(ec.message())).dump();
          res.prepare_payload();
          stream.expires_after(options.read_timeout);
          co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        }
        break;
      }
      auto res = Handle(parser.get());
      stream.expires_after(options.read_timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> Accept() {
    while (acceptor.is_open()) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        continue;
      }
      if (connections.fetch_add(1) >= options.max_connections) {
        connections.fetch_sub(1);
        static constexpr std::string_view kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
            "Content-Length: 74\r\n\r\n{\"error\":{\"code\":\"unavailable\",\"message\":\"too many open connections\"}}";
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ignored);
        socket.close(ignored);
        continue;
      }
      asio::co_spawn(io, Session(std::move(socket)), asio::detached);
    }
  }
};

ApiServer::ApiServer(Service& service, ApiOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::AddRoute(ExtraRoute route) { impl_->routes.push_back(std::move(route)); }

Status ApiServer::Start(const config::Address& address, Instant started) {
  impl_->started = started;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Status::InvalidInput("api.listen: the API listens on an IP address, not " + address.host);
  tcp::endpoint ep(ip, address.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + address.ToString() + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return Status::Ok();
}

void ApiServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace schakel::daemon
