// The egress gate: the one decision whether a case may leave the node, for
// shares (Service::Share, ApproveMeldcode goes through the consent engine
// likewise) and dossier links (link_service.h). It checks the caller's right
// to the case, asks the consent engine (protocol, the student's age, the
// consents on file) and applies the partial rule: a permit that withholds a
// requested category is refused unless allow_partial. Refusals are audited
// as "<action>.denied" (best effort: nothing happened) and carry the
// decision when the engine made one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schakel/consent/engine.h"
#include "schakel/service/node_core.h"
#include "schakel/service/results.h"
#include "schakel/store/records.h"

namespace schakel::service {

struct Caller;

struct GateRequest {
  std::string case_id;
  std::string purpose;
  consent::Party recipient;
  std::vector<std::string> categories;  // names; empty: every category the case holds
  bool allow_partial = false;
  std::optional<consent::Override> override;
  std::string action;        // audit action prefix: "share", "link"
  std::string audit_object;  // object of a denial's audit entry
};

struct GateResult {
  store::CaseRecord kase;
  consent::Decision decision;
  std::string legal_basis;
};

class EgressGate {
 public:
  explicit EgressGate(NodeCore& core) : core_(core) {}

  // Reads the case and the consents under the node lock the caller holds.
  Gated<GateResult> Decide(NodeCore::Held& held, const Caller& c, const GateRequest& g);
  // The same decision read on the reader connection, in one read
  // transaction (a snapshot of the last commit), without the node lock; a
  // refusal's entry is then written under it before this returns. For a
  // decision whose content is stored later under the node lock after
  // checking that what it relied on still holds (a share: the consents it
  // used, the case's version; Service::StoreShare), so that deciding never
  // waits for a writer.
  Gated<GateResult> DecideReading(const Caller& c, const GateRequest& g);

  // The same decision again for something the gate already let out (a
  // dossier link when it is opened): the consent engine on the case, the
  // consents, the student's age and the protocol as they are now. There is
  // no caller (the visitor is nobody we know), so the caller's right to the
  // case is not asked, and g.categories are the ones let out (not expanded
  // when empty). Ok while the engine still permits every one of them;
  // kDenied with the reason codes ("categories_no_longer_allowed,..." when it
  // permits fewer; "case_gone" when the case is no longer on file)
  // otherwise; other errors as they come. Not audited: the caller records
  // what it does with the answer.
  Status Recheck(NodeCore::Held& held, const GateRequest& g);

 private:
  // The decision on `db` (the writer's or the reader's), and the entry a
  // refusal is to be audited with.
  struct Evaluated {
    Gated<GateResult> result;
    std::optional<audit::AuditEvent> refusal;
  };
  Evaluated Evaluate(store::Database& db, const Caller& c, const GateRequest& g);

  NodeCore& core_;
};

}  // namespace schakel::service
