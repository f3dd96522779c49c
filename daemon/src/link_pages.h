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
#include <optional>
#include <string>

#include "schakel/base/clock.h"
#include "schakel/http/rate_limiter.h"
#include "schakel/http/web_server.h"
#include "service_names.h"

namespace schakel::daemon {

struct LinkPageOptions {
  // Code attempts per client address, over all links. Default: 20 in 15 minutes.
  http::RateLimiterOptions per_ip{.max_attempts = 20, .window = std::chrono::minutes(15), .max_keys = 10000};
};

// A page of the [links] listener (dossier and permission pages): the
// shared layout, title "<title> — Schakel".
http::WebResponse PublicPage(int status, const std::string& title, const std::string& body_html);
// The [links] listener's 404: a link that does not exist (either kind).
http::WebResponse PublicNotFound();
// The access-code form of a [links] page: `heading`, the `intro` paragraph,
// `error` (role="alert") when not empty, the code field and `button`; it
// posts to `action`. Title "Toegangscode".
struct CodeFormText {
  std::string heading;
  std::string intro;
  std::string button;
};
http::WebResponse CodeFormPage(int status, const std::string& action, const CodeFormText& text,
                               const std::string& error);

// 405 with `Allow: GET, POST` for any other method on a [links] page, or
// nullopt to go on.
std::optional<http::WebResponse> OnlyGetOrPost(const http::WebRequest& req);

// The checks every form post on the [links] listener passes before its
// fields are read: a form's content type, same origin, and the attempts per
// client address (`per_ip`). The refusal page, or nullopt to go on.
std::optional<http::WebResponse> CheckFormPost(const http::WebRequest& req, http::RateLimiter& per_ip);

class LinkPages {
 public:
  // `links` must outlive this object.
  LinkPages(LinkService& links, const Clock& clock, const LinkPageOptions& options = {});
  http::WebResponse Handle(const http::WebRequest& req);
  // The code attempts per client address on this listener: the permission
  // and inzage pages (consent_pages.h) count against the same limit.
  http::RateLimiter& per_ip() { return per_ip_; }

 private:
  LinkService& links_;
  http::RateLimiter per_ip_;
};

}  // namespace schakel::daemon
