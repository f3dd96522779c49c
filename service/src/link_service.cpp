#include "schakel/service/link_service.h"

#include <algorithm>

#include "schakel/audit/repeats.h"
#include "schakel/base/fault_inject.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/case_summary.h"
#include "schakel/formats/form.h"
#include "schakel/formats/json.h"
#include "schakel/formats/scenario.h"
#include "schakel/service/operations.h"
#include "service_internal.h"

namespace schakel::service {
namespace {

using store::Role;

using LinkRow = store::LinkRecord;

// The stored content as crypto wants it; nullopt once deleted.
std::optional<crypto::SealedLink> SealedOf(const LinkRow& r) {
  return internal::StoredSeal(r.has_content, r.kdf_salt, r.nonce, r.ciphertext);
}

audit::AuditEvent LinkEvent(const Caller* c, std::string action, const std::string& subject, const std::string& object,
                            const std::string& purpose, const std::string& legal, std::string outcome,
                            std::string reason, AuditTo to) {
  audit::AuditEvent e =
      SystemEvent({std::move(action), subject, object, purpose, legal, std::move(outcome), std::move(reason)},
                  c != nullptr ? c->source : "links", std::move(to));
  if (c != nullptr) {
    e.actor_user = c->user_id;
    e.actor_role = std::string(store::RoleName(c->role));
  }
  return e;
}

// The audit policy of node_core.h; `c` is null for the link pages, whose
// visitor is nobody we know.
[[nodiscard]] Status AuditOrFail(NodeCore::Held& held, const Caller* c, std::string action, const std::string& subject,
                                 const std::string& object, const std::string& purpose, const std::string& legal,
                                 std::string outcome, std::string reason, AuditTo to) {
  return service::AuditOrFail(held, LinkEvent(c, std::move(action), subject, object, purpose, legal, std::move(outcome),
                                              std::move(reason), std::move(to)));
}

void AuditBestEffort(NodeCore::Held& held, const Caller* c, std::string action, const std::string& subject,
                     const std::string& object, const std::string& purpose, const std::string& legal,
                     std::string outcome, std::string reason, AuditTo to) {
  service::AuditBestEffort(held, LinkEvent(c, std::move(action), subject, object, purpose, legal, std::move(outcome),
                                           std::move(reason), std::move(to)));
}

LinkView ViewOf(const LinkRow& r) {
  LinkView v;
  v.link_id = r.link_id;
  v.case_id = r.case_id;
  v.recipient_name = r.recipient_name;
  v.recipient_type = r.recipient_type;
  v.purpose = r.purpose;
  v.legal_basis = r.legal_basis;
  v.categories = Split(r.categories, ',');
  v.withheld = Split(r.withheld, ',');
  v.created_by = r.created_by;
  v.created = r.created;
  v.expires = r.expires;
  v.state = r.state;
  v.failed_attempts = r.failed_attempts;
  return v;
}

// An unparsable stored expiry counts as expired long ago.
Instant ExpiresAt(const std::string& text) {
  auto t = ParseInstant(text);
  return t.ok() ? *t : Instant{};
}

bool MayManage(const Caller& c, const LinkRow& r) {
  return c.role == Role::kCoordinator || (c.role == Role::kStaff && r.created_by == c.user_id);
}

// Expires a link found past its expiry when visited, with its entry.
Status ExpireOnView(NodeCore::Held& held, const LinkRow& row, Instant now) {
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::MarkLinkExpired(held.db(), row.link_id, FormatInstantMs(now)));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, nullptr, "link.expired", row.student_id, row.link_id, row.purpose,
                                      row.legal_basis, "ok", "expired", LinkTo(row)));
  return tx.Commit();
}

// Counts one code attempt on an active link. False when the link is no
// longer active.
Result<bool> CountAttempt(NodeCore::Held& held, const std::string& link_id) {
  if (FaultFail("links.wrong_code_update")) return Status::IoError("links: injected failure (links.wrong_code_update)");
  return store::CountLinkAttempt(held.db(), link_id);
}

