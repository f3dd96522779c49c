#include "console_pages.h"
#include "dutch.h"
#include "subject_report_nl.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "inzage_page.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/http/html.h"

namespace schakel::daemon::console {
namespace {

using store::Role;

constexpr std::array<const char*, 7> kPurposes = {"kernteamoverleg", "doorverwijzing", "overdracht_rmc",
                                                  "verzuimmelding",  "vsv_melding",    "terugkoppeling",
                                                  "meldcode"};

}  // namespace

std::string CsrfField(const Viewer& v) { return "<input type=\"hidden\" name=\"csrf\" value=\"" + Esc(v.csrf) + "\">"; }

std::string CategoryList(const Json& list) {
  if (!list.is_array() || list.empty()) return "<em>geen</em>";
  std::string out;
  for (const auto& c : list) {
    if (!out.empty()) out += ", ";
    out += Esc(CategoryNl(c.is_string() ? c.get<std::string>() : c.dump()));
  }
  return out;
}

std::string CategoryList(consent::CategorySet set) {
  Json names = Json::array();
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) names.push_back(std::string(consent::Name(c)));
  }
  return CategoryList(names);
}

std::string Table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
                  std::string_view caption) {
  // A wide table scrolls inside its own box, never the page (at 390 px too);
  // the box can take focus so keyboard users can scroll it.
  std::string out = "<div class=\"tabel\" role=\"region\" tabindex=\"0\" aria-label=\"" + Esc(caption) +
                    "\"><table><caption>" + Esc(caption) + "</caption><thead><tr>";
  for (const auto& h : headers) out += "<th scope=\"col\">" + Esc(h) + "</th>";
  out += "</tr></thead><tbody>";
  if (rows.empty()) {
    out += "<tr><td colspan=\"" + std::to_string(headers.size()) + "\">Geen gegevens.</td></tr>";
  }
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      out += i == 0 ? "<th scope=\"row\">" + row[i] + "</th>" : "<td>" + row[i] + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

namespace {

std::string Document(std::string_view title, std::string_view body) {
  return "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         Esc(title) +
         " - Schakel</title>"
         "<link rel=\"stylesheet\" href=\"/static/schakel.css\"></head><body>"
         "<a class=\"skip\" href=\"#inhoud\">Naar de inhoud</a>" +
         std::string(body) + "</body></html>\n";
}

}  // namespace

std::string Message(std::string_view text, bool error) {
  if (text.empty()) return "";
  return std::string(error ? "<p class=\"error\" role=\"alert\">" : "<p class=\"notice\" role=\"status\">") +
         Esc(text) + "</p>";
}

namespace {

// A Meldcode report carries only what is necessary (Wmo 2015 art. 5.2.6):
// a reason for each category it carries. Never the BSN.
}  // namespace

std::string Options(const std::vector<std::pair<std::string, std::string>>& values, std::string_view selected) {
  std::string out;
  for (const auto& [value, label] : values) {
    out += "<option value=\"" + Esc(value) + "\"" + (value == selected ? " selected" : "") + ">" + Esc(label) +
           "</option>";
  }
  return out;
}

std::string PurposeOptions(std::string_view selected) {
  std::vector<std::pair<std::string, std::string>> purposes;
  purposes.reserve(kPurposes.size());
  for (const char* p : kPurposes) purposes.emplace_back(p, PurposeNl(p));
  return Options(purposes, selected);
}

std::string PostButton(const Viewer& v, std::string_view action, std::string_view label,
                       const std::vector<std::pair<std::string, std::string>>& hidden) {
  std::string out = "<form method=\"post\" action=\"" + Esc(action) + "\" class=\"inline\">" + CsrfField(v);
  for (const auto& [k, val] : hidden) {
    out += "<input type=\"hidden\" name=\"" + Esc(k) + "\" value=\"" + Esc(val) + "\">";
  }
  return out + "<button type=\"submit\">" + Esc(label) + "</button></form>";
}

std::string Esc(std::string_view text) { return http::html::Escape(text); }

std::string ReasonNl(std::string_view code) {
  static const std::map<std::string_view, const char*> kText = {
      {"no_flow", "Het privacyprotocol kent geen gegevensstroom voor dit doel naar dit soort organisatie."},
      {"unknown_purpose", "Dit doel komt niet voor in het privacyprotocol."},
      {"no_categories", "Geen van de gevraagde categorieën mag gedeeld worden."},
      {"birth_date_in_future", "De geboortedatum van de leerling ligt in de toekomst; controleer het dossier."},
      {"missing_consent_ouder",
       "Er is geen geldige toestemming van een ouder of voogd voor dit doel en deze ontvanger."},
      {"missing_consent_jongere",
       "Er is geen geldige toestemming van de jongere zelf voor dit doel en deze ontvanger."},
      {"consent_expired", "De toestemming is verlopen."},
      {"consent_not_yet_valid", "De toestemming gaat pas later in."},
      {"consent_withdrawn", "De toestemming is ingetrokken."},
      {"category_not_in_flow", "Deze categorie hoort volgens het privacyprotocol niet bij dit doel."},
      {"category_not_consented", "De toestemming noemt deze categorie niet."},
      {"override_missing",
       "Een Meldcode-deling vraagt een schriftelijke onderbouwing en de goedkeuring van een tweede persoon."},
      {"override_invalid",
       "De Meldcode-onderbouwing is ongeldig: leeg, of aanvrager en goedkeurder zijn dezelfde persoon."},
      {"not_assigned", "Dit dossier is niet aan u toegewezen."},
      {"same_person", "De aanvrager mag een Meldcode-deling niet zelf goedkeuren."},
      {"categories_no_longer_allowed", "Niet alle categorieën mogen nog gedeeld worden."},
  };
  auto it = kText.find(code);
  if (it != kText.end()) return it->second;
  return "Weigering met code " + std::string(code) + ".";
}

std::string CategoryNl(std::string_view c) {
  static const std::map<std::string_view, const char*> kText = {{"identificatie", "Identificatie"},
                                                                {"bsn", "BSN"},
                                                                {"contact", "Contactgegevens"},
                                                                {"onderwijs", "Onderwijs"},
                                                                {"verzuim", "Verzuim"},
                                                                {"hulpvraag", "Hulpvraag"},
                                                                {"gezinssituatie", "Gezinssituatie"},
                                                                {"gezondheid", "Gezondheid"},
                                                                {"justitie", "Justitie"},
                                                                {"afspraken", "Afspraken"}};
  auto it = kText.find(c);
  return it != kText.end() ? it->second : std::string(c);
}

std::string StateNl(std::string_view s) {
  static const std::map<std::string_view, const char*> kText = {
      {"queued", "in de wachtrij"}, {"delivered", "bezorgd"},  {"cancelled", "geannuleerd"},
      {"revoked", "ingetrokken"},   {"purged", "verwijderd"},  {"pending_approval", "wacht op goedkeuring"},
      {"received", "ontvangen"},    {"active", "beschikbaar"}, {"sending", "onderweg"},
      {"locked", "geblokkeerd"},    {"expired", "verlopen"},   {"refused", "geweigerd door de ontvanger"}};
  auto it = kText.find(s);
  return it != kText.end() ? it->second : std::string(s);
}

std::string RoleNl(Role r) {
  switch (r) {
    case Role::kStaff:
      return "medewerker";
    case Role::kCoordinator:
      return "zorgcoördinator";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "beheerder";
  }
  return "?";
}

std::string Layout(const Viewer& v, std::string_view title, std::string_view content) {
  std::vector<std::pair<std::string, std::string>> links = {{"/", "Start"}};
  if (v.role == Role::kStaff || v.role == Role::kCoordinator) {
    links.insert(links.end(), {{"/dossiers", "Dossiers"}, {"/delingen", "Verzonden"}, {"/inbox", "Ontvangen"}});
  }
  if (v.role == Role::kCoordinator) {
    links.insert(links.end(), {{"/toestemmingen", "Toestemmingen"}, {"/leerlingen", "Leerlingen"}});
  }
  if (v.role == Role::kAuditor) {
    links.insert(links.end(), {{"/audit", "Toegangslog"}, {"/toestemmingen", "Toestemmingen"}});
  }
  if (v.role == Role::kAdmin) links.emplace_back("/beheer", "Beheer");
  std::string nav = "<nav aria-label=\"Hoofdmenu\"><ul>";
  for (const auto& [href, label] : links) nav += "<li><a href=\"" + href + "\">" + Esc(label) + "</a></li>";
  nav += "</ul></nav>";
  std::string header = "<header class=\"site\"><p class=\"brand\">Schakel &middot; " + Esc(v.node_id) +
                       "</p><p>Aangemeld als " + Esc(v.name) + " (" + Esc(RoleNl(v.role)) + ")</p>" +
                       "<form method=\"post\" action=\"/afmelden\" class=\"inline\">" + CsrfField(v) +
                       "<button type=\"submit\">Afmelden</button></form>" + nav + "</header>";
  return Document(title, header + "<main id=\"inhoud\" class=\"wide\"><h1>" + Esc(title) + "</h1>" +
                             std::string(content) + "</main>");
}

std::string SignInPage(std::string_view error) {
  return Document("Aanmelden",
                  "<main id=\"inhoud\"><h1>Aanmelden bij Schakel</h1>" + Message(error, true) +
                      "<form method=\"post\" action=\"/aanmelden\">"
                      "<p><label for=\"naam\">Gebruikersnaam</label><input id=\"naam\" name=\"naam\" "
                      "autocomplete=\"username\" required maxlength=\"128\"></p>"
                      "<p><label for=\"wachtwoord\">Wachtwoord</label><input id=\"wachtwoord\" name=\"wachtwoord\" "
                      "type=\"password\" autocomplete=\"current-password\" required maxlength=\"1024\"></p>"
                      "<p><button type=\"submit\">Volgende</button></p></form>"
                      "<p>Nog geen wachtwoord? Vraag de beheerder om <code>schakel user passwd</code>.</p></main>");
}

std::string TotpPage(std::string_view csrf, std::string_view error) {
  return Document("Tweede stap",
                  "<main id=\"inhoud\"><h1>Code uit uw authenticator-app</h1>" + Message(error, true) +
                      "<form method=\"post\" action=\"/aanmelden/code\"><input type=\"hidden\" name=\"csrf\" value=\"" +
                      Esc(csrf) +
                      "\"><p><label for=\"code\">Zescijferige code</label><input id=\"code\" name=\"code\" "
                      "inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" maxlength=\"6\" "
                      "required></p><p><button type=\"submit\">Aanmelden</button></p></form></main>");
}

namespace {

// "3 nieuwe ontvangen delingen" as a link, or nothing for zero.
std::string CountLine(int64_t n, const char* one, const char* many, const char* href) {
  if (n <= 0) return "";
  return "<li><a href=\"" + std::string(href) + "\"><strong>" + std::to_string(n) + "</strong> " +
         (n == 1 ? one : many) + "</a></li>";
}

}  // namespace

std::string HomePage(const Viewer& v, const store::StartCounts& counts) {
  std::string waiting = CountLine(counts.new_shares, "nieuwe ontvangen deling", "nieuwe ontvangen delingen", "/inbox") +
                        CountLine(counts.meldcode_waiting, "Meldcode-melding wacht op uw goedkeuring",
                                  "Meldcode-meldingen wachten op goedkeuring", "/delingen") +
                        CountLine(counts.consents_ending, "toestemming loopt binnen 30 dagen af",
                                  "toestemmingen lopen binnen 30 dagen af", "/toestemmingen") +
                        CountLine(counts.links_expiring, "dossierlink verloopt binnen 3 dagen",
                                  "dossierlinks verlopen binnen 3 dagen", "/dossiers");
  std::string body = "<p>Welkom, " + Esc(v.name) + ".</p>";
  if (v.role == Role::kStaff || v.role == Role::kCoordinator) {
    body +=
        "<h2>Wat er wacht</h2>" +
        (waiting.empty() ? std::string("<p>Er wacht niets op u.</p>") : "<ul class=\"wacht\">" + waiting + "</ul>") +
        "<h2>Wat u kunt doen</h2>";
  }
  body += "<ul>";
  switch (v.role) {
    case Role::kStaff:
      body +=
          "<li><a href=\"/dossiers\">Mijn dossiers</a>: maken, bijwerken, delen.</li>"
          "<li><a href=\"/inbox\">Ontvangen delingen</a> en terugkoppeling.</li>";
      break;
    case Role::kCoordinator:
      body +=
          "<li><a href=\"/dossiers\">Alle dossiers</a></li><li><a href=\"/toestemmingen\">Toestemmingen per "
          "leerling</a></li><li><a href=\"/delingen\">Verzonden delingen</a>, Meldcode goedkeuren.</li>"
          "<li><a href=\"/gebruikers/wachtend\">Rollen die op bevestiging wachten</a></li>";
      break;
    case Role::kAuditor:
      body += "<li><a href=\"/audit\">Toegangslog doorzoeken, controleren en exporteren</a></li>";
      break;
    case Role::kAdmin:
      body += "<li><a href=\"/beheer\">Gebruikers, partners en status</a></li>";
      break;
  }
  body += "</ul><p>U wordt na 15 minuten zonder activiteit automatisch afgemeld.</p>";
  return Layout(v, "Start", body);
}

std::string ErrorPage(const Viewer* v, int status, std::string_view message) {
  std::string title = status == 403 ? "Geen toegang" : status == 404 ? "Niet gevonden" : "Er ging iets mis";
  std::string body = Message(message, true) + "<p><a href=\"/\">Terug naar de start</a></p>";
  if (v != nullptr) return Layout(*v, title, body);
  return Document(title, "<main id=\"inhoud\"><h1>" + Esc(title) + "</h1>" + body + "</main>");
}

std::string ServiceErrorPage(const Viewer& v, int status, std::string_view detail) {
  std::string_view nl;
  switch (status) {
    case 400:
    case 422:
      nl = "Wat is ingevuld of gevraagd klopt niet. Ga terug en pas het aan.";
      break;
    case 401:
    case 403:
      nl = "U mag dit niet met uw rol, of het gaat over een leerling of dossier dat niet aan u is toegewezen.";
      break;
    case 404:
    case 410:
      nl = "Dit bestaat niet (meer), of u mag het niet zien.";
      break;
    case 409:
      nl = "Dit kan nu niet: iemand anders heeft het intussen veranderd, of het is al gedaan.";
      break;
    case 429:
    case 503:
      nl = "Schakel is even te druk of een onderdeel is niet bereikbaar. Probeer het over een paar minuten opnieuw.";
      break;
    default:
      nl = "Er ging iets mis in Schakel. Probeer het opnieuw; blijft het misgaan, meld het dan bij uw beheerder.";
  }
  std::string body = Message(nl, true);
  if (!detail.empty()) {
    body += "<p class=\"hint\">Technische melding (voor de beheerder): <code>" + Esc(detail) + "</code></p>";
  }
  std::string title = status == 403 ? "Geen toegang" : status == 404 ? "Niet gevonden" : "Er ging iets mis";
  return Layout(v, title, body + "<p><a href=\"/\">Terug naar de start</a></p>");
}

std::string CasesPage(const Viewer& v, const std::vector<service::CaseListItem>& cases, std::string_view error,
                      const Json& draft, const groeidocument::FieldErrors& errors) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(cases.size());
  for (const auto& c : cases) {
    rows.push_back({"<a href=\"/dossiers/" + Esc(c.case_id) + "\">" + Esc(c.case_id) + "</a>", Esc(c.student_id),
                    Esc(std::to_string(c.version)), Esc(TimeNl(c.updated))});
  }
  std::string body =
      Message(error, true) + Table({"Dossier", "Leerling", "Versie", "Bijgewerkt"}, rows, "Dossiers die u mag zien") +
      "<h2 id=\"nieuw\">Nieuw dossier</h2><form method=\"post\" action=\"/dossiers\" class=\"groeidocument\">" +
      CsrfField(v) + "<p><button type=\"submit\">Dossier opslaan</button></p>" +
      groeidocument::GroeidocumentForm(draft, /*is_new=*/true, errors) +
      "<p><button type=\"submit\">Dossier opslaan</button></p></form>";
  return Layout(v, "Dossiers", body);
}

