// Private to daemon/: the local HTTP/1.1 + JSON API (docs/api.md), on
// [api] listen, for the `schakel` online commands, integrations and the
// console. A route set over the daemon's one HTTP core (http/web_server.h,
// plain TCP, no browser headers): the accept loop, limits, deadlines and
// caps are the core's.
//
// Each request carries "Authorization: Bearer <token>"; the token is hashed
// and looked up (Service::Authenticate); roles are enforced by the Service.
// Limits (ApiOptions): header 8 KiB (431), body 1 MiB (413), a read deadline
// per request, an idle deadline between requests, a cap on open connections
// and one per client address (503 beyond). Errors are JSON, also those the
// core gives by itself (400, 413, 431, 500, 503):
// {"error": {"code": "...", "message": "..."}} with an HTTP status that
// matches the code (http::HttpStatusFor).
//
// Ownership and threads: the core owns its io_context and one thread,
// started by Start() and joined by Stop(). Handlers run Service calls on
// that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/daemon/options.h"
#include "service_names.h"
#include "sign_in_throttle.h"

namespace schakel::daemon {

class ApiServer {
 public:
  // `core` serves GET /metrics, `links` the /v1/links routes and `core` with
  // `throttle` POST /v1/users/{name}/unlock; any may be null (then those
  // paths are "no such endpoint"). All must outlive the server.
  ApiServer(Service& service, ApiOptions options, NodeCore* core = nullptr, LinkService* links = nullptr,
            SignInThrottle* throttle = nullptr, service::ConsentRequests* requests = nullptr);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving. Port 0 picks a free port (see port()).
  Status Start(const config::Address& address, Instant started);
  void Stop();
  uint16_t port() const { return port_; }

 private:
  friend std::vector<std::string> ApiRoutes();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace schakel::daemon
