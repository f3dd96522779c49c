#include "link_service.h"

#include <algorithm>

#include "api_server.h"
#include "schakel/base/fault_inject.h"
#include "schakel/http/html.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/case_summary.h"
#include "schakel/formats/form.h"
#include "schakel/formats/json.h"

namespace schakel::daemon {
namespace html = http::html;
namespace {

using store::Role;

using LinkRow = store::LinkRecord;

// The stored content as crypto wants it; nullopt once deleted, or when the
// stored salt or nonce has the wrong size (then no code opens it).
std::optional<crypto::SealedLink> SealedOf(const LinkRow& r) {
  crypto::SealedLink sealed;
  if (!r.has_content || r.kdf_salt.size() != sealed.salt.size() || r.nonce.size() != sealed.nonce.size()) {
    return std::nullopt;
  }
  std::copy(r.kdf_salt.begin(), r.kdf_salt.end(), sealed.salt.begin());
  std::copy(r.nonce.begin(), r.nonce.end(), sealed.nonce.begin());
  sealed.ciphertext = r.ciphertext;
  return sealed;
}

std::string CategoryList(consent::CategorySet set) {
  std::vector<std::string> names;
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) names.emplace_back(consent::Name(c));
  }
  return Join(names, ",");
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool IsPurposeName(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  return std::all_of(p.begin(), p.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
}

audit::AuditEvent LinkEvent(const Caller* c, std::string action, const std::string& subject,
                            const std::string& object, const std::string& purpose, const std::string& legal,
                            std::string outcome, std::string reason) {
  audit::AuditEvent e = SystemEvent({std::move(action), subject, object, purpose, legal, std::move(outcome),
                                     std::move(reason)},
                                    c != nullptr ? c->source : "links");
  if (c != nullptr) {
    e.actor_user = c->user_id;
    e.actor_role = std::string(store::RoleName(c->role));
  }
  return e;
}

// The audit policy of node_core.h; `c` is null for the link pages, whose
// visitor is nobody we know.
[[nodiscard]] Status AuditOrFail(NodeCore& core, const Caller* c, std::string action, const std::string& subject,
                                 const std::string& object, const std::string& purpose, const std::string& legal,
                                 std::string outcome, std::string reason) {
  return daemon::AuditOrFail(core, LinkEvent(c, std::move(action), subject, object, purpose, legal,
                                             std::move(outcome), std::move(reason)));
}

void AuditBestEffort(NodeCore& core, const Caller* c, std::string action, const std::string& subject,
                     const std::string& object, const std::string& purpose, const std::string& legal,
                     std::string outcome, std::string reason) {
  daemon::AuditBestEffort(core, LinkEvent(c, std::move(action), subject, object, purpose, legal,
                                          std::move(outcome), std::move(reason)));
}

Json RowJson(const LinkRow& r) {
  return Json{{"link_id", r.link_id},         {"case_id", r.case_id},
              {"for", r.recipient_name},      {"type", r.recipient_type},
              {"purpose", r.purpose},         {"legal_basis", r.legal_basis},
              {"categories", SplitList(r.categories)}, {"withheld", SplitList(r.withheld)},
              {"created_by", r.created_by},   {"created", r.created},
              {"expires", r.expires},         {"state", r.state},
              {"failed_attempts", r.failed_attempts}};
}

// An unparsable stored expiry counts as expired long ago.
Instant ExpiresAt(const std::string& text) {
  auto t = ParseInstant(text);
  return t.ok() ? *t : Instant{};
}

bool MayManage(const Caller& c, const LinkRow& r) {
  return c.role == Role::kCoordinator || (c.role == Role::kStaff && r.created_by == c.user_id);
}

// ---- pages ----

const char* DutchCategory(std::string_view name) {
  static const std::map<std::string_view, const char*> kNames = {
      {"identificatie", "Identificatie"}, {"bsn", "Burgerservicenummer"},
      {"contact", "Contactgegevens"},     {"onderwijs", "Onderwijs"},
      {"verzuim", "Verzuim"},             {"hulpvraag", "Hulpvraag"},
      {"gezinssituatie", "Gezinssituatie"}, {"gezondheid", "Gezondheid"},
      {"justitie", "Justitie"},           {"afspraken", "Afspraken"}};
  auto it = kNames.find(name);
  return it == kNames.end() ? "Overig" : it->second;
}

std::string DutchKey(const std::string& key) {
  static const std::map<std::string, std::string> kKeys = {
      {"name", "Naam"}, {"school", "School"}, {"class", "Klas"}, {"guardians", "Ouders/verzorgers"},
      {"relation", "Relatie"}, {"phone", "Telefoon"}, {"email", "E-mail"}, {"level", "Niveau"},
      {"year", "Leerjaar"}, {"notes", "Toelichting"}, {"unauthorised_hours_4w", "Ongeoorloofd verzuim (uren, 4 weken)"},
      {"question", "Vraag"}, {"signals", "Signalen"}, {"hindering", "Belemmerende factoren"},
      {"supporting", "Beschermende factoren"}, {"tried", "Al geprobeerd"}, {"coordinator", "Casuscoördinator"},
      {"actions", "Acties"}, {"what", "Wat"}, {"who", "Wie"}, {"when", "Wanneer"},
      {"next_evaluation", "Volgende evaluatie"}};
  auto it = kKeys.find(key);
  return it == kKeys.end() ? key : it->second;
}

std::string RenderValue(const formats::Json& v, int depth) {
  if (depth > 8) return "…";
  if (v.is_null()) return "<p>—</p>";
  if (v.is_string()) return "<p>" + html::Escape(v.get<std::string>()) + "</p>";
  if (v.is_boolean()) return std::string("<p>") + (v.get<bool>() ? "ja" : "nee") + "</p>";
  if (v.is_number()) return "<p>" + html::Escape(v.dump()) + "</p>";
  if (v.is_array()) {
    std::string o = "<ul>";
    for (const auto& e : v) o += "<li>" + RenderValue(e, depth + 1) + "</li>";
    return o + "</ul>";
  }
  std::string o = "<dl>";
  for (const auto& [k, e] : v.items()) {
    o += "<dt>" + html::Escape(DutchKey(k)) + "</dt><dd>" + RenderValue(e, depth + 1) + "</dd>";
  }
  return o + "</dl>";
}

std::string RenderCase(const std::string& json, const LinkRow& r) {
  auto parsed = formats::ParseJsonLimited(json, {1024 * 1024, 16});
  std::string o = "<h1>Dossier</h1>\n";
  o += "<p class=\"notice\">Gedeeld met " + html::Escape(r.recipient_name) + " voor het doel <strong>" +
       html::Escape(r.purpose) + "</strong>. Deze link verloopt op " + html::Escape(r.expires.substr(0, 10)) +
       ". Bewaar of verspreid deze gegevens niet verder dan nodig.</p>\n";
  if (!parsed.ok()) return o + "<p class=\"error\">De inhoud kon niet worden weergegeven.</p>";
  const formats::Json& j = *parsed;
  o += "<section><h2>Over wie</h2><dl>";
  if (j.contains("student_id")) o += "<dt>Leerlingnummer</dt><dd>" + html::Escape(j["student_id"].get<std::string>()) + "</dd>";
  if (j.contains("birth_date")) o += "<dt>Geboortedatum</dt><dd>" + html::Escape(j["birth_date"].get<std::string>()) + "</dd>";
  if (j.contains("case_id")) o += "<dt>Dossiernummer</dt><dd>" + html::Escape(j["case_id"].get<std::string>()) + "</dd>";
  o += "</dl></section>\n";
  for (consent::Category c : consent::kAllCategories) {
    std::string name(consent::Name(c));
    if (!j.contains(name)) continue;
    o += "<section id=\"cat-" + name + "\"><h2>" + DutchCategory(name) + "</h2>" + RenderValue(j[name], 0) +
         "</section>\n";
  }
  if (!r.withheld.empty()) {
    std::vector<std::string> held;
    for (const auto& n : SplitList(r.withheld)) held.emplace_back(DutchCategory(n));
    o += "<p class=\"withheld\">Niet gedeeld (geen grondslag of toestemming): " + html::Escape(Join(held, ", ")) +
         ".</p>\n";
  }
  return o;
}

http::WebResponse Page(int status, const std::string& title, const std::string& body) {
  html::Page p;
  p.title = title + " — Schakel";
  p.body_html = body;
  return http::WebResponse::Html(status, html::Layout(p));
}

http::WebResponse CodeForm(int status, const std::string& token, const std::string& error) {
  std::string b = "<h1>Beveiligd dossier</h1>\n";
  b += "<p>U heeft een link ontvangen naar vertrouwelijke gegevens. Vul de toegangscode in die u via een ander "
       "kanaal (telefoon of sms) van de afzender heeft gekregen.</p>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\" id=\"fout\">" + html::Escape(error) + "</p>\n";
  b += "<form method=\"post\" action=\"/l/" + html::Escape(token) + "\">\n";
  html::Field f;
  f.id = "code";
  f.label = "Toegangscode";
  f.hint = "10 tekens, bijvoorbeeld ABCDE-23456. Hoofdletters en het streepje zijn niet nodig.";
  f.inputmode = "text";
  f.extra_class = "code";
  f.maxlength = 16;
  f.required = true;
  b += html::Input(f);
  b += html::Submit("Dossier openen");
  b += "</form>\n";
  return Page(status, "Toegangscode", b);
}

http::WebResponse Gone(const std::string& state) {
  std::string why;
  if (state == "locked") {
    why = "Deze link is geblokkeerd na te veel onjuiste toegangscodes. Neem contact op met de afzender voor een "
          "nieuwe code.";
  } else if (state == "revoked") {
    why = "De afzender heeft deze link ingetrokken. Neem contact op met de afzender als u de gegevens nog nodig heeft.";
  } else {
    why = "Deze link is verlopen. Neem contact op met de afzender als u de gegevens nog nodig heeft.";
  }
  return Page(410, "Link niet meer geldig", "<h1>Link niet meer geldig</h1>\n<p class=\"notice\">" + why + "</p>\n");
}

// Something could not be written or read: the visitor sees no content and
// no code form, only that it failed.
http::WebResponse InternalError() {
  return Page(500, "Interne fout",
              "<h1>Interne fout</h1>\n<p class=\"error\">Interne fout. Probeer het later opnieuw.</p>\n");
}

http::WebResponse NotFound() {
  return Page(404, "Niet gevonden",
              "<h1>Niet gevonden</h1>\n<p>Deze link bestaat niet. Controleer of u het hele adres heeft "
              "overgenomen.</p>\n");
}

// Expires a link found past its expiry when visited, with its entry.
Status ExpireOnView(NodeCore& core, const LinkRow& row, Instant now) {
  store::Transaction tx(*core.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::MarkLinkExpired(*core.db, row.link_id, FormatInstantMs(now)));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(core, nullptr, "link.expired", row.student_id, row.link_id, row.purpose,
                                      row.legal_basis, "ok", "expired"));
  return tx.Commit();
}

// Counts one code attempt on an active link. False when the link is no
// longer active.
Result<bool> CountAttempt(NodeCore& core, const std::string& link_id) {
  if (FaultFail("links.wrong_code_update")) return Status::IoError("links: injected failure (links.wrong_code_update)");
  return store::CountLinkAttempt(*core.db, link_id);
}

// Locks a link after too many wrong codes.
Status LockLink(NodeCore& core, const std::string& link_id) {
  if (FaultFail("links.wrong_code_update")) return Status::IoError("links: injected failure (links.wrong_code_update)");
  return store::LockLink(*core.db, link_id, FormatInstantMs(core.clock->Now()));
}

// Records that the content was read: last_read, the attempt given back and
// the link.read entry together, committed, or none.
Status RecordRead(NodeCore& core, const LinkRow& row) {
  store::Transaction tx(*core.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::RecordLinkRead(*core.db, row.link_id, FormatInstantMs(core.clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(core, nullptr, "link.read", row.student_id, row.link_id, row.purpose, row.legal_basis, "ok", ""));
  return tx.Commit();
}

}  // namespace

LinkCounters& GlobalLinkCounters() {
  static LinkCounters counters;
  return counters;
}

LinkService::LinkService(NodeCore& core, Service& service, const LinkOptions& options)
    : core_(core), service_(service), options_(options), per_ip_(*core.clock, options.per_ip) {}

struct LinkService::Sealed {
  GateResult decided;
  std::string token;
  std::string code;
  std::optional<crypto::SealedLink> sealed;
};

Reply LinkService::DecideAndSeal(const Caller& c, const GateRequest& gate, const std::string& link_id,
                                 std::unique_lock<std::mutex>* lock, Sealed* out) {
  std::string projected;
  {
    std::lock_guard<std::mutex> decide(core_.mu);
    if (Reply refused = service_.Gate(c, gate, &out->decided); !refused.status.ok()) return refused;
    auto summary = formats::ParseCaseSummary(out->decided.kase.summary, true);
    if (!summary.ok()) return Reply::Error(summary.status());
    projected = formats::Project(*summary, out->decided.decision.categories);
  }
  out->token = crypto::NewLinkToken();
  out->code = crypto::NewAccessCode();
  auto sealed = crypto::SealLinkContent(out->token, *crypto::NormaliseAccessCode(out->code), link_id, projected,
                                        options_.kdf);
  crypto::Wipe(projected.data(), projected.size());
  if (!sealed.ok()) return Reply::Error(sealed.status());
  out->sealed = std::move(*sealed);

  lock->lock();
  // A consent withdrawn while the content was being sealed would not find
  // this link to revoke: refuse rather than store it.
  for (const auto& id : out->decided.decision.consents_used) {
    auto consent = store::FindConsent(*core_.db, id);
    if (!consent.ok()) return Reply::Error(consent.status());
    if (!*consent || (*consent)->consent.withdrawn_at) {
      return Reply::Error(Status::Denied("consent " + id + " was withdrawn while the link was being made; "
                                         "nothing was created"));
    }
  }
  return Reply::Ok({});
}

Reply LinkService::Create(const Caller& c, const LinkCreateRequest& req) {
  if (c.role != Role::kStaff && c.role != Role::kCoordinator) {
    return Reply::Error(Status::Denied("the " + std::string(store::RoleName(c.role)) + " role may not create links"));
  }
  if (core_.config.links_public_url.empty()) {
    return Reply::Error(Status::InvalidInput("links are not configured: set [links] listen (and public_url)"));
  }
  if (req.for_name.empty() || req.for_name.size() > 200 || !IsPrintableUtf8(req.for_name)) {
    return Reply::Error(Status::InvalidInput("--for: 1 to 200 printable characters"));
  }
  auto org_type = consent::ParseOrgType(req.org_type);
  if (!org_type) return Reply::Error(Status::InvalidInput("--type: unknown org type \"" + req.org_type + "\""));
  if (!IsPurposeName(req.purpose)) return Reply::Error(Status::InvalidInput("--purpose: not a purpose name"));
  if (req.expires_days < 1 || req.expires_days > kMaxLinkDays) {
    return Reply::Error(Status::InvalidInput("--expires: from 1 to " + std::to_string(kMaxLinkDays) + " days"));
  }

  GateRequest gate{req.case_id, req.purpose, {"link", *org_type}, req.categories, req.allow_partial,
                   std::nullopt, "link", req.case_id + "->link:" + req.org_type};
  const std::string link_id = "l-" + ToHex(crypto::SecureBuffer::Random(8).span());
  std::unique_lock<std::mutex> lock(core_.mu, std::defer_lock);
  Sealed made;
  if (Reply refused = DecideAndSeal(c, gate, link_id, &lock, &made); !refused.status.ok()) return refused;
  const GateResult& decided = made.decided;
  const std::optional<crypto::SealedLink>& sealed = made.sealed;
  const std::string& token = made.token;
  const std::string& code = made.code;
  Instant now = core_.clock->Now();
  std::string created = FormatInstantMs(now);
  std::string expires = FormatInstantMs(now + std::chrono::days{req.expires_days});
  auto hash = crypto::LinkTokenHash(token);

  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
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
    r.categories = CategoryList(decided.decision.categories);
    r.withheld = CategoryList(decided.decision.withheld);
    r.consent_ids = Join(decided.decision.consents_used, ",");
    r.created_by = c.user_id;
    r.created = created;
    r.expires = expires;
    store::LinkSecret secret{hash, sealed->salt, sealed->nonce, sealed->ciphertext};
    if (Status st = store::InsertLink(*core_.db, r, secret); !st.ok()) return Reply::Error(st);
  }
  if (Status st = AuditOrFail(core_, &c, "link.created", decided.kase.student_id, link_id, req.purpose,
                              decided.legal_basis, "permit", "for:" + req.org_type);
      !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"link_id", link_id},
                    {"url", core_.config.links_public_url + "/l/" + token},
                    {"code", code},
                    {"expires", expires},
                    {"categories", SplitList(CategoryList(decided.decision.categories))},
                    {"withheld", SplitList(CategoryList(decided.decision.withheld))},
                    {"decision", decided.decision_json}});
}

