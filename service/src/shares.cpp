// Shares: Share (decide under the lock, seal
// without it, store under it again if the decision still holds),
// ApproveMeldcode, ListShares and the delivery worker's RecheckShare.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "schakel/base/fault_inject.h"
#include "schakel/base/fault_point.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/formats/case_summary.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using internal::BuildRequest;
using internal::LoadCase;
using internal::LoadPartner;
using internal::PendingShare;
using internal::ReasonCodes;
using internal::ReasonText;
using store::Role;
using store::ShareState;

namespace {

// The sealed envelope of a share, made without the lock.
struct SealedShare {
  std::string envelope;
  std::vector<uint8_t> body_hash;
};

// Projects the case onto the share's categories and seals it for the
// partner. Needs no lock: it reads only its arguments and the node's keys.
Result<SealedShare> SealShare(const NodeCore& core, const store::ShareRecord& share, const std::string& summary_json,
                              const store::Partner& partner) {
  SCHAKEL_ASSIGN_OR_RETURN(formats::CaseSummary summary, formats::ParseCaseSummary(summary_json, true));
  std::string body = formats::Project(summary, share.categories);
  crypto::EnvelopeHeader h;
  h.message_id = share.message_id;
  h.sender_id = core.config.node_id;
  h.recipient_id = partner.card.node_id;
  h.created = *ParseInstant(share.created);
  h.retain_until = *ParseInstant(share.retain_until);
  h.purpose = share.purpose;
  h.consent_ids = share.consent_ids;
  h.content_type = internal::kCaseContentType;
  auto envelope = crypto::Seal(h, body, core.keys.identity(), partner.card.enc_pk);
  crypto::BodyHash hash = crypto::HashBody(body);
  crypto::Wipe(body.data(), body.size());
  if (!envelope.ok()) return envelope.status().WithContext("sealing the share");
  return SealedShare{std::move(*envelope), std::vector<uint8_t>(hash.begin(), hash.end())};
}

// Stores a sealed share's hash and queues its envelope, inside the share's
// transaction.
Status QueueSealed(NodeCore::Held& held, store::ShareRecord& share, const SealedShare& sealed) {
  share.body_hash = sealed.body_hash;
  SCHAKEL_RETURN_IF_ERROR(store::SetShareBodyHash(held.db(), share.message_id, share.body_hash));
  Instant now = held.core().clock->Now();
  return store::EnqueueOutgoing(held.db(), "share", share.message_id, share.recipient_id, sealed.envelope,
                                now.time_since_epoch().count(), FormatInstantMs(now));
}

}  // namespace

// A share decided under the lock, to be sealed without it.
struct Service::PreparedShare {
  GateRequest gate;
  store::CaseRecord kase;
  store::Partner partner;
  consent::Decision decision;
  bool meldcode = false;
  store::ShareRecord share;
};

namespace {

// A Meldcode report carries only what is necessary (Wmo 2015 art. 5.2.6):
// it names each category itself, none chosen for the requester, and says
// for each why it is necessary. Reasons belong to a Meldcode report only.
Status CheckCategoryReasons(const ShareRequest& req, bool meldcode) {
  if (!meldcode) {
    if (!req.category_reasons.empty()) {
      return Status::InvalidInput("category_reasons: only a Meldcode report gives a reason per category");
    }
    return Status::Ok();
  }
  if (req.categories.empty()) {
    return Status::InvalidInput(
        "categories: a Meldcode report carries only what is necessary (Wmo 2015 art. 5.2.6); name each category "
        "it carries, none is chosen for you");
  }
  for (const std::string& cat : req.categories) {
    if (!req.category_reasons.count(cat)) {
      return Status::InvalidInput("category_reasons: say why " + cat + " is necessary for this report");
    }
  }
  for (const auto& [cat, reason] : req.category_reasons) {
    if (std::find(req.categories.begin(), req.categories.end(), cat) == req.categories.end()) {
      return Status::InvalidInput("category_reasons: " + cat + " is not among the report's categories");
    }
    SCHAKEL_RETURN_IF_ERROR(formats::CheckCategoryReason(cat, reason));
  }
  return Status::Ok();
}

// The justification as stored and approved: the requester's text, then the
// reason for each category (bound with it by its hash in the audit log).
std::string WithCategoryReasons(const ShareRequest& req) {
  std::string text = req.justification;
  if (req.category_reasons.empty()) return text;
  text += "\n\nNoodzakelijk per categorie:";
  std::vector<std::string> listed;
  for (const std::string& cat : req.categories) {
    auto it = req.category_reasons.find(cat);
    if (it == req.category_reasons.end() || std::count(listed.begin(), listed.end(), cat)) continue;
    listed.push_back(cat);
    text += "\n- " + cat + ": " + it->second;
  }
  return text;
}

}  // namespace

