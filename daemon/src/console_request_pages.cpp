// The console's permission requests (coordinators; issue 17,
// docs/consent-requests.md): on a student's consents page the requests
// with each grantor's answer, and the form that asks; after asking, the page
// that shows each link and access code once, with a printable letter per
// grantor (the link as text and as a QR code, no code) and a separate slip
// with the code, so that the school hands them over through two channels.
#include <string>
#include <vector>

#include "console_pages.h"
#include "dutch.h"
#include "inzage_page.h"
#include "qr_svg.h"
#include "schakel/base/strings.h"

namespace schakel::daemon::console {
namespace {

using store::Role;

std::string GrantStateNl(std::string_view state) {
  if (state == "open") return "nog geen antwoord";
  if (state == "agreed") return "ja";
  if (state == "refused") return "nee";
  if (state == "locked") return "geblokkeerd (te vaak een onjuiste code)";
  if (state == "expired") return "verlopen zonder antwoord";
  if (state == "withdrawn") return "ingetrokken";
  if (state == "ended") return "periode voorbij";
  return std::string(state);
}

std::string Who(const std::string& role, const std::string& guardian) {
  if (role == "jongere") return "jongere";
  return guardian.empty() ? "ouder" : "ouder (" + guardian + ")";
}

std::string CategoryLabels(const std::vector<std::string>& names) {
  std::vector<std::string> labels;
  labels.reserve(names.size());
  for (const auto& n : names) labels.push_back(CategoryNl(n));
  return Join(labels, ", ");
}

std::vector<std::string> RequestRow(const service::ConsentRequestView& r) {
  std::string answers;
  for (const auto& g : r.grantors) {
    answers += "<li>" + Esc(Who(g.grantor_role, g.guardian)) + ": " + Esc(GrantStateNl(g.state));
    if (g.state == "agreed" && !g.agreed.empty()) answers += " voor " + Esc(CategoryLabels(g.agreed));
    answers += "</li>";
  }
  return {"<code>" + Esc(r.request_id) + "</code>",
          Esc(TimeNl(r.created)),
          Esc(Join(r.purposes, ", ")),
          Esc(Join(r.recipients, ", ")),
          Esc(CategoryLabels(r.categories)),
          Esc(DateNl(r.valid_until)),
          Esc(TimeNl(r.expires)),
          "<ul>" + answers + "</ul>"};
}

// The letter for one grantor: no code on it.
std::string Letter(const service::ConsentRequestCreated& made, const service::GrantLink& link) {
  const bool young = link.grantor_role == "jongere";
  const std::string to = young                   ? made.student_name
                         : link.guardian.empty() ? "de ouder of verzorger van " + made.student_name
                                                 : link.guardian;
  const std::string dear = young ? made.student_name : link.guardian.empty() ? "ouder of verzorger" : link.guardian;
  const std::string until = DateNl(made.expires.substr(0, 10));
  const std::string receivers = Join(made.recipient_names, ", ");
  auto qr = QrSvg(link.url, 40, young ? "QR-code met het adres van je pagina" : "QR-code met het adres van uw pagina");
  std::string b = "<section class=\"brief\" aria-label=\"Brief voor " + Esc(to) + "\"><p>" + Esc(made.organisation) +
                  "</p><p>Aan: " + Esc(to) + "</p><h2>Verzoek om toestemming</h2><p>Beste " + Esc(dear) + ",</p>";
  if (young) {
    b += "<p>" + Esc(made.organisation) + " wil graag gegevens over jou delen met " + Esc(receivers) +
         ". Dat mag alleen als jij daar toestemming voor geeft. Op een beveiligde pagina lees je wat er gedeeld zou "
         "worden, waarom en hoe lang. Je kiest zelf: ja voor alles, ja voor een deel, of nee.</p>"
         "<p>Open de pagina met de camera van je telefoon (scan de code hieronder) of typ het adres over:</p>";
  } else {
    b += "<p>" + Esc(made.organisation) + " wil graag gegevens over " + Esc(made.student_name) + " delen met " +
         Esc(receivers) +
         ". Dat mag alleen als u daar toestemming voor geeft. Op een beveiligde pagina leest u wat er gedeeld zou "
         "worden, waarom en hoe lang. U kiest zelf: ja voor alles, ja voor een deel, of nee.</p>"
         "<p>Open de pagina met de camera van uw telefoon (scan de code hieronder) of typ het adres over:</p>";
  }
  b += "<p class=\"url\">" + Esc(link.url) + "</p>" + (qr.ok() ? "<p>" + *qr + "</p>" : "");
  b += young ? "<p>Op de pagina vul je een toegangscode in. Die krijg je apart van ons. In deze brief staat de code "
               "niet. Je kunt antwoorden tot en met " +
                   Esc(until) + ". Daarna kun je met dezelfde pagina en code je toestemming bekijken of intrekken.</p>"
             : "<p>Op de pagina vult u een toegangscode in. Die krijgt u apart van ons. In deze brief staat de code "
               "niet. U kunt antwoorden tot en met " +
                   Esc(until) + ". Daarna kunt u met dezelfde pagina en code uw toestemming bekijken of intrekken.</p>";
  b += "<p>Met vriendelijke groet,<br>" + Esc(made.organisation) + "</p></section>";
  // The code on a slip of its own, to be handed over apart from the letter.
  b += "<section class=\"codebriefje\" aria-label=\"Toegangscode voor " + Esc(to) +
       "\"><h2>Toegangscode</h2><p>Voor: " + Esc(to) + ", bij de brief van " + Esc(made.organisation) +
       " over toestemming.</p><p class=\"code\">" + Esc(link.code) +
       "</p><p>Bewaar deze code apart van de brief.</p></section>";
  return b;
}

}  // namespace

std::string ConsentRequestsSection(const Viewer& v, std::string_view student,
                                   const std::vector<service::ConsentRequestView>& requests) {
  std::string body = "<h2>Verzoeken om toestemming</h2>";
  std::vector<std::vector<std::string>> rows;
  rows.reserve(requests.size());
  for (const auto& r : requests) rows.push_back(RequestRow(r));
  if (rows.empty()) {
    body += "<p>Er is nog niemand via Schakel om toestemming gevraagd.</p>";
  } else {
    body += Table({"Verzoek", "Gevraagd", "Doelen", "Ontvangers", "Categorieën", "Geldig t/m", "Antwoord uiterlijk",
                   "Antwoorden"},
                  rows, "Verzoeken om toestemming voor leerling " + std::string(student));
  }
  if (v.role != Role::kCoordinator) return body;
  body +=
      "<h3>Toestemming vragen</h3><p>Schakel bepaalt aan de hand van de leeftijd wie gevraagd wordt (ouder, "
      "jongere of beiden) en maakt per persoon een link en een toegangscode. U ziet ze één keer, met een brief om af "
      "te drukken.</p><form method=\"post\" action=\"/toestemmingen/verzoek\">" +
      CsrfField(v) + "<input type=\"hidden\" name=\"leerling\" value=\"" + Esc(student) +
      "\"><p><label for=\"vrz-recipients\">Ontvangers (organisatie-id's of soorten, komma's ertussen)</label>"
      "<input id=\"vrz-recipients\" name=\"recipients\" required maxlength=\"500\"></p>"
      "<p><label for=\"vrz-purpose\">Doel</label><select id=\"vrz-purpose\" name=\"purpose\">" +
      PurposeOptions("doorverwijzing") + "</select></p>" + CategoryCheckboxes("vrz", Json::array()) +
      "<p><label for=\"vrz-until\">Toestemming geldig tot en met</label><input id=\"vrz-until\" name=\"valid_until\" "
      "type=\"date\" required></p><p><label for=\"vrz-days\">Dagen om te antwoorden (1 tot en met " +
      std::to_string(service::kMaxAnswerDays) +
      ")</label><input id=\"vrz-days\" name=\"answer_days\" type=\"number\" "
      "min=\"1\" max=\"" +
      std::to_string(service::kMaxAnswerDays) + "\" value=\"" + std::to_string(service::kDefaultAnswerDays) +
      "\"></p><p><button type=\"submit\">Toestemming vragen</button></p></form>";
  return body;
}

std::string ConsentRequestMadePage(const Viewer& v, std::string_view student,
                                   const service::ConsentRequestCreated& made) {
  std::vector<std::vector<std::string>> rows;
  std::string letters;
  for (const auto& link : made.links) {
    rows.push_back({Esc(Who(link.grantor_role, link.guardian)), "<code>" + Esc(link.url) + "</code>",
                    "<code>" + Esc(link.code) + "</code>"});
    letters += Letter(made, link);
  }
  std::string body =
      "<div class=\"alleen-scherm\"><p class=\"notice\" role=\"status\">Verzoek <code>" + Esc(made.request_id) +
      "</code> is gemaakt. De links en codes hieronder ziet u <strong>alleen nu</strong>: Schakel bewaart ze niet. "
      "Druk de brieven en de codebriefjes nu af (Ctrl+P) en geef brief en code apart af, bijvoorbeeld de brief mee "
      "naar huis en de code per telefoon.</p>" +
      Table({"Voor", "Link", "Toegangscode"}, rows, "Links en codes") +
      "<p><a href=\"/toestemmingen?leerling=" + Esc(student) +
      "\">Terug naar de toestemmingen van deze leerling</a></p></div>" + letters;
  return Layout(v, "Verzoek om toestemming gemaakt", body);
}

}  // namespace schakel::daemon::console
