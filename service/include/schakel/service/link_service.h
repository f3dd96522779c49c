// Dossier links (docs/links.md) — creation through the
// egress gate, the list, revocation, a new code, what a visitor of a link
// may see (Visit, Open; the pages themselves are link_pages.h), and expiry.
//
// A link is decided exactly like a share to the recipient's org type
// (Service::Gate: roles, consent, flow, minimisation, allow_partial). The
// projected case JSON is sealed under Argon2id(token || code) (see
// crypto/link_secret.h); the row keeps SHA-256(token), salt, nonce and
// ciphertext, never the token or the code. Visit (the code page) never
// reveals or uses up anything; Open with the right code gives the content.
// Five wrong codes lock the link. Every page view, wrong code,
// lock, read, expiry and revocation is audited (source "links", subject the
// student id; the client IP is not logged in the audit entry).
//
// The links table is read and written only through store/records.h
// (LinkRecord and its functions); this file holds no SQL.
//
// Roles: Authorize(c, Op::kCreateLink / kListLinks / kRevokeLink /
// kNewLinkCode) (operations.h); a coordinator manages every link, staff the
// links they made.
//
// Thread-safety: database work under the node lock (NodeCore::Held); Argon2id
// runs without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/crypto/link_secret.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/formats/api_request.h"
#include "schakel/service/node_core.h"
#include "schakel/service/results.h"
#include "schakel/service/service.h"

namespace schakel::service {

// Wrong codes before a link locks: dossier, permission and inzage links alike.
inline constexpr int kMaxWrongCodes = 5;
using formats::kDefaultLinkDays;
using formats::kMaxLinkDays;
// POST /v1/links (parsed by formats::ParseLinkRequest) and the console's link form.
using LinkCreateRequest = formats::LinkRequest;

struct LinkOptions {
  crypto::LinkKdfParams kdf;
};

// What a visitor of a link may be shown; decided here, rendered by the link
// pages.
struct LinkVisit {
  enum class Kind {
    kNotFound,   // no such link
    kGone,       // locked, revoked or expired (`state`)
    kAskCode,    // active: ask for the access code
    kWrongCode,  // the code did not open it; `attempts_left` more before it locks
    kContent,    // the code opened it
  };
  Kind kind = Kind::kNotFound;
  std::string state;
  std::string state_reason;  // kGone: why, when known (consent_withdrawn, basis_gone, ...)
  int attempts_left = 0;
  // kContent: the projected case (JSON) and what the page says about it.
  crypto::SecureBuffer content;
  std::string recipient_name;
  std::string purpose;
  std::string expires;
  std::vector<std::string> withheld;  // category names
  // Who sent it: this node's organisation ([node] name) and its org type.
  std::string sender_name;
  std::string sender_org_type;
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

  // A gate refusal carries the decision it was made on.
  Gated<LinkCreated> Create(const Caller& c, const LinkCreateRequest& req);
  // Every category the case holds, decided for a link to someone of
  // `org_type` for `purpose`, without making one (audited as link.evaluated
  // or link.denied). Meldcode links are not offered: no override here.
  Gated<CategoryCheck> Check(const Caller& c, const std::string& case_id, const std::string& org_type,
                             const std::string& purpose);
  // The links the caller may manage, newest first (at most 1000 looked at).
  Result<std::vector<LinkView>> List(const Caller& c);
  Result<LinkRevoked> Revoke(const Caller& c, const std::string& link_id);
  // A new token and code for a link (locked or active): the content is
  // decided and sealed again from the current case through the gate; the
  // old URL and code stop working.
  Gated<LinkNewCode> NewCode(const Caller& c, const std::string& link_id);

  // A visit without a code (GET /l/{token}): never reveals or uses up
  // anything. A link past its expiry is expired now; a link whose basis has
  // gone (the egress gate's re-check: consents withdrawn or expired, the
  // student's age, the protocol's flow) is revoked now, reason basis_gone. Errors: storage
  // failures (the page shows nothing but that it failed).
  Result<LinkVisit> Visit(const std::string& token);
  // A code for the link (POST /l/{token}): counted as an attempt before it
  // is tried; the content only once its basis has been re-checked (as for
  // Visit, again after the code was tried) and its reading audited.
  Result<LinkVisit> Open(const std::string& token, std::string_view typed_code);

  // Marks links past their expiry expired and drops their ciphertext.
  // Returns how many.
  Result<int> ExpireDue();

 private:
  struct Sealed;
  // Decides `gate` under the node lock, then seals the projected case under a
  // new token and code WITHOUT the lock (Argon2id takes a good part of a
  // second and would hold up every delivery and request). REQUIRES: the node
  // lock not held. The caller takes the lock again and calls StillHolds
  // before it stores anything.
  Gated<Sealed> DecideAndSeal(const Caller& c, const GateRequest& gate, const std::string& link_id);
  // Refuses if a consent the decision used was withdrawn while sealing.
  static Status StillHolds(NodeCore::Held& held, const Sealed& made);

  NodeCore& core_;
  Service& service_;
  LinkOptions options_;
};

}  // namespace schakel::service