// Decided on the reader connection, so that deciding never waits for a
// writer (a commit, a delivery's receipt): StoreShare stores the share only
// if the consents the decision used still hold and the case is unchanged,
// under the node lock.
Gated<Service::PreparedShare> Service::DecideShare(const Caller& c, const ShareRequest& req) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Partner partner,
                           core_.Read([&](NodeCore::Reading& r) { return internal::LoadPartner(r.db(), req.to); }));
  auto org_type = consent::ParseOrgType(partner.card.org_type);
  if (!org_type) return Status::Corruption("partner " + req.to + " has an unknown org type");
  // A Meldcode share is decided as if a second person had approved; it waits
  // for that approval before it is sealed.
  std::optional<consent::Override> override;
  const consent::Flow* flow = core_.protocol.FindFlow(req.purpose, core_.config.org_type, {req.to, *org_type});
  bool meldcode = flow != nullptr && flow->basis == consent::LegalBasis::kMeldcode;
  SCHAKEL_RETURN_IF_ERROR(CheckCategoryReasons(req, meldcode));
  if (meldcode && !req.justification.empty()) {
    override = consent::Override{c.user_id, internal::kPendingApprover, req.justification};
  }
  GateRequest gate{req.case_id, req.purpose, {req.to, *org_type},        req.categories, req.allow_partial,
                   override,    "share",     req.case_id + "->" + req.to};
  Gated<GateResult> decided = gate_.DecideReading(c, gate);
  if (!decided.ok()) return decided.Refused<PreparedShare>();
  const consent::Decision& d = decided->decision;
  if (req.dry_run) {
    NodeCore::Held held(core_);
    AuditBestEffort(held, c, "share.evaluated", decided->kase.student_id, gate.audit_object, req.purpose,
                    decided->legal_basis, "permit", ReasonCodes(d),
                    AuditTo{req.to, consent::CategoryNames(d.categories), AuditIds(d.consents_used)});
  }
  Instant now = core_.clock->Now();
  int days = d.retention_days ? *d.retention_days : core_.config.retention_default_days;
  store::ShareRecord s;
  s.message_id = internal::RandomId("m-", 12);
  s.case_id = decided->kase.case_id;
  s.case_version = decided->kase.version;
  s.student_id = decided->kase.student_id;
  s.recipient_id = req.to;
  s.recipient_type = partner.card.org_type;
  s.purpose = req.purpose;
  s.legal_basis = decided->legal_basis;
  s.categories = d.categories;
  s.withheld = d.withheld;
  s.consent_ids = d.consents_used;
  s.state = meldcode ? ShareState::kPendingApproval : ShareState::kQueued;
  s.requested_by = c.user_id;
  if (meldcode) s.justification = WithCategoryReasons(req);
  s.created = FormatInstantMs(now);
  s.retain_until = FormatInstantMs(now + std::chrono::days{days});
  s.state_changed = s.created;
  return PreparedShare{std::move(gate),    std::move(decided->kase),
                       std::move(partner), std::move(decided->decision),
                       meldcode,           std::move(s)};
}

Gated<CategoryCheck> Service::CheckShare(const Caller& c, const std::string& case_id, const std::string& to,
                                         const std::string& purpose) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShare));
  if (!consent::IsValidPurpose(purpose)) return Status::InvalidInput("purpose: not a purpose name");
  if (!IsValidNodeId(to)) return Status::InvalidInput("to: not a node id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(store::Partner partner, LoadPartner(held, to));
  auto org_type = consent::ParseOrgType(partner.card.org_type);
  if (!org_type) return Status::Corruption("partner " + to + " has an unknown org type");
  const consent::Flow* flow = core_.protocol.FindFlow(purpose, core_.config.org_type, {to, *org_type});
  bool meldcode = flow != nullptr && flow->basis == consent::LegalBasis::kMeldcode;
  std::optional<consent::Override> override;
  if (meldcode) override = consent::Override{c.user_id, internal::kPendingApprover, "per-category check"};
  // No categories named: all the case holds, each decided on its own.
  GateRequest gate{case_id,  purpose, {to, *org_type},    {}, /*allow_partial=*/true,
                   override, "share", case_id + "->" + to};
  Gated<GateResult> decided = gate_.Decide(held, c, gate);
  if (!decided.ok()) return decided.Refused<CategoryCheck>();
  const consent::Decision& d = decided->decision;
  AuditBestEffort(held, c, "share.evaluated", decided->kase.student_id, gate.audit_object, purpose,
                  decided->legal_basis, "permit", ReasonCodes(d),
                  AuditTo{to, consent::CategoryNames(d.categories), AuditIds(d.consents_used)});
  return CategoryCheck{std::move(decided->decision), meldcode};
}