std::string CasePage(const Viewer& v, const service::CaseView& c,
                     const std::vector<service::PartnerStatus>& partner_list, const Json* draft,
                     const groeidocument::FieldErrors& errors) {
  const std::string& id = c.case_id;
  std::vector<std::vector<std::string>> versions;
  for (const auto& ver : c.versions) {
    versions.push_back({Esc(std::to_string(ver.version)), Esc(v.Name(ver.updated_by)), Esc(TimeNl(ver.updated))});
  }
  Json summary = Json::parse(c.summary_json, nullptr, false);
  const Json present = PresentCategories(summary);
  std::string body =
      Message(errors.empty() ? "" : "Niet opgeslagen: zie de meldingen bij de velden onder \u2018Bewerken\u2019.",
              true) +
      "<p>Leerling <strong>" + Esc(c.student_id) + "</strong>, versie " + Esc(std::to_string(c.version)) +
      ", bijgewerkt " + Esc(TimeNl(c.updated)) + ".</p>" + groeidocument::RenderSummaryNl(summary) + "<h2>Delen</h2>" +
      ShareForm(v, id, partner_list, present, {}) + "<h2>Dossierlink voor iemand zonder knooppunt</h2>" +
      LinkForm(v, id, present, {}) + "<h2>Versies</h2>" +
      Table({"Versie", "Door", "Datum"}, versions, "Versiegeschiedenis") +
      "<h2 id=\"bewerken\">Bewerken (nieuwe versie)</h2><form method=\"post\" action=\"/dossiers/" + Esc(id) +
      "#bewerken\" class=\"groeidocument\">" + CsrfField(v) +
      "<p><button type=\"submit\">Nieuwe versie opslaan</button></p>" +
      groeidocument::GroeidocumentForm(draft != nullptr ? *draft : summary, /*is_new=*/false, errors) +
      "<p><button type=\"submit\">Nieuwe versie opslaan</button></p></form>"
      "<p><a href=\"/dossiers/" +
      Esc(id) + "/export\" download>Groeidocument exporteren (JSON)</a></p>" +
      "<p><a href=\"/toestemmingen?leerling=" + Esc(c.student_id) + "\">Toestemmingen van deze leerling</a></p>";
  return Layout(v, "Dossier " + id, body);
}