// Locks a link after too many wrong codes.
Status LockLink(NodeCore::Held& held, const std::string& link_id) {
  if (FaultFail("links.wrong_code_update")) return Status::IoError("links: injected failure (links.wrong_code_update)");
  return store::LockLink(held.db(), link_id, FormatInstantMs(held.core().clock->Now()));
}

// Records that the content was read: last_read, the attempt given back and
// the link.read entry together, committed, or none.
Status RecordRead(NodeCore::Held& held, const LinkRow& row) {
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::RecordLinkRead(held.db(), row.link_id, FormatInstantMs(held.core().clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, nullptr, "link.read", row.student_id, row.link_id, row.purpose,
                                      row.legal_basis, "ok", "", LinkTo(row)));
  return tx.Commit();
}

// The basis a link was made on, asked of the egress gate again as things
// are now (EgressGate::Recheck: the consents, the student's age, the
// protocol's flow). When it has gone the link is revoked here, its content
// deleted with its link.revoked entry (reason basis_gone and the gate's
// codes), and the answer is false; an error when that cannot be written.
Result<bool> BasisHolds(NodeCore::Held& held, Service& service, LinkRow& row) {
  auto org_type = consent::ParseOrgType(row.recipient_type);
  if (!org_type) return Status::Corruption("link " + row.link_id + ": bad stored org type");
  GateRequest gate{row.case_id,  row.purpose, {"link", *org_type}, Split(row.categories, ','), true,
                   std::nullopt, "link",      row.link_id};
  Status basis = service.GateRecheck(held, gate);
  if (basis.ok()) return true;
  if (basis.code() != Code::kDenied) return basis.WithContext("re-checking " + row.link_id);
  Instant now = held.core().clock->Now();
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::RevokeLink(held.db(), row.link_id, "basis_gone", FormatInstantMs(now)));
  std::string reason = "basis_gone," + basis.message();
  if (reason.size() > 1000) reason.resize(1000);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, nullptr, "link.revoked", row.student_id, row.link_id, row.purpose,
                                      row.legal_basis, "ok", std::move(reason), LinkTo(row)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  row.state = "revoked";
  row.state_reason = "basis_gone";
  return false;
}

// The link a visitor's token names, when it is active and its basis still
// holds. Otherwise nullopt, with *out saying why (not found, or gone with
// its state; a gone link's view is audited as denied). A link past its
// expiry is expired here, a link whose basis has gone revoked (BasisHolds),
// its content deleted with its entry, or not at all (an error).
Result<std::optional<LinkRow>> FindForVisit(NodeCore::Held& held, Service& service,
                                            const std::array<uint8_t, 32>& token_hash, LinkVisit* out) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> found, store::FindLinkByTokenHash(held.db(), token_hash));
  if (!found) return std::optional<LinkRow>();
  LinkRow row = std::move(*found);
  Instant now = held.core().clock->Now();
  if ((row.state == "active" || row.state == "locked") && ExpiresAt(row.expires) <= now) {
    SCHAKEL_RETURN_IF_ERROR(ExpireOnView(held, row, now).WithContext("cannot expire " + row.link_id));
    row.state = "expired";
  }
  if (row.state == "active" || row.state == "locked") {
    SCHAKEL_RETURN_IF_ERROR(BasisHolds(held, service, row).status());
  }
  if (row.state != "active") {
    // Anyone may ask for a dead or locked link again and again: the first
    // view of an hour is an entry, the rest are counted (audit/repeats.h).
    audit::AuditEvent e =
        LinkEvent(nullptr, "link.view", row.student_id, row.link_id, row.purpose, row.legal_basis, "deny",
                  row.state_reason.empty() ? row.state : row.state + "," + row.state_reason, LinkTo(row));
    if (e.actor_org.empty()) e.actor_org = held.core().config.node_id;
    auto counted = audit::AppendOrCount(held.db(), held.audit(), e, now);
    if (!counted.ok()) LogError("audit: link.view on " + row.link_id + " not recorded: " + counted.status().message());
    out->kind = LinkVisit::Kind::kGone;
    out->state = row.state;
    out->state_reason = row.state_reason;
    return std::optional<LinkRow>();
  }
  return std::optional<LinkRow>(std::move(row));
}

}  // namespace

