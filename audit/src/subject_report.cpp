// Subject access reports (AVG art. 15): the renderings, and the redaction
// for the family (audit_log.h).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/audit/audit_log.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"

namespace schakel::audit {
namespace {

std::string Entries(int64_t n) { return std::to_string(n) + (n == 1 ? " entry" : " entries"); }

// Every occurrence of a staff user id in `text` (a reason such as
// inbox.assign's "u-…") becomes `instead`.
void ReplaceIds(std::string& text, const std::set<std::string>& ids, const std::string& instead) {
  for (const auto& id : ids) {
    if (id.empty()) continue;
    for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + instead.size())) {
      text.replace(at, id.size(), instead);
    }
  }
}

}  // namespace

void RedactForFamily(SubjectAccessReport& report, const std::set<std::string>& staff_user_ids) {
  const std::string staff = "a staff member of " + report.node_id;
  for (auto& e : report.entries) {
    e.actor_user.clear();
    if (staff_user_ids.count(e.recipient) != 0) e.recipient = staff;
    ReplaceIds(e.reason, staff_user_ids, "a staff member");
    ReplaceIds(e.object, staff_user_ids, "a staff member");
  }
  report.for_family = true;
}

std::string SubjectReportText(const SubjectAccessReport& r) {
  std::string out;
  out += "Access report for student " + r.subject + " (AVG art. 15)" +
         (r.for_family ? "" : ", internal: with staff user ids") + "\n";
  out += "Node " + r.node_id + ", generated " + FormatInstantMs(r.generated) + "\n";
  out += Entries(static_cast<int64_t>(r.entries.size())) +
         (r.truncated ? " (truncated: the log holds more; ask for a full export)" : "") + "\n";
  std::vector<std::string> orgs, purposes;
  for (const auto& e : r.entries) {
    out += "\n" + FormatInstantMs(e.ts) + "  #" + std::to_string(e.seq) + "  " + e.action;
    if (!e.object.empty()) out += " " + e.object;
    if (r.for_family) {
      out += "\n  by " + (e.actor_role.empty() ? std::string("-") : "a " + e.actor_role);
    } else {
      out += "\n  by " + (e.actor_user.empty() ? std::string("-") : e.actor_user);
      if (!e.actor_role.empty()) out += " (" + e.actor_role + ")";
    }
    if (!e.actor_org.empty()) out += " of " + e.actor_org;
    out += " via " + e.source + "\n";
    out += "  purpose " + (e.purpose.empty() ? std::string("-") : e.purpose) + ", legal basis " +
           (e.legal_basis.empty() ? std::string("-") : e.legal_basis) + ", outcome " + e.outcome;
    if (!e.reason.empty()) out += ", reason: " + e.reason;
    out += "\n";
    if (!e.recipient.empty() || !e.categories.empty()) {
      out += "  to " + (e.recipient.empty() ? std::string("-") : e.recipient) + ", categories " +
             (e.categories.empty() ? std::string("-") : e.categories) + "\n";
    }
    if (!e.actor_org.empty()) orgs.push_back(e.actor_org);
    if (!e.purpose.empty()) purposes.push_back(e.purpose);
  }
  auto unique = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v.empty() ? std::string("-") : Join(v, ", ");
  };
  out += "\nOrganisations: " + unique(orgs) + "\nPurposes: " + unique(purposes) + "\n";
  return out;
}

std::string SubjectReportJson(const SubjectAccessReport& r) {
  nlohmann::json entries = nlohmann::json::array();
  std::vector<std::string> orgs, purposes;
  for (const auto& e : r.entries) {
    nlohmann::json actor = {{"role", e.actor_role}, {"org", e.actor_org}};
    if (!r.for_family) actor["user"] = e.actor_user;
    entries.push_back({{"seq", e.seq},
                       {"ts", FormatInstantMs(e.ts)},
                       {"actor", std::move(actor)},
                       {"action", e.action},
                       {"object", e.object},
                       {"purpose", e.purpose},
                       {"legal_basis", e.legal_basis},
                       {"outcome", e.outcome},
                       {"reason", e.reason},
                       {"source", e.source},
                       {"recipient", e.recipient},
                       {"categories", e.categories},
                       {"consents", e.consents}});
    if (!e.actor_org.empty()) orgs.push_back(e.actor_org);
    if (!e.purpose.empty()) purposes.push_back(e.purpose);
  }
  auto unique = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  nlohmann::json doc = {
      {"node_id", r.node_id},          {"subject", r.subject},         {"generated", FormatInstantMs(r.generated)},
      {"for_family", r.for_family},    {"count", r.entries.size()},    {"truncated", r.truncated},
      {"organisations", unique(orgs)}, {"purposes", unique(purposes)}, {"entries", std::move(entries)}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace schakel::audit