std::string SharePreviewPage(const Viewer& v, const SharePreviewRequest& request, bool permitted,
                             const consent::Decision* decision, std::string_view error) {
  std::string body = "<p>Dossier <strong>" + Esc(request.case_id) + "</strong> naar <strong>" +
                     Esc(v.Name(request.to)) + "</strong>, doel <strong>" + Esc(PurposeNl(request.purpose)) +
                     "</strong>.</p>" + Message(error, true);
  if (decision != nullptr) {
    body += "<h2>Wat gaat er mee</h2><p class=\"notice gaat\">" + CategoryList(decision->categories) +
            "</p><h2>Wat wordt achtergehouden</h2><p class=\"withheld blijft\">" + CategoryList(decision->withheld) +
            "</p>";
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : decision->reasons) {
      rows.push_back({Esc(r.category ? CategoryNl(std::string(consent::Name(*r.category))) : "hele deling"),
                      Esc(ReasonNl(r.code)), "<code>" + Esc(r.code) + "</code>"});
    }
    if (!rows.empty()) body += Table({"Betreft", "Reden", "Code"}, rows, "Redenen van de poort");
    if (decision->legal_basis)
      body += "<p>Grondslag: " + Esc(LegalBasisNl(consent::Name(*decision->legal_basis))) +
              (decision->legal_source.empty() ? "" : "; " + Esc(decision->legal_source)) + "</p>";
  }
  if (!request.category_reasons.empty()) {
    body += "<h2>Waarom elke categorie nodig is</h2><ul>";
    for (const auto& [cat, reason] : request.category_reasons) {
      body += "<li>" + Esc(CategoryNl(cat)) + ": " + Esc(reason) + "</li>";
    }
    body += "</ul>";
  }
  if (permitted) {
    std::string hidden;
    const std::pair<const char*, const std::string*> fields[] = {{"case_id", &request.case_id},
                                                                 {"to", &request.to},
                                                                 {"purpose", &request.purpose},
                                                                 {"justification", &request.justification}};
    for (const auto& [k, value] : fields) {
      hidden += "<input type=\"hidden\" name=\"" + std::string(k) + "\" value=\"" + Esc(*value) + "\">";
    }
    for (const auto& cat : request.categories) {
      hidden += "<input type=\"hidden\" name=\"cat_" + Esc(cat) + "\" value=\"1\">";
    }
    for (const auto& [cat, reason] : request.category_reasons) {
      hidden += "<input type=\"hidden\" name=\"reden_" + Esc(cat) + "\" value=\"" + Esc(reason) + "\">";
    }
    body += "<form method=\"post\" action=\"/delen\">" + CsrfField(v) + hidden +
            "<p><button type=\"submit\">Verzenden</button></p></form>";
  } else {
    body += "<p class=\"error\" role=\"alert\">Deze deling wordt geweigerd en kan niet verzonden worden.</p>";
  }
  body += "<p><a href=\"/dossiers/" + Esc(request.case_id) + "\">Terug naar het dossier</a></p>";
  return Layout(v, permitted ? "Voorbeeld van de deling" : "Deling geweigerd", body);
}

