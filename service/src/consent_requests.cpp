#include "schakel/service/consent_requests.h"

#include <algorithm>

#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/json.h"
#include "schakel/service/link_service.h"
#include "schakel/service/operations.h"
#include "schakel/store/consent_requests.h"
#include "service_internal.h"

namespace schakel::service {
namespace {

using formats::Json;
using Grant = store::ConsentGrantRecord;
constexpr size_t kMaxRecipients = 10;
constexpr size_t kMaxPurposes = 5;

// The audit event of something a visitor of a permission page did (or
// tried): nobody we know, unless the code opened it (then `grantor_role`).
audit::AuditEvent PageEvent(AuditWhat what, const std::string& grantor_role = "") {
  audit::AuditEvent e = SystemEvent(std::move(what), "consent-page");
  if (!grantor_role.empty()) e.actor_role = grantor_role;
  return e;
}

Json ContentJson(const GrantContent& g) {
  Json recipients = Json::array();
  for (const auto& r : g.recipients) recipients.push_back({{"name", r.name}, {"org_type", r.org_type}});
  return {{"grantor_role", g.grantor_role}, {"guardian", g.guardian},       {"student_name", g.student_name},
          {"organisation", g.organisation}, {"recipients", recipients},     {"purposes", g.purposes},
          {"categories", g.categories},     {"valid_until", g.valid_until}, {"text_version", g.text_version}};
}

Result<GrantContent> ContentFrom(std::string_view text) {
  auto j = formats::ParseJsonLimited(text, {64 * 1024, 8});
  if (!j.ok()) return j.status();
  try {
    GrantContent g;
    g.grantor_role = j->at("grantor_role").get<std::string>();
    g.guardian = j->at("guardian").get<std::string>();
    g.student_name = j->at("student_name").get<std::string>();
    g.organisation = j->at("organisation").get<std::string>();
    for (const auto& r : j->at("recipients")) {
      g.recipients.push_back({r.at("name").get<std::string>(), r.at("org_type").get<std::string>()});
    }
    g.purposes = j->at("purposes").get<std::vector<std::string>>();
    g.categories = j->at("categories").get<std::vector<std::string>>();
    g.valid_until = j->at("valid_until").get<std::string>();
    g.text_version = j->at("text_version").get<std::string>();
    return g;
  } catch (const Json::exception&) {
    return Status::Corruption("a permission page's content does not parse");
  }
}

std::optional<crypto::SealedLink> SealedOf(const Grant& r) {
  return internal::StoredSeal(r.has_content, r.kdf_salt, r.nonce, r.ciphertext);
}

// The categories an answer agreed to, from its stored JSON.
std::vector<std::string> AgreedIn(const std::string& answer) {
  auto j = formats::ParseJsonLimited(answer, {16 * 1024, 4});
  if (!j.ok() || !j->is_object() || !j->contains("categories") || !(*j)["categories"].is_array()) return {};
  std::vector<std::string> out;
  for (const auto& c : (*j)["categories"]) {
    if (c.is_string()) out.push_back(c.get<std::string>());
  }
  return out;
}

GrantPage Gone(const std::string& state) {
  GrantPage p;
  p.kind = GrantPage::Kind::kGone;
  p.state = state;
  return p;
}

// Checks the request's fields; the recipients come back named for the page.
Result<std::vector<GrantRecipient>> CheckInput(NodeCore::Held& held, const ConsentRequestInput& in, Date today) {
  if (in.recipients.empty() || in.recipients.size() > kMaxRecipients) {
    return Status::InvalidInput("recipients: 1 to " + std::to_string(kMaxRecipients) + " partners or org types");
  }
  std::vector<GrantRecipient> named;
  for (const auto& r : in.recipients) {
    if (auto type = consent::ParseOrgType(r)) {
      named.push_back({"elk(e) " + consent::DutchOrgTypeLabel(r), r});
      continue;
    }
    if (!IsValidObjectId(r)) return Status::InvalidInput("recipients: \"" + r + "\" is not a partner or an org type");
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> p, store::FindPartner(held.db(), r));
    if (!p) return Status::InvalidInput("recipients: no partner \"" + r + "\" (see `schakel partner list`)");
    named.push_back({p->card.name, p->card.org_type});
  }
  if (in.purposes.empty() || in.purposes.size() > kMaxPurposes) {
    return Status::InvalidInput("purposes: 1 to " + std::to_string(kMaxPurposes) + " purposes");
  }
  for (const auto& p : in.purposes) {
    if (!consent::IsValidPurpose(p)) return Status::InvalidInput("purposes: \"" + p + "\" is not a purpose name");
  }
  if (in.categories.empty()) return Status::InvalidInput("categories: name at least one category");
  for (const auto& c : in.categories) {
    if (!consent::ParseCategory(c)) return Status::InvalidInput("categories: unknown category \"" + c + "\"");
  }
  auto until = ParseDate(in.valid_until);
  if (!until.ok()) return Status::InvalidInput("valid_until: a date as YYYY-MM-DD");
  if (*until < today || *until > AddDays(today, 31 * kMaxConsentMonths)) {
    return Status::InvalidInput("valid_until: from today to at most " + std::to_string(kMaxConsentMonths) +
                                " months ahead");
  }
  if (in.answer_days < 1 || in.answer_days > kMaxAnswerDays) {
    return Status::InvalidInput("answer_days: from 1 to " + std::to_string(kMaxAnswerDays) + " days");
  }
  return named;
}

// What an answer agreed to and still stands in its consent (`standing`:
// the consent's categories now; some may have been withdrawn since).
std::vector<std::string> StillAgreed(const std::string& answer, consent::CategorySet standing) {
  std::vector<std::string> out;
  for (auto& name : AgreedIn(answer)) {
    auto cat = consent::ParseCategory(name);
    if (cat && standing.Has(*cat)) out.push_back(std::move(name));
  }
  return out;
}

// A grantor's row for the coordinator: what was agreed, less what was
// withdrawn since (read from the consent it made).
Result<GrantView> ViewOf(NodeCore::Held& held, const Grant& g) {
  GrantView v{g.grant_id, g.grantor_role, g.guardian, g.state, g.state_changed, AgreedIn(g.answer), g.consent_id};
  if (g.state == "agreed" && !g.consent_id.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRecord> given, store::FindConsent(held.db(), g.consent_id));
    if (given) v.agreed = StillAgreed(g.answer, given->consent.categories);
  }
  return v;
}

}  // namespace

