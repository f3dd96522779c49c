#include "console_server.h"
#include "schakel/daemon/daemon.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include "api_json.h"
#include "console_pages.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/formats/api_request.h"
#include "schakel/formats/form.h"
#include "schakel/http/router.h"
#include "schakel/store/accounts.h"
#include "service_names.h"

namespace schakel::daemon {
namespace {

using console::Viewer;
using store::Role;

constexpr std::array<const char*, 10> kCategories = {"identificatie", "bsn",       "contact",        "onderwijs",
                                                     "verzuim",       "hulpvraag", "gezinssituatie", "gezondheid",
                                                     "justitie",      "afspraken"};

// One Status -> HTTP map for every listener (a full disk is 507 here too).
int HttpStatus(const Status& st) { return http::HttpStatusFor(st); }

std::string SessionCookie(const std::string& id) {
  return std::string(kConsoleCookie) + "=" + id + "; Path=/; Secure; HttpOnly; SameSite=Strict";
}
std::string ClearCookie() {
  return std::string(kConsoleCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
}

http::WebResponse WithCookie(http::WebResponse r, const std::string& cookie) {
  r.headers.emplace_back("Set-Cookie", cookie);
  return r;
}

std::string CookieId(const http::WebRequest& req) {
  auto cookies = formats::ParseCookieHeader(req.cookie);
  if (!cookies.ok()) return "";
  auto it = cookies->find(kConsoleCookie);
  return it == cookies->end() ? "" : it->second;
}

// A POST must come from our own pages: Sec-Fetch-Site (sent by current
// browsers) is same-origin, and Origin, when sent, is https://<Host>. Under
// our Referrer-Policy: no-referrer, Chromium sends "Origin: null" for a
// same-origin form; that is accepted only with Sec-Fetch-Site: same-origin.
bool SameOrigin(const http::WebRequest& req) {
  if (!req.sec_fetch_site.empty() && req.sec_fetch_site != "same-origin" && req.sec_fetch_site != "none") {
    return false;
  }
  if (req.origin == "null") return req.sec_fetch_site == "same-origin";
  if (!req.origin.empty() && req.origin != "https://" + req.host) return false;
  return true;
}

std::string Field(const std::map<std::string, std::string>& form, const std::string& key) {
  auto it = form.find(key);
  return it == form.end() ? "" : it->second;
}

std::vector<std::string> CheckedCategories(const std::map<std::string, std::string>& form) {
  std::vector<std::string> out;
  for (const char* c : kCategories) {
    if (form.count(std::string("cat_") + c)) out.emplace_back(c);
  }
  return out;
}

// The reasons given per category for a Meldcode report ("reden_<category>",
// the empty ones left out).
std::map<std::string, std::string> CategoryReasons(const std::map<std::string, std::string>& form) {
  std::map<std::string, std::string> out;
  for (const char* c : kCategories) {
    auto it = form.find(std::string("reden_") + c);
    if (it != form.end() && !it->second.empty()) out.emplace(c, it->second);
  }
  return out;
}

http::WebResponse Page(int status, std::string html) { return http::WebResponse::Html(status, std::move(html)); }

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size() && out.size() < 32) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

// A case from the console's JSON (typed in, or made from the form): the role
// is checked before the summary is read, as the API does.
Result<service::CaseSaved> ConsoleServer::AddCaseFrom(const Caller& c, const std::string& json) {
  SCHAKEL_RETURN_IF_ERROR(service::Authorize(c, service::Op::kAddCase));
  SCHAKEL_ASSIGN_OR_RETURN(formats::CaseSummary summary, ParseCaseBody(json));
  return service_.AddCase(c, std::move(summary));
}

ConsoleServer::ConsoleServer(Service& service, const Clock& clock, ConsoleOptions options, SignInThrottle& throttle,
                             LinkService* links, service::ConsentRequests* requests)
    : service_(service),
      links_(links),
      requests_(requests),
      options_(std::move(options)),
      sessions_(clock, options_.sessions),
      throttle_(throttle) {}

http::WebResponse ConsoleServer::WaitPage(std::chrono::milliseconds wait) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  std::string when = seconds == 1    ? "1 seconde"
                     : seconds < 120 ? std::to_string(seconds) + " seconden"
                                     : std::to_string((seconds + 59) / 60) + " minuten";
  http::WebResponse r =
      Page(429, console::SignInPage("Te veel mislukte pogingen vanaf dit adres. Probeer het over " + when +
                                    " opnieuw, of vraag een beheerder de aanmelding vrij te geven."));
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

// Sign-in, first step: name and password.
http::WebResponse ConsoleServer::SignInPassword(const http::WebRequest& req, std::map<std::string, std::string>& form,
                                                const std::string& address) {
  // Any cookie the browser brings is ignored here: a session id is only
  // ever issued by this step and the next (no fixation).
  std::string name = Field(form, "naam");
  if (auto wait = throttle_.Wait(name, address); wait.count() > 0) {
    std::string& pw = form["wachtwoord"];
    crypto::Wipe(pw.data(), pw.size());
    return WaitPage(wait);
  }
  Caller c;
  {
    auto checked = service_.CheckPassword(name, Field(form, "wachtwoord"), "console:" + req.client_ip);
    std::string& pw = form["wachtwoord"];
    crypto::Wipe(pw.data(), pw.size());
    if (!checked.ok()) {
      (void)throttle_.Fail(name, address);
      return Page(401, console::SignInPage("Onbekende gebruikersnaam of verkeerd wachtwoord."));
    }
    c = *checked;
  }
  c.source = "console:" + req.client_ip;
  std::string pending = sessions_.StartPending(c);
  return WithCookie(http::WebResponse::Redirect("/aanmelden/code"), SessionCookie(pending));
}

// Sign-in, second step: the TOTP code of the pending session.
http::WebResponse ConsoleServer::SignInCode(const http::WebRequest& req, const std::map<std::string, std::string>& form,
                                            const std::string& address, const std::string& cookie_id) {
  auto session = sessions_.Find(cookie_id);
  if (!session || session->signed_in) return http::WebResponse::Redirect("/aanmelden");
  if (req.method == "GET") return Page(200, console::TotpPage(session->csrf_token, ""));
  if (!ConsoleSessions::CsrfMatches(*session, Field(form, "csrf"))) {
    return Page(403, console::ErrorPage(nullptr, 403, "Het formulier is verlopen of ongeldig (CSRF)."));
  }
  const std::string& name = session->caller.name;
  if (auto wait = throttle_.Wait(name, address); wait.count() > 0) {
    sessions_.Destroy(cookie_id);
    return WithCookie(WaitPage(wait), ClearCookie());
  }
  Status st = service_.CheckTotp(session->caller, Field(form, "code"));
  if (!st.ok()) {
    (void)throttle_.Fail(name, address);
    return Page(401, console::TotpPage(session->csrf_token, "Deze code klopt niet, is verlopen of al gebruikt."));
  }
  auto fresh = sessions_.Promote(cookie_id);
  if (!fresh) return http::WebResponse::Redirect("/aanmelden");
  throttle_.Succeeded(name, address);
  return WithCookie(http::WebResponse::Redirect("/"), SessionCookie(*fresh));
}

http::WebResponse ConsoleServer::Handle(const http::WebRequest& req) {
  if (req.method != "GET" && req.method != "POST")
    return Page(405, console::ErrorPage(nullptr, 405, "Methode niet toegestaan."));
  std::map<std::string, std::string> form;
  if (req.method == "POST") {
    if (!SameOrigin(req)) {
      return Page(403, console::ErrorPage(nullptr, 403, "Dit formulier kwam niet van deze console (andere herkomst)."));
    }
    formats::FormLimits limits;
    // The groeidocument form is the largest: its fields (groeidocument.h),
    // lists of at most kMaxRows rows, textareas of 10,000 characters.
    limits.max_body = 256 * 1024;
    limits.max_fields = 400;
    limits.max_value = 60 * 1024;
    // The textareas: line breaks are part of what is typed there.
    limits.multiline = {"roster", "afspraken"};
    for (std::string_view f : groeidocument::MultilineFields()) limits.multiline.push_back(f);
    auto parsed = formats::ParseForm(req.body, limits);
    if (!parsed.ok()) return Page(400, console::ErrorPage(nullptr, 400, "Het formulier is ongeldig."));
    form = std::move(parsed).value();
  }
  const std::string cookie_id = CookieId(req);

  if (req.path == "/aanmelden" && req.method == "GET") return Page(200, console::SignInPage(""));
  if (req.path == "/aanmelden" && req.method == "POST") return SignInPassword(req, form, req.client_ip);
  if (req.path == "/aanmelden/code") return SignInCode(req, form, req.client_ip, cookie_id);

  auto session = sessions_.Find(cookie_id);
  if (!session || !session->signed_in) {
    if (req.method == "GET") return http::WebResponse::Redirect("/aanmelden");
    return Page(403, console::ErrorPage(nullptr, 403, "U bent niet (meer) aangemeld."));
  }
  // The user as they are now: a disable, removal or new credentials since
  // sign-in end the session; a changed role applies at once.
  auto current = service_.Revalidate(session->caller);
  if (!current.ok()) {
    sessions_.Destroy(cookie_id);
    if (req.method == "GET") return WithCookie(http::WebResponse::Redirect("/aanmelden"), ClearCookie());
    return WithCookie(Page(403, console::ErrorPage(nullptr, 403, "U bent niet (meer) aangemeld.")), ClearCookie());
  }
  session->caller = *current;
  if (req.method == "POST" && !ConsoleSessions::CsrfMatches(*session, Field(form, "csrf"))) {
    return Page(403, console::ErrorPage(nullptr, 403, "Het formulier is verlopen of ongeldig (CSRF)."));
  }
  if (req.path == "/afmelden" && req.method == "POST") {
    sessions_.Destroy(cookie_id);
    return WithCookie(http::WebResponse::Redirect("/aanmelden"), ClearCookie());
  }
  return SignedIn(req, *session, form);
}

// ---- the signed-in pages: one row per page, one handler per row ----------

struct ConsoleServer::PageCall {
  const http::WebRequest& req;
  const Caller& caller;
  const console::Viewer& viewer;
  const std::map<std::string, std::string>& form;
  std::vector<std::string> params;  // the "*" segments of the route