std::string ShareSentPage(const Viewer& v, const service::ShareOutcome& sent) {
  std::string state(store::ShareStateName(sent.state));
  std::string body = "<p class=\"notice\" role=\"status\">De deling is " + Esc(StateNl(state)) +
                     ". Berichtnummer <code>" + Esc(sent.message_id) + "</code>.</p>";
  body += "<p>Gedeeld: " + CategoryList(sent.decision.categories) +
          ".</p><p>Achtergehouden: " + CategoryList(sent.decision.withheld) + ".</p>";
  body += "<p><a href=\"/delingen\">Naar verzonden delingen</a></p>";
  return Layout(v, "Deling verzonden", body);
}

std::string LinkCreatedPage(const Viewer& v, const service::LinkCreated& link) {
  std::string body =
      "<p class=\"notice\" role=\"status\">De link is gemaakt. Link en code worden <strong>alleen nu</strong> "
      "getoond: stuur de link per mail en geef de code via een ander kanaal (telefoon, sms).</p>"
      "<dl><dt>Link</dt><dd><code class=\"link-url\">" +
      Esc(link.url) + "</code></dd><dt>Toegangscode</dt><dd><code class=\"link-code\">" + Esc(link.code) +
      "</code></dd><dt>Verloopt</dt><dd>" + Esc(TimeNl(link.expires)) + "</dd></dl>";
  body += "<p>Gedeeld: " + CategoryList(link.decision.categories) +
          ".</p><p>Achtergehouden: " + CategoryList(link.decision.withheld) + ".</p>";
  return Layout(v, "Dossierlink gemaakt", body);
}