struct ConsentRequests::Opened {
  Grant grant;
  store::ConsentRequestRecord request;
  GrantContent content;
};

ConsentRequests::ConsentRequests(NodeCore& core, Service& service, const ConsentRequestOptions& options)
    : core_(core), service_(service), options_(options) {}

// long-function: checks, the age rule, one sealed link per grantor, then one
// transaction; read in one place.
Result<ConsentRequestCreated> ConsentRequests::Create(const Caller& c, const ConsentRequestInput& in) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRequestConsent));
  if (core_.config.links_public_url.empty()) {
    return Status::InvalidInput("permission requests need the link pages: set [links] listen (and public_url)");
  }
  if (!IsValidObjectId(in.student_id)) return Status::InvalidInput("student: not a student id");
  const Instant now = core_.clock->Now();
  const Date today = AmsterdamDate(now);
  store::ConsentRequestRecord r;
  std::vector<GrantContent> contents;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> student, store::FindStudent(held.db(), in.student_id));
    if (!student) return Status::NotFound("no student " + in.student_id + " in the register (docs/students.md)");
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<GrantRecipient> named, CheckInput(held, in, today));
    auto birth = ParseDate(student->birth_date);
    if (!birth.ok()) return Status::Corruption("student " + in.student_id + ": bad stored birth date");
    const int age = AgeInYears(*birth, today);
    if (age < 0) return Status::InvalidInput("student " + in.student_id + ": birth date lies in the future");
    r.request_id = internal::RandomId("cr-", 8);
    r.student_id = in.student_id;
    r.purposes = in.purposes;
    r.recipients = in.recipients;
    for (const auto& name : in.categories) r.categories.Add(*consent::ParseCategory(name));
    r.valid_from = FormatDate(today);
    r.valid_until = in.valid_until;
    r.created_by = c.user_id;
    r.created = FormatInstantMs(now);
    r.expires = FormatInstantMs(now + std::chrono::days{in.answer_days});
    r.text_version = std::string(kConsentTextVersion);
    const GrantContent base{"",
                            "",
                            student->name,
                            core_.config.name,
                            named,
                            in.purposes,
                            internal::CategoryNames(r.categories),
                            in.valid_until,
                            r.text_version};
    SCHAKEL_ASSIGN_OR_RETURN(consent::NeededGrantors needed, internal::NeededForRequest(core_, in, named, age));
    contents = internal::WhoIsAsked(base, needed, core_.protocol.ages().parents, student->guardians);
  }
  // Argon2id for each link, without the lock.
  struct Made {
    GrantLink link;
    std::array<uint8_t, 32> hash;
    crypto::SealedLink sealed;
  };
  std::vector<Made> made;
  for (const auto& g : contents) {
    Made m;
    m.link.grant_id = internal::RandomId("g-", 8);
    m.link.grantor_role = g.grantor_role;
    m.link.guardian = g.guardian;
    std::string token = crypto::NewLinkToken();
    m.link.code = crypto::NewAccessCode();
    m.link.url = core_.config.links_public_url + "/t/" + token;
    m.hash = crypto::LinkTokenHash(token);
    SCHAKEL_ASSIGN_OR_RETURN(m.sealed, crypto::SealLinkContent(token, *crypto::NormaliseAccessCode(m.link.code),
                                                               m.link.grant_id, ContentJson(g).dump(), options_.kdf));
    made.push_back(std::move(m));
  }
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertConsentRequest(held.db(), r));
  ConsentRequestCreated out{r.request_id, r.expires, {}, "", "", {}};
  if (!contents.empty()) {
    out.student_name = contents.front().student_name;
    out.organisation = contents.front().organisation;
    for (const auto& rcp : contents.front().recipients) out.recipient_names.push_back(rcp.name);
  }
  std::vector<std::string> roles;
  for (const auto& m : made) {
    Grant g;
    g.grant_id = m.link.grant_id;
    g.request_id = r.request_id;
    g.grantor_role = m.link.grantor_role;
    g.guardian = m.link.guardian;
    store::GrantSecret secret{m.hash, m.sealed.salt, m.sealed.nonce, m.sealed.ciphertext};
    SCHAKEL_RETURN_IF_ERROR(store::InsertConsentGrant(held.db(), g, secret, r.created));
    roles.push_back(g.grantor_role);
    out.links.push_back(m.link);
  }
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, internal::CallerEvent(c,
                                              {"consent_request.created", r.student_id, r.request_id,
                                               Join(r.purposes, ","), "consent", "ok", "grantors:" + Join(roles, ",")},
                                              {Join(r.recipients, ","), consent::CategoryNames(r.categories), ""})));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