Gated<ShareOutcome> Service::Share(const Caller& c, const ShareRequest& req) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShare));
  if (!consent::IsValidPurpose(req.purpose)) return Status::InvalidInput("purpose: not a purpose name");
  if (!IsValidNodeId(req.to)) return Status::InvalidInput("to: not a node id");
  if (req.justification.size() > 2000 || !IsPrintableUtf8(req.justification)) {
    return Status::InvalidInput("justification: at most 2000 printable characters");
  }
  Gated<PreparedShare> prepared = DecideShare(c, req);
  if (!prepared.ok()) return prepared.Refused<ShareOutcome>();
  if (req.dry_run) return ShareOutcome{true, "", ShareState::kQueued, std::move(prepared->decision)};
  return StoreShare(c, *prepared);
}

// Seals the prepared share (a Meldcode share is sealed only once approved)
// without the lock, then, under it again, stores it, queues it and writes its
// audit entry if the gate would still decide the same: in one transaction
// with the shares other staff store meanwhile (NodeCore::WriteGrouped), and
// answers once that transaction is durable.
Gated<ShareOutcome> Service::StoreShare(const Caller& c, PreparedShare& p) {
  std::optional<SealedShare> sealed;
  if (!p.meldcode) {
    SCHAKEL_ASSIGN_OR_RETURN(sealed, SealShare(core_, p.share, p.kase.summary, p.partner));
  }
  // Fault tests: a slow seal, so that a consent can be withdrawn meanwhile.
  if (FaultFail("share.slow_seal")) std::this_thread::sleep_for(std::chrono::seconds(2));
  // The work may run twice (a group that failed is run again one by one):
  // it starts from the prepared share each time and answers through `answer`.
  std::optional<Gated<ShareOutcome>> answer;
  Status written = core_.WriteGrouped([&](NodeCore::Held& held) -> Status {
    answer.reset();
    Status still = internal::ConsentsStillHold(held, p.decision.consents_used, "the share was being sealed");
    if (!still.ok() && still.code() != Code::kDenied) {
      answer.emplace(still);
      return Status::Ok();  // nothing written
    }
    auto kase = LoadCase(held, p.kase.case_id);
    if (!kase.ok()) {
      answer.emplace(kase.status());
      return Status::Ok();
    }
    if (!still.ok() || kase->version != p.kase.version) {
      // Answer as the gate would now; a permit still needs a new decision.
      // The refusal's audit entry is kept.
      Gated<GateResult> again = gate_.Decide(held, c, p.gate);
      if (!again.ok()) {
        answer.emplace(again.Refused<ShareOutcome>());
        return Status::Ok();
      }
      AuditBestEffort(held, c, "share.denied", p.share.student_id, p.gate.audit_object, p.share.purpose,
                      p.share.legal_basis, "deny", "changed_while_sealing", ShareTo(p.share));
      answer.emplace(
          Status::Unavailable("the case or a consent it relies on changed while the share was being sealed; "
                              "nothing was sent; try again"));
      return Status::Ok();
    }
    store::ShareRecord s = p.share;
    SCHAKEL_RETURN_IF_ERROR(store::InsertShare(held.db(), s));
    if (sealed) SCHAKEL_RETURN_IF_ERROR(QueueSealed(held, s, *sealed));
    // A Meldcode share's entry binds its justification by hash (docs/consent.md).
    std::string reason = ReasonCodes(p.decision);
    if (s.justification) reason += internal::JustificationRef(*s.justification);
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, p.meldcode ? "share.pending_approval" : "share.permitted",
                                        s.student_id, s.message_id, s.purpose, s.legal_basis, "permit", reason,
                                        ShareTo(s)));
    FaultPoint("share.before_commit");
    answer.emplace(ShareOutcome{false, s.message_id, s.state, p.decision});
    return Status::Ok();
  });
  if (!written.ok()) return written;
  if (!answer) return Status::Internal("share: the grouped write gave no answer");
  FaultPoint("share.after_commit");
  if (answer->ok() && !p.meldcode) core_.WakeDelivery();
  return std::move(*answer);
}