LinkCounters& GlobalLinkCounters() {
  static LinkCounters counters;
  return counters;
}

LinkService::LinkService(NodeCore& core, Service& service, const LinkOptions& options)
    : core_(core), service_(service), options_(options) {}

struct LinkService::Sealed {
  GateResult decided;
  std::string token;
  std::string code;
  std::optional<crypto::SealedLink> sealed;
};

Gated<LinkService::Sealed> LinkService::DecideAndSeal(const Caller& c, const GateRequest& gate,
                                                      const std::string& link_id) {
  Sealed out;
  std::string projected;
  {
    NodeCore::Held held(core_);
    Gated<GateResult> decided = service_.Gate(held, c, gate);
    if (!decided.ok()) return decided.Refused<Sealed>();
    out.decided = std::move(*decided);
    auto summary = formats::ParseCaseSummary(out.decided.kase.summary, true);
    if (!summary.ok()) return summary.status();
    projected = formats::Project(*summary, out.decided.decision.categories);
  }
  out.token = crypto::NewLinkToken();
  out.code = crypto::NewAccessCode();
  auto sealed =
      crypto::SealLinkContent(out.token, *crypto::NormaliseAccessCode(out.code), link_id, projected, options_.kdf);
  crypto::Wipe(projected.data(), projected.size());
  if (!sealed.ok()) return sealed.status();
  out.sealed = std::move(*sealed);
  return out;
}

Status LinkService::StillHolds(NodeCore::Held& held, const Sealed& made) {
  // A consent withdrawn while the content was being sealed would not find
  // this link to revoke: refuse rather than store it.
  return internal::ConsentsStillHold(held, made.decided.decision.consents_used, "the link was being made");
}

Gated<LinkCreated> LinkService::Create(const Caller& c, const LinkCreateRequest& req) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kCreateLink));
  if (core_.config.links_public_url.empty()) {
    return Status::InvalidInput("links are not configured: set [links] listen (and public_url)");
  }
  if (req.for_name.empty() || req.for_name.size() > 200 || !IsPrintableUtf8(req.for_name) ||
      req.for_name.find('\t') != std::string::npos) {
    return Status::InvalidInput("for: 1 to 200 printable characters on one line (no tab)");
  }
  auto org_type = consent::ParseOrgType(req.org_type);
  if (!org_type) return Status::InvalidInput("type: unknown org type \"" + req.org_type + "\"");
  if (!consent::IsValidPurpose(req.purpose)) return Status::InvalidInput("purpose: not a purpose name");
  if (req.expires_days < 1 || req.expires_days > kMaxLinkDays) {
    return Status::InvalidInput("expires_days: from 1 to " + std::to_string(kMaxLinkDays) + " days");
  }

  GateRequest gate{req.case_id,
                   req.purpose,
                   {"link", *org_type},
                   req.categories,
                   req.allow_partial,
                   std::nullopt,
                   "link",
                   req.case_id + "->link:" + req.org_type};
  const std::string link_id = "l-" + ToHex(crypto::SecureBuffer::Random(8).span());
  Gated<Sealed> made = DecideAndSeal(c, gate, link_id);
  if (!made.ok()) return made.Refused<LinkCreated>();
  const GateResult& decided = made->decided;
  const std::optional<crypto::SealedLink>& sealed = made->sealed;
  const std::string& token = made->token;

  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(StillHolds(held, *made));
  Instant now = core_.clock->Now();
  std::string created = FormatInstantMs(now);
  std::string expires = FormatInstantMs(now + std::chrono::days{req.expires_days});
  auto hash = crypto::LinkTokenHash(token);

  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  AuditTo created_to;
  {
    store::LinkRecord r;
    r.link_id = link_id;
    r.case_id = decided.kase.case_id;
    r.case_version = decided.kase.version;
    r.student_id = decided.kase.student_id;
    r.recipient_name = req.for_name;
    r.recipient_type = req.org_type;
    r.purpose = req.purpose;
    r.legal_basis = decided.legal_basis;
    r.categories = consent::CategoryNames(decided.decision.categories);
    r.withheld = consent::CategoryNames(decided.decision.withheld);
    r.consent_ids = Join(decided.decision.consents_used, ",");
    r.created_by = c.user_id;
    r.created = created;
    r.expires = expires;
    store::LinkSecret secret{hash, sealed->salt, sealed->nonce, sealed->ciphertext};
    SCHAKEL_RETURN_IF_ERROR(store::InsertLink(held.db(), r, secret));
    created_to = LinkTo(r);
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, &c, "link.created", decided.kase.student_id, link_id, req.purpose,
                                      decided.legal_basis, "permit", "for:" + req.org_type, created_to));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  LinkCreated out;
  out.link_id = link_id;
  out.url = core_.config.links_public_url + "/l/" + token;
  out.code = made->code;
  out.expires = expires;
  out.categories = Split(consent::CategoryNames(decided.decision.categories), ',');
  out.withheld = Split(consent::CategoryNames(decided.decision.withheld), ',');
  out.decision = decided.decision;
  return out;
}