namespace internal {

Result<std::vector<ConsentRequestView>> RequestViewsFor(NodeCore::Held& held, const std::string& student_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ConsentRequestRecord> requests,
                           store::ConsentRequestsForStudent(held.db(), student_id));
  std::vector<ConsentRequestView> out;
  for (const auto& r : requests) {
    ConsentRequestView v{r.request_id,  r.student_id, r.recipients, r.purposes, internal::CategoryNames(r.categories),
                         r.valid_until, r.created_by, r.created,    r.expires,  {}};
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<Grant> grants, store::ConsentGrantsOf(held.db(), r.request_id));
    for (const auto& g : grants) {
      SCHAKEL_ASSIGN_OR_RETURN(GrantView gv, ViewOf(held, g));
      v.grantors.push_back(std::move(gv));
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace internal

Result<std::vector<ConsentRequestView>> ConsentRequests::ListForStudent(const Caller& c,
                                                                        const std::string& student_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListConsentRequests));
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<ConsentRequestView> out, internal::RequestViewsFor(held, student_id));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, internal::CallerEvent(c, {"consent_request.read", student_id, "", "", "", "ok", ""})));
  return out;
}

namespace {

// Expires an unanswered link found past its request's expiry, with its entry.
Status ExpireOnVisit(NodeCore::Held& held, const Grant& g, const store::ConsentRequestRecord& r,
                     const std::string& at) {
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(bool changed, store::SetGrantState(held.db(), g.grant_id, g.state, "expired", at));
  if (changed) {
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(
        held, PageEvent({"consent_request.expired", r.student_id, g.grant_id, "", "consent", "ok", g.grantor_role})));
  }
  return tx.Commit();
}

bool Usable(const std::string& state) { return state == "open" || state == "agreed"; }