Gated<MeldcodeApproval> Service::ApproveMeldcode(const Caller& c, const std::string& message_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kApproveMeldcode));
  store::ShareRecord s;
  store::CaseRecord kase;
  store::Partner partner;
  consent::Decision d;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(s, PendingShare(held, message_id));
    if (s.requested_by == c.user_id) {
      AuditBestEffort(held, c, "share.approve", s.student_id, message_id, s.purpose, s.legal_basis, "deny",
                      "same_person" + internal::JustificationRef(s.justification.value_or("")), ShareTo(s));
      return Status::Denied("a Meldcode share needs a second person: the requester may not approve it");
    }
    SCHAKEL_RETURN_IF_ERROR(internal::CheckMeldcodeApprover(held, c, s, "share.approve"));
    SCHAKEL_ASSIGN_OR_RETURN(kase, LoadCase(held, s.case_id));
    SCHAKEL_ASSIGN_OR_RETURN(partner, LoadPartner(held, s.recipient_id));
    SCHAKEL_ASSIGN_OR_RETURN(consent::Request request,
                             BuildRequest(held, kase, partner, s.purpose, internal::CategoriesOf(s.categories),
                                          consent::Override{s.requested_by, c.user_id, s.justification.value_or("")}));
    d = consent::Decide(core_.protocol, request);
    if (!d.permit || d.categories != s.categories) return CancelOnApproval(held, c, s, std::move(d));
  }
  // Sealed without the lock; stored only if the share still waits, its case
  // is unchanged and the consents the decision used still hold.
  SCHAKEL_ASSIGN_OR_RETURN(SealedShare sealed, SealShare(core_, s, kase.summary, partner));
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(PendingShare(held, message_id).status());
  SCHAKEL_ASSIGN_OR_RETURN(store::CaseRecord now, LoadCase(held, s.case_id));
  if (now.version != kase.version) {
    return Status::Unavailable("the case changed while the share was being sealed; nothing was sent; try again");
  }
  SCHAKEL_RETURN_IF_ERROR(internal::ConsentsStillHold(held, d.consents_used, "the share was being sealed"));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(
      store::SetShareApproved(held.db(), message_id, c.user_id, FormatInstantMs(core_.clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(QueueSealed(held, s, sealed));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, c, "share.approved", s.student_id, message_id, s.purpose, s.legal_basis, "permit",
                  "meldcode_second_approval" + internal::JustificationRef(s.justification.value_or("")), ShareTo(s)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  core_.WakeDelivery();
  return MeldcodeApproval{message_id, ShareState::kQueued, c.user_id};
}

// The consents no longer allow a pending Meldcode share: it is cancelled.
// The cancellation is a change to the share: it and its entry go together,
// or the share stays pending (it is not sent either way).
Gated<MeldcodeApproval> Service::CancelOnApproval(NodeCore::Held& held, const Caller& c, const store::ShareRecord& s,
                                                  consent::Decision d) {
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::SetShareState(held.db(), s.message_id, ShareState::kCancelled, ReasonCodes(d),
                                               FormatInstantMs(core_.clock->Now())));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.cancelled", s.student_id, s.message_id, s.purpose, s.legal_basis,
                                      "deny", ReasonCodes(d), ShareTo(s)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  Status refused = Status::Denied("share refused on approval: " + ReasonText(d));
  return {std::move(refused), std::move(d)};
}

Result<std::vector<store::ShareRecord>> Service::ListShares(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListShares));
  // Read beside the writer (NodeCore::Reading); shown only once audited.
  std::vector<store::ShareRecord> shares;
  std::vector<store::CaseRecord> visible;
  {
    NodeCore::Reading r(core_);
    SCHAKEL_ASSIGN_OR_RETURN(shares, store::ListShares(r.db()));
    if (c.role == Role::kStaff) {
      SCHAKEL_ASSIGN_OR_RETURN(visible, store::ListCases(r.db(), c.user_id));
    }
  }
  // The list never carries a justification: each reading is audited
  // (ShowShare, ReadJustification).
  for (auto& s : shares) {
    s.justification.reset();
    SeeOnTheWire(core_, s);
  }
  if (c.role == Role::kStaff) {
    std::vector<store::ShareRecord> mine;
    for (auto& s : shares) {
      if (s.requested_by == c.user_id || std::any_of(visible.begin(), visible.end(), [&](const store::CaseRecord& r) {
            return r.case_id == s.case_id;
          })) {
        mine.push_back(std::move(s));
      }
    }
    shares = std::move(mine);
  }
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.list", "", "", "", "", "ok", std::to_string(shares.size())));
  return shares;
}

Status RecheckShare(NodeCore::Held& held, const store::ShareRecord& s) {
  // The same decision as when the share was made, through the one gate.
  SCHAKEL_ASSIGN_OR_RETURN(store::Partner partner, LoadPartner(held, s.recipient_id));
  auto org_type = consent::ParseOrgType(partner.card.org_type);
  if (!org_type) return Status::Corruption("partner " + partner.card.node_id + " has an unknown org type");
  GateRequest g;
  g.case_id = s.case_id;
  g.purpose = s.purpose;
  g.recipient = consent::Party{partner.card.node_id, *org_type};
  g.categories = internal::CategoryNames(s.categories);
  if (s.justification) {
    g.override = consent::Override{s.requested_by, s.approved_by.value_or(""), *s.justification};
  }
  return EgressGate(held.core()).Recheck(held, g);
}

}  // namespace schakel::service
