// Private to daemon/: the permission and inzage pages on the [links] listener
// (docs/consent-requests.md): GET /t/{token} asks for the access code; POST
// /t/{token} with the code shows the question (or, after a yes, what was
// agreed and a way to withdraw it); with the code and an answer it records
// the answer. What may be shown and done is decided by
// service::ConsentRequests; this class adds the forms, the same checks as the
// dossier link pages (CheckFormPost) and the Dutch pages.
//
// Thread-safety: Handle() may be called from any thread.
#pragma once

#include "link_pages.h"
#include "schakel/http/rate_limiter.h"
#include "schakel/http/web_server.h"
#include "schakel/service/consent_requests.h"

namespace schakel::daemon {

class ConsentPages {
 public:
  // `requests` and `per_ip` (the listener's one limit on code attempts per
  // client address, LinkPages::per_ip) must outlive this object.
  ConsentPages(service::ConsentRequests& requests, http::RateLimiter& per_ip);
  // /t/{token}: permission pages; /i/{token}: inzage pages.
  http::WebResponse Handle(const http::WebRequest& req);

 private:
  http::WebResponse HandleInzage(const http::WebRequest& req);

  service::ConsentRequests& requests_;
  http::RateLimiter& per_ip_;
};

}  // namespace schakel::daemon
