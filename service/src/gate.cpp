#include "schakel/service/gate.h"

#include "schakel/base/strings.h"
#include "schakel/formats/case_summary.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {
namespace {

// The categories a gate request names; all the case holds when it names none.
Result<std::vector<consent::Category>> RequestedCategories(const std::vector<std::string>& names) {
  std::vector<consent::Category> requested;
  for (const auto& name : names) {
    auto cat = consent::ParseCategory(name);
    if (!cat) return Status::InvalidInput("category: unknown category \"" + name + "\"");
    requested.push_back(*cat);
  }
  return requested;
}

}  // namespace

EgressGate::Evaluated EgressGate::Evaluate(store::Database& db, const Caller& c, const GateRequest& g) {
  auto requested = RequestedCategories(g.categories);
  if (!requested.ok()) return {requested.status(), std::nullopt};
  const std::string denied = g.action + ".denied";
  // A refusal names whom it would have gone to and what was asked for (the
  // parsed set: each category once, so it always fits the field).
  consent::CategorySet asked_set;
  for (consent::Category cat : *requested) asked_set.Add(cat);
  AuditTo asked{g.recipient.org_id, consent::CategoryNames(asked_set), ""};
  auto refusal = [&](const std::string& subject, const std::string& object, const std::string& legal,
                     std::string reason) {
    return internal::CallerEvent(c, {denied, subject, object, g.purpose, legal, "deny", std::move(reason)}, asked);
  };
  Result<store::CaseRecord> kase = internal::LoadCase(db, g.case_id);
  if (!kase.ok()) return {kase.status(), std::nullopt};
  if (!internal::CanSeeCase(c, *kase)) {
    return {Status::Denied("case " + g.case_id + " is not yours"),
            refusal(kase->student_id, g.case_id, "", "not_assigned")};
  }
  if (requested->empty()) {
    auto summary = formats::ParseCaseSummary(kase->summary, true);
    if (!summary.ok()) return {summary.status(), std::nullopt};
    *requested = internal::CategoriesOf(summary->Present());
  }
  auto request = internal::BuildRequest(db, core_, *kase, g.recipient, g.purpose, *requested, g.override);
  if (!request.ok()) return {request.status(), std::nullopt};
  consent::Decision d = consent::Decide(core_.protocol, *request);
  const std::string legal = d.legal_basis ? std::string(consent::Name(*d.legal_basis)) : "";
  if (!d.permit) {
    audit::AuditEvent entry = refusal(kase->student_id, g.audit_object, legal, internal::ReasonCodes(d));
    Status refused = Status::Denied(g.action + " refused: " + internal::ReasonText(d));
    return {Gated<GateResult>(std::move(refused), std::move(d)), std::move(entry)};
  }
  if (!d.withheld.Empty() && !g.allow_partial) {
    audit::AuditEvent entry =
        refusal(kase->student_id, g.audit_object, legal, "partial_not_allowed," + internal::ReasonCodes(d));
    Status refused =
        Status::Denied(g.action + " refused: it would withhold " + Join(internal::CategoryNames(d.withheld), ", ") +
                       " (" + internal::ReasonText(d) + "); allow a partial share to send only what is allowed");
    return {Gated<GateResult>(std::move(refused), std::move(d)), std::move(entry)};
  }
  return {GateResult{std::move(*kase), std::move(d), legal}, std::nullopt};
}

Gated<GateResult> EgressGate::Decide(NodeCore::Held& held, const Caller& c, const GateRequest& g) {
  Evaluated e = Evaluate(held.db(), c, g);
  if (e.refusal) AuditBestEffort(held, std::move(*e.refusal));
  return std::move(e.result);
}

Gated<GateResult> EgressGate::DecideReading(const Caller& c, const GateRequest& g) {
  Evaluated e = core_.Read([&](NodeCore::Reading& r) -> Evaluated {
    // One snapshot for the case, the student and the consents; the reader
    // connection cannot write, so the transaction only reads.
    store::ReadSnapshot snapshot(r.db());
    if (Status begin = snapshot.Begin(); !begin.ok()) return {begin, std::nullopt};
    return Evaluate(r.db(), c, g);
  });
  if (e.refusal) {
    NodeCore::Held held(core_);
    AuditBestEffort(held, std::move(*e.refusal));
  }
  return std::move(e.result);
}

Status EgressGate::Recheck(NodeCore::Held& held, const GateRequest& g) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<consent::Category> requested, RequestedCategories(g.categories));
  Result<store::CaseRecord> kase = internal::LoadCase(held, g.case_id);
  if (!kase.ok()) return kase.status().code() == Code::kNotFound ? Status::Denied("case_gone") : kase.status();
  SCHAKEL_ASSIGN_OR_RETURN(consent::Request request,
                           internal::BuildRequest(held, *kase, g.recipient, g.purpose, requested, g.override));
  consent::Decision d = consent::Decide(core_.protocol, request);
  if (!d.permit) return Status::Denied(internal::ReasonCodes(d));
  for (consent::Category cat : requested) {
    if (!d.categories.Has(cat)) return Status::Denied("categories_no_longer_allowed," + internal::ReasonCodes(d));
  }
  return Status::Ok();
}

}  // namespace schakel::service