Reply LinkService::List(const Caller& c) {
  if (c.role != Role::kStaff && c.role != Role::kCoordinator) {
    return Reply::Error(Status::Denied("the " + std::string(store::RoleName(c.role)) + " role may not list links"));
  }
  std::lock_guard<std::mutex> lock(core_.mu);
  auto links = store::ListLinks(*core_.db, 1000);
  if (!links.ok()) return Reply::Error(links.status());
  Json out = Json::array();
  for (const LinkRow& r : *links) {
    if (MayManage(c, r)) out.push_back(RowJson(r));
  }
  return Reply::Ok({{"links", out}});
}

Reply LinkService::Revoke(const Caller& c, const std::string& link_id) {
  std::lock_guard<std::mutex> lock(core_.mu);
  auto row = store::FindLink(*core_.db, link_id);
  if (!row.ok()) return Reply::Error(row.status());
  if (!*row) return Reply::Error(Status::NotFound("no link " + link_id));
  const LinkRow& r = **row;
  if (!MayManage(c, r)) {
    AuditBestEffort(core_, &c, "link.revoke", r.student_id, link_id, r.purpose, r.legal_basis, "deny", "not_yours");
    return Reply::Error(Status::Denied("link " + link_id + " is not yours"));
  }
  if (r.state == "revoked" || r.state == "expired" || r.state == "purged") {
    return Reply::Error(Status::InvalidInput("link " + link_id + " is already " + r.state));
  }
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::RevokeLink(*core_.db, link_id, "revoked", FormatInstantMs(core_.clock->Now())); !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = AuditOrFail(core_, &c, "link.revoked", r.student_id, link_id, r.purpose, r.legal_basis, "ok", "");
      !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"link_id", link_id}, {"state", "revoked"}});
}

