// Who a permission request asks (docs/consent-requests.md, "Who is
// asked"): the protocol's flow for each purpose and recipient, its age rules,
// and under `[consent] parents = "all_with_authority"` each parent with
// authority by name.
#include "schakel/consent/engine.h"
#include "schakel/service/consent_requests.h"
#include "service_internal.h"

namespace schakel::service::internal {

// Whom a request must ask: for each purpose and recipient the protocol's
// flow must rest on consent, and its age rules (with the flow's own
// youth_alone_from, UAVG art. 5 lid 6) say who consents; the request asks
// everyone any of them needs.
Result<consent::NeededGrantors> NeededForRequest(const NodeCore& core, const ConsentRequestInput& in,
                                                 const std::vector<GrantRecipient>& named, int age) {
  consent::NeededGrantors needed;
  for (const auto& purpose : in.purposes) {
    for (size_t i = 0; i < in.recipients.size(); ++i) {
      const std::string& to = in.recipients[i];
      auto type = consent::ParseOrgType(named[i].org_type);
      if (!type) return Status::InvalidInput("recipients: \"" + to + "\" has an unknown org type");
      const consent::Party party{consent::ParseOrgType(to) ? std::string() : to, *type};
      const consent::Flow* flow = core.protocol.FindFlow(purpose, core.config.org_type, party);
      if (flow == nullptr) {
        return Status::InvalidInput("no flow of the privacy protocol allows " + purpose + " to " + to +
                                    " (see `schakel policy show`): a permission could not be used");
      }
      if (flow->basis != consent::LegalBasis::kConsent) {
        return Status::InvalidInput(purpose + " to " + to + " rests on " + std::string(consent::Name(flow->basis)) +
                                    ", not on consent: no permission is asked for it");
      }
      const consent::NeededGrantors n = consent::NeededFor(age, consent::AgesFor(core.protocol, *flow));
      needed.ouder = needed.ouder || n.ouder;
      needed.jongere = needed.jongere || n.jongere;
    }
  }
  return needed;
}

// One page's content per grantor asked: a parent (each parent with
// authority by name under kAllWithAuthority, else one link for a parent)
// and/or the young person, as the age rules need.
std::vector<GrantContent> WhoIsAsked(const GrantContent& base, consent::NeededGrantors needed,
                                     consent::AgeRules::Parents rule,
                                     const std::vector<store::GuardianRecord>& guardians) {
  std::vector<GrantContent> out;
  if (needed.ouder) {
    std::vector<std::string> parents;
    if (rule == consent::AgeRules::Parents::kAllWithAuthority) {
      for (const auto& g : guardians) {
        if (g.authority) parents.push_back(g.name);
      }
    }
    if (parents.empty()) parents.emplace_back();
    for (const auto& name : parents) {
      out.push_back(base);
      out.back().grantor_role = "ouder";
      out.back().guardian = name;
    }
  }
  if (needed.jongere) {
    out.push_back(base);
    out.back().grantor_role = "jongere";
  }
  return out;
}

}  // namespace schakel::service::internal
