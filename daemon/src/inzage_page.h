// Private to daemon/: the inzage report (AVG art. 15) a parent or the young
// person reads on /i/{token} (docs/consent-requests.md "Inzage"), as Dutch
// HTML: what was shared about the student, with whom, when and on which
// basis; the consents and how they were given; the answers to permission
// requests; what was not shared. Lists rather than tables, so it reads on a
// phone; printable.
#pragma once

#include <string>

#include "dutch.h"
#include "schakel/base/time.h"
#include "schakel/service/consent_requests.h"

namespace schakel::daemon {

// How a consent was given, in Dutch, from its evidence: "via de
// toestemmingspagina, ondertekend als 'M. de Vries' op ..." (with what was
// withdrawn since) for an answer on a permission page; else the evidence as
// recorded ("niet vermeld" when empty). Plain text, not escaped.
std::string ConsentEvidenceNl(const std::string& evidence);
// The report's <main> content (trusted HTML, everything from data escaped).
// `with_title`: starting with the <h1> (the console's frame has its own).
std::string InzageTitle(const service::InzageReport& report);
std::string RenderInzage(const service::InzageReport& report, bool with_title = true);

}  // namespace schakel::daemon