Reply LinkService::NewCode(const Caller& c, const std::string& link_id) {
  if (c.role != Role::kStaff && c.role != Role::kCoordinator) {
    return Reply::Error(Status::Denied("the " + std::string(store::RoleName(c.role)) + " role may not manage links"));
  }
  std::unique_lock<std::mutex> lock(core_.mu);
  auto row = store::FindLink(*core_.db, link_id);
  if (!row.ok()) return Reply::Error(row.status());
  if (!*row) return Reply::Error(Status::NotFound("no link " + link_id));
  const LinkRow r = **row;
  if (!MayManage(c, r)) return Reply::Error(Status::Denied("link " + link_id + " is not yours"));
  if (r.state != "active" && r.state != "locked") {
    return Reply::Error(Status::InvalidInput("link " + link_id + " is " + r.state + "; create a new link instead"));
  }
  if (ExpiresAt(r.expires) <= core_.clock->Now()) {
    return Reply::Error(Status::InvalidInput("link " + link_id + " has expired; create a new link instead"));
  }
  auto org_type = consent::ParseOrgType(r.recipient_type);
  if (!org_type) return Reply::Error(Status::Corruption("link " + link_id + ": bad stored org type"));
  lock.unlock();
  // The same request as at creation, decided again on the case as it is now.
  std::vector<std::string> cats = SplitList(r.categories);
  for (const auto& w : SplitList(r.withheld)) cats.push_back(w);
  GateRequest gate{r.case_id, r.purpose, {"link", *org_type}, cats, !r.withheld.empty(), std::nullopt, "link",
                   link_id};
  Sealed made;
  if (Reply refused = DecideAndSeal(c, gate, link_id, &lock, &made); !refused.status.ok()) return refused;
  const GateResult& decided = made.decided;
  auto hash = crypto::LinkTokenHash(made.token);
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  // Only a link still active or locked gets the new code: it may have been
  // revoked or expired while the content was being sealed.
  store::LinkSecret secret{hash, made.sealed->salt, made.sealed->nonce, made.sealed->ciphertext};
  auto updated = store::UpdateLinkCode(*core_.db, link_id, secret, decided.kase.version,
                                       CategoryList(decided.decision.categories),
                                       CategoryList(decided.decision.withheld),
                                       Join(decided.decision.consents_used, ","),
                                       FormatInstantMs(core_.clock->Now()));
  if (!updated.ok()) return Reply::Error(updated.status());
  if (!*updated) {
    return Reply::Error(Status::InvalidInput("link " + link_id + " was revoked or expired meanwhile; create a new link instead"));
  }
  if (Status st = AuditOrFail(core_, &c, "link.new_code", r.student_id, link_id, r.purpose, decided.legal_basis,
                              "permit", "");
      !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"link_id", link_id},
                    {"url", core_.config.links_public_url + "/l/" + made.token},
                    {"code", made.code},
                    {"expires", r.expires}});
}

