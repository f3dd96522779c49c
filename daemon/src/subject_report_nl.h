// Private to daemon/: a subject access report (AVG art. 15) in Dutch words,
// with names instead of ids and times on the Amsterdam clock -- the rows
// the console's table shows (console_pages.cpp, SubjectReportPage) and the
// plain text `schakel audit subject` prints (GET /v1/audit/subject/{id}).
//
// Pure and thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "schakel/audit/audit_log.h"

namespace schakel::daemon {

// One entry in words, not escaped: when, who (name, role, organisation),
// what, to whom, which categories, purpose, legal basis, outcome, and the
// reason as its code.
struct SubjectRowNl {
  std::string when, who, what, recipient, categories, purpose, basis, outcome, reason;
};

// `names`: ids to names (Service::DisplayNames); an id without one stays.
std::vector<SubjectRowNl> SubjectRowsNl(const audit::SubjectAccessReport& report,
                                        const std::map<std::string, std::string>& names);

// The report as plain text: a heading saying which report it is (for the
// family, or internal with staff named), when and by whom it was made, then
// an entry per paragraph, oldest first.
std::string SubjectReportTextNl(const audit::SubjectAccessReport& report,
                                const std::map<std::string, std::string>& names, const std::string& node_name);

}  // namespace schakel::daemon