std::string InboxUrl(const store::InboxRecord& r, std::string_view suffix) {
  return "/inbox/" + Esc(r.message_id) + Esc(suffix) + "?van=" + Esc(r.sender_id);
}

std::string InboxPage(const Viewer& v, const std::vector<service::InboxListItem>& inbox) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : inbox) {
    const store::InboxRecord& r = item.record;
    rows.push_back({"<a href=\"" + InboxUrl(r) + "\">" + Esc(r.message_id) + "</a>" +
                        (item.unread ? " <strong class=\"nieuw\">nieuw</strong>" : ""),
                    Esc(v.Name(r.sender_id)), Esc(r.student_id), Esc(PurposeNl(r.purpose)), Esc(StateNl(r.state)),
                    Esc(TimeNl(r.received)),
                    r.assigned_to ? Esc(v.Name(*r.assigned_to)) : std::string("wachtrij coördinatoren")});
  }
  std::string intro = v.role == Role::kCoordinator
                          ? "<p>Alle ontvangen delingen. Een nieuwe deling wacht hier tot u haar toewijst.</p>"
                          : "<p>De ontvangen delingen die aan u zijn toegewezen.</p>";
  return Layout(
      v, "Ontvangen delingen",
      intro + Table({"Bericht", "Van", "Leerling", "Doel", "Stand", "Ontvangen", "Toegewezen aan"}, rows, "Inbox"));
}

