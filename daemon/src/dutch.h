// Private to daemon/: dates and times as a Dutch reader writes them, on the
// clock of Europe/Amsterdam (winter and summer time), for every page a person
// reads (console, link and permission pages, reports). Data keeps UTC
// (RFC 3339); only what is shown is converted.
//
// Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/time.h"

namespace schakel::daemon {

// "2026-12-10" -> "10 december 2026"; text that is not a date unchanged.
std::string DateNl(std::string_view text);
std::string DateNl(Date date);
// An instant on the Amsterdam clock: "1 december 2026, 09:05" (with
// `seconds`: "09:05:07"). RFC 3339 text that does not parse is returned
// unchanged; a bare date as DateNl.
std::string TimeNl(Instant t, bool seconds = false);
std::string TimeNl(std::string_view text, bool seconds = false);

// A purpose of the privacy protocol in words ("verzuimmelding" -> "melding
// van verzuim aan leerplicht (LVS)"); a purpose the table does not know (a
// protocol file's own) as it is written.
std::string PurposeNl(std::string_view purpose);
// A legal basis in words with its law ("consent" -> "toestemming (AVG art.
// 6 lid 1 onder a)"); an unknown one as it is written.
std::string LegalBasisNl(std::string_view basis);

// An audit action in words ("share.permitted" -> "deling toegestaan en in de
// wachtrij gezet"); an action the table does not know as it is written.
std::string ActionNl(std::string_view action);
// An audit outcome in words ("permit" -> "toegestaan").
std::string OutcomeNl(std::string_view outcome);

}  // namespace schakel::daemon
