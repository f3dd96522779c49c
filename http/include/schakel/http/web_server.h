// http/: the one HTTP/1.1 core of the daemon, over TLS (the staff console,
// the dossier link pages) or plain TCP (the local API on loopback).
//
// What the core does, once for every listener: one accept loop on its own
// thread; limits on the request header (431) and body (413); a TLS handshake
// deadline, an idle deadline for a request to start and one deadline for the
// whole request once it has (slow drip); a cap on open connections and one
// per client IP, with a 503 answer beyond them (written under a small
// overflow budget; past that the connection is just closed); one map from
// Status to HTTP status (HttpStatusFor). Handlers only see parsed requests.
// Every answer the core writes itself (400, 413, 431, 500, 503) goes through
// WebServerOptions::error_page, so the API answers JSON and the pages text;
// every answer is framed by Beast (prepare_payload), so its Content-Length
// is the body's.
//
// API in one paragraph. Build a WebServer with the web TLS identity
// (LoadOrCreateWebIdentity: a configured PEM pair or the generated ECDSA
// certificate kept in the database), a WebHandler and WebServerOptions, or
// without an identity for plain HTTP; call Start(address) (port 0 picks a
// free port, see port()) and Stop() (also done by the destructor). For every
// request except GET /static/schakel.css (the one shared stylesheet, served
// by the server itself unless serve_stylesheet is off) the handler gets a
// parsed WebRequest (method, path without query, decoded query map, the
// headers a handler needs: Cookie, Content-Type, Origin, Host,
// Sec-Fetch-Site, Authorization; the raw target; the body; the client IP)
// and returns a WebResponse (status, content type, body, extra headers such
// as Set-Cookie or Location). With browser_headers (the default) the server
// always adds the security headers (kDefaultCsp unless the handler sets its
// own Content-Security-Policy to tighten it, Cache-Control: no-store,
// Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY, Strict-Transport-Security), so a handler cannot
// forget them; without, only Cache-Control: no-store. Handlers run on
// WebServerOptions::handler_threads threads of the server's own (one at a
// time by default), apart from the thread that does the network I/O: a
// handler that does slow work (Argon2id) delays other requests of this
// server only, and with more handler threads not even those.
//
// Limits (defaults below): header 8 KiB (431), body 64 KiB (413), the
// deadlines and caps above. TLS 1.2 or 1.3, ECDHE AEAD suites only.
//
// Errors: Start returns a Status; request errors become HTTP statuses; a
// handler that throws gets a 500 (the exception does not leave the core).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"

namespace schakel::http {

inline constexpr const char* kDefaultCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

struct WebRequest {
  std::string method;                        // "GET", "POST", ...
  std::string path;                          // "/l/abc", without the query
  std::map<std::string, std::string> query;  // decoded
  std::string cookie;                        // raw Cookie header ("" when absent)
  std::string content_type;                  // raw Content-Type
  std::string origin;                        // raw Origin
  std::string host;                          // raw Host
  std::string sec_fetch_site;                // raw Sec-Fetch-Site
  std::string authorization;                 // raw Authorization
  std::string target;                        // the raw request target, with the query
  std::string body;
  std::string client_ip;  // the TCP peer's address
};

struct WebResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  // Extra headers, e.g. {"Set-Cookie", ...}, {"Location", ...}, or a stricter
  // {"Content-Security-Policy", ...}.
  std::vector<std::pair<std::string, std::string>> headers;

