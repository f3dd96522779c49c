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

std::string TimeNl(std::string_view text, bool seconds) {
  if (text.size() == 10) return DateNl(text);
  auto t = ParseInstant(text);
  return t.ok() ? TimeNl(*t, seconds) : std::string(text);
}

}  // namespace schakel::daemon