std::string InboxItemPage(const Viewer& v, const service::InboxView& item) {
  const store::InboxRecord& r = item.record;
  std::string body = "<p>Van <strong>" + Esc(v.Name(r.sender_id)) + "</strong> over leerling <strong>" +
                     Esc(r.student_id) + "</strong>, doel " + Esc(PurposeNl(r.purpose)) + ", ontvangen " +
                     Esc(TimeNl(r.received)) + ", te bewaren tot " + Esc(TimeNl(r.retain_until)) + ".</p>";
  const Json summary = item.summary_json ? Json::parse(*item.summary_json, nullptr, false) : Json(nullptr);
  if (summary.is_object()) {
    body += groeidocument::RenderSummaryNl(summary);
    body += "<h2>Terugkoppeling</h2><p>Stuur de afspraken terug naar " + Esc(v.Name(r.sender_id)) +
            ". Dit maakt een dossier aan met de identificatie en uw afspraken, en toont eerst wat er gedeeld wordt.</p>"
            "<form method=\"post\" action=\"" +
            InboxUrl(r, "/terugkoppeling") + "\">" + CsrfField(v) +
            "<p><label for=\"afspraken\">Afspraken</label><textarea id=\"afspraken\" name=\"afspraken\" rows=\"3\" "
            "required></textarea></p><p><button type=\"submit\">Terugkoppeling voorbereiden</button></p></form>";
  } else {
    body += "<p class=\"notice\" role=\"status\">De inhoud is verwijderd (" + Esc(r.purge_reason.value_or("")) +
            "). Alleen deze registratie blijft bewaard.</p>";
  }
  body += AssignForm(v, r) + AdoptForm(v, r);
  return Layout(v, "Ontvangen deling", body);
}

