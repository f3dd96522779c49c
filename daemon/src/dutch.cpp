#include "dutch.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <map>

namespace schakel::daemon {

std::string DateNl(Date date) {
  static constexpr std::array<const char*, 12> kMonths = {"januari",   "februari", "maart",    "april",
                                                          "mei",       "juni",     "juli",     "augustus",
                                                          "september", "oktober",  "november", "december"};
  return std::to_string(static_cast<unsigned>(date.day())) + " " + kMonths[static_cast<unsigned>(date.month()) - 1] +
         " " + std::to_string(static_cast<int>(date.year()));
}

std::string DateNl(std::string_view text) {
  auto d = ParseDate(text);
  return d.ok() ? DateNl(*d) : std::string(text);
}

std::string TimeNl(Instant t, bool seconds) {
  const auto local = t + AmsterdamOffset(t);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::hh_mm_ss<std::chrono::milliseconds> hms(local - day);
  char clock[16];
  if (seconds) {
    std::snprintf(clock, sizeof clock, "%02d:%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  } else {
    std::snprintf(clock, sizeof clock, "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
  }
  return DateNl(Date{day}) + ", " + clock;
}

std::string PurposeNl(std::string_view purpose) {
  static const std::map<std::string_view, const char*> kText = {
      {"kernteamoverleg", "kernteamoverleg (zorg- en adviesteam)"},
      {"doorverwijzing", "doorverwijzing"},
      {"overdracht_rmc", "overdracht aan het RMC"},
      {"verzuimmelding", "melding van verzuim aan leerplicht (LVS)"},
      {"vsv_melding", "melding van voortijdig schoolverlaten"},
      {"terugkoppeling", "terugkoppeling"},
      {"meldcode", "melding bij Veilig Thuis (meldcode)"}};
  auto it = kText.find(purpose);
  return it != kText.end() ? it->second : std::string(purpose);
}

std::string LegalBasisNl(std::string_view basis) {
  static const std::map<std::string_view, const char*> kText = {
      {"consent", "toestemming (AVG art. 6 lid 1 onder a)"},
      {"legal_obligation", "wettelijke plicht (AVG art. 6 lid 1 onder c)"},
      {"meldcode", "meldrecht (Wmo 2015 art. 5.2.6, meldcode)"}};
  auto it = kText.find(basis);
  return it != kText.end() ? it->second : std::string(basis);
}

std::string ActionNl(std::string_view action) {
  static const std::map<std::string_view, const char*> kText = {
      {"case.create", "dossier aangemaakt"},
      {"case.read", "dossier ingezien"},
      {"case.update", "dossier bijgewerkt (nieuwe versie)"},
      {"case.assign", "dossier toegewezen"},
      {"case.list", "dossiers opgevraagd"},
      {"student.add", "leerling ingeschreven"},
      {"student.update", "leerling bijgewerkt"},
      {"student.read", "leerling ingezien"},
      {"consent.record", "toestemming vastgelegd"},
      {"consent.withdraw", "toestemming ingetrokken"},
      {"consent.read", "toestemmingen ingezien"},
      {"consent_request.created", "verzoek om toestemming gemaakt"},
      {"consent_request.opened", "verzoek om toestemming geopend"},
      {"consent_request.page_view", "toestemmingspagina bekeken"},
      {"consent_request.read", "verzoek om toestemming ingezien"},
      {"consent_request.refused", "nee gezegd op een verzoek om toestemming"},
      {"consent_request.expired", "verzoek om toestemming verlopen"},
      {"consent_request.locked", "toestemmingslink geblokkeerd (te vaak een verkeerde code)"},
      {"consent_request.wrong_code", "verkeerde code op de toestemmingspagina"},
      {"share.evaluated", "deling getoetst (niets verzonden)"},
      {"share.permitted", "deling toegestaan en klaargezet"},
      {"share.denied", "deling geweigerd door de poort"},
      {"share.pending_approval", "Meldcode-melding wacht op akkoord"},
      {"share.approved", "Meldcode-melding goedgekeurd"},
      {"share.rejected", "Meldcode-melding afgewezen"},
      {"share.delivered", "deling aangekomen (ontvangst bevestigd)"},
      {"share.refused", "deling geweigerd door de ontvanger"},
      {"share.cancelled", "deling gestopt voordat ze vertrok"},
      {"share.recalled", "deling teruggeroepen"},
      {"share.revoked", "deling ingetrokken bij de ontvanger"},
      {"share.purged", "ontvanger bevestigt: verwijderd"},
      {"share.kept_by_recipient", "ontvanger bewaart de deling op eigen grondslag"},
      {"share.justification_read", "onderbouwing van een Meldcode-melding gelezen"},
      {"share.read", "deling ingezien"},
      {"link.evaluated", "dossierlink getoetst (niets gemaakt)"},
      {"link.denied", "dossierlink geweigerd door de poort"},
      {"link.created", "dossierlink gemaakt"},
      {"link.view", "dossierlinkpagina bekeken"},
      {"link.read", "dossierlink geopend"},
      {"link.wrong_code", "verkeerde code op de dossierlink"},
      {"link.locked", "dossierlink geblokkeerd (te vaak een verkeerde code)"},
      {"link.new_code", "nieuwe code voor de dossierlink"},
      {"link.revoke", "intrekken van een dossierlink"},
      {"link.revoked", "dossierlink ingetrokken"},
      {"link.expired", "dossierlink verlopen"},
      {"inbox.received", "deling ontvangen"},
      {"inbox.refused", "ontvangen deling geweigerd"},
      {"inbox.assign", "ontvangen deling toegewezen"},
      {"inbox.route", "vaste toewijzing voor een afzender ingesteld"},
      {"inbox.read", "ontvangen deling gelezen"},
      {"inbox.adopted", "ontvangen deling opgenomen in het eigen dossier"},
      {"inbox.revocation_kept", "intrekking ontvangen; bewaard op eigen grondslag"},
      {"inbox.purged", "ontvangen deling verwijderd"},
      {"audit.subject_report", "inzageverslag gemaakt"}};
  auto it = kText.find(action);
  return it != kText.end() ? it->second : std::string(action);
}

std::string OutcomeNl(std::string_view outcome) {
  if (outcome == "ok") return "gedaan";
  if (outcome == "permit") return "toegestaan";
  if (outcome == "deny") return "geweigerd";
  if (outcome == "fail") return "mislukt";
  return std::string(outcome);
}

std::string TimeNl(std::string_view text, bool seconds) {
  if (text.size() == 10) return DateNl(text);
  auto t = ParseInstant(text);
  return t.ok() ? TimeNl(*t, seconds) : std::string(text);
}

}  // namespace schakel::daemon
