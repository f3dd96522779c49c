#include "link_pages.h"

#include "dutch.h"
#include "groeidocument.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/form.h"
#include "schakel/formats/json.h"
#include "schakel/http/html.h"

namespace schakel::daemon {
namespace {

namespace html = http::html;

std::string RenderCase(const std::string& json, const LinkVisit& r) {
  auto parsed = formats::ParseJsonLimited(json, {1024 * 1024, 16});
  std::string o = "<h1>Dossier</h1>\n";
  std::string from = r.sender_name;
  if (consent::ParseOrgType(r.sender_org_type)) from += " (" + consent::DutchOrgTypeLabel(r.sender_org_type) + ")";
  o += "<p class=\"notice\">Verstuurd door <strong>" + html::Escape(from) + "</strong>. Gedeeld met " +
       html::Escape(r.recipient_name) + " voor het doel <strong>" + html::Escape(PurposeNl(r.purpose)) +
       "</strong>. Deze link verloopt op " + html::Escape(TimeNl(r.expires)) +
       ". Bewaar of verspreid deze gegevens niet verder dan nodig.</p>\n";
  if (!parsed.ok()) return o + "<p class=\"error\">De inhoud kon niet worden weergegeven.</p>";
  const formats::Json& j = *parsed;
  o += "<section><h2>Over wie</h2><dl>";
  if (j.contains("student_id"))
    o += "<dt>Leerlingnummer</dt><dd>" + html::Escape(j["student_id"].get<std::string>()) + "</dd>";
  if (j.contains("birth_date"))
    o += "<dt>Geboortedatum</dt><dd>" + html::Escape(DateNl(j["birth_date"].get<std::string>())) + "</dd>";
  if (j.contains("case_id"))
    o += "<dt>Dossiernummer</dt><dd>" + html::Escape(j["case_id"].get<std::string>()) + "</dd>";
  o += "</dl></section>\n";
  o += groeidocument::RenderSummaryNl(j);
  if (!r.withheld.empty()) {
    std::vector<std::string> held;
    for (const auto& n : r.withheld) held.emplace_back(consent::DutchCategoryLabel(n));
    o += "<p class=\"withheld\">Niet gedeeld (geen grondslag of toestemming): " + html::Escape(Join(held, ", ")) +
         ".</p>\n";
  }
  return o;
}

http::WebResponse Page(int status, const std::string& title, const std::string& body) {
  return PublicPage(status, title, body);
}

http::WebResponse LinkCodeForm(int status, const std::string& token, const std::string& error) {
  static const CodeFormText kText{"Beveiligd dossier",
                                  "U heeft een link ontvangen naar vertrouwelijke gegevens. Vul de toegangscode in die "
                                  "u via een ander kanaal (telefoon of sms) van de afzender heeft gekregen.",
                                  "Dossier openen"};
  return CodeFormPage(status, "/l/" + token, kText, error);
}

http::WebResponse Gone(const std::string& state, const std::string& reason) {
  std::string why;
  if (state == "revoked" && (reason == "basis_gone" || reason == "consent_withdrawn")) {
    why =
        "Deze link werkt niet meer: de toestemming of de andere grond waarop hij rustte, geldt niet meer (een "
        "toestemming is bijvoorbeeld ingetrokken of verlopen). De gegevens zijn daarom niet meer in te zien en "
        "zijn van de server verwijderd. Neem contact op met de school of de afzender als u de gegevens nog nodig "
        "heeft.";
  } else if (state == "locked") {
    why =
        "Deze link is geblokkeerd na te veel onjuiste toegangscodes. Neem contact op met de afzender voor een "
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

}  // namespace

http::WebResponse PublicPage(int status, const std::string& title, const std::string& body_html) {
  html::Page p;
  p.title = title + " — Schakel";
  p.body_html = body_html;
  return http::WebResponse::Html(status, html::Layout(p));
}

http::WebResponse PublicNotFound() {
  return PublicPage(404, "Niet gevonden",
                    "<h1>Niet gevonden</h1>\n<p>Deze link bestaat niet. Controleer of u het hele adres heeft "
                    "overgenomen.</p>\n");
}

http::WebResponse CodeFormPage(int status, const std::string& action, const CodeFormText& text,
                               const std::string& error) {
  std::string b = "<h1>" + html::Escape(text.heading) + "</h1>\n<p>" + html::Escape(text.intro) + "</p>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\" id=\"fout\">" + html::Escape(error) + "</p>\n";
  b += "<form method=\"post\" action=\"" + html::Escape(action) + "\">\n";
  html::Field f;
  f.id = "code";
  f.label = "Toegangscode";
  f.hint = "10 tekens, bijvoorbeeld ABCDE-23456. Hoofdletters en het streepje zijn niet nodig.";
  f.inputmode = "text";
  f.extra_class = "code";
  f.maxlength = 16;
  f.required = true;
  b += html::Input(f);
  b += html::Submit(text.button);
  b += "</form>\n";
  return PublicPage(status, "Toegangscode", b);
}

std::optional<http::WebResponse> OnlyGetOrPost(const http::WebRequest& req) {
  if (req.method == "GET" || req.method == "POST") return std::nullopt;
  http::WebResponse r = http::WebResponse::Text(405, "Alleen GET en POST.");
  r.headers.emplace_back("Allow", "GET, POST");
  return r;
}

std::optional<http::WebResponse> CheckFormPost(const http::WebRequest& req, http::RateLimiter& per_ip) {
  if (req.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
    return Page(415, "Ongeldig verzoek", "<h1>Ongeldig verzoek</h1><p>Gebruik het formulier op de pagina.</p>");
  }
  // Same-origin only when the browser says where it came from. With
  // Referrer-Policy: no-referrer browsers send "Origin: null" on form posts;
  // Sec-Fetch-Site still tells same-origin apart.
  bool cross_origin = !req.sec_fetch_site.empty()
                          ? req.sec_fetch_site != "same-origin" && req.sec_fetch_site != "none"
                          : !req.origin.empty() && req.origin != "null" && req.origin != "https://" + req.host;
  if (cross_origin) {
    return Page(403, "Geweigerd",
                "<h1>Geweigerd</h1><p>Dit formulier kan alleen vanaf deze pagina worden verstuurd.</p>");
  }
  if (!per_ip.Allow(req.client_ip)) {
    GlobalLinkCounters().rate_limited++;
    http::WebResponse r = Page(429, "Even wachten",
                               "<h1>Te veel pogingen</h1><p class=\"error\">Er zijn vanaf uw verbinding te veel "
                               "codes geprobeerd. Probeer het over een kwartier opnieuw.</p>");
    r.headers.emplace_back("Retry-After", "900");
    return r;
  }
  return std::nullopt;
}

LinkPages::LinkPages(LinkService& links, const Clock& clock, const LinkPageOptions& options)
    : links_(links), per_ip_(clock, options.per_ip) {}

http::WebResponse LinkPages::Handle(const http::WebRequest& req) {
  constexpr std::string_view kPrefix = "/l/";
  if (req.path.compare(0, kPrefix.size(), kPrefix) != 0) return PublicNotFound();
  const std::string token = req.path.substr(kPrefix.size());
  if (!crypto::IsLinkTokenShape(token)) return PublicNotFound();
  if (auto refused = OnlyGetOrPost(req)) return *refused;
  Result<LinkVisit> visit = Status::Internal("not decided");
  if (req.method == "GET") {
    visit = links_.Visit(token);
  } else {
    if (auto refused = CheckFormPost(req, per_ip_)) return *refused;
    formats::FormLimits limits;
    limits.max_body = 1024;
    limits.max_fields = 4;
    limits.max_value = 64;
    auto form = formats::ParseForm(req.body, limits);
    const std::string typed = form.ok() && form->count("code") ? form->at("code") : "";
    visit = links_.Open(token, typed);
  }
  if (!visit.ok()) {
    LogError("links: " + visit.status().message());
    return InternalError();
  }
  switch (visit->kind) {
    case LinkVisit::Kind::kNotFound:
      return PublicNotFound();
    case LinkVisit::Kind::kGone:
      return Gone(visit->state, visit->state_reason);
    case LinkVisit::Kind::kAskCode:
      return LinkCodeForm(200, token, "");
    case LinkVisit::Kind::kWrongCode: {
      const int left = visit->attempts_left;
      return LinkCodeForm(403, token,
                          "Deze toegangscode is onjuist. U heeft nog " + std::to_string(left) +
                              (left == 1 ? " poging." : " pogingen."));
    }
    case LinkVisit::Kind::kContent: {
      std::string json(reinterpret_cast<const char*>(visit->content.data()), visit->content.size());
      http::WebResponse page = Page(200, "Dossier", RenderCase(json, *visit));
      std::fill(json.begin(), json.end(), '\0');
      return page;
    }
  }
  return InternalError();
}

}  // namespace schakel::daemon