std::string ConsentsPage(const Viewer& v, std::string_view student, const service::StudentConsents& consents,
                         std::string_view message, const std::vector<service::ConsentRequestView>* requests) {
  std::string body =
      "<form method=\"get\" action=\"/toestemmingen\"><p><label for=\"leerling\">Leerlingnummer</label>"
      "<input id=\"leerling\" name=\"leerling\" value=\"" +
      Esc(student) + "\" maxlength=\"128\" required> <button type=\"submit\">Zoeken</button></p></form>" +
      Message(message, false);
  if (student.empty()) return Layout(v, "Toestemmingen", body);
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : consents.consents) {
    const consent::Consent& c = entry.record.consent;
    std::string shares;
    for (const auto& s : entry.shares) {
      shares += "<li><code>" + Esc(s.message_id) + "</code> naar " + Esc(s.recipient) + ": " +
                Esc(StateNl(std::string(store::ShareStateName(s.state)))) + "</li>";
    }
    for (const auto& l : entry.links) {
      shares += "<li>dossierlink <code>" + Esc(l.link_id) + "</code> voor " + Esc(l.recipient_name) + ": " +
                Esc(StateNl(l.state)) + "</li>";
    }
    shares = shares.empty() ? "<em>nog geen</em>" : "<ul>" + shares + "</ul>";
    std::string withdrawn = c.withdrawn_at ? FormatInstantMs(*c.withdrawn_at) : "";
    std::string action = !withdrawn.empty()             ? "ingetrokken " + Esc(withdrawn)
                         : v.role == Role::kCoordinator ? PostButton(v, "/toestemmingen/" + c.id + "/intrekken",
                                                                     "Intrekken", {{"leerling", std::string(student)}})
                                                        : "geldig";
    std::string purposes, recipients;
    for (const auto& p : c.purposes) purposes += (purposes.empty() ? "" : ", ") + Esc(PurposeNl(p));
    for (const auto& p : c.recipients) recipients += (recipients.empty() ? "" : ", ") + Esc(p);
    rows.push_back({"<code>" + Esc(c.id) + "</code>", Esc(std::string(consent::Name(c.grantor_role))), purposes,
                    recipients, CategoryList(c.categories),
                    Esc(DateNl(c.valid_from)) + " t/m " + Esc(c.valid_until ? DateNl(*c.valid_until) : ""),
                    Esc(ConsentEvidenceNl(entry.record.evidence)), shares, action});
  }
  body += Table({"Toestemming", "Gegeven door", "Doelen", "Ontvangers", "Categorieën", "Geldig", "Bewijs",
                 "Delingen en dossierlinks die erop steunen", "Actie"},
                rows, "Toestemmingen van leerling " + std::string(student));
  if (requests != nullptr) body += ConsentRequestsSection(v, student, *requests);
  if (v.role == Role::kCoordinator) {
    std::vector<std::pair<std::string, std::string>> grantors = {{"ouder", "ouder of voogd"}, {"jongere", "jongere"}};
    body +=
        "<h2>Toestemming vastleggen</h2><p>Alleen voor een toestemming die buiten Schakel is gegeven, met bewijs "
        "(bijvoorbeeld een getekend formulier).</p><form method=\"post\" action=\"/toestemmingen\">" +
        CsrfField(v) + "<input type=\"hidden\" name=\"leerling\" value=\"" + Esc(student) +
        "\">"
        "<p><label for=\"grantor_role\">Gegeven door</label><select id=\"grantor_role\" name=\"grantor_role\">" +
        Options(grantors, "ouder") +
        "</select></p>"
        "<p><label for=\"purpose\">Doel</label><select id=\"purpose\" name=\"purpose\">" +
        PurposeOptions("") +
        "</select></p><p><label for=\"recipients\">Ontvangers (organisatie-id's of soorten, komma's ertussen)"
        "</label><input id=\"recipients\" name=\"recipients\" required maxlength=\"500\"></p>" +
        CategoryCheckboxes("tst", Json::array()) +
        "<p><label for=\"valid_from\">Geldig vanaf</label><input id=\"valid_from\" name=\"valid_from\" "
        "type=\"date\" required></p><p><label for=\"valid_until\">Geldig tot en met (leeg: geen einde)</label>"
        "<input id=\"valid_until\" name=\"valid_until\" type=\"date\"></p>"
        "<p><label for=\"evidence\">Bewijs (bijv. getekend formulier, datum)</label><input id=\"evidence\" "
        "name=\"evidence\" required maxlength=\"500\"></p>"
        "<p><button type=\"submit\">Toestemming vastleggen</button></p></form>";
  }
  return Layout(v, "Toestemmingen", body);
}

