// The console's student register (coordinators: /leerlingen, docs/students.md)
// and the coordinators' queue of received shares (assigning one to a
// colleague).
#include "console_pages.h"
#include "dutch.h"

namespace schakel::daemon::console {

using store::Role;

std::string StudentsPage(const Viewer& v, const std::vector<store::StudentRecord>& students, std::string_view message,
                         bool error) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : students) {
    std::string guardians;
    for (const auto& g : s.guardians) {
      if (!guardians.empty()) guardians += ", ";
      guardians += Esc(g.name) + (g.authority ? " (gezag)" : "");
    }
    rows.push_back({"<code>" + Esc(s.student_id) + "</code>",
                    s.name.empty() ? std::string("<em>nog niet ingelezen</em>") : Esc(s.name), Esc(s.birth_date),
                    guardians.empty() ? std::string("-") : guardians, Esc(TimeNl(s.updated))});
  }
  std::string body = Message(message, error);
  body +=
      "<p>Dossiers kunnen alleen worden aangemaakt voor leerlingen in dit register. De geboortedatum hier bepaalt "
      "wiens toestemming nodig is.</p>";
  body += Table({"Leerling", "Naam", "Geboortedatum", "Ouders/verzorgers", "Bijgewerkt"}, rows, "Leerlingenregister");
  body +=
      "<h2>Leerlingen inlezen</h2><p>Plak een CSV-bestand met een kopregel "
      "<code>student_id,name,birth_date</code> en eventueel <code>guardian1_name,guardian1_authority</code> "
      "(ja/nee). Bij een fout wordt niets ingelezen en ziet u het regelnummer. Grote bestanden leest u in met "
      "<code>schakel student import</code>.</p><form method=\"post\" action=\"/leerlingen\">" +
      CsrfField(v) +
      "<p><label for=\"roster\">CSV</label><textarea id=\"roster\" name=\"roster\" rows=\"8\" required>"
      "</textarea></p><p><button type=\"submit\">Inlezen</button></p></form>";
  return Layout(v, "Leerlingen", body);
}

std::string AssignForm(const Viewer& v, const store::InboxRecord& r) {
  if (v.role != Role::kCoordinator) return "";
  std::string current = r.assigned_to ? "Nu toegewezen aan <strong>" + Esc(v.Name(*r.assigned_to)) + "</strong>."
                                      : "Nog niet toegewezen: alleen coördinatoren zien deze deling.";
  return "<h2>Toewijzen</h2><p>" + current + "</p><form method=\"post\" action=\"" + InboxUrl(r, "/toewijzen") + "\">" +
         CsrfField(v) +
         "<p><label for=\"gebruiker\">Gebruikersnaam van de collega</label><input id=\"gebruiker\" name=\"gebruiker\" "
         "maxlength=\"128\" required></p><p><button type=\"submit\">Toewijzen</button></p></form>";
}

std::string AdoptForm(const Viewer& v, const store::InboxRecord& r) {
  if (v.role != Role::kCoordinator || r.state != "received") return "";
  if (r.adopted_at) {
    return "<h2>Opgenomen in het dossier</h2><p>Op " + Esc(TimeNl(*r.adopted_at)) + ", grondslag " +
           Esc(r.adopted_basis.value_or("")) +
           ". Schakel verwijdert deze inhoud niet meer; een intrekking door de afzender wordt beantwoord met "
           "\"opgenomen in dossier\".</p>";
  }
  return "<h2>Opnemen in het dossier</h2><p>Moet uw organisatie dit bewaren onder eigen wetgeving (bijvoorbeeld "
         "Jeugdwet art. 7.3.8, twintig jaar)? Na opnemen verwijdert Schakel de inhoud niet meer na de bewaartermijn of "
         "bij intrekking; de afzender hoort dat u haar bewaart en op welke grond. Dit is niet terug te draaien.</p>"
         "<form method=\"post\" action=\"" +
         InboxUrl(r, "/opnemen") + "\">" + CsrfField(v) +
         "<p><label for=\"grondslag\">Wettelijke grondslag</label><input id=\"grondslag\" name=\"grondslag\" "
         "maxlength=\"200\" required placeholder=\"Jeugdwet art. 7.3.8\"></p><p><button type=\"submit\">Opnemen "
         "in dossier</button></p></form>";
}

}  // namespace schakel::daemon::console
