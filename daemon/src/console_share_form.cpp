// The case page's share and dossier-link forms, and the page their "Toets
// per categorie" button answers with: the same form, filled in as posted,
// each category marked with whether the privacy protocol and the consents
// would let it go (service::CategoryCheck). Nothing is ticked beforehand.
#include <algorithm>

#include "console_pages.h"
#include "dutch.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::daemon::console {
namespace {

bool Listed(const Json& list, std::string_view name) {
  return list.is_array() && std::find(list.begin(), list.end(), Json(std::string(name))) != list.end();
}

// Why `cat` may not go: the reason the engine gave for that category, else
// the one for the whole share.
std::string WhyNot(const consent::Decision& d, consent::Category cat) {
  for (const auto& r : d.reasons) {
    if (r.category && *r.category == cat) return ReasonNl(r.code);
  }
  for (const auto& r : d.reasons) {
    if (!r.category) return ReasonNl(r.code);
  }
  return "het privacyprotocol staat het niet toe";
}

// What the check says of one category, as text inside its label (read out
// with it); "" when there is no check or the case does not hold it.
std::string CheckMark(const service::CategoryCheck* check, consent::Category cat) {
  if (check == nullptr) return "";
  const consent::Decision& d = check->decision;
  if (d.categories.Has(cat)) {
    return " <span class=\"toets mag\">\u2014 mag mee" +
           std::string(check->meldcode ? " (na akkoord van een tweede persoon)" : "") + "</span>";
  }
  if (d.withheld.Has(cat))
    return " <span class=\"toets magniet\">\u2014 mag niet mee: " + Esc(WhyNot(d, cat)) + "</span>";
  return "";
}

// The categories the case holds: the check's, or `present` (an array of
// names) when there is none.
bool InCase(const service::CategoryCheck* check, const Json& present, consent::Category cat) {
  if (check != nullptr) return check->decision.categories.Has(cat) || check->decision.withheld.Has(cat);
  return !present.is_array() || Listed(present, consent::Name(cat));
}

std::string Checkboxes(const std::string& prefix, const Json& checked, const Json& present,
                       const service::CategoryCheck* check) {
  std::string out = "<fieldset><legend>Categorieën</legend>";
  for (consent::Category cat : consent::kAllCategories) {
    const std::string name(consent::Name(cat));
    const std::string id = prefix + "-" + name;
    out += "<div class=\"keuze\"><input type=\"checkbox\" id=\"" + id + "\" name=\"cat_" + name + "\" value=\"1\"" +
           (Listed(checked, name) ? " checked" : "") + "><label for=\"" + id + "\">" + Esc(CategoryNl(name)) +
           (InCase(check, present, cat) ? CheckMark(check, cat) : " (niet in dit dossier)") + "</label></div>";
  }
  return out + "</fieldset>";
}

// Above the boxes: what the check found as a whole (a status, so a screen
// reader hears it).
std::string CheckSummary(const service::CategoryCheck* check) {
  if (check == nullptr) return "";
  const consent::Decision& d = check->decision;
  if (!d.permit) {
    std::string why;
    for (const auto& r : d.reasons) {
      if (r.category) continue;
      why += (why.empty() ? "" : "; ") + ReasonNl(r.code);
    }
    return "<p class=\"error\" role=\"alert\">Niets mag mee" + (why.empty() ? "" : ": " + Esc(why)) + ".</p>";
  }
  std::string out = "<p class=\"notice\" role=\"status\">Volgens het privacyprotocol en de toestemmingen mag mee: " +
                    CategoryList(d.categories) + ". Niet: " + CategoryList(d.withheld) + ".";
  if (d.legal_basis) out += " Grondslag: " + Esc(LegalBasisNl(consent::Name(*d.legal_basis))) + ".";
  return out + " Vink aan wat nodig is.</p>";
}

// Meldcode: a reason for each ticked category (the values as posted).
std::string CategoryReasonFields(const std::map<std::string, std::string>& reasons) {
  std::string out =
      "<details><summary>Meldcode-melding: waarom is elke gekozen categorie nodig?</summary>"
      "<p>Een melding bij Veilig Thuis bevat alleen wat nodig is. Vink alleen de categorie&euml;n aan die nodig "
      "zijn en geef bij elke aangevinkte categorie de reden. Het burgerservicenummer gaat nooit mee: Veilig Thuis "
      "zoekt het zelf op.</p>";
  for (consent::Category cat : consent::kAllCategories) {
    const std::string name(consent::Name(cat));
    if (name == "bsn") continue;
    const std::string id = "reden-" + name;
    auto it = reasons.find(name);
    out += "<p><label for=\"" + id + "\">Reden voor " + Esc(CategoryNl(name)) + "</label><input id=\"" + id +
           "\" name=\"reden_" + name + "\" maxlength=\"300\" value=\"" + Esc(it == reasons.end() ? "" : it->second) +
           "\"></p>";
  }
  return out + "</details>";
}

std::string CheckButton(std::string_view action) {
  return "<button type=\"submit\" class=\"klein\" formaction=\"" + Esc(action) +
         "\" formnovalidate>Toets per categorie</button>";
}

}  // namespace