Result<int> LinkService::ExpireDue() {
  std::lock_guard<std::mutex> lock(core_.mu);
  std::string now = FormatInstantMs(core_.clock->Now());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<LinkRow> due, store::DueLinks(*core_.db, now, 1000));
  if (due.empty()) return 0;
  store::Transaction tx(*core_.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  for (const auto& r : due) {
    SCHAKEL_RETURN_IF_ERROR(store::MarkLinkExpired(*core_.db, r.link_id, now));
    SCHAKEL_RETURN_IF_ERROR(
        AuditOrFail(core_, nullptr, "link.expired", r.student_id, r.link_id, r.purpose, r.legal_basis, "ok", "expired"));
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int>(due.size());
}

http::WebResponse LinkService::HandlePage(const http::WebRequest& req) {
  constexpr std::string_view kPrefix = "/l/";
  if (req.path.compare(0, kPrefix.size(), kPrefix) != 0) return NotFound();
  std::string token = req.path.substr(kPrefix.size());
  if (!crypto::IsLinkTokenShape(token)) return NotFound();
  if (req.method != "GET" && req.method != "POST") {
    http::WebResponse r = http::WebResponse::Text(405, "Alleen GET en POST.");
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  auto hash = crypto::LinkTokenHash(token);
  auto lookup = [&]() -> Result<std::optional<LinkRow>> {
    return store::FindLinkByTokenHash(*core_.db, hash);
  };
  LinkRow row;
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    auto found = lookup();
    if (!found.ok()) {
      LogError("links: " + found.status().message());
      return InternalError();
    }
    if (!*found) return NotFound();
    row = std::move(**found);
    Instant now = core_.clock->Now();
    if ((row.state == "active" || row.state == "locked") && ExpiresAt(row.expires) <= now) {
      // The content is deleted and the link expired with its audit entry, or
      // not at all: then the visitor gets an error, never the code form.
      if (Status st = ExpireOnView(core_, row, now); !st.ok()) {
        LogError("links: cannot expire " + row.link_id + ": " + st.message());
        return InternalError();
      }
      row.state = "expired";
    }
    if (row.state != "active") {
      AuditBestEffort(core_, nullptr, "link.view", row.student_id, row.link_id, row.purpose, row.legal_basis, "deny",
                      row.state);
      return Gone(row.state);
    }
    if (req.method == "GET") {
      GlobalLinkCounters().page_views++;
      // The code page holds nothing of the case: its view may go unrecorded.
      AuditBestEffort(core_, nullptr, "link.view", row.student_id, row.link_id, row.purpose, row.legal_basis, "ok",
                      "code_page");
      return CodeForm(200, token, "");
    }
  }
  // POST: the code. Same-origin only when the browser says where it came from.
  if (req.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
    return Page(415, "Ongeldig verzoek", "<h1>Ongeldig verzoek</h1><p>Gebruik het formulier op de pagina.</p>");
  }
  // With Referrer-Policy: no-referrer browsers send "Origin: null" on form
  // posts; Sec-Fetch-Site still tells same-origin apart.
  bool cross_origin = !req.sec_fetch_site.empty()
                          ? req.sec_fetch_site != "same-origin" && req.sec_fetch_site != "none"
                          : !req.origin.empty() && req.origin != "null" && req.origin != "https://" + req.host;
  if (cross_origin) {
    return Page(403, "Geweigerd", "<h1>Geweigerd</h1><p>Dit formulier kan alleen vanaf deze pagina worden verstuurd.</p>");
  }
  if (!per_ip_.Allow(req.client_ip)) {
    GlobalLinkCounters().rate_limited++;
    http::WebResponse r = Page(429, "Even wachten",
                         "<h1>Te veel pogingen</h1><p class=\"error\">Er zijn vanaf uw verbinding te veel codes "
                         "geprobeerd. Probeer het over een kwartier opnieuw.</p>");
    r.headers.emplace_back("Retry-After", "900");
    return r;
  }
  formats::FormLimits limits;
  limits.max_body = 1024;
  limits.max_fields = 4;
  limits.max_value = 64;
  auto form = formats::ParseForm(req.body, limits);
  std::string typed = form.ok() && form->count("code") ? form->at("code") : "";
  auto code = crypto::NormaliseAccessCode(typed);
  // The attempt is counted before the code is tried: an attempt that cannot
  // be counted is never tried, so a failing database does not hand out free
  // guesses (a right code gives its attempt back below).
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    auto counted = CountAttempt(core_, row.link_id);
    if (!counted.ok()) {
      LogError("links: cannot count an attempt for " + row.link_id + ": " + counted.status().message());
      return InternalError();
    }
    if (!*counted) {  // no longer active since the lookup above
      auto now_found = lookup();
      if (!now_found.ok()) {
        LogError("links: " + now_found.status().message());
        return InternalError();
      }
      if (!*now_found) return NotFound();
      return Gone((*now_found)->state);
    }
  }
  Result<crypto::SecureBuffer> opened = Status::Unauthenticated("malformed code");
  if (auto sealed = SealedOf(row); code && sealed) {
    opened = crypto::OpenLinkContent(token, *code, row.link_id, *sealed, options_.kdf);
  }
  std::lock_guard<std::mutex> lock(core_.mu);
  auto again = lookup();  // the state may have changed while Argon2id ran
  if (!again.ok()) {
    LogError("links: " + again.status().message());
    return InternalError();
  }
  if (!*again) return NotFound();
  if ((*again)->state != "active") return Gone((*again)->state);
  if (!opened.ok()) {
    GlobalLinkCounters().wrong_codes++;
    int64_t failed = (*again)->failed_attempts;  // this attempt included
    bool lock_now = failed >= kMaxWrongCodes;
    if (lock_now) {
      if (Status st = LockLink(core_, row.link_id); !st.ok()) {
        LogError("links: cannot lock " + row.link_id + ": " + st.message());
        return InternalError();
      }
    }
    // Denials, and the lock already holds: rolling it back because its entry
    // failed would open the door again.
    AuditBestEffort(core_, nullptr, "link.wrong_code", row.student_id, row.link_id, row.purpose, row.legal_basis,
                    "deny", "attempt " + std::to_string(failed));
    if (lock_now) {
      GlobalLinkCounters().locks++;
      AuditBestEffort(core_, nullptr, "link.locked", row.student_id, row.link_id, row.purpose, row.legal_basis,
                      "deny", "too_many_wrong_codes");
      return Gone("locked");
    }
    int64_t left = kMaxWrongCodes - failed;
    return CodeForm(403, token, "Deze toegangscode is onjuist. U heeft nog " + std::to_string(left) +
                                    (left == 1 ? " poging." : " pogingen."));
  }
  // The content is shown only once its reading is on record.
  if (Status st = RecordRead(core_, row); !st.ok()) {
    LogError("links: cannot record the reading of " + row.link_id + ": " + st.message());
    return InternalError();
  }
  GlobalLinkCounters().reads++;
  std::string json(reinterpret_cast<const char*>(opened->data()), opened->size());
  http::WebResponse page = Page(200, "Dossier", RenderCase(json, row));
  std::fill(json.begin(), json.end(), '\0');
  return page;
}