std::string AuditPage(const Viewer& v, const std::map<std::string, std::string>& filter,
                      const service::AuditFound* found, std::string_view verify_result) {
  auto val = [&](const char* k) {
    auto it = filter.find(k);
    return it == filter.end() ? std::string() : it->second;
  };
  std::string body =
      "<form method=\"get\" action=\"/audit\"><fieldset><legend>Zoeken in het toegangslog</legend>"
      "<p><label for=\"leerling\">Leerling</label><input id=\"leerling\" name=\"leerling\" value=\"" +
      Esc(val("leerling")) +
      "\" maxlength=\"128\"></p><p><label for=\"gebruiker\">Gebruiker (id)</label>"
      "<input id=\"gebruiker\" name=\"gebruiker\" value=\"" +
      Esc(val("gebruiker")) +
      "\" maxlength=\"128\"></p><p><label for=\"actie\">Actie</label><input id=\"actie\" name=\"actie\" value=\"" +
      Esc(val("actie")) +
      "\" maxlength=\"64\"></p><p><label for=\"sinds\">Sinds (datum)</label>"
      "<input id=\"sinds\" name=\"sinds\" type=\"date\" value=\"" +
      Esc(val("sinds")) +
      "\"></p><p><button type=\"submit\">Zoeken</button></p></fieldset></form>"
      "<p>" +
      PostButton(v, "/audit/controleren", "Keten en handtekeningen controleren") +
      " <a href=\"/audit/export\" download>Exporteren (JSON Lines)</a></p>" + Message(verify_result, false) +
      "<form method=\"get\" action=\"/audit/inzage\"><p><label for=\"inzage\">Inzageverslag voor leerling</label>"
      "<input id=\"inzage\" name=\"leerling\" maxlength=\"128\" required></p>"
      "<p><input type=\"checkbox\" id=\"intern\" name=\"intern\" value=\"1\"> <label for=\"intern\">Intern "
      "verslag, met de gebruikers (niet voor de ouders: zij krijgen organisaties, data, doelen en categorieën, geen "
      "namen van medewerkers)</label></p><p><button type=\"submit\">Maak verslag</button></p></form>";
  if (found != nullptr) {
    // Who by name (the id beside it, for a search by user); a partner's name
    // for what came from a partner.
    auto who = [&](const audit::AuditEntry& e) {
      auto user = found->names.find(e.actor_user);
      auto org = found->names.find(e.actor_org);
      std::string out = user != found->names.end() ? Esc(user->second) + " <code>" + Esc(e.actor_user) + "</code>"
                                                   : Esc(e.actor_user);
      out += " (" + Esc(e.actor_role);
      if (org != found->names.end() && e.actor_role == "peer") out += ", " + Esc(org->second);
      return out + ")";
    };
    // To whom by name too (a partner, a user; a link's holder is a name already).
    auto to = [&](const audit::AuditEntry& e) {
      if (e.recipient.empty()) return std::string();
      auto known = found->names.find(e.recipient);
      return known != found->names.end() ? Esc(known->second) + " <code>" + Esc(e.recipient) + "</code>"
                                         : Esc(e.recipient);
    };
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : found->entries) {
      std::string what = e.categories.empty() ? "" : CategoryList(Json(Split(e.categories, ',')));
      // The consents an entry rests on, one click away (an audited read).
      std::string consents =
          e.consents.empty() || e.subject.empty()
              ? Esc(e.consents)
              : "<a href=\"/toestemmingen?leerling=" + Esc(e.subject) + "\">" + Esc(e.consents) + "</a>";
      rows.push_back({Esc(std::to_string(e.seq)), Esc(TimeNl(e.ts, /*seconds=*/true)), who(e), Esc(e.action),
                      Esc(e.subject), Esc(e.object), to(e), what, Esc(e.purpose), Esc(e.legal_basis), consents,
                      Esc(e.outcome), Esc(e.reason)});
    }
    body += Table({"Nr", "Tijd", "Wie", "Actie", "Leerling", "Object", "Aan", "Categorieën", "Doel", "Grondslag",
                   "Toestemmingen", "Uitkomst", "Reden"},
                  rows, "Gevonden regels: " + std::to_string(rows.size()));
  }
  return Layout(v, "Toegangslog", body);
}

std::string FamilyReportPage(const Viewer& v, const service::InzageReport& report) {
  return Layout(v, InzageTitle(report),
                "<p class=\"alleen-scherm\">Druk deze pagina af of sla haar op als PDF voor het verzoek om inzage "
                "van leerling " +
                    Esc(report.student_id) + ". <a href=\"/audit/inzage?leerling=" + Esc(report.student_id) +
                    "&amp;intern=1\">Intern verslag met namen</a> (niet voor de familie).</p>" +
                    RenderInzage(report, /*with_title=*/false));
}

std::string SubjectReportPage(const Viewer& v, const audit::SubjectAccessReport& report) {
  const bool internal = !report.for_family;
  std::string intro = internal ? "<p><strong>Intern verslag</strong>: het noemt de gebruikers. Geef het niet aan de "
                                 "ouders of de jongere; maak voor hen het verslag zonder namen van medewerkers.</p>"
                               : "<p>Druk deze pagina af of sla haar op als PDF voor het verzoek om inzage. Het "
                                 "verslag noemt organisaties, data, doelen, categorieën en grondslagen, geen namen "
                                 "van medewerkers.</p>";
  intro += "<p>Opgemaakt " + Esc(TimeNl(report.generated)) + " door " + Esc(v.node_id) + "; " +
           Esc(std::to_string(report.entries.size())) + " vermeldingen in het toegangslog" +
           (report.truncated ? " (niet alle: het verslag is ingekort)" : "") + ".</p>";
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : SubjectRowsNl(report, v.names)) {
    rows.push_back({Esc(r.when), Esc(r.who), Esc(r.what), Esc(r.recipient), Esc(r.categories), Esc(r.purpose),
                    Esc(r.basis), Esc(r.outcome), r.reason.empty() ? "" : "<code>" + Esc(r.reason) + "</code>"});
  }
  return Layout(v, "Inzageverslag " + report.subject,
                intro + Table({"Wanneer", "Wie", "Wat", "Ontvanger", "Categorieën", "Doel", "Grondslag", "Uitkomst",
                               "Toelichting (code)"},
                              rows, "Vermeldingen over deze leerling, oudste eerst"));
}

}  // namespace schakel::daemon::console