Gated<CategoryCheck> LinkService::Check(const Caller& c, const std::string& case_id, const std::string& org_type,
                                        const std::string& purpose) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kCreateLink));
  auto type = consent::ParseOrgType(org_type);
  if (!type) return Status::InvalidInput("type: unknown org type \"" + org_type + "\"");
  if (!consent::IsValidPurpose(purpose)) return Status::InvalidInput("purpose: not a purpose name");
  // No categories named: all the case holds, each decided on its own.
  GateRequest gate{case_id,
                   purpose,
                   {"link", *type},
                   {},
                   /*allow_partial=*/true,
                   std::nullopt,
                   "link",
                   case_id + "->link:" + org_type};
  NodeCore::Held held(core_);
  Gated<GateResult> decided = service_.Gate(held, c, gate);
  if (!decided.ok()) return decided.Refused<CategoryCheck>();
  const consent::Decision& d = decided->decision;
  AuditBestEffort(held, &c, "link.evaluated", decided->kase.student_id, gate.audit_object, purpose,
                  decided->legal_basis, "permit", "for:" + org_type,
                  AuditTo{"link", consent::CategoryNames(d.categories), AuditIds(d.consents_used)});
  return CategoryCheck{std::move(decided->decision), false};
}

Result<std::vector<LinkView>> LinkService::List(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListLinks));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<LinkRow> links, store::ListLinks(held.db(), 1000));
  std::vector<LinkView> out;
  for (const LinkRow& r : links) {
    if (MayManage(c, r)) out.push_back(ViewOf(r));
  }
  return out;
}

