#include "subject_report_nl.h"

#include "console_pages.h"
#include "dutch.h"
#include "schakel/base/strings.h"

namespace schakel::daemon {
namespace {

std::string NameOf(const std::map<std::string, std::string>& names, const std::string& id) {
  auto it = names.find(id);
  return it == names.end() || it->second.empty() ? id : it->second;
}

}  // namespace

std::vector<SubjectRowNl> SubjectRowsNl(const audit::SubjectAccessReport& report,
                                        const std::map<std::string, std::string>& names) {
  std::vector<SubjectRowNl> rows;
  rows.reserve(report.entries.size());
  for (const auto& e : report.entries) {
    SubjectRowNl r;
    r.when = TimeNl(e.ts);
    r.who = e.actor_user.empty() ? std::string() : NameOf(names, e.actor_user);
    auto role = store::ParseRole(e.actor_role);
    std::string as = role                       ? console::RoleNl(*role)
                     : e.actor_role == "system" ? "systeem"
                     : e.actor_role == "peer"   ? "partnerknooppunt"
                                                : e.actor_role;
    if (!as.empty()) r.who += (r.who.empty() ? "" : ", ") + as;
    if (!e.actor_org.empty() && e.actor_org != e.actor_user) r.who += " van " + NameOf(names, e.actor_org);
    std::vector<std::string> cats;
    for (const auto& c : Split(e.categories, ',')) {
      if (!c.empty()) cats.push_back(console::CategoryNl(c));
    }
    r.what = ActionNl(e.action);
    r.recipient = e.recipient.empty() ? std::string() : NameOf(names, e.recipient);
    r.categories = Join(cats, ", ");
    r.purpose = e.purpose.empty() ? std::string() : PurposeNl(e.purpose);
    r.basis = e.legal_basis.empty() ? std::string() : LegalBasisNl(e.legal_basis);
    r.outcome = OutcomeNl(e.outcome);
    r.reason = e.reason;
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string SubjectReportTextNl(const audit::SubjectAccessReport& report,
                                const std::map<std::string, std::string>& names, const std::string& node_name) {
  std::string out = "Inzageverslag (AVG art. 15) over leerling " + report.subject + "\n";
  out += report.for_family ? "Voor de ouders of de jongere: het noemt organisaties, data, doelen, categorieën en "
                             "grondslagen, geen namen van medewerkers.\n"
                           : "Intern verslag: het noemt de gebruikers. Geef het niet aan de ouders of de jongere.\n";
  out += "Opgemaakt " + TimeNl(report.generated) + " (tijd in Nederland) door " + node_name + "; " +
         std::to_string(report.entries.size()) + (report.entries.size() == 1 ? " vermelding" : " vermeldingen") +
         " in het toegangslog" +
         (report.truncated ? " (niet alle: het verslag is ingekort; vraag een volledige export)" : "") + ".\n";
  for (const auto& r : SubjectRowsNl(report, names)) {
    out += "\n" + r.when + "  " + r.what + "\n";
    if (!r.who.empty()) out += "  door: " + r.who + "\n";
    if (!r.recipient.empty()) out += "  aan: " + r.recipient + "\n";
    if (!r.categories.empty()) out += "  categorieën: " + r.categories + "\n";
    if (!r.purpose.empty()) out += "  doel: " + r.purpose + "\n";
    if (!r.basis.empty()) out += "  grondslag: " + r.basis + "\n";
    out += "  uitkomst: " + r.outcome + "\n";
    if (!r.reason.empty()) out += "  toelichting (code): " + r.reason + "\n";
  }
  return out;
}

}  // namespace schakel::daemon
