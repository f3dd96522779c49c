// The console's account pages (docs/console.md "Beheer"): the admin's
// overview with the buttons that end or change an account, and the
// coordinators' list of roles waiting for their confirmation.
#include <chrono>

#include "console_pages.h"
#include "dutch.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::daemon::console {
namespace {

using store::Role;

std::string StateNlOf(const store::User& u) {
  if (u.removed_at) return "verwijderd " + TimeNl(*u.removed_at);
  if (u.disabled_at) return "uitgeschakeld " + TimeNl(*u.disabled_at);
  if (!u.active) return "wacht op bevestiging";
  return "actief";
}

// The buttons of one user's row; a removed account has none.
std::string UserActions(const Viewer& v, const store::User& u) {
  if (u.removed_at) return "";
  const std::string base = "/beheer/gebruikers/" + u.user_id;
  std::string out = u.disabled_at ? PostButton(v, base + "/inschakelen", "Inschakelen")
                                  : PostButton(v, base + "/uitschakelen", "Uitschakelen");
  out += PostButton(v, base + "/verwijderen", "Verwijderen");
  out += "<form method=\"post\" action=\"" + Esc(base + "/rol") + "\" class=\"inline\">" + CsrfField(v) +
         "<label>Rol <select name=\"rol\">";
  for (Role r : {Role::kStaff, Role::kCoordinator, Role::kAuditor, Role::kAdmin}) {
    out += "<option value=\"" + std::string(store::RoleName(r)) + "\"" + (r == u.role ? " selected" : "") + ">" +
           Esc(RoleNl(r)) + "</option>";
  }
  return out + "</select></label><button type=\"submit\">Rol wijzigen</button></form>";
}

}  // namespace

std::string AdminPage(const Viewer& v, const std::vector<service::UserView>& users,
                      const std::vector<service::PartnerView>& partners, const service::NodeStatusView& status) {
  std::vector<std::vector<std::string>> urows;
  for (const auto& u : users) {
    std::string role = Esc(RoleNl(u.user.role));
    if (u.user.pending_role) role += " (wacht: " + Esc(RoleNl(*u.user.pending_role)) + ")";
    urows.push_back({Esc(u.user.name), Esc(u.user.user_id), role, u.console ? "ja" : "nee", Esc(StateNlOf(u.user)),
                     Esc(TimeNl(u.user.token_expires.value_or(""))), UserActions(v, u.user)});
  }
  std::vector<std::vector<std::string>> prows;
  for (const auto& p : partners) {
    prows.push_back({Esc(p.node_id), Esc(p.name), Esc(consent::DutchOrgTypeLabel(p.org_type)), Esc(p.address),
                     "<code class=\"vingerafdruk\">" + Esc(p.fingerprint) + "</code>", Esc(p.added)});
  }
  std::string warnings;
  for (const auto& [name, expires] : status.expiring_tokens) {
    warnings += "<li>Het token van " + Esc(name) + " verloopt op " + Esc(TimeNl(expires)) +
                ": maak een nieuw met <code>schakel user rotate-token</code>.</li>";
  }
  if (!warnings.empty()) warnings = "<h2>Tokens die binnen een week verlopen</h2><ul>" + warnings + "</ul>";
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(status.now - status.started).count();
  std::string body =
      "<h2>Status van dit knooppunt</h2><dl><dt>Knooppunt</dt><dd>" + Esc(status.node_id) + "</dd><dt>Soort</dt><dd>" +
      Esc(consent::DutchOrgTypeLabel(status.org_type)) + "</dd><dt>Versie</dt><dd>" + Esc(status.version) +
      "</dd><dt>In bedrijf (seconden)</dt><dd>" + Esc(std::to_string(uptime)) + "</dd><dt>Wachtrij</dt><dd>" +
      Esc(std::to_string(status.outbox_depth)) + "</dd></dl>" + warnings + "<h2>Gebruikers</h2>" +
      Table({"Naam", "Id", "Rol", "Console-wachtwoord", "Staat", "Token geldig tot", "Acties"}, urows, "Gebruikers") +
      "<p>Gebruikers maakt u met <code>schakel user add</code>; een wachtwoord en tweede factor met "
      "<code>schakel user passwd</code>. Uitschakelen en verwijderen beëindigen het token en de console-sessies "
      "direct. De rollen medewerker en zorgcoördinator gaan pas in als een zorgcoördinator ze bevestigt.</p>"
      "<h2>Partners</h2>" +
      Table({"Knooppunt", "Naam", "Soort", "Adres", "Vingerafdruk", "Toegevoegd"}, prows,
            "Partners: vergelijk de vingerafdruk telefonisch met de partner");
  return Layout(v, "Beheer", body);
}

std::string PendingGrantsPage(const Viewer& v, const std::vector<service::PendingGrant>& pending) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : pending) {
    auto role = store::ParseRole(g.pending_role);
    auto now = store::ParseRole(g.current_role);
    rows.push_back({Esc(g.name), role ? Esc(RoleNl(*role)) : Esc(g.pending_role),
                    now ? Esc(RoleNl(*now)) : "nieuw account", Esc(g.requested_by),
                    PostButton(v, "/gebruikers/" + g.user_id + "/bevestigen", "Bevestigen")});
  }
  std::string body =
      "<p>Een beheerder kan de rollen medewerker en zorgcoördinator alleen aanvragen; ze gaan in als een "
      "zorgcoördinator die ze niet zelf aanvroeg ze bevestigt. Bevestig alleen wie u kent.</p>" +
      (rows.empty() ? std::string("<p>Er wacht niets op bevestiging.</p>")
                    : Table({"Naam", "Gevraagde rol", "Huidige rol", "Aangevraagd door", ""}, rows,
                            "Rollen die op bevestiging wachten"));
  return Layout(v, "Rollen bevestigen", body);
}

}  // namespace schakel::daemon::console
