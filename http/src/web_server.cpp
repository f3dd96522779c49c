#include "schakel/http/web_server.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "schakel/base/file.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/openssl_ptr.h"
#include "schakel/crypto/tls_context.h"
#include "schakel/formats/form.h"
#include "schakel/store/identity_store.h"

namespace schakel::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using crypto::BioPtr;
using crypto::X509Ptr;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainStream = beast::tcp_stream;
using BeastResponse = bhttp::response<bhttp::string_body>;

constexpr size_t kMaxPemBytes = 64 * 1024;

// crypto/ builds the context; Asio takes ownership of the handle.
Result<ssl::context> MakeWebTlsContext(const crypto::TlsIdentity& identity) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SslCtxPtr ctx, crypto::MakeWebSslCtx(identity));
  return ssl::context(ctx.release());
}

void AddSecurityHeaders(bhttp::response<bhttp::string_body>& res) {
  res.set("Content-Security-Policy", kDefaultCsp);
  res.set(bhttp::field::cache_control, "no-store");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set(bhttp::field::strict_transport_security, "max-age=31536000");
  res.set(bhttp::field::server, "schakel");
}

// What the client still sends after an answer that ends the connection (an
// error, the 503) is read and dropped, at most this much under a short
// deadline, before the socket is closed: closing with unread data resets
// the connection, and the client may then lose the answer (a 413 written
// while the body was still coming).
constexpr size_t kDrainBytes = 1024 * 1024;
constexpr std::chrono::seconds kCloseDeadline{2};

template <class Stream>
asio::awaitable<void> Drain(Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(kCloseDeadline);
  std::array<char, 4096> sink;
  size_t drained = 0;
  beast::error_code ec;
  while (!ec && drained < kDrainBytes) {
    drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Close(TlsStream& stream) {
  beast::error_code ignored;
  beast::get_lowest_layer(stream).expires_after(kCloseDeadline);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
  beast::get_lowest_layer(stream).socket().close(ignored);
}

// Plain TCP: the FIN after the answer tells the client it is complete; what
// it still sends is drained.
asio::awaitable<void> Close(PlainStream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_await Drain(stream);
  stream.socket().close(ec);
}

// After an answer the client may not have waited for (an error, the 503).
asio::awaitable<void> CloseAfterError(TlsStream& stream) {
  co_await Drain(stream);
  co_await Close(stream);
}

asio::awaitable<void> CloseAfterError(PlainStream& stream) { co_await Close(stream); }

// Splits "/l/abc?x=1" into the path and the decoded query; nullopt for a
// target a browser would not send.
bool SplitTarget(std::string_view target, WebRequest* req) {
  if (target.empty() || target.front() != '/' || target.size() > 2048) return false;
  auto q = target.find('?');
  req->path = std::string(target.substr(0, q));
  if (!IsPrintableUtf8(req->path) || req->path.find('%') != std::string::npos ||
      req->path.find("/..") != std::string::npos) {
    return false;
  }
  if (q != std::string_view::npos) {
    formats::FormLimits limits;
    limits.max_body = 2048;
    auto query = formats::ParseForm(target.substr(q + 1), limits);
    if (!query.ok()) return false;
    req->query = std::move(*query);
  }
  return true;
}

}  // namespace

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return 200;
    case Code::kInvalidInput:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kDenied:
      return 403;
    case Code::kUnauthenticated:
      return 401;
    case Code::kUnavailable:
      return 503;
    case Code::kResourceExhausted:
      return 507;
    default:
      return 500;
  }
}

