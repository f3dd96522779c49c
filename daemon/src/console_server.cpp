#include "console_server.h"

#include <algorithm>
#include <array>
#include <utility>

#include "console_pages.h"
#include "link_service.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/formats/form.h"

namespace schakel::daemon {
namespace {

using console::Viewer;
using store::Role;

constexpr std::array<const char*, 10> kCategories = {"identificatie", "bsn",        "contact",   "onderwijs",
                                                     "verzuim",       "hulpvraag",  "gezinssituatie",
                                                     "gezondheid",    "justitie",   "afspraken"};

int HttpStatus(const Status& st) {
  switch (st.code()) {
    case Code::kOk: return 200;
    case Code::kInvalidInput: return 400;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kDenied: return 403;
    case Code::kUnauthenticated: return 401;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

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

ConsoleServer::ConsoleServer(Service& service, const Clock& clock, ConsoleOptions options, LinkService* links)
    : service_(service),
      links_(links),
      clock_(clock),
      options_(std::move(options)),
      sessions_(clock, options_.sessions),
      user_failures_(clock, http::RateLimiterOptions{options_.max_failures_per_user, options_.lockout, 10000}),
      ip_failures_(clock, http::RateLimiterOptions{options_.max_failures_per_ip, options_.lockout, 10000}) {}

bool ConsoleServer::Locked(const std::string& user_key, const std::string& ip_key) {
  return !user_failures_.WouldAllow(user_key) || !ip_failures_.WouldAllow(ip_key);
}

void ConsoleServer::Fail(const std::string& user_key, const std::string& ip_key) {
  (void)user_failures_.Allow(user_key);
  (void)ip_failures_.Allow(ip_key);
}

http::WebResponse ConsoleServer::Handle(const http::WebRequest& req) {
  if (req.method != "GET" && req.method != "POST") return Page(405, console::ErrorPage(nullptr, 405, "Methode niet toegestaan."));
  std::map<std::string, std::string> form;
  if (req.method == "POST") {
    if (!SameOrigin(req)) {
      return Page(403, console::ErrorPage(nullptr, 403, "Dit formulier kwam niet van deze console (andere herkomst)."));
    }
    formats::FormLimits limits;
    limits.max_body = 64 * 1024;
    limits.max_fields = 40;
    limits.max_value = 60 * 1024;
    auto parsed = formats::ParseForm(req.body, limits);
    if (!parsed.ok()) return Page(400, console::ErrorPage(nullptr, 400, "Het formulier is ongeldig."));
    form = std::move(parsed).value();
  }
  const std::string ip_key = "ip:" + req.client_ip;
  const std::string cookie_id = CookieId(req);

  if (req.path == "/aanmelden" && req.method == "GET") return Page(200, console::SignInPage(""));
  if (req.path == "/aanmelden" && req.method == "POST") {
    // Any cookie the browser brings is ignored here: a session id is only
    // ever issued by this step and the next (no fixation).
    std::string name = Field(form, "naam");
    const std::string user_key = "user:" + name;
    if (Locked(user_key, ip_key)) {
      return Page(429, console::SignInPage("Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw."));
    }
    Caller c;
    {
      auto checked = service_.CheckPassword(name, Field(form, "wachtwoord"), "console:" + req.client_ip);
      std::string& pw = form["wachtwoord"];
      crypto::Wipe(pw.data(), pw.size());
      if (!checked.ok()) {
        Fail(user_key, ip_key);
        return Page(401, console::SignInPage("Onbekende gebruikersnaam of verkeerd wachtwoord."));
      }
      c = *checked;
    }
    c.source = "console:" + req.client_ip;
    std::string pending = sessions_.StartPending(c);
    return WithCookie(http::WebResponse::Redirect("/aanmelden/code"), SessionCookie(pending));
  }
  if (req.path == "/aanmelden/code") {
    auto session = sessions_.Find(cookie_id);
    if (!session || session->signed_in) return http::WebResponse::Redirect("/aanmelden");
    if (req.method == "GET") return Page(200, console::TotpPage(session->csrf_token, ""));
    if (!ConsoleSessions::CsrfMatches(*session, Field(form, "csrf"))) {
      return Page(403, console::ErrorPage(nullptr, 403, "Het formulier is verlopen of ongeldig (CSRF)."));
    }
    const std::string user_key = "user:" + session->caller.name;
    if (Locked(user_key, ip_key)) {
      sessions_.Destroy(cookie_id);
      return WithCookie(Page(429, console::SignInPage("Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw.")),
                        ClearCookie());
    }
    Status st = service_.CheckTotp(session->caller, Field(form, "code"));
    if (!st.ok()) {
      Fail(user_key, ip_key);
      return Page(401, console::TotpPage(session->csrf_token, "Deze code klopt niet, is verlopen of al gebruikt."));
    }
    auto fresh = sessions_.Promote(cookie_id);
    if (!fresh) return http::WebResponse::Redirect("/aanmelden");
    user_failures_.Reset(user_key);
    return WithCookie(http::WebResponse::Redirect("/"), SessionCookie(*fresh));
  }

  auto session = sessions_.Find(cookie_id);
  if (!session || !session->signed_in) {
    if (req.method == "GET") return http::WebResponse::Redirect("/aanmelden");
    return Page(403, console::ErrorPage(nullptr, 403, "U bent niet (meer) aangemeld."));
  }
  if (req.method == "POST" && !ConsoleSessions::CsrfMatches(*session, Field(form, "csrf"))) {
    return Page(403, console::ErrorPage(nullptr, 403, "Het formulier is verlopen of ongeldig (CSRF)."));
  }
  if (req.path == "/afmelden" && req.method == "POST") {
    sessions_.Destroy(cookie_id);
    return WithCookie(http::WebResponse::Redirect("/aanmelden"), ClearCookie());
  }
  return SignedIn(req, *session, cookie_id, form);
}

http::WebResponse ConsoleServer::SignedIn(const http::WebRequest& req, const ConsoleSession& session, const std::string&,
                                    const std::map<std::string, std::string>& form) {
  const Caller& c = session.caller;
  Viewer v{c.name, c.role, session.csrf_token, options_.node_id};
  auto fail = [&](const Reply& r) {
    return Page(HttpStatus(r.status), console::ErrorPage(&v, HttpStatus(r.status), r.status.message()));
  };
  auto query = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string() : it->second;
  };
  // "/dossiers/abc/x" -> {"dossiers", "abc", "x"}
  std::vector<std::string> p;
  for (size_t pos = 1; pos <= req.path.size() && p.size() < 8;) {
    size_t next = req.path.find('/', pos);
    std::string seg = req.path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!seg.empty()) p.push_back(seg);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  const bool get = req.method == "GET", post = req.method == "POST";
  auto is = [&](std::initializer_list<const char*> want) {
    if (p.size() != want.size()) return false;
    size_t i = 0;
    for (const char* w : want) {
      if (std::string(w) != "*" && p[i] != w) return false;
      ++i;
    }
    return true;
  };

  if (get && p.empty()) return Page(200, console::HomePage(v));

  // ---- cases and shares (staff, coordinators) ----
  if (get && is({"dossiers"})) {
    Reply r = service_.ListCases(c);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::CasesPage(v, r.body, ""));
  }
  if (post && is({"dossiers"})) {
    std::string doc = Field(form, "json");
    if (doc.find_first_not_of(" \r\n\t") == std::string::npos) {
      Json j = {{"student_id", Field(form, "student_id")}, {"birth_date", Field(form, "birth_date")}};
      if (!Field(form, "naam").empty()) j["identificatie"] = {{"name", Field(form, "naam")}};
      if (!Field(form, "hulpvraag").empty()) j["hulpvraag"] = {{"question", Field(form, "hulpvraag")}};
      if (!Field(form, "gezinssituatie").empty()) j["gezinssituatie"] = {{"notes", Field(form, "gezinssituatie")}};
      if (!Field(form, "afspraken").empty()) j["afspraken"] = {{"notes", Field(form, "afspraken")}};
      doc = j.dump();
    }
    Reply r = service_.AddCase(c, doc);
    if (!r.status.ok()) {
      Reply list = service_.ListCases(c);
      return Page(HttpStatus(r.status), console::CasesPage(v, list.body, "Niet opgeslagen: " + r.status.message()));
    }
    return http::WebResponse::Redirect("/dossiers/" + r.body.value("case_id", ""));
  }
  if (get && is({"dossiers", "*"})) {
    Reply r = service_.ShowCase(c, p[1]);
    if (!r.status.ok()) return fail(r);
    Reply status = service_.NodeStatus(c, options_.started);
    return Page(200, console::CasePage(v, r.body, status.body));
  }
  if (post && is({"dossiers", "*"})) {
    Reply r = service_.UpdateCase(c, p[1], Field(form, "json"));
    if (!r.status.ok()) return fail(r);
    return http::WebResponse::Redirect("/dossiers/" + p[1]);
  }
  if (post && is({"dossiers", "*", "link"}) && links_ != nullptr) {
    LinkCreateRequest lr;
    lr.case_id = p[1];
    lr.for_name = Field(form, "for_name");
    lr.org_type = Field(form, "org_type");
    lr.purpose = Field(form, "purpose");
    lr.categories = CheckedCategories(form);
    lr.allow_partial = true;  // the page names what is withheld
    int days = 0;
    for (char ch : Field(form, "days")) {
      if (ch < '0' || ch > '9' || days > 100) return Page(400, console::ErrorPage(&v, 400, "Ongeldig aantal dagen."));
      days = days * 10 + (ch - '0');
    }
    lr.expires_days = days == 0 ? kDefaultLinkDays : days;
    Reply r = links_->Create(c, lr);
    Json decision = r.body.contains("decision") ? r.body["decision"] : Json(nullptr);
    if (!r.status.ok()) {
      Json request = {{"case_id", lr.case_id}, {"to", lr.for_name + " (" + lr.org_type + ")"},
                      {"purpose", lr.purpose}, {"categories", lr.categories}, {"justification", ""}};
      return Page(HttpStatus(r.status), console::SharePreviewPage(v, request, false, decision,
                                                                  decision.is_null() ? r.status.message() : ""));
    }
    return Page(200, console::LinkCreatedPage(v, r.body));
  }
  if (post && (is({"delen", "voorbeeld"}) || is({"delen"}))) {
    ShareRequest sr;
    sr.case_id = Field(form, "case_id");
    sr.to = Field(form, "to");
    sr.purpose = Field(form, "purpose");
    sr.categories = CheckedCategories(form);
    sr.justification = Field(form, "justification");
    sr.allow_partial = true;  // the preview showed exactly what is withheld
    sr.dry_run = p.size() == 2;
    Json request = {{"case_id", sr.case_id}, {"to", sr.to}, {"purpose", sr.purpose},
                    {"categories", sr.categories}, {"justification", sr.justification}};
    Reply r = service_.Share(c, sr);
    Json decision = r.body.contains("decision") ? r.body["decision"] : Json(nullptr);
    if (!r.status.ok()) {
      int code = HttpStatus(r.status);
      return Page(code, console::SharePreviewPage(v, request, false, decision,
                                                  decision.is_null() ? r.status.message() : ""));
    }
    if (sr.dry_run) return Page(200, console::SharePreviewPage(v, request, true, decision, ""));
    return Page(200, console::ShareSentPage(v, r.body));
  }
  if (get && is({"delingen"})) {
    Reply r = service_.ListShares(c);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::SharesPage(v, r.body));
  }
  if (post && is({"delingen", "*", "goedkeuren"})) {
    Reply r = service_.ApproveMeldcode(c, p[1]);
    if (!r.status.ok()) return fail(r);
    return http::WebResponse::Redirect("/delingen");
  }
  if (get && is({"inbox"})) {
    Reply r = service_.ListInbox(c);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::InboxPage(v, r.body));
  }
  if (get && is({"inbox", "*"})) {
    Reply r = service_.ShowInbox(c, p[1]);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::InboxItemPage(v, r.body));
  }
  if (post && is({"inbox", "*", "terugkoppeling"})) {
    Reply r = service_.ShowInbox(c, p[1]);
    if (!r.status.ok()) return fail(r);
    const Json& summary = r.body["summary"];
    if (!summary.is_object()) {
      return Page(410, console::ErrorPage(&v, 410, "De inhoud van deze deling is verwijderd."));
    }
    Json doc = {{"student_id", summary.value("student_id", "")}, {"birth_date", summary.value("birth_date", "")}};
    if (summary.contains("identificatie")) doc["identificatie"] = summary["identificatie"];
    doc["afspraken"] = {{"notes", Field(form, "afspraken")}, {"in_reactie_op", p[1]}};
    Reply added = service_.AddCase(c, doc.dump());
    if (!added.status.ok()) return fail(added);
    ShareRequest sr;
    sr.case_id = added.body.value("case_id", "");
    sr.to = r.body.value("from", "");
    sr.purpose = "terugkoppeling";
    sr.categories = {"identificatie", "afspraken"};
    sr.allow_partial = true;
    sr.dry_run = true;
    Json request = {{"case_id", sr.case_id}, {"to", sr.to}, {"purpose", sr.purpose},
                    {"categories", sr.categories}, {"justification", ""}};
    Reply preview = service_.Share(c, sr);
    Json decision = preview.body.contains("decision") ? preview.body["decision"] : Json(nullptr);
    return Page(preview.status.ok() ? 200 : HttpStatus(preview.status),
                console::SharePreviewPage(v, request, preview.status.ok(), decision,
                                          preview.status.ok() || !decision.is_null() ? "" : preview.status.message()));
  }

  // ---- consents (coordinators; staff may read their own students') ----
  if (get && is({"toestemmingen"})) {
    std::string student = query("leerling");
    if (student.empty()) return Page(200, console::ConsentsPage(v, "", Json::object(), ""));
    Reply r = service_.ListConsents(c, student);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::ConsentsPage(v, student, r.body, query("melding")));
  }
  if (post && is({"toestemmingen"})) {
    std::string student = Field(form, "leerling");
    Json consent = {{"subject_id", student},
                    {"grantor_role", Field(form, "grantor_role")},
                    {"purposes", Json::array({Field(form, "purpose")})},
                    {"recipients", SplitList(Field(form, "recipients"))},
                    {"categories", CheckedCategories(form)},
                    {"valid_from", Field(form, "valid_from")},
                    {"valid_until", Field(form, "valid_until").empty() ? Json(nullptr) : Json(Field(form, "valid_until"))},
                    {"withdrawn_at", nullptr}};
    Reply r = service_.AddConsent(c, Json{{"consent", consent}, {"evidence", Field(form, "evidence")}}.dump());
    if (!r.status.ok()) return fail(r);
    return http::WebResponse::Redirect("/toestemmingen?leerling=" + student + "&melding=vastgelegd");
  }
  if (post && is({"toestemmingen", "*", "intrekken"})) {
    Reply r = service_.WithdrawConsent(c, p[1]);
    if (!r.status.ok()) return fail(r);
    return http::WebResponse::Redirect("/toestemmingen?leerling=" + Field(form, "leerling") + "&melding=ingetrokken");
  }

  // ---- audit (auditors) ----
  if (get && is({"audit"})) {
    // The navigation page itself shows no data; the Service refuses every
    // data call for other roles, and so does the console.
    if (c.role != Role::kAuditor) {
      return Page(403, console::ErrorPage(&v, 403, "Alleen auditors mogen het toegangslog zien."));
    }
    std::map<std::string, std::string> filter;
    for (const char* k : {"leerling", "gebruiker", "actie", "sinds"}) {
      if (!query(k).empty()) filter[k] = query(k);
    }
    if (filter.empty() && !req.query.count("zoek")) return Page(200, console::AuditPage(v, filter, nullptr, ""));
    audit::AuditFilter f;
    f.subject = query("leerling");
    f.user = query("gebruiker");
    f.action = query("actie");
    if (!query("sinds").empty()) {
      auto since = ParseInstant(query("sinds") + "T00:00:00Z");
      if (!since.ok()) return Page(400, console::ErrorPage(&v, 400, "Ongeldige datum bij 'sinds'."));
      f.since = *since;
    }
    Reply r = service_.AuditQuery(c, f);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::AuditPage(v, filter, &r.body, ""));
  }
  if (post && is({"audit", "controleren"})) {
    Reply r = service_.AuditVerify(c);
    if (!r.status.ok()) return fail(r);
    std::string result = r.body.value("ok", false)
                             ? "Het toegangslog is ongeschonden: de keten en alle handtekeningen kloppen."
                             : "Het toegangslog is NIET in orde: " + r.body.value("problem", std::string());
    return Page(200, console::AuditPage(v, {}, nullptr, result));
  }
  if (get && is({"audit", "export"})) {
    Reply r = service_.AuditExport(c);
    if (!r.status.ok()) return fail(r);
    http::WebResponse out;
    out.status = 200;
    out.content_type = r.content_type;
    out.body = r.raw.value_or("");
    out.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"toegangslog-" + options_.node_id + ".jsonl\"");
    return out;
  }
  if (get && is({"audit", "inzage"})) {
    std::string student = query("leerling");
    Reply r = service_.AuditSubject(c, student, false);
    if (!r.status.ok()) return fail(r);
    return Page(200, console::SubjectReportPage(v, student, r.raw.value_or("")));
  }

  // ---- admin ----
  if (get && is({"beheer"})) {
    Reply users = service_.ListUsers(c);
    if (!users.status.ok()) return fail(users);
    Reply partners = service_.ListPartners(c);
    if (!partners.status.ok()) return fail(partners);
    Reply status = service_.NodeStatus(c, options_.started);
    if (!status.status.ok()) return fail(status);
    return Page(200, console::AdminPage(v, users.body, partners.body, status.body));
  }
  return Page(404, console::ErrorPage(&v, 404, "Deze pagina bestaat niet."));
}

}  // namespace schakel::daemon