// The grant behind a token hash and its request, into `grant` and
// `request`; or the page to show instead: none, expired now (unanswered past
// the request's expiry), or a link that no longer works.
Result<std::optional<GrantPage>> LookUp(NodeCore::Held& held, std::span<const uint8_t> hash, Grant* grant,
                                        store::ConsentRequestRecord* request) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<Grant> g, store::FindConsentGrantByTokenHash(held.db(), hash));
  if (!g) return std::optional<GrantPage>(GrantPage{});
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRequestRecord> r,
                           store::FindConsentRequest(held.db(), g->request_id));
  if (!r) return Status::Corruption("grant " + g->grant_id + " has no request");
  const std::string now = FormatInstantMs(held.core().clock->Now());
  if (g->state == "open" && r->expires <= now) {
    SCHAKEL_RETURN_IF_ERROR(ExpireOnVisit(held, *g, *r, now));
    return std::optional<GrantPage>(Gone("expired"));
  }
  if (!Usable(g->state)) return std::optional<GrantPage>(Gone(g->state));
  *grant = std::move(*g);
  *request = std::move(*r);
  return std::optional<GrantPage>();
}

}  // namespace

Result<GrantPage> ConsentRequests::Visit(const std::string& token) {
  if (!crypto::IsLinkTokenShape(token)) return GrantPage{};  // kNotFound
  NodeCore::Held held(core_);
  Grant g;
  store::ConsentRequestRecord r;
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<GrantPage> instead, LookUp(held, crypto::LinkTokenHash(token), &g, &r));
  if (instead) return *instead;
  AuditBestEffort(held, PageEvent({"consent_request.page_view", r.student_id, g.grant_id, "", "consent", "ok", ""}));
  GrantPage page;
  page.kind = GrantPage::Kind::kAskCode;
  page.state = g.state;
  return page;
}

// long-function: the same steps as LinkService::Open (count, try without the
// lock, look again, lock or record), read in one place.
Result<GrantPage> ConsentRequests::Unseal(const std::string& token, std::string_view typed_code, Opened* out) {
  GrantPage page;
  if (!crypto::IsLinkTokenShape(token)) return page;
  const auto hash = crypto::LinkTokenHash(token);
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<GrantPage> instead, LookUp(held, hash, &out->grant, &out->request));
    if (instead) return *instead;
    // Counted before it is tried: an attempt that cannot be counted is never tried.
    SCHAKEL_ASSIGN_OR_RETURN(bool counted, store::CountGrantAttempt(held.db(), out->grant.grant_id));
    if (!counted) return Gone(out->grant.state);
  }
  auto code = crypto::NormaliseAccessCode(typed_code);
  Result<crypto::SecureBuffer> opened = Status::Unauthenticated("malformed code");
  if (auto sealed = SealedOf(out->grant); code && sealed) {
    opened = crypto::OpenLinkContent(token, *code, out->grant.grant_id, *sealed, options_.kdf);
  }
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<Grant> again, store::FindConsentGrantByTokenHash(held.db(), hash));
  if (!again) return page;
  if (!Usable(again->state)) return Gone(again->state);
  const Grant& g = *again;
  const std::string& student = out->request.student_id;
  if (!opened.ok()) {
    const int64_t failed = g.failed_attempts;  // this attempt included
    if (failed >= kMaxWrongCodes) {
      SCHAKEL_RETURN_IF_ERROR(
          store::SetGrantState(held.db(), g.grant_id, g.state, "locked", FormatInstantMs(core_.clock->Now())).status());
      AuditBestEffort(held, PageEvent({"consent_request.locked", student, g.grant_id, "", "consent", "deny",
                                       "too_many_wrong_codes"}));
      return Gone("locked");
    }
    AuditBestEffort(held, PageEvent({"consent_request.wrong_code", student, g.grant_id, "", "consent", "deny",
                                     "attempt " + std::to_string(failed)}));
    page.kind = GrantPage::Kind::kWrongCode;
    page.attempts_left = static_cast<int>(kMaxWrongCodes - failed);
    return page;
  }
  SCHAKEL_RETURN_IF_ERROR(store::ResetGrantAttempts(held.db(), g.grant_id));
  consent::CategorySet agreed_now;
  if (g.state == "agreed") {
    // A coordinator may have withdrawn the consent meanwhile (on the
    // person's word by phone, say): the page then says so, and no longer
    // offers to manage it.
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRecord> given, store::FindConsent(held.db(), g.consent_id));
    if (!given || given->consent.withdrawn_at) {
      SCHAKEL_RETURN_IF_ERROR(
          store::SetGrantState(held.db(), g.grant_id, "agreed", "withdrawn", FormatInstantMs(core_.clock->Now()))
              .status());
      return Gone("withdrawn");
    }
    agreed_now = given->consent.categories;
  }
  std::string text(reinterpret_cast<const char*>(opened->data()), opened->size());
  auto content = ContentFrom(text);
  crypto::Wipe(text.data(), text.size());
  if (!content.ok()) return content.status();
  out->grant = g;
  out->content = std::move(*content);
  page.kind = g.state == "open" ? GrantPage::Kind::kQuestion : GrantPage::Kind::kAgreed;
  page.state = g.state;
  page.content = out->content;
  page.agreed = StillAgreed(g.answer, agreed_now);
  return page;
}

