// Private to daemon/: the dossier link pages on [links] listen (docs/links.md),
// the handler an http::WebServer calls. GET /l/{token} asks for the access
// code; POST /l/{token} with the code shows the content. What may be shown is
// decided by LinkService (Visit, Open); this class adds what a browser needs:
// the form, the same-origin check, a limit on code attempts per client
// address, and the Dutch pages.
//
// Thread-safety: Handle() may be called from any thread; the rate limiter
// locks its own state.
#pragma once

#include <chrono>

#include "schakel/base/clock.h"
#include "schakel/http/rate_limiter.h"
#include "schakel/http/web_server.h"
#include "service_names.h"

namespace schakel::daemon {

struct LinkPageOptions {
  // Code attempts per client address, over all links. Default: 20 in 15 minutes.
  http::RateLimiterOptions per_ip{.max_attempts = 20, .window = std::chrono::minutes(15), .max_keys = 10000};
};

class LinkPages {
 public:
  // `links` must outlive this object.
  LinkPages(LinkService& links, const Clock& clock, const LinkPageOptions& options = {});
  http::WebResponse Handle(const http::WebRequest& req);

 private:
  LinkService& links_;
  http::RateLimiter per_ip_;
};

}  // namespace schakel::daemon