Result<LinkRevoked> LinkService::Revoke(const Caller& c, const std::string& link_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRevokeLink));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> row, store::FindLink(held.db(), link_id));
  if (!row) return Status::NotFound("no link " + link_id);
  const LinkRow& r = *row;
  if (!MayManage(c, r)) {
    AuditBestEffort(held, &c, "link.revoke", r.student_id, link_id, r.purpose, r.legal_basis, "deny", "not_yours",
                    LinkTo(r));
    return Status::Denied("link " + link_id + " is not yours");
  }
  if (r.state == "revoked" || r.state == "expired" || r.state == "purged") {
    return Status::InvalidInput("link " + link_id + " is already " + r.state);
  }
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::RevokeLink(held.db(), link_id, "revoked", FormatInstantMs(core_.clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, &c, "link.revoked", r.student_id, link_id, r.purpose, r.legal_basis, "ok", "", LinkTo(r)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return LinkRevoked{link_id, "revoked"};
}

Gated<LinkNewCode> LinkService::NewCode(const Caller& c, const std::string& link_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kNewLinkCode));
  LinkRow r;
  consent::OrgType org_type{};
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> row, store::FindLink(held.db(), link_id));
    if (!row) return Status::NotFound("no link " + link_id);
    r = std::move(*row);
    if (!MayManage(c, r)) return Status::Denied("link " + link_id + " is not yours");
    if (r.state != "active" && r.state != "locked") {
      return Status::InvalidInput("link " + link_id + " is " + r.state + "; create a new link instead");
    }
    if (ExpiresAt(r.expires) <= core_.clock->Now()) {
      return Status::InvalidInput("link " + link_id + " has expired; create a new link instead");
    }
    auto parsed = consent::ParseOrgType(r.recipient_type);
    if (!parsed) return Status::Corruption("link " + link_id + ": bad stored org type");
    org_type = *parsed;
  }
  // The same request as at creation, decided again on the case as it is now.
  std::vector<std::string> cats = Split(r.categories, ',');
  for (const auto& w : Split(r.withheld, ',')) cats.push_back(w);
  GateRequest gate{r.case_id, r.purpose, {"link", org_type}, cats, !r.withheld.empty(), std::nullopt, "link", link_id};
  Gated<Sealed> made = DecideAndSeal(c, gate, link_id);
  if (!made.ok()) return made.Refused<LinkNewCode>();
  const GateResult& decided = made->decided;
  auto hash = crypto::LinkTokenHash(made->token);
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(StillHolds(held, *made));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  // Only a link still active or locked gets the new code: it may have been
  // revoked or expired while the content was being sealed.
  store::LinkSecret secret{hash, made->sealed->salt, made->sealed->nonce, made->sealed->ciphertext};
  SCHAKEL_ASSIGN_OR_RETURN(bool updated, store::UpdateLinkCode(held.db(), link_id, secret, decided.kase.version,
                                                               consent::CategoryNames(decided.decision.categories),
                                                               consent::CategoryNames(decided.decision.withheld),
                                                               Join(decided.decision.consents_used, ","),
                                                               FormatInstantMs(core_.clock->Now())));
  if (!updated) {
    return Status::InvalidInput("link " + link_id + " was revoked or expired meanwhile; create a new link instead");
  }
  // What the new code opens: the categories and consents decided now.
  r.categories = consent::CategoryNames(decided.decision.categories);
  r.consent_ids = Join(decided.decision.consents_used, ",");
  AuditTo new_code_to = LinkTo(r);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, &c, "link.new_code", r.student_id, link_id, r.purpose, decided.legal_basis,
                                      "permit", "", new_code_to));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return LinkNewCode{link_id, core_.config.links_public_url + "/l/" + made->token, made->code, r.expires};
}

Result<int> LinkService::ExpireDue() {
  NodeCore::Held held(core_);
  std::string now = FormatInstantMs(core_.clock->Now());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<LinkRow> due, store::DueLinks(held.db(), now, 1000));
  if (due.empty()) return 0;
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  for (const auto& r : due) {
    SCHAKEL_RETURN_IF_ERROR(store::MarkLinkExpired(held.db(), r.link_id, now));
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, nullptr, "link.expired", r.student_id, r.link_id, r.purpose,
                                        r.legal_basis, "ok", "expired", LinkTo(r)));
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int>(due.size());
}

Result<LinkVisit> LinkService::Visit(const std::string& token) {
  LinkVisit out;
  if (!crypto::IsLinkTokenShape(token)) return out;  // kNotFound
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> row,
                           FindForVisit(held, service_, crypto::LinkTokenHash(token), &out));
  if (!row) return out;
  GlobalLinkCounters().page_views++;
  // The code page holds nothing of the case: its view may go unrecorded.
  AuditBestEffort(held, nullptr, "link.view", row->student_id, row->link_id, row->purpose, row->legal_basis, "ok",
                  "code_page", LinkTo(*row));
  out.kind = LinkVisit::Kind::kAskCode;
  return out;
}