Result<GrantPage> ConsentRequests::Open(const std::string& token, std::string_view typed_code) {
  Opened o;
  SCHAKEL_ASSIGN_OR_RETURN(GrantPage page, Unseal(token, typed_code, &o));
  if (page.kind == GrantPage::Kind::kQuestion || page.kind == GrantPage::Kind::kAgreed) {
    NodeCore::Held held(core_);
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, PageEvent({"consent_request.opened", o.request.student_id,
                                                         o.grant.grant_id, "", "consent", "ok", o.grant.state},
                                                        o.grant.grantor_role)));
  }
  return page;
}

namespace {

// The answer's own checks; a Dutch message for the page, or empty.
std::string CheckAnswer(const GrantAnswer& a, const GrantContent& content) {
  if (a.typed_name.empty() || a.typed_name.size() > kMaxTypedName || !IsPrintableUtf8(a.typed_name)) {
    return "Vul uw naam in (ten hoogste " + std::to_string(kMaxTypedName) + " tekens) als ondertekening.";
  }
  if (!a.agree) return a.categories.empty() ? "" : "U koos 'nee' en vinkte toch gegevens aan. Kies één van beide.";
  if (a.categories.empty()) return "Vink aan voor welke gegevens u toestemming geeft, of kies 'nee'.";
  for (const auto& c : a.categories) {
    if (std::find(content.categories.begin(), content.categories.end(), c) == content.categories.end()) {
      return "Er werd toestemming gevraagd voor andere gegevens. Laad de pagina opnieuw.";
    }
  }
  return "";
}

}  // namespace

// long-function: the answer, its evidence, the consent and their entries in
// one transaction; read in one place.
Result<GrantPage> ConsentRequests::Answer(const std::string& token, std::string_view typed_code,
                                          const GrantAnswer& answer) {
  Opened o;
  SCHAKEL_ASSIGN_OR_RETURN(GrantPage page, Unseal(token, typed_code, &o));
  if (page.kind == GrantPage::Kind::kAgreed) return Gone("agreed");  // answered already: a replayed form
  if (page.kind != GrantPage::Kind::kQuestion) return page;
  if (std::string error = CheckAnswer(answer, o.content); !error.empty()) {
    page.kind = GrantPage::Kind::kInvalid;
    page.error = error;
    return page;
  }
  const Instant now = core_.clock->Now();
  const std::string at = FormatInstantMs(now);
  std::vector<std::string> chosen;  // in the request's order
  for (const auto& c : o.content.categories) {
    if (std::find(answer.categories.begin(), answer.categories.end(), c) != answer.categories.end()) {
      chosen.push_back(c);
    }
  }
  const GrantTexts texts = TextsFor(o.content);
  Json evidence = {{"kind", "consent_request"},
                   {"request_id", o.request.request_id},
                   {"grant_id", o.grant.grant_id},
                   {"grantor_role", o.grant.grantor_role},
                   {"guardian", o.grant.guardian},
                   {"answer", answer.agree ? "agree" : "refuse"},
                   {"typed_name", answer.typed_name},
                   {"answered_at", at},
                   {"categories", chosen},
                   {"text_version", o.content.text_version},
                   {"text_sha256", TextsSha256(texts)}};
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  std::string consent_id;
  if (answer.agree) {
    store::ConsentRecord rec;
    rec.consent.id = internal::RandomId("c-", 8);
    rec.consent.subject_id = o.request.student_id;
    rec.consent.grantor_role = *consent::ParseGrantorRole(o.grant.grantor_role);
    rec.consent.purposes = o.request.purposes;
    rec.consent.recipients = o.request.recipients;
    for (const auto& c : chosen) rec.consent.categories.Add(*consent::ParseCategory(c));
    rec.consent.valid_from = AmsterdamDate(now);
    rec.consent.valid_until = *ParseDate(o.request.valid_until);
    rec.consent.guardian = o.grant.guardian;
    rec.consent.request_id = o.request.request_id;
    rec.recorded_by = "consent-page:" + o.grant.grant_id;
    rec.recorded_at = at;
    rec.evidence = evidence.dump();
    SCHAKEL_RETURN_IF_ERROR(store::InsertConsent(held.db(), rec));
    consent_id = rec.consent.id;
  }
  const std::string to = answer.agree ? "agreed" : "refused";
  SCHAKEL_ASSIGN_OR_RETURN(
      bool changed, store::SetGrantState(held.db(), o.grant.grant_id, "open", to, at, evidence.dump(), consent_id));
  if (!changed) return Gone(o.grant.state);  // answered meanwhile; the transaction rolls back
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, PageEvent({answer.agree ? "consent.record" : "consent_request.refused", o.request.student_id,
                                   answer.agree ? consent_id : o.grant.grant_id, Join(o.request.purposes, ","),
                                   "consent", "ok", o.grant.grantor_role + ",request=" + o.request.request_id},
                                  o.grant.grantor_role)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  page.kind = GrantPage::Kind::kAnswered;
  page.state = to;
  page.agreed = chosen;
  return page;
}

