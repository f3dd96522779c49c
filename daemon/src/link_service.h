// Private to daemon/: dossier links (docs/links.md) — creation through the
// egress gate, the list, revocation, a new code, the link pages served on
// [links] listen, and expiry.
//
// A link is decided exactly like a share to the recipient's org type
// (Service::Gate: roles, consent, flow, minimisation, --allow-partial). The
// projected case JSON is sealed under Argon2id(token || code) (see
// crypto/link_secret.h); the row keeps SHA-256(token), salt, nonce and
// ciphertext, never the token or the code. The pages: GET /l/{token} asks
// for the code and never reveals or uses up anything; POST /l/{token} with
// the right code shows the content. Five wrong codes lock the link; code
// attempts are also limited per client IP. Every page view, wrong code,
// lock, read, expiry and revocation is audited (source "links", subject the
// student id; the client IP is not logged in the audit entry).
//
// The links table is read and written only through store/records.h
// (LinkRecord and its functions); this file holds no SQL.
//
// Thread-safety: database work under core.mu; Argon2id runs without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "api_server.h"
#include "node_core.h"
#include "schakel/http/rate_limiter.h"
#include "schakel/crypto/link_secret.h"
#include "schakel/formats/api_request.h"
#include "service.h"
#include "schakel/http/web_server.h"

namespace schakel::daemon {

inline constexpr int kMaxWrongCodes = 5;
using formats::kDefaultLinkDays;
using formats::kMaxLinkDays;
// POST /v1/links (parsed by formats::ParseLinkRequest) and the console's link form.
using LinkCreateRequest = formats::LinkRequest;

struct LinkOptions {
  crypto::LinkKdfParams kdf;
  http::RateLimiterOptions per_ip{.max_attempts = 20, .window = std::chrono::minutes(15), .max_keys = 10000};
};

// Counters for /metrics (no personal data).
struct LinkCounters {
  std::atomic<uint64_t> page_views{0};
  std::atomic<uint64_t> wrong_codes{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> locks{0};
  std::atomic<uint64_t> rate_limited{0};
};
LinkCounters& GlobalLinkCounters();

class LinkService {
 public:
  LinkService(NodeCore& core, Service& service, const LinkOptions& options = {});

  Reply Create(const Caller& c, const LinkCreateRequest& req);
  Reply List(const Caller& c);
  Reply Revoke(const Caller& c, const std::string& link_id);
  // A new token and code for a link (locked or active): the content is
  // decided and sealed again from the current case through the gate; the
  // old URL and code stop working.
  Reply NewCode(const Caller& c, const std::string& link_id);

  // The link server's handler.
  http::WebResponse HandlePage(const http::WebRequest& req);

  // Marks links past their expiry expired and drops their ciphertext.
  // Returns how many.
  Result<int> ExpireDue();

 private:
  struct Sealed;
  // Decides `gate` under core.mu, seals the projected case under a new token
  // and code WITHOUT the lock (Argon2id takes a good part of a second and
  // would hold up every delivery and request), then takes the lock again into
  // *lock and refuses if a consent the decision used was withdrawn meanwhile.
  Reply DecideAndSeal(const Caller& c, const GateRequest& gate, const std::string& link_id,
                      std::unique_lock<std::mutex>* lock, Sealed* out);

  NodeCore& core_;
  Service& service_;
  LinkOptions options_;
  http::RateLimiter per_ip_;
};

// POST/GET /v1/links, POST /v1/links/{id}/revoke, POST /v1/links/{id}/new-code
// for ApiServer::AddRoute. `links` must outlive the server.
ExtraRoute LinkApiRoute(LinkService& links);

}  // namespace schakel::daemon