std::string CategoryCheckboxes(const std::string& prefix, const Json& checked, const Json& in_case) {
  return Checkboxes(prefix, checked, in_case, nullptr);
}

Json PresentCategories(const Json& summary) {
  Json present = Json::array();
  for (consent::Category cat : consent::kAllCategories) {
    const std::string name(consent::Name(cat));
    if (summary.is_object() && summary.contains(name) && !summary[name].is_null()) present.push_back(name);
  }
  return present;
}

std::string ShareForm(const Viewer& v, const std::string& case_id,
                      const std::vector<service::PartnerStatus>& partner_list, const Json& present,
                      const ShareFormState& s) {
  std::vector<std::pair<std::string, std::string>> partners;
  partners.reserve(partner_list.size());
  for (const auto& p : partner_list) {
    partners.emplace_back(p.node_id,
                          (p.name.empty() ? p.node_id : p.name) + " (" + consent::DutchOrgTypeLabel(p.org_type) + ")");
  }
  return "<form method=\"post\" action=\"/delen/voorbeeld\">" + CsrfField(v) +
         "<input type=\"hidden\" name=\"case_id\" value=\"" + Esc(case_id) +
         "\">"
         "<p><label for=\"to\">Partner</label><select id=\"to\" name=\"to\" required>" +
         Options(partners, s.to) +
         "</select></p><p><label for=\"purpose\">Doel</label><select id=\"purpose\" name=\"purpose\" required>" +
         PurposeOptions(s.purpose) +
         "</select></p><p class=\"uitleg\">Kies partner en doel en toets per categorie wat het privacyprotocol en "
         "de toestemmingen toelaten; vink dan aan wat nodig is.</p>" +
         CheckSummary(s.check) + Checkboxes("deel", s.checked, present, s.check) + "<p>" + CheckButton("/delen/toets") +
         "</p>" + CategoryReasonFields(s.reasons) +
         "<p><label for=\"justification\">Onderbouwing (alleen Meldcode)</label><textarea id=\"justification\" "
         "name=\"justification\" rows=\"2\" maxlength=\"2000\">" +
         Esc(s.justification) +
         "</textarea></p>"
         "<p><button type=\"submit\">Bekijk wat er gedeeld wordt</button></p></form>";
}

std::string LinkForm(const Viewer& v, const std::string& case_id, const Json& present, const LinkFormState& s) {
  std::vector<std::pair<std::string, std::string>> orgs;
  orgs.reserve(consent::kAllOrgTypes.size());
  for (consent::OrgType o : consent::kAllOrgTypes) orgs.emplace_back(consent::Name(o), consent::DutchLabel(o));
  const std::string base = "/dossiers/" + case_id + "/link";
  return "<form method=\"post\" action=\"" + Esc(base) + "\">" + CsrfField(v) +
         "<p><label for=\"for_name\">Voor (naam en functie)</label><input id=\"for_name\" name=\"for_name\" "
         "required maxlength=\"200\" value=\"" +
         Esc(s.for_name) +
         "\"></p><p><label for=\"org_type\">Soort organisatie</label><select id=\"org_type\" "
         "name=\"org_type\">" +
         Options(orgs, s.org_type) +
         "</select></p><p><label for=\"link_purpose\">Doel van de link</label>"
         "<select id=\"link_purpose\" name=\"purpose\">" +
         PurposeOptions(s.purpose) + "</select></p>" + CheckSummary(s.check) +
         Checkboxes("link", s.checked, present, s.check) + "<p>" + CheckButton(base + "/toets") +
         "</p><p><label for=\"days\">Geldig (dagen, 1 tot 30)</label><input id=\"days\" name=\"days\" "
         "inputmode=\"numeric\" maxlength=\"2\" value=\"" +
         Esc(s.days) +
         "\"></p>"
         "<p><button type=\"submit\">Link maken</button></p></form>";
}

std::string ShareCheckPage(const Viewer& v, const std::string& case_id,
                           const std::vector<service::PartnerStatus>& partners, const ShareFormState& state) {
  return Layout(v, "Delen: wat mag er mee",
                "<p>Dossier <strong>" + Esc(case_id) + "</strong>.</p>" +
                    ShareForm(v, case_id, partners, Json(nullptr), state) + "<p><a href=\"/dossiers/" + Esc(case_id) +
                    "\">Terug naar het dossier</a></p>");
}

std::string LinkCheckPage(const Viewer& v, const std::string& case_id, const LinkFormState& state) {
  return Layout(v, "Dossierlink: wat mag er mee",
                "<p>Dossier <strong>" + Esc(case_id) + "</strong>.</p>" + LinkForm(v, case_id, Json(nullptr), state) +
                    "<p><a href=\"/dossiers/" + Esc(case_id) + "\">Terug naar het dossier</a></p>");
}

}  // namespace schakel::daemon::console
