#include "inzage_page.h"

#include <chrono>
#include <cstdio>

#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/formats/json.h"
#include "schakel/http/html.h"

namespace schakel::daemon {
namespace {

namespace html = http::html;

std::string Labels(const std::string& comma_names) {
  std::vector<std::string> out;
  for (const auto& n : Split(comma_names, ',')) {
    if (!n.empty()) out.emplace_back(consent::DutchCategoryLabel(n));
  }
  return out.empty() ? "—" : Join(out, ", ");
}

std::string Basis(const std::string& legal_basis) {
  if (legal_basis == "consent") return "toestemming";
  if (legal_basis == "legal_obligation") return "een wettelijke plicht";
  if (legal_basis == "meldcode") return "de Meldcode huiselijk geweld en kindermishandeling";
  return legal_basis.empty() ? "—" : legal_basis;
}

std::string Who(const std::string& grantor_role, const std::string& guardian) {
  std::string who = grantor_role == "jongere" ? "de jongere zelf" : "ouder";
  if (!guardian.empty()) who += " (" + guardian + ")";
  return who;
}

std::string NameOf(const service::InzageReport& r, const std::string& id) {
  auto it = r.names.find(id);
  return it == r.names.end() ? id : it->second;
}

// One line about one event, or empty for an event not shown.
std::string EventLine(const service::InzageReport& r, const audit::AuditEntry& e) {
  const std::string to = NameOf(r, e.recipient);
  const std::string what = Labels(e.categories);
  const std::string why = e.purpose.empty() ? "" : " Doel: " + e.purpose + ".";
  const std::string basis = e.legal_basis.empty() ? "" : " Grondslag: " + Basis(e.legal_basis) + ".";
  if (e.action == "share.permitted") return "Gedeeld met " + to + ": " + what + "." + why + basis;
  if (e.action == "share.delivered") return "Aangekomen bij " + to + ".";
  if (e.action == "share.denied") {
    return "Niet gedeeld" + (to.empty() ? std::string() : " met " + to) +
           ": de regels of de toestemming lieten het niet toe." + why;
  }
  if (e.action == "share.cancelled") return "Gestopt voordat het vertrok (" + to + ").";
  if (e.action == "share.revoked") return "Ingetrokken bij " + to + "; de ontvanger moet het verwijderen.";
  if (e.action == "share.purged") return to + " heeft bevestigd dat het is verwijderd.";
  if (e.action == "link.created") return "Beveiligde dossierlink gemaakt voor " + to + ": " + what + "." + why + basis;
  if (e.action == "link.read") return "De dossierlink voor " + to + " is geopend.";
  if (e.action == "link.revoked") return "De dossierlink voor " + to + " is ingetrokken.";
  if (e.action == "consent.record") return "Toestemming vastgelegd.";
  if (e.action == "consent.withdraw") return "Toestemming ingetrokken.";
  if (e.action == "consent_request.refused") return "Op een verzoek om toestemming is nee gezegd.";
  return "";
}

std::string ConsentItem(const service::InzageReport& report, const store::ConsentRecord& r) {
  const consent::Consent& c = r.consent;
  std::vector<std::string> to;
  for (const auto& rcp : c.recipients) {
    to.push_back(consent::ParseOrgType(rcp) ? "elk(e) " + consent::DutchOrgTypeLabel(rcp) : NameOf(report, rcp));
  }
  std::vector<std::string> cats;
  for (consent::Category cat : consent::CategoriesByName()) {
    if (c.categories.Has(cat)) cats.emplace_back(consent::DutchLabel(cat));
  }
  std::string o = "<li><strong>" + html::Escape(Who(std::string(consent::Name(c.grantor_role)), c.guardian)) +
                  "</strong>: " + html::Escape(Join(cats, ", ")) + ". Doel: " + html::Escape(Join(c.purposes, ", ")) +
                  ". Voor: " + html::Escape(Join(to, ", ")) + ". Geldig van " + html::Escape(DateNl(c.valid_from)) +
                  (c.valid_until ? " tot en met " + html::Escape(DateNl(*c.valid_until)) : "") +
                  ". Gegeven: " + html::Escape(ConsentEvidenceNl(r.evidence)) + ".";
  if (c.withdrawn_at) o += " <strong>Ingetrokken</strong> op " + html::Escape(TimeNl(*c.withdrawn_at)) + ".";
  return o + "</li>\n";
}

std::string GrantState(const service::GrantView& g) {
  if (g.state == "agreed") return "ja, voor " + Labels(Join(g.agreed, ","));
  if (g.state == "refused") return "nee";
  if (g.state == "open") return "nog niet beantwoord";
  if (g.state == "withdrawn") return "ja gezegd, later ingetrokken";
  if (g.state == "expired") return "niet beantwoord (verlopen)";
  if (g.state == "locked") return "link geblokkeerd";
  return g.state;
}

}  // namespace

std::string ConsentEvidenceNl(const std::string& evidence) {
  auto j = formats::ParseJsonLimited(evidence, {16 * 1024, 4});
  if (j.ok() && j->is_object() && j->value("kind", "") == "consent_request") {
    std::string at = j->value("answered_at", "");
    auto t = ParseInstant(at);
    std::string how = "via de toestemmingspagina, ondertekend als \u2018" + j->value("typed_name", "") + "\u2019" +
                      (t.ok() ? " op " + TimeNl(*t) : "");
    auto narrowed = ParseInstant(j->value("narrowed_at", ""));
    if (narrowed.ok() && j->contains("withdrawn_categories") && (*j)["withdrawn_categories"].is_array()) {
      std::vector<std::string> labels;
      for (const auto& c : (*j)["withdrawn_categories"]) {
        if (c.is_string()) labels.emplace_back(consent::DutchCategoryLabel(c.get<std::string>()));
      }
      how += "; op " + TimeNl(*narrowed) + " ingetrokken voor: " + Join(labels, ", ");
    }
    return how;
  }
  return evidence.empty() ? "niet vermeld" : evidence;
}

std::string InzageTitle(const service::InzageReport& r) {
  const bool young = r.grantor_role == "jongere";
  return "Inzage: wat er over " + (r.student_name.empty() ? (young ? "jou" : "uw kind") : r.student_name) +
         " is gedeeld";
}

std::string RenderInzage(const service::InzageReport& r, bool with_title) {
  const bool young = r.grantor_role == "jongere";
  std::string o = with_title ? "<h1>" + html::Escape(InzageTitle(r)) + "</h1>\n" : "";
  o += "<p>" + html::Escape(r.organisation) + " laat " + (young ? "je" : "u") +
       " hier zien welke gegevens het met andere organisaties heeft gedeeld, wanneer en waarom, welke "
       "toestemmingen er zijn en wat niet is gedeeld (AVG artikel 15). De namen van medewerkers staan er niet "
       "in.</p>\n";
  o += "<section><h2>Toestemmingen</h2>\n";
  if (r.consents.empty()) o += "<p>Er zijn geen toestemmingen vastgelegd.</p>\n";
  if (!r.consents.empty()) {
    o += "<ul>\n";
    for (const auto& c : r.consents) o += ConsentItem(r, c);
    o += "</ul>\n";
  }
  o += "</section>\n<section><h2>Verzoeken om toestemming</h2>\n";
  if (r.requests.empty()) o += "<p>Er is niet om toestemming gevraagd via Schakel.</p>\n";
  for (const auto& q : r.requests) {
    auto asked = ParseInstant(q.created);
    o += "<p>Gevraagd op " + html::Escape(asked.ok() ? TimeNl(*asked) : q.created) + " voor " +
         html::Escape(Labels(Join(q.categories, ","))) + ":</p>\n<ul>\n";
    for (const auto& g : q.grantors) {
      o += "<li>" + html::Escape(Who(g.grantor_role, g.guardian)) + ": " + html::Escape(GrantState(g)) + "</li>\n";
    }
    o += "</ul>\n";
  }
  o += "</section>\n<section><h2>Wat er is gebeurd</h2>\n";
  std::string items;
  for (const auto& e : r.events) {
    const std::string line = EventLine(r, e);
    if (!line.empty()) items += "<li>" + html::Escape(TimeNl(e.ts)) + ": " + html::Escape(line) + "</li>\n";
  }
  o += items.empty() ? "<p>Er is niets gedeeld.</p>\n" : "<ul>\n" + items + "</ul>\n";
  o += "</section>\n<p class=\"notice\">Vragen, of klopt er iets niet? Neem contact op met " +
       html::Escape(r.organisation) + ". " + (young ? "Je" : "U") + " kunt deze pagina afdrukken.</p>\n";
  return o;
}

}  // namespace schakel::daemon