Result<LinkVisit> LinkService::Open(const std::string& token, std::string_view typed_code) {
  LinkVisit out;
  if (!crypto::IsLinkTokenShape(token)) return out;  // kNotFound
  const auto hash = crypto::LinkTokenHash(token);
  auto gone = [](const std::string& state, const std::string& reason = "") {
    LinkVisit g;
    g.kind = LinkVisit::Kind::kGone;
    g.state = state;
    g.state_reason = reason;
    return g;
  };
  LinkRow row;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> found, FindForVisit(held, service_, hash, &out));
    if (!found) return out;
    row = std::move(*found);
    // The attempt is counted before the code is tried: an attempt that
    // cannot be counted is never tried, so a failing database does not hand
    // out free guesses (a right code gives its attempt back below).
    auto counted = CountAttempt(held, row.link_id);
    if (!counted.ok()) return counted.status().WithContext("cannot count an attempt for " + row.link_id);
    if (!*counted) {  // no longer active since the lookup above
      SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> now_found, store::FindLinkByTokenHash(held.db(), hash));
      if (!now_found) return out;
      return gone(now_found->state, now_found->state_reason);
    }
  }
  auto code = crypto::NormaliseAccessCode(typed_code);
  Result<crypto::SecureBuffer> opened = Status::Unauthenticated("malformed code");
  if (auto sealed = SealedOf(row); code && sealed) {
    opened = crypto::OpenLinkContent(token, *code, row.link_id, *sealed, options_.kdf);
  }
  NodeCore::Held held(core_);
  // The state may have changed while Argon2id ran.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<LinkRow> again, store::FindLinkByTokenHash(held.db(), hash));
  if (!again) return out;
  if (again->state != "active") return gone(again->state, again->state_reason);
  if (!opened.ok()) {
    GlobalLinkCounters().wrong_codes++;
    int64_t failed = again->failed_attempts;  // this attempt included
    bool lock_now = failed >= kMaxWrongCodes;
    if (lock_now) SCHAKEL_RETURN_IF_ERROR(LockLink(held, row.link_id).WithContext("cannot lock " + row.link_id));
    // Denials, and the lock already holds: rolling it back because its entry
    // failed would open the door again.
    AuditBestEffort(held, nullptr, "link.wrong_code", row.student_id, row.link_id, row.purpose, row.legal_basis, "deny",
                    "attempt " + std::to_string(failed), LinkTo(row));
    if (lock_now) {
      GlobalLinkCounters().locks++;
      AuditBestEffort(held, nullptr, "link.locked", row.student_id, row.link_id, row.purpose, row.legal_basis, "deny",
                      "too_many_wrong_codes", LinkTo(row));
      return gone("locked");
    }
    out.kind = LinkVisit::Kind::kWrongCode;
    out.attempts_left = static_cast<int>(kMaxWrongCodes - failed);
    return out;
  }
  // Asked again right before the content is shown: time went on while
  // Argon2id ran (a consent may have expired at midnight meanwhile).
  SCHAKEL_ASSIGN_OR_RETURN(bool holds, BasisHolds(held, service_, *again));
  if (!holds) return gone(again->state, again->state_reason);
  // The content is shown only once its reading is on record.
  SCHAKEL_RETURN_IF_ERROR(RecordRead(held, row).WithContext("cannot record the reading of " + row.link_id));
  GlobalLinkCounters().reads++;
  out.kind = LinkVisit::Kind::kContent;
  out.content = std::move(opened).value();
  out.recipient_name = row.recipient_name;
  out.purpose = row.purpose;
  out.expires = row.expires;
  out.withheld = Split(row.withheld, ',');
  out.sender_name = core_.config.name;
  out.sender_org_type = std::string(consent::Name(core_.config.org_type));
  return out;
}

}  // namespace schakel::service