  static WebResponse Html(int status, std::string body) {
    WebResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static WebResponse Text(int status, std::string body) {
    WebResponse r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
  }
  static WebResponse Redirect(std::string location) {
    WebResponse r;
    r.status = 303;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Location", std::move(location));
    return r;
  }
};

using WebHandler = std::function<WebResponse(const WebRequest&)>;

// An answer the core gives without asking the handler: a request it cannot
// read (400, 413, 431), a handler that threw (500), a connection beyond the
// caps (503).
struct CoreError {
  int status = 500;
  std::string text;    // short, Dutch, for people (the default page shows it)
  std::string reason;  // short, English, for programs (e.g. Beast's parse error)
};
using ErrorPage = std::function<WebResponse(const CoreError&)>;

// The one map from a Status code to an HTTP status: invalid_input 400,
// unauthenticated 401, denied 403, not_found 404, already_exists 409,
// unavailable 503, resource_exhausted 507, anything else 500.
int HttpStatusFor(const Status& status);

struct WebServerOptions {
  // Used in log lines ("links", "console").
  std::string name = "web";
  // Default: 8 KiB. Larger request headers get 431.
  size_t header_limit = 8 * 1024;
  // Default: 64 KiB. Larger bodies get 413.
  size_t body_limit = 64 * 1024;
  // Default: 10 s for the TLS handshake.
  std::chrono::milliseconds handshake_timeout{10000};
  // Default: 10 s to read one whole request once its first byte arrived.
  std::chrono::milliseconds read_timeout{10000};
  // Default: 30 s for a (next) request to start.
  std::chrono::milliseconds idle_timeout{30000};
  // Default: 128 open connections, 16 per client IP.
  int max_connections = 128;
  int max_connections_per_ip = 16;
  // Default: 16 connections at a time get a 503 page beyond the caps; more
  // are closed at once.
  int max_overflow = 16;
  // Default: TLS with the identity given to the constructor. false: plain
  // HTTP (the local API, on loopback); the constructor without an identity
  // sets it.
  bool tls = true;
  // Default: the browser security headers above on every answer; off for
  // the API, whose clients are programs (Cache-Control: no-store stays).
  bool browser_headers = true;
  // Default: the server answers GET /static/schakel.css itself.
  bool serve_stylesheet = true;
  // Default: the target is split into path and decoded query and a target a
  // browser would not send is refused (400) before the handler. false: the
  // handler gets the raw target (WebRequest::target; path is the part before
  // '?') and checks it itself.
  bool split_target = true;
  // Default: 0, the idle deadline. The deadline for the first request on a
  // connection to start (after the TLS handshake).
  std::chrono::milliseconds first_request_timeout{0};
  // Default: empty: WebResponse::Text(status, text). The answer for the
  // errors the core produces itself (see CoreError); the API answers JSON.
  ErrorPage error_page;
  // Default: 1: handlers run one at a time. They run on threads of their
  // own, never on the thread that accepts, reads and writes, so a slow
  // handler (Argon2id, a wait for the node lock) holds up no TLS handshake
  // or transfer. More than 1 (the API: 4) runs that many requests at once;
  // only for a handler that is safe to call from several threads. 1..64.
  int handler_threads = 1;
};

// The stylesheet served at /static/schakel.css.
const std::string& SchakelCss();

class WebServer {
 public:
  WebServer(const crypto::TlsIdentity& identity, WebHandler handler, WebServerOptions options = {});
  // Plain HTTP: options.tls is taken as false.
  WebServer(WebHandler handler, WebServerOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Builds the TLS context (TLS only) and binds; fails with a clear Status
  // for a bad identity or an address in use.
  Status Start(const config::Address& address);
  void Stop();
  uint16_t port() const { return port_; }

  // Serves `identity` to connections accepted from now on (a renewed
  // certificate); connections already open keep theirs. Fails, changing
  // nothing, for an identity that does not make a TLS context. Any thread.
  Status ReloadIdentity(const crypto::TlsIdentity& identity);

  // Connections turned away (503 or closed) because of the caps.
  uint64_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

// The configured PEM files (relative to node_dir), read and checked as below;
// also what a reload reads (a renewed certificate).
Result<crypto::TlsIdentity> LoadWebIdentityFiles(const std::string& node_dir, const config::WebCertFiles& files);

// The HTTPS identity for a listener: the configured PEM files when `files` is
// set (relative to node_dir; checked: they parse, the key matches, the key
// is not Ed25519), otherwise the generated one stored in the database,
// created (crypto::GenerateWebTlsIdentity with CN = node_id and SANs for
// `hosts`) and saved on first use or when a host is no longer covered by it.
// The caller serialises database access.
Result<crypto::TlsIdentity> LoadOrCreateWebIdentity(store::Database& db, const std::string& node_dir,
                                                    const config::WebCertFiles& files, const std::string& node_id,
                                                    const std::vector<std::string>& hosts, const std::string& now);

}  // namespace schakel::http