ExtraRoute LinkApiRoute(LinkService& links) {
  return [&links](const Caller& caller, const std::string& method, const std::string& target,
                  const std::string& body, Reply* reply, std::string* /*content_type*/) {
    constexpr std::string_view kBase = "/v1/links";
    if (target.compare(0, kBase.size(), kBase) != 0) return false;
    std::string rest = target.substr(kBase.size());
    if (rest.empty() && method == "GET") {
      *reply = links.List(caller);
      return true;
    }
    if (rest.empty() && method == "POST") {
      auto parsed = formats::ParseLinkRequest(body);
      *reply = parsed.ok() ? links.Create(caller, *parsed) : Reply::Error(parsed.status());
      return true;
    }
    // /{id}/revoke, /{id}/new-code
    if (method == "POST" && rest.size() > 1 && rest[0] == '/') {
      auto slash = rest.find('/', 1);
      if (slash != std::string::npos) {
        std::string id = rest.substr(1, slash - 1);
        std::string verb = rest.substr(slash + 1);
        if (!IsValidObjectId(id)) {
          *reply = Reply::Error(Status::InvalidInput("not a link id"));
          return true;
        }
        if (verb == "revoke") {
          *reply = links.Revoke(caller, id);
          return true;
        }
        if (verb == "new-code") {
          *reply = links.NewCode(caller, id);
          return true;
        }
      }
    }
    *reply = Reply::Error(Status::NotFound("no such endpoint: " + method + " " + target));
    return true;
  };
}

}  // namespace schakel::daemon