const std::string& SchakelCss() {
  static const std::string kCss = R"css(/* Schakel: one stylesheet for the link pages and the staff console.
   High contrast (text #111 on #fff, links #0b4f9c: WCAG AAA), large type,
   visible keyboard focus, printable. No web fonts, no images. */
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { font-size: 112.5%; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       line-height: 1.55; color: #111; background: #fff; }
.skip { position: absolute; left: -10000px; top: 0; }
.skip:focus { left: 1rem; top: 1rem; background: #ffd400; color: #111; padding: .5rem 1rem; z-index: 10; }
header.site { background: #0b3a66; color: #fff; padding: .75rem 1.25rem; }
header.site .brand { font-weight: 700; letter-spacing: .02em; }
main { max-width: 46rem; margin: 0 auto; padding: 1.25rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 1rem 0 .75rem; }
h2 { font-size: 1.25rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid #0b3a66; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
p, li, dd { max-width: 40rem; }
a { color: #0b4f9c; text-decoration: underline; }
a:hover { color: #062e5c; }
:focus-visible { outline: 3px solid #ffbf00; outline-offset: 2px; box-shadow: 0 0 0 5px #111; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
.hint { color: #333; font-size: .95rem; margin: .15rem 0 .5rem; }
input[type=text], input[type=password], input[type=email], input[type=tel], input:not([type]), select, textarea {
  font: inherit; width: 100%; max-width: 22rem; padding: .55rem .65rem; color: #111; background: #fff;
  border: 2px solid #444; border-radius: 4px; }
input.code { letter-spacing: .15em; font-family: ui-monospace, "DejaVu Sans Mono", monospace; text-transform: uppercase; }
button, .button { font: inherit; font-weight: 600; margin-top: 1rem; padding: .6rem 1.2rem; color: #fff;
  background: #0b3a66; border: 2px solid #0b3a66; border-radius: 4px; cursor: pointer; }
button:hover { background: #062544; }
.notice { border-left: 6px solid #0b3a66; background: #eef3f8; padding: .75rem 1rem; margin: 1rem 0; }
.error { border-left: 6px solid #b00020; background: #fdecee; color: #5f0011; padding: .75rem 1rem; margin: 1rem 0; }
.withheld { border-left: 6px solid #6b5b00; background: #fbf6dc; padding: .75rem 1rem; margin: 1rem 0; }
dl { margin: .25rem 0 1rem; }
dt { font-weight: 600; margin-top: .5rem; }
dd { margin: 0 0 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
.tabel { max-width: 100%; overflow-x: auto; }
.tabel table { min-width: 36rem; }
main { overflow-wrap: anywhere; }
th, td { text-align: left; border: 1px solid #999; padding: .35rem .5rem; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eef3f8; }
footer.site { max-width: 46rem; margin: 2rem auto; padding: 0 1.25rem; color: #333; font-size: .9rem; }
/* Staff console */
main.wide { max-width: 72rem; }
header.site a { color: #fff; }
header.site p { margin: .2rem 0; }
header.site nav ul { list-style: none; padding: 0; margin: .5rem 0 0; display: flex; flex-wrap: wrap; gap: 1.25rem; }
form.inline { display: inline; }
form.inline button { margin-top: .25rem; padding: .3rem .8rem; }
header.site form.inline button { background: #fff; color: #0b3a66; border-color: #fff; }
.keuze label { display: inline; font-weight: 400; margin: 0 0 0 .4rem; }
fieldset { border: 1px solid #999; margin: 1rem 0; max-width: 40rem; min-width: 0; }
fieldset fieldset { margin: .5rem 0; }
fieldset.rijen ol { padding-left: 1.25rem; margin: .25rem 0; }
strong.nieuw { background: #0b3a66; color: #fff; padding: 0 .4rem; border-radius: 3px; font-size: .85rem; }
.veldfout { display: block; color: #8a0015; font-weight: 600; margin: .1rem 0 .25rem; }
[aria-invalid=true] { border-color: #b00020 !important; }
button.klein { margin-top: .25rem; padding: .2rem .7rem; font-weight: 500; color: #0b3a66; background: #fff; }
button.klein:hover { background: #eef3f8; }
.toets { font-weight: 600; }
.toets.mag { color: #0b5a1f; }
.toets.magniet { color: #8a0015; }
input[type=date] { font: inherit; padding: .5rem; border: 2px solid #444; border-radius: 4px; }
textarea { max-width: 40rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
pre.verslag { white-space: pre-wrap; font-size: .9rem; }
.brief, .codebriefje { border: 1px solid #999; padding: 1rem 1.25rem; margin: 1rem 0; }
.brief .url, .codebriefje .code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.codebriefje .code { font-size: 1.5rem; letter-spacing: .15em; }
@media print {
  body:has(.brief) header.site, body:has(.brief) main > h1, .alleen-scherm { display: none !important; }
  .brief, .codebriefje { border: none; break-after: page; }
  header.site nav { display: none; }
  html { font-size: 11pt; }
  header.site { background: none; color: #000; border-bottom: 2px solid #000; padding: 0 0 .25rem; }
  .skip, form, button, .noprint { display: none !important; }
  main { max-width: none; padding: 0; }
  a { color: #000; }
  h2 { border-color: #000; break-after: avoid; }
  section { break-inside: avoid-page; }
  .notice, .error, .withheld { background: none; border: 1px solid #000; }
}
)css";
  return kCss;
}

struct WebServer::Impl {
  WebHandler handler;
  WebServerOptions options;
  crypto::TlsIdentity identity;
  // Replaced on the io thread by ReloadIdentity; each connection keeps the
  // one it started with.
  std::shared_ptr<ssl::context> tls;
  // Confined to the io thread.
  int connections = 0;
  int overflow = 0;
  std::map<std::string, int> per_ip;
  std::atomic<uint64_t> refused{0};
  // Declared last: destroyed first, so that the session frames still pending
  // in `io` release their slots into the maps above while they exist.
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  // The handlers' threads (options.handler_threads). Declared after `io`,
  // so destroyed before it: a handler's answer is posted back to `io`.
  std::unique_ptr<asio::thread_pool> handlers;

  WebResponse CallHandler(const WebRequest& req) const {
    try {
      return handler(req);
    } catch (const std::exception& e) {
      LogError(options.name + ": handler failed: " + e.what());
    } catch (...) {
      LogError(options.name + ": handler failed");
    }
    return ErrorAnswer(500, "Interne fout. Probeer het later opnieuw.", "internal error");
  }

  WebResponse ErrorAnswer(int status, std::string text, std::string reason) const {
    CoreError error{status, std::move(text), std::move(reason)};
    if (options.error_page) {
      try {
        return options.error_page(error);
      } catch (...) {
        LogError(options.name + ": error page failed");
      }
    }
    return WebResponse::Text(error.status, std::move(error.text));
  }

  // Every answer goes out through here: the headers the options ask for,
  // then the handler's, and Beast's framing (Content-Length from the body).
  BeastResponse ToBeast(WebResponse out) const {
    BeastResponse res{static_cast<bhttp::status>(out.status), 11};
    if (options.browser_headers) {
      AddSecurityHeaders(res);
    } else {
      res.set(bhttp::field::cache_control, "no-store");
      res.set(bhttp::field::server, "schakel");
    }
    res.set(bhttp::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) {
      if (name == "Set-Cookie") {
        res.insert(bhttp::field::set_cookie, value);
      } else {
        res.set(name, value);
      }
    }
    res.body() = std::move(out.body);
    res.prepare_payload();
    return res;
  }

  BeastResponse Handle(const bhttp::request<bhttp::string_body>& raw, const std::string& client_ip) const {
    WebRequest req;
    req.method = std::string(raw.method_string());
    std::string_view target(raw.target().data(), raw.target().size());
    req.target = std::string(target);
    if (!options.split_target) {
      req.path = std::string(target.substr(0, target.find('?')));
    } else if (!SplitTarget(target, &req)) {
      return ToBeast(ErrorAnswer(400, "Ongeldig adres.", "invalid request target"));
    }
    if (options.serve_stylesheet && req.path == "/static/schakel.css") {
      if (req.method != "GET" && req.method != "HEAD") {
        WebResponse res = WebResponse::Text(405, "Alleen GET.");
        res.headers.emplace_back("Allow", "GET, HEAD");
        return ToBeast(std::move(res));
      }
      WebResponse res;
      res.content_type = "text/css; charset=utf-8";
      res.body = SchakelCss();
      return ToBeast(std::move(res));
    }
    req.cookie = std::string(raw[bhttp::field::cookie]);
    req.content_type = std::string(raw[bhttp::field::content_type]);
    req.origin = std::string(raw[bhttp::field::origin]);
    req.host = std::string(raw[bhttp::field::host]);
    req.sec_fetch_site = std::string(raw["Sec-Fetch-Site"]);
    req.authorization = std::string(raw[bhttp::field::authorization]);
    req.body = raw.body();
    req.client_ip = client_ip;
    return ToBeast(CallHandler(req));
  }

  static bhttp::status StatusForReadError(const beast::error_code& ec) {
    if (ec == bhttp::error::body_limit) return bhttp::status::payload_too_large;
    if (ec == bhttp::error::header_limit) return bhttp::status::request_header_fields_too_large;
    if (ec == bhttp::error::bad_target || ec == bhttp::error::bad_method || ec == bhttp::error::bad_version ||
        ec == bhttp::error::bad_field || ec == bhttp::error::bad_value || ec == bhttp::error::bad_chunk ||
        ec == bhttp::error::bad_content_length || ec == bhttp::error::bad_line_ending ||
        ec == bhttp::error::bad_reason || ec == bhttp::error::bad_obs_fold) {
      return bhttp::status::bad_request;
    }
    return bhttp::status::unknown;
  }

  static const char* TextForReadError(bhttp::status status) {
    if (status == bhttp::status::payload_too_large) return "Verzoek te groot.";
    if (status == bhttp::status::request_header_fields_too_large) return "Kopregels te groot.";
    return "Ongeldig verzoek.";
  }

  // The requests of one connection, on TLS (after the handshake) or plain
  // TCP alike.
  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, const std::string& ip) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    for (int served = 0; served < 1000; ++served) {
      // Wait for the request to start under the idle deadline, then read all
      // of it under one deadline, so a slow drip cannot hold the slot.
      if (buffer.size() == 0) {
        bool first = served == 0 && options.first_request_timeout.count() > 0;
        beast::get_lowest_layer(stream).expires_after(first ? options.first_request_timeout : options.idle_timeout);
        size_t n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        buffer.commit(n);
      }
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      beast::get_lowest_layer(stream).expires_after(options.read_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        bhttp::status status = StatusForReadError(ec);
        if (status != bhttp::status::unknown) {
          auto res = ToBeast(ErrorAnswer(static_cast<int>(status), TextForReadError(status), ec.message()));
          res.set(bhttp::field::connection, "close");
          beast::get_lowest_layer(stream).expires_after(options.read_timeout);
          co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
          co_await CloseAfterError(stream);
        }
        co_return;
      }
      // The handler runs on its own threads; this connection waits for its
      // answer while the I/O thread serves the others.
      const auto& request = parser.get();
      auto res = co_await asio::co_spawn(
          *handlers, [&]() -> asio::awaitable<BeastResponse> { co_return Handle(request, ip); }, asio::use_awaitable);
      res.keep_alive(parser.get().keep_alive());
      beast::get_lowest_layer(stream).expires_after(options.read_timeout);
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      if (!res.keep_alive()) break;
    }
    co_await Close(stream);
  }

  asio::awaitable<void> Session(tcp::socket socket, std::string ip) {
    struct Slot {
      Impl& impl;
      std::string ip;
      ~Slot() {
        --impl.connections;
        auto it = impl.per_ip.find(ip);
        if (it != impl.per_ip.end() && --it->second <= 0) impl.per_ip.erase(it);
      }
    } slot{*this, ip};
    if (!options.tls) {
      PlainStream stream(std::move(socket));
      co_await Serve(stream, ip);
      co_return;
    }
    const std::shared_ptr<ssl::context> ctx = tls;  // outlives the stream
    TlsStream stream(std::move(socket), *ctx);
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(options.handshake_timeout);
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      LogDebug(options.name + ": TLS handshake with " + ip + " failed: " + ec.message());
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
      co_return;
    }
    co_await Serve(stream, ip);
  }

  template <class Stream>
  asio::awaitable<void> WriteBusy(Stream& stream) {
    auto res = ToBeast(ErrorAnswer(503, "Te veel verbindingen tegelijk. Probeer het over een minuut opnieuw.",
                                   "too many open connections"));
    res.set(bhttp::field::connection, "close");
    res.set(bhttp::field::retry_after, "60");
    beast::error_code ec;
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_await CloseAfterError(stream);
  }

  // Beyond the caps: a 503 answer (after a handshake on TLS), for as long as
  // the overflow budget lasts.
  asio::awaitable<void> Busy(tcp::socket socket) {
    struct Slot {
      int& n;
      ~Slot() { --n; }
    } slot{overflow};
    auto deadline = std::min(options.handshake_timeout, options.read_timeout);
    if (!options.tls) {
      PlainStream stream(std::move(socket));
      stream.expires_after(deadline);
      co_await WriteBusy(stream);
      co_return;
    }
    const std::shared_ptr<ssl::context> ctx = tls;  // outlives the stream
    TlsStream stream(std::move(socket), *ctx);
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(deadline);
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    co_await WriteBusy(stream);
  }

  asio::awaitable<void> Accept() {
    while (acceptor.is_open()) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        continue;
      }
      auto remote = socket.remote_endpoint(ec);
      if (ec) continue;
      std::string ip = remote.address().to_string();
      int& mine = per_ip[ip];
      if (connections >= options.max_connections || mine >= options.max_connections_per_ip) {
        if (mine == 0) per_ip.erase(ip);
        refused.fetch_add(1);
        if (overflow < options.max_overflow) {
          ++overflow;
          asio::co_spawn(io, Busy(std::move(socket)), asio::detached);
        } else {
          socket.close(ec);
        }
        continue;
      }
      ++mine;
      ++connections;
      asio::co_spawn(io, Session(std::move(socket), std::move(ip)), asio::detached);
    }
  }
};

WebServer::WebServer(const crypto::TlsIdentity& identity, WebHandler handler, WebServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->options = std::move(options);
  impl_->identity.certificate_pem = identity.certificate_pem;
  impl_->identity.private_key_pem = crypto::SecureBuffer::FromBytes(identity.private_key_pem.span());
  impl_->identity.spki_sha256 = identity.spki_sha256;
}

WebServer::WebServer(WebHandler handler, WebServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->options = std::move(options);
  impl_->options.tls = false;
}

WebServer::~WebServer() { Stop(); }

uint64_t WebServer::refused_connections() const { return impl_->refused.load(); }

Status WebServer::Start(const config::Address& address) {
  const std::string& name = impl_->options.name;
  if (impl_->thread.joinable()) return Status::Internal(name + ": already started");
  int threads = impl_->options.handler_threads;
  if (threads < 1 || threads > 64) return Status::InvalidInput(name + ": handler_threads must be 1..64");
  if (impl_->options.tls) {
    SCHAKEL_ASSIGN_OR_RETURN(ssl::context ctx, MakeWebTlsContext(impl_->identity));
    impl_->tls = std::make_shared<ssl::context>(std::move(ctx));
  }
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Status::InvalidInput(name + ".listen: listens on an IP address, not " + address.host);
  tcp::endpoint ep(ip, address.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable(name + ": cannot listen on " + address.ToString() + ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->handlers = std::make_unique<asio::thread_pool>(static_cast<size_t>(threads));
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] { impl->io.run(); });
  return Status::Ok();
}

Status WebServer::ReloadIdentity(const crypto::TlsIdentity& identity) {
  const std::string& name = impl_->options.name;
  if (!impl_->options.tls) return Status::InvalidInput(name + ": plain HTTP has no certificate to reload");
  SCHAKEL_ASSIGN_OR_RETURN(ssl::context ctx, MakeWebTlsContext(identity));
  auto fresh = std::make_shared<ssl::context>(std::move(ctx));
  if (!impl_->thread.joinable()) return Status::InvalidInput(name + ": not started");
  Impl* impl = impl_.get();
  asio::post(impl_->io, [impl, fresh = std::move(fresh)]() mutable { impl->tls = std::move(fresh); });
  return Status::Ok();
}

void WebServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  Impl* impl = impl_.get();
  asio::post(impl_->io, [impl] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->io.stop();
  });
  impl_->thread.join();
  // Handlers still running finish; their answers are posted to the stopped
  // `io` and dropped with it.
  impl_->handlers->join();
}

namespace {

bool Covers(const std::string& cert_pem, const std::string& host) {
  BioPtr bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!bio) return false;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return false;
  if (X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1) return true;
  return X509_check_host(cert.get(), host.c_str(), host.size(), 0, nullptr) == 1;
}

std::string Resolve(const std::string& node_dir, const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  return node_dir + "/" + path;
}

}  // namespace

Result<crypto::TlsIdentity> LoadWebIdentityFiles(const std::string& node_dir, const config::WebCertFiles& files) {
  std::string cert_path = Resolve(node_dir, files.cert_file);
  std::string key_path = Resolve(node_dir, files.key_file);
  SCHAKEL_ASSIGN_OR_RETURN(std::string cert, ReadFileLimited(cert_path, kMaxPemBytes));
  SCHAKEL_ASSIGN_OR_RETURN(std::string key, ReadFileLimited(key_path, kMaxPemBytes));
  crypto::TlsIdentity id;
  id.certificate_pem = std::move(cert);
  id.private_key_pem = crypto::SecureBuffer::FromBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  OPENSSL_cleanse(key.data(), key.size());
  Status st = crypto::CheckWebTlsIdentity(id);
  if (!st.ok()) return Status::InvalidInput(cert_path + " / " + key_path + ": " + st.message());
  auto pin = crypto::SpkiSha256FromCertificatePem(id.certificate_pem);
  if (!pin.ok()) return pin.status().WithContext(cert_path);
  id.spki_sha256 = *pin;
  return id;
}

Result<crypto::TlsIdentity> LoadOrCreateWebIdentity(store::Database& db, const std::string& node_dir,
                                                    const config::WebCertFiles& files, const std::string& node_id,
                                                    const std::vector<std::string>& hosts, const std::string& now) {
  if (files.configured()) return LoadWebIdentityFiles(node_dir, files);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<crypto::TlsIdentity> stored, store::LoadWebTls(db));
  if (stored) {
    bool all = crypto::CheckWebTlsIdentity(*stored).ok();
    for (const auto& h : hosts) all = all && Covers(stored->certificate_pem, h);
    // Renewed 30 days before it ends; one made under the old 825-day rule is
    // replaced by one of at most kMaxWebCertificateDays.
    auto valid = crypto::ValidityOf(stored->certificate_pem);
    auto at = ParseInstant(now);
    const int64_t now_s =
        at.ok() ? std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch()).count() : 0;
    constexpr int64_t kDay = 24 * 60 * 60;
    const bool fresh_enough = valid.ok() && at.ok() && valid->not_after > now_s + 30 * kDay &&
                              valid->not_after - valid->not_before <= (crypto::kMaxWebCertificateDays + 1) * kDay;
    if (all && fresh_enough) return std::move(*stored);
    LogInfo(all ? "web TLS: the stored certificate ends within 30 days or lives longer than 397; generating a new one"
                : "web TLS: the stored certificate does not cover every host; generating a new one");
  }
  SCHAKEL_ASSIGN_OR_RETURN(crypto::TlsIdentity fresh, crypto::GenerateWebTlsIdentity(node_id, hosts));
  SCHAKEL_RETURN_IF_ERROR(store::SaveWebTls(db, fresh, now));
  return fresh;
}

}  // namespace schakel::http