  std::string Query(const char* key) const {
    auto it = req.query.find(key);
    return it == req.query.end() ? std::string() : it->second;
  }
  std::string Form(const char* key) const { return Field(form, key); }
  const std::string& Param(size_t i) const { return params.at(i); }
  // A refusal or failure from the Service as an error page.
  http::WebResponse Fail(const Status& st) const {
    return Page(HttpStatus(st), console::ServiceErrorPage(viewer, HttpStatus(st), st.message()));
  }
};

namespace {

uint32_t RoleBit(Role r) { return 1u << static_cast<unsigned>(r); }

}  // namespace

std::vector<std::string> ConsoleRoutes() {
  std::vector<std::string> out;
  for (const auto& r : ConsoleServer::Routes().routes()) {
    out.push_back(std::string(r.method) + " " + std::string(r.pattern));
  }
  return out;
}

const http::RouteTable<ConsoleServer::PageHandler>& ConsoleServer::Routes() {
  // Roles here are the ones the console itself checks; every page's data
  // call is checked (and a refusal audited) by the Service as well.
  static const http::RouteTable<PageHandler> table({
      {"GET", "/", 0, &ConsoleServer::Home},
      // cases and shares (staff, coordinators)
      {"GET", "/dossiers", 0, &ConsoleServer::CasesPage},
      {"POST", "/dossiers", 0, &ConsoleServer::AddCase},
      {"GET", "/dossiers/*", 0, &ConsoleServer::CasePage},
      {"POST", "/dossiers/*", 0, &ConsoleServer::UpdateCase},
      {"POST", "/dossiers/*/link", 0, &ConsoleServer::CreateLink},
      {"POST", "/dossiers/*/link/toets", 0, &ConsoleServer::LinkCheck},
      {"GET", "/dossiers/*/export", 0, &ConsoleServer::ExportCase},
      {"POST", "/delen/voorbeeld", 0, &ConsoleServer::SharePreview},
      {"POST", "/delen/toets", 0, &ConsoleServer::ShareCheck},
      {"POST", "/delen", 0, &ConsoleServer::ShareSend},
      {"GET", "/delingen", 0, &ConsoleServer::SharesPage},
      {"GET", "/delingen/*", 0, &ConsoleServer::SharePage},
      {"POST", "/delingen/*/goedkeuren", 0, &ConsoleServer::ApproveMeldcode},
      {"POST", "/delingen/*/afwijzen", 0, &ConsoleServer::RejectMeldcode},
      {"POST", "/delingen/*/annuleren", 0, &ConsoleServer::CancelMeldcode},
      {"GET", "/inbox", 0, &ConsoleServer::InboxPage},
      {"GET", "/inbox/*", 0, &ConsoleServer::InboxItemPage},
      {"POST", "/inbox/*/terugkoppeling", 0, &ConsoleServer::Feedback},
      {"POST", "/inbox/*/toewijzen", 0, &ConsoleServer::AssignInbox},
      {"POST", "/inbox/*/opnemen", 0, &ConsoleServer::AdoptInbox},
      // the student register (coordinators)
      {"GET", "/leerlingen", 0, &ConsoleServer::StudentsPage},
      {"POST", "/leerlingen", 0, &ConsoleServer::ImportStudents},
      // consents (coordinators; staff may read their own students')
      {"GET", "/toestemmingen", 0, &ConsoleServer::ConsentsPage},
      {"POST", "/toestemmingen", 0, &ConsoleServer::AddConsent},
      {"POST", "/toestemmingen/*/intrekken", 0, &ConsoleServer::WithdrawConsent},
      {"POST", "/toestemmingen/verzoek", 0, &ConsoleServer::RequestConsent},
      // the access log (auditors)
      {"GET", "/audit", RoleBit(Role::kAuditor), &ConsoleServer::AuditPage},
      {"POST", "/audit/controleren", 0, &ConsoleServer::AuditVerify},
      {"GET", "/audit/export", 0, &ConsoleServer::AuditExport},
      {"GET", "/audit/inzage", 0, &ConsoleServer::AuditSubject},
      // administration (admins)
      {"GET", "/beheer", 0, &ConsoleServer::AdminPage},
      {"POST", "/beheer/gebruikers/*/*", RoleBit(Role::kAdmin), &ConsoleServer::UserAction},
      // roles waiting for a second person (coordinators)
      {"GET", "/gebruikers/wachtend", 0, &ConsoleServer::PendingGrants},
      {"POST", "/gebruikers/*/bevestigen", RoleBit(Role::kCoordinator), &ConsoleServer::ConfirmGrant},
  });
  return table;
}

http::WebResponse ConsoleServer::SignedIn(const http::WebRequest& req, const ConsoleSession& session,
                                          const std::map<std::string, std::string>& form) {
  const Caller& c = session.caller;
  auto names = service_.DisplayNames(c);
  const Viewer v{c.name,
                 c.role,
                 session.csrf_token,
                 options_.node_name.empty() ? options_.node_id : options_.node_name,
                 c.user_id,
                 names.ok() ? std::move(*names) : std::map<std::string, std::string>{}};
  auto match = Routes().Find(req.method, req.path);
  if (match.route == nullptr) return Page(404, console::ErrorPage(&v, 404, "Deze pagina bestaat niet."));
  if (match.route->roles != 0 && (match.route->roles & RoleBit(c.role)) == 0) {
    // The navigation page itself shows no data; the Service refuses every
    // data call for other roles, and so does the console.
    return Page(403, console::ErrorPage(&v, 403, "Uw rol mag deze pagina niet gebruiken."));
  }
  const PageCall call{req, c, v, form, std::move(match.params)};
  return (this->*(match.route->handler))(call);
}

// The counts are a convenience: a failure to count shows the page without them.
http::WebResponse ConsoleServer::Home(const PageCall& p) {
  auto counts = service_.StartCounts(p.caller);
  return Page(200, console::HomePage(p.viewer, counts.ok() ? *counts : store::StartCounts{}));
}

http::WebResponse ConsoleServer::CasesPage(const PageCall& p) {
  auto r = service_.ListCases(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::CasesPage(p.viewer, *r, ""));
}

// The groeidocument form (groeidocument.h): a "Regel toevoegen" or
// "Verwijderen" press, or a field that is not right, shows the form again
// with what was typed; nothing is saved until every field is.
http::WebResponse ConsoleServer::AddCase(const PageCall& p) {
  if (Status st = service::Authorize(p.caller, service::Op::kAddCase); !st.ok()) return p.Fail(st);
  groeidocument::FormReading read = groeidocument::GroeidocumentFromForm(p.form, Json::object(), /*is_new=*/true);
  auto again = [&](int status, std::string_view error) {
    auto list = service_.ListCases(p.caller);
    return Page(status, console::CasesPage(p.viewer, list.ok() ? *list : std::vector<service::CaseListItem>{}, error,
                                           read.summary, read.errors));
  };
  if (read.redisplay) return again(200, "");
  if (!read.errors.empty()) return again(400, "");
  auto r = AddCaseFrom(p.caller, read.summary.dump());
  if (!r.ok()) return again(HttpStatus(r.status()), "Niet opgeslagen: " + r.status().message());
  return http::WebResponse::Redirect("/dossiers/" + r->case_id);
}

http::WebResponse ConsoleServer::CasePage(const PageCall& p) {
  auto r = service_.ShowCase(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  auto status = service_.NodeStatus(p.caller, options_.started);
  return Page(200,
              console::CasePage(p.viewer, *r, status.ok() ? status->partners : std::vector<service::PartnerStatus>{}));
}

http::WebResponse ConsoleServer::UpdateCase(const PageCall& p) {
  if (Status st = service::Authorize(p.caller, service::Op::kUpdateCase); !st.ok()) return p.Fail(st);
  auto current = service_.ShowCase(p.caller, p.Param(0));
  if (!current.ok()) return p.Fail(current.status());
  const Json base = Json::parse(current->summary_json, nullptr, false);
  groeidocument::FormReading read = groeidocument::GroeidocumentFromForm(p.form, base, /*is_new=*/false);
  if (read.redisplay || !read.errors.empty()) {
    auto status = service_.NodeStatus(p.caller, options_.started);
    return Page(
        read.errors.empty() ? 200 : 400,
        console::CasePage(p.viewer, *current, status.ok() ? status->partners : std::vector<service::PartnerStatus>{},
                          &read.summary, read.errors));
  }
  auto summary = ParseCaseBody(read.summary.dump());
  if (!summary.ok()) return p.Fail(summary.status());
  auto r = service_.UpdateCase(p.caller, p.Param(0), std::move(*summary));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/dossiers/" + p.Param(0));
}

// The raw JSON only as an export: the summary as the API would give it.
http::WebResponse ConsoleServer::ExportCase(const PageCall& p) {
  auto r = service_.ShowCase(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  http::WebResponse out;
  out.status = 200;
  out.content_type = "application/json";
  out.body = Json::parse(r->summary_json, nullptr, false).dump(2) + "\n";
  out.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + p.Param(0) + ".json\"");
  return out;
}

// Nothing is pre-ticked in the forms that share, and an empty choice is not
// "everything" (as it is in the API): the form asks again.
http::WebResponse ConsoleServer::NothingTicked(const PageCall& p, service::Op op) {
  if (Status st = service::Authorize(p.caller, op); !st.ok()) return p.Fail(st);  // a role's refusal first
  return Page(400, console::ErrorPage(&p.viewer, 400,
                                      "Vink aan welke gegevens u wilt delen: er is niets aangevinkt. Ga terug "
                                      "en kies de categorieën die nodig zijn."));
}

http::WebResponse ConsoleServer::CreateLink(const PageCall& p) {
  if (links_ == nullptr) return Page(404, console::ErrorPage(&p.viewer, 404, "Deze pagina bestaat niet."));
  LinkCreateRequest lr;
  lr.case_id = p.Param(0);
  lr.for_name = p.Form("for_name");
  lr.org_type = p.Form("org_type");
  lr.purpose = p.Form("purpose");
  lr.categories = CheckedCategories(p.form);
  if (lr.categories.empty()) return NothingTicked(p, service::Op::kCreateLink);
  lr.allow_partial = true;  // the page names what is withheld
  int days = 0;
  for (char ch : p.Form("days")) {
    if (ch < '0' || ch > '9' || days > 100) {
      return Page(400, console::ErrorPage(&p.viewer, 400, "Ongeldig aantal dagen."));
    }
    days = days * 10 + (ch - '0');
  }
  lr.expires_days = days == 0 ? kDefaultLinkDays : days;
  auto r = links_->Create(p.caller, lr);
  if (!r.ok()) {
    console::SharePreviewRequest request{
        lr.case_id, lr.for_name + " (" + lr.org_type + ")", lr.purpose, lr.categories, "", {}};
    const consent::Decision* decision = r.refused_on() ? &*r.refused_on() : nullptr;
    return Page(HttpStatus(r.status()), console::SharePreviewPage(p.viewer, request, false, decision,
                                                                  decision == nullptr ? r.status().message() : ""));
  }
  return Page(200, console::LinkCreatedPage(p.viewer, *r));
}

// "Toets per categorie": the form again as posted, each category the case
// holds marked with whether the protocol and the consents let it go. A
// refusal of the whole share is shown the same way; other errors (a case
// that is not the caller's, an unknown partner) as an error page.
namespace {

const service::CategoryCheck* CheckOf(const service::Gated<service::CategoryCheck>& r,
                                      std::optional<service::CategoryCheck>& refused) {
  if (r.ok()) return &*r;
  if (!r.refused_on()) return nullptr;
  refused = service::CategoryCheck{*r.refused_on(), false};
  return &*refused;
}

}  // namespace

http::WebResponse ConsoleServer::ShareCheck(const PageCall& p) {
  console::ShareFormState s;
  const std::string case_id = p.Form("case_id");
  s.to = p.Form("to");
  s.purpose = p.Form("purpose");
  s.checked = Json(CheckedCategories(p.form));
  s.reasons = CategoryReasons(p.form);
  s.justification = p.Form("justification");
  auto r = service_.CheckShare(p.caller, case_id, s.to, s.purpose);
  std::optional<service::CategoryCheck> refused;
  s.check = CheckOf(r, refused);
  if (s.check == nullptr) return p.Fail(r.status());
  auto status = service_.NodeStatus(p.caller, options_.started);
  return Page(200, console::ShareCheckPage(p.viewer, case_id,
                                           status.ok() ? status->partners : std::vector<service::PartnerStatus>{}, s));
}

http::WebResponse ConsoleServer::LinkCheck(const PageCall& p) {
  if (links_ == nullptr) return Page(404, console::ErrorPage(&p.viewer, 404, "Deze pagina bestaat niet."));
  console::LinkFormState s;
  s.for_name = p.Form("for_name");
  s.org_type = p.Form("org_type");
  s.purpose = p.Form("purpose");
  s.checked = Json(CheckedCategories(p.form));
  s.days = p.Form("days");
  auto r = links_->Check(p.caller, p.Param(0), s.org_type, s.purpose);
  std::optional<service::CategoryCheck> refused;
  s.check = CheckOf(r, refused);
  if (s.check == nullptr) return p.Fail(r.status());
  return Page(200, console::LinkCheckPage(p.viewer, p.Param(0), s));
}

http::WebResponse ConsoleServer::SharePreview(const PageCall& p) { return ShareForm(p, true); }
http::WebResponse ConsoleServer::ShareSend(const PageCall& p) { return ShareForm(p, false); }

http::WebResponse ConsoleServer::ShareForm(const PageCall& p, bool dry_run) {
  ShareRequest sr;
  sr.case_id = p.Form("case_id");
  sr.to = p.Form("to");
  sr.purpose = p.Form("purpose");
  sr.categories = CheckedCategories(p.form);
  if (sr.categories.empty()) return NothingTicked(p, service::Op::kShare);
  sr.justification = p.Form("justification");
  sr.allow_partial = true;  // the preview showed exactly what is withheld
  sr.dry_run = dry_run;
  sr.category_reasons = CategoryReasons(p.form);
  console::SharePreviewRequest request{sr.case_id,         sr.to, sr.purpose, sr.categories, sr.justification,
                                       sr.category_reasons};
  auto r = service_.Share(p.caller, sr);
  if (!r.ok()) {
    const consent::Decision* decision = r.refused_on() ? &*r.refused_on() : nullptr;
    return Page(HttpStatus(r.status()), console::SharePreviewPage(p.viewer, request, false, decision,
                                                                  decision == nullptr ? r.status().message() : ""));
  }
  if (sr.dry_run) return Page(200, console::SharePreviewPage(p.viewer, request, true, &r->decision, ""));
  return Page(200, console::ShareSentPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::SharesPage(const PageCall& p) {
  auto r = service_.ListShares(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::SharesPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::ApproveMeldcode(const PageCall& p) {
  auto r = service_.ApproveMeldcode(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/delingen");
}

http::WebResponse ConsoleServer::SharePage(const PageCall& p) {
  auto r = service_.ShowShare(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::SharePage(p.viewer, *r));
}

http::WebResponse ConsoleServer::RejectMeldcode(const PageCall& p) {
  auto r = service_.RejectMeldcode(p.caller, p.Param(0), p.Form("reason"));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/delingen");
}

http::WebResponse ConsoleServer::CancelMeldcode(const PageCall& p) {
  auto r = service_.CancelMeldcode(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/delingen");
}

http::WebResponse ConsoleServer::InboxPage(const PageCall& p) {
  auto r = service_.ListInbox(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::InboxPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::InboxItemPage(const PageCall& p) {
  auto r = service_.ShowInbox(p.caller, p.Param(0), p.Query("van"));
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::InboxItemPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::AssignInbox(const PageCall& p) {
  auto r = service_.AssignInbox(p.caller, p.Param(0), p.Form("gebruiker"), p.Query("van"));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/inbox/" + r->message_id + "?van=" + r->sender_id);
}

http::WebResponse ConsoleServer::AdoptInbox(const PageCall& p) {
  auto r = service_.AdoptInbox(p.caller, p.Param(0), p.Form("grondslag"), p.Query("van"));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/inbox/" + r->message_id + "?van=" + r->sender_id);
}

http::WebResponse ConsoleServer::StudentsPage(const PageCall& p) {
  auto r = service_.ListStudents(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  std::string message = p.Query("melding") == "ingelezen" ? "Het bestand is ingelezen." : "";
  return Page(200, console::StudentsPage(p.viewer, *r, message, false));
}

// A bad file is shown on the register page with its line number (422), so
// the coordinator can correct it; nothing of it was stored.
http::WebResponse ConsoleServer::ImportStudents(const PageCall& p) {
  auto imported = service_.ImportStudents(p.caller, p.Form("roster"));
  if (imported.ok()) return http::WebResponse::Redirect("/leerlingen?melding=ingelezen");
  if (imported.status().code() != Code::kInvalidInput) return p.Fail(imported.status());
  auto list = service_.ListStudents(p.caller);
  if (!list.ok()) return p.Fail(list.status());
  return Page(422, console::StudentsPage(p.viewer, *list, "Niets ingelezen: " + imported.status().message(), true));
}

// Terugkoppeling: a new case at this node holding the agreed actions, and a
// share preview back to the sender for the purpose "terugkoppeling".
http::WebResponse ConsoleServer::Feedback(const PageCall& p) {
  auto r = service_.ShowInbox(p.caller, p.Param(0), p.Query("van"));
  if (!r.ok()) return p.Fail(r.status());
  const Json summary = r->summary_json ? Json::parse(*r->summary_json, nullptr, false) : Json(nullptr);
  if (!summary.is_object()) {
    return Page(410, console::ErrorPage(&p.viewer, 410, "De inhoud van deze deling is verwijderd."));
  }
  Json doc = {{"student_id", summary.value("student_id", "")}, {"birth_date", summary.value("birth_date", "")}};
  if (summary.contains("identificatie")) doc["identificatie"] = summary["identificatie"];
  doc["afspraken"] = {{"notes", p.Form("afspraken")}, {"in_reactie_op", p.Param(0)}};
  auto added = AddCaseFrom(p.caller, doc.dump());
  if (!added.ok()) return p.Fail(added.status());
  ShareRequest sr;
  sr.case_id = added->case_id;
  sr.to = r->record.sender_id;
  sr.purpose = "terugkoppeling";
  sr.categories = {"identificatie", "afspraken"};
  sr.allow_partial = true;
  sr.dry_run = true;
  console::SharePreviewRequest request{sr.case_id, sr.to, sr.purpose, sr.categories, "", {}};
  auto preview = service_.Share(p.caller, sr);
  const consent::Decision* decision = preview.ok()           ? &preview->decision
                                      : preview.refused_on() ? &*preview.refused_on()
                                                             : nullptr;
  return Page(preview.ok() ? 200 : HttpStatus(preview.status()),
              console::SharePreviewPage(p.viewer, request, preview.ok(), decision,
                                        preview.ok() || decision != nullptr ? "" : preview.status().message()));
}

http::WebResponse ConsoleServer::ConsentsPage(const PageCall& p) {
  std::string student = p.Query("leerling");
  if (student.empty()) return Page(200, console::ConsentsPage(p.viewer, "", {}, ""));
  auto r = service_.ListConsents(p.caller, student);
  if (!r.ok()) return p.Fail(r.status());
  // Coordinators and auditors also see the permission requests.
  std::optional<std::vector<service::ConsentRequestView>> requests;
  if (requests_ != nullptr && (p.caller.role == Role::kCoordinator || p.caller.role == Role::kAuditor)) {
    auto listed = requests_->ListForStudent(p.caller, student);
    if (!listed.ok()) return p.Fail(listed.status());
    requests = std::move(*listed);
  }
  return Page(200, console::ConsentsPage(p.viewer, student, *r, p.Query("melding"), requests ? &*requests : nullptr));
}

// Parsed as the API parses POST /v1/consent-requests, so the same limits
// and messages apply.
http::WebResponse ConsoleServer::RequestConsent(const PageCall& p) {
  if (requests_ == nullptr) return p.Fail(Status::NotFound("permission requests are not available on this node"));
  if (Status st = service::Authorize(p.caller, service::Op::kRequestConsent); !st.ok()) return p.Fail(st);
  const std::string student = p.Form("leerling");
  Json body = {{"student", student},
               {"recipients", SplitList(p.Form("recipients"))},
               {"purposes", Json::array({p.Form("purpose")})},
               {"categories", CheckedCategories(p.form)},
               {"valid_until", p.Form("valid_until")}};
  if (const std::string days = p.Form("answer_days"); !days.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(days.data(), days.data() + days.size(), n);
    if (ec != std::errc() || end != days.data() + days.size()) {
      return p.Fail(Status::InvalidInput("answer_days: not a whole number of days"));
    }
    body["answer_days"] = n;
  }
  auto parsed = formats::ParseConsentRequestBody(body.dump());
  if (!parsed.ok()) return p.Fail(parsed.status());
  service::ConsentRequestInput in{parsed->student,    parsed->recipients,  parsed->purposes,
                                  parsed->categories, parsed->valid_until, parsed->answer_days};
  auto made = requests_->Create(p.caller, in);
  if (!made.ok()) return p.Fail(made.status());
  return Page(200, console::ConsentRequestMadePage(p.viewer, student, *made));
}

http::WebResponse ConsoleServer::AddConsent(const PageCall& p) {
  std::string student = p.Form("leerling");
  Json consent = {{"subject_id", student},
                  {"grantor_role", p.Form("grantor_role")},
                  {"purposes", Json::array({p.Form("purpose")})},
                  {"recipients", SplitList(p.Form("recipients"))},
                  {"categories", CheckedCategories(p.form)},
                  {"valid_from", p.Form("valid_from")},
                  {"valid_until", p.Form("valid_until").empty() ? Json(nullptr) : Json(p.Form("valid_until"))},
                  {"withdrawn_at", nullptr}};
  if (Status st = service::Authorize(p.caller, service::Op::kAddConsent); !st.ok()) return p.Fail(st);
  auto parsed = ParseConsentBody(Json{{"consent", consent}, {"evidence", p.Form("evidence")}}.dump());
  if (!parsed.ok()) return p.Fail(parsed.status());
  auto r = service_.AddConsent(p.caller, std::move(*parsed));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/toestemmingen?leerling=" + student + "&melding=vastgelegd");
}

http::WebResponse ConsoleServer::WithdrawConsent(const PageCall& p) {
  auto r = service_.WithdrawConsent(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/toestemmingen?leerling=" + p.Form("leerling") + "&melding=ingetrokken");
}

http::WebResponse ConsoleServer::AuditPage(const PageCall& p) {
  std::map<std::string, std::string> filter;
  for (const char* k : {"leerling", "gebruiker", "actie", "sinds"}) {
    if (!p.Query(k).empty()) filter[k] = p.Query(k);
  }
  if (filter.empty() && !p.req.query.count("zoek")) return Page(200, console::AuditPage(p.viewer, filter, nullptr, ""));
  audit::AuditFilter f;
  f.subject = p.Query("leerling");
  f.user = p.Query("gebruiker");
  f.action = p.Query("actie");
  if (!p.Query("sinds").empty()) {
    auto since = ParseInstant(p.Query("sinds") + "T00:00:00Z");
    if (!since.ok()) return Page(400, console::ErrorPage(&p.viewer, 400, "Ongeldige datum bij 'sinds'."));
    f.since = *since;
  }
  auto r = service_.AuditQuery(p.caller, f);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::AuditPage(p.viewer, filter, &*r, ""));
}

http::WebResponse ConsoleServer::AuditVerify(const PageCall& p) {
  auto r = service_.AuditVerify(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  std::string result = r->ok ? "Het toegangslog is ongeschonden: de keten en alle handtekeningen kloppen."
                             : "Het toegangslog is NIET in orde: " + r->problem;
  return Page(200, console::AuditPage(p.viewer, {}, nullptr, result));
}

http::WebResponse ConsoleServer::AuditExport(const PageCall& p) {
  auto r = service_.AuditExport(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  http::WebResponse out;
  out.status = 200;
  out.content_type = r->content_type;
  out.body = std::move(r->bytes);
  out.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"toegangslog-" + options_.node_id + ".jsonl\"");
  return out;
}

http::WebResponse ConsoleServer::AuditSubject(const PageCall& p) {
  std::string student = p.Query("leerling");
  bool internal = p.Query("intern") == "1";
  if (!internal && requests_ != nullptr) {
    // For the family: the same Dutch report a parent reads on an inzage link.
    auto rep = requests_->FamilyReportFor(p.caller, student);
    if (!rep.ok()) return p.Fail(rep.status());
    return Page(200, console::FamilyReportPage(p.viewer, *rep));
  }
  auto r = service_.SubjectReport(p.caller, student, internal);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::SubjectReportPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::AdminPage(const PageCall& p) {
  auto users = service_.ListUsers(p.caller);
  if (!users.ok()) return p.Fail(users.status());
  auto partners = service_.ListPartners(p.caller);
  if (!partners.ok()) return p.Fail(partners.status());
  auto status = service_.NodeStatus(p.caller, options_.started);
  if (!status.ok()) return p.Fail(status.status());
  return Page(200, console::AdminPage(p.viewer, *users, *partners, *status));
}

// POST /beheer/gebruikers/ID/{uitschakelen,inschakelen,verwijderen,rol}.
http::WebResponse ConsoleServer::UserAction(const PageCall& p) {
  const std::string& id = p.Param(0);
  const std::string& verb = p.Param(1);
  if (!store::LooksLikeUserId(id)) return p.Fail(Status::NotFound("Deze gebruiker bestaat niet."));
  Result<service::AccountChanged> r = Status::NotFound("Deze pagina bestaat niet.");
  if (verb == "uitschakelen") r = service_.DisableUser(p.caller, id);
  if (verb == "inschakelen") r = service_.EnableUser(p.caller, id);
  if (verb == "verwijderen") r = service_.RemoveUser(p.caller, id);
  if (verb == "rol") {
    auto role = store::ParseRole(p.Form("rol"));
    r = role ? service_.SetUserRole(p.caller, id, *role)
             : Result<service::AccountChanged>(Status::InvalidInput("rol: onbekende rol"));
  }
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/beheer");
}

http::WebResponse ConsoleServer::PendingGrants(const PageCall& p) {
  auto r = service_.ListPendingGrants(p.caller);
  if (!r.ok()) return p.Fail(r.status());
  return Page(200, console::PendingGrantsPage(p.viewer, *r));
}

http::WebResponse ConsoleServer::ConfirmGrant(const PageCall& p) {
  if (!store::LooksLikeUserId(p.Param(0))) return p.Fail(Status::NotFound("Deze gebruiker bestaat niet."));
  auto r = service_.ConfirmGrant(p.caller, p.Param(0));
  if (!r.ok()) return p.Fail(r.status());
  return http::WebResponse::Redirect("/gebruikers/wachtend");
}

}  // namespace schakel::daemon