Result<GrantPage> ConsentRequests::Withdraw(const std::string& token, std::string_view typed_code,
                                            const std::vector<std::string>& categories) {
  Opened o;
  SCHAKEL_ASSIGN_OR_RETURN(GrantPage page, Unseal(token, typed_code, &o));
  if (page.kind == GrantPage::Kind::kQuestion) return Gone("open");
  if (page.kind != GrantPage::Kind::kAgreed) return page;
  consent::CategorySet withdraw = consent::CategorySet::All();
  if (!categories.empty()) {
    withdraw = consent::CategorySet();
    for (const auto& name : categories) {
      auto cat = consent::ParseCategory(name);
      if (!cat || std::find(page.agreed.begin(), page.agreed.end(), name) == page.agreed.end()) {
        page.kind = GrantPage::Kind::kInvalid;
        page.error = "Kies alleen gegevens waarvoor nu toestemming is gegeven.";
        return page;
      }
      withdraw.Add(*cat);
    }
  }
  Caller grantor;
  grantor.user_id = "consent-page:" + o.grant.grant_id;
  grantor.name = o.grant.grantor_role;
  grantor.source = "consent-page";
  grantor.actor_role = o.grant.grantor_role;
  auto withdrawn = service_.NarrowConsentByGrantor(grantor, o.grant.consent_id, withdraw);
  // Withdrawn already (by a coordinator): the page still ends here.
  if (!withdrawn.ok() && withdrawn.status().code() != Code::kAlreadyExists) return withdrawn.status();
  const std::string at = FormatInstantMs(core_.clock->Now());
  NodeCore::Held held(core_);
  if (withdrawn.ok() && !withdrawn->replaced_by.empty()) {
    // Some categories: the link now manages the narrowed consent.
    SCHAKEL_RETURN_IF_ERROR(
        store::SetGrantState(held.db(), o.grant.grant_id, "agreed", "agreed", at, std::nullopt, withdrawn->replaced_by)
            .status());
    std::vector<std::string> left;
    for (const auto& name : page.agreed) {
      if (!withdraw.Has(*consent::ParseCategory(name))) left.push_back(name);
    }
    page.kind = GrantPage::Kind::kNarrowed;
    page.agreed = std::move(left);
    return page;
  }
  SCHAKEL_RETURN_IF_ERROR(store::SetGrantState(held.db(), o.grant.grant_id, "agreed", "withdrawn", at).status());
  page.kind = GrantPage::Kind::kWithdrawn;
  page.state = "withdrawn";
  return page;
}

Result<int> ConsentRequests::ExpireDue() {
  NodeCore::Held held(core_);
  const Instant now = core_.clock->Now();
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<std::string> ended,
                           store::ExpireConsentGrants(held.db(), FormatInstantMs(now), FormatDate(AmsterdamDate(now))));
  for (const auto& id : ended) {
    SCHAKEL_RETURN_IF_ERROR(
        AuditOrFail(held, PageEvent({"consent_request.expired", "", id, "", "consent", "ok", "swept"})));
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int>(ended.size());
}

}  // namespace schakel::service
