// The console's pages about outgoing shares: the outbox and one share, with
// the Meldcode four-eyes forms (approve, reject with a reason, cancel).
#include "console_pages.h"
#include "dutch.h"

namespace schakel::daemon::console {

using store::Role;

std::string SharesPage(const Viewer& v, const std::vector<store::ShareRecord>& shares) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : shares) {
    std::string state(store::ShareStateName(s.state));
    std::string action;
    if (s.state == store::ShareState::kPendingApproval && s.requested_by == v.user_id) {
      action = PostButton(v, "/delingen/" + s.message_id + "/annuleren", "Annuleren (Meldcode)");
    } else if (s.state == store::ShareState::kPendingApproval && v.role == Role::kCoordinator) {
      action = "<a href=\"/delingen/" + Esc(s.message_id) + "\">Beoordelen (Meldcode)</a>";
    }
    rows.push_back({"<a href=\"/delingen/" + Esc(s.message_id) + "\"><code>" + Esc(s.message_id) + "</code></a>",
                    Esc(s.case_id), Esc(s.student_id), Esc(v.Name(s.recipient_id)), Esc(PurposeNl(s.purpose)),
                    CategoryList(s.categories), Esc(StateNl(state)), action});
  }
  return Layout(v, "Verzonden delingen",
                Table({"Bericht", "Dossier", "Leerling", "Ontvanger", "Doel", "Categorieën", "Stand", "Actie"}, rows,
                      "Uitgaande delingen"));
}

std::string SharePage(const Viewer& v, const service::ShareView& view) {
  const store::ShareRecord& s = view.record;
  std::string state(store::ShareStateName(s.state));
  std::string body =
      "<dl><dt>Bericht</dt><dd><code>" + Esc(s.message_id) + "</code></dd><dt>Dossier</dt><dd>" + Esc(s.case_id) +
      "</dd><dt>Leerling</dt><dd>" + Esc(s.student_id) + "</dd><dt>Ontvanger</dt><dd>" + Esc(v.Name(s.recipient_id)) +
      "</dd><dt>Doel</dt><dd>" + Esc(PurposeNl(s.purpose)) + "</dd><dt>Grondslag</dt><dd>" +
      Esc(LegalBasisNl(s.legal_basis)) + "</dd><dt>Categorieën</dt><dd>" + CategoryList(s.categories) +
      "</dd><dt>Aangevraagd door</dt><dd>" + Esc(v.Name(s.requested_by)) + "</dd><dt>Stand</dt><dd>" +
      Esc(StateNl(state)) + (s.state_reason ? " (" + Esc(*s.state_reason) + ")" : std::string()) + "</dd></dl>";
  if (s.justification) {
    body +=
        "<h2>Onderbouwing</h2><blockquote class=\"justification\"><p>" + Esc(*s.justification) + "</p></blockquote>";
  }
  if (view.justification_sha256) {
    body += "<p>SHA-256 van de onderbouwing (staat ook in het toegangslog): <code>" + Esc(*view.justification_sha256) +
            "</code></p>";
  }
  if (s.state == store::ShareState::kPendingApproval) {
    const std::string base = "/delingen/" + s.message_id;
    if (s.requested_by == v.user_id) {
      body +=
          "<p>U hebt deze deling aangevraagd; een tweede coördinator beoordeelt haar. U kunt haar intrekken "
          "zolang ze wacht.</p>" +
          PostButton(v, base + "/annuleren", "Annuleren");
    } else if (v.role == Role::kCoordinator) {
      body +=
          "<h2>Beoordelen</h2><p>Lees de onderbouwing. Keur goed als de Meldcode-stap gerechtvaardigd is; wijs "
          "anders af met een reden (die komt in het toegangslog: noem de leerling er niet in).</p>" +
          PostButton(v, base + "/goedkeuren", "Goedkeuren") + "<form method=\"post\" action=\"" + Esc(base) +
          "/afwijzen\">" + CsrfField(v) +
          "<p><label for=\"reason\">Reden van afwijzing (verplicht, één regel, ten hoogste 500 tekens)</label>"
          "<input type=\"text\" id=\"reason\" name=\"reason\" maxlength=\"500\" required></p>"
          "<p><button type=\"submit\">Afwijzen</button></p></form>";
    }
  }
  body += "<p><a href=\"/delingen\">Terug naar verzonden delingen</a></p>";
  return Layout(v, "Deling " + s.message_id, body);
}

}  // namespace schakel::daemon::console
