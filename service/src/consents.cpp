// Consents: record, withdraw (cancelling, revoking and unlinking what relied
// on them), list.
#include <algorithm>
#include <mutex>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using store::Role;
using store::ShareState;

Result<std::string> Service::AddConsent(const Caller& c, NewConsent input) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAddConsent));
  store::ConsentRecord r;
  r.consent = std::move(input.consent);
  if (r.consent.withdrawn_at) return Status::InvalidInput("withdrawn_at: record the consent first, then withdraw it");
  if (r.consent.id.empty()) r.consent.id = internal::RandomId("c-", 8);
  r.recorded_by = c.user_id;
  r.recorded_at = FormatInstantMs(core_.clock->Now());
  r.evidence = std::move(input.evidence);
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertConsent(held.db(), r));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "consent.record", r.consent.subject_id, r.consent.id,
                                      Join(r.consent.purposes, ","), "consent", "ok",
                                      std::string(consent::Name(r.consent.grantor_role))));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return r.consent.id;
}

// Queued and pending shares that relied on a withdrawn consent are cancelled;
// shares that may have reached the partner (sending or delivered) get a
// revocation queued. Inside the withdrawal's transaction.
Status Service::EndSharesUsing(NodeCore::Held& held, const Caller& c, const std::vector<store::ShareRecord>& shares,
                               Instant now, ConsentWithdrawal* out) {
  const std::string& at = out->withdrawn_at;
  for (const auto& s : shares) {
    if (s.state == ShareState::kQueued || s.state == ShareState::kPendingApproval) {
      SCHAKEL_RETURN_IF_ERROR(
          store::SetShareState(held.db(), s.message_id, ShareState::kCancelled, "consent_withdrawn", at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), "share", s.message_id));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.cancelled", s.student_id, s.message_id, s.purpose,
                                          s.legal_basis, "ok", "consent_withdrawn", ShareTo(s)));
      out->cancelled.push_back(s.message_id);
    } else if (s.state == ShareState::kSending || s.state == ShareState::kDelivered) {
      SCHAKEL_RETURN_IF_ERROR(QueueRevocation(held, s, crypto::RevocationReason::kConsentWithdrawn, now));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.revoked", s.student_id, s.message_id, s.purpose,
                                          s.legal_basis, "ok", "consent_withdrawn", ShareTo(s)));
      out->revoked.push_back(s.message_id);
    }
  }
  return Status::Ok();
}

// Dossier links that relied on the consent stop working at once: their
// sealed content is deleted, as a delivered share is revoked. Inside the
// withdrawal's transaction.
Result<std::vector<std::string>> Service::RevokeLinksUsing(NodeCore::Held& held, const Caller& c,
                                                           const std::string& consent_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::OpenLinkRef> links, store::OpenLinksUsingConsent(held.db(), consent_id));
  std::vector<std::string> revoked;
  for (const auto& l : links) {
    SCHAKEL_RETURN_IF_ERROR(store::RevokeLink(held.db(), l.link_id, "consent_withdrawn", at));
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "link.revoked", l.student_id, l.link_id, l.purpose, l.legal_basis,
                                        "ok", "consent_withdrawn"));
    revoked.push_back(l.link_id);
  }
  return revoked;
}

Result<ConsentWithdrawal> Service::WithdrawConsent(const Caller& c, const std::string& consent_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kWithdrawConsent));
  return WithdrawConsentByGrantor(c, consent_id);
}

Result<ConsentWithdrawal> Service::WithdrawConsentByGrantor(const Caller& c, const std::string& consent_id) {
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRecord> record, store::FindConsent(held.db(), consent_id));
  if (!record) return Status::NotFound("no consent " + consent_id);
  Instant now = core_.clock->Now();
  ConsentWithdrawal out;
  out.consent_id = consent_id;
  out.withdrawn_at = FormatInstantMs(now);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ShareRecord> shares, store::SharesUsingConsent(held.db(), consent_id));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::WithdrawConsent(held.db(), consent_id, now, c.user_id));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, c, "consent.withdraw", record->consent.subject_id, consent_id, "", "consent", "ok", ""));
  SCHAKEL_RETURN_IF_ERROR(EndSharesUsing(held, c, shares, now, &out));
  SCHAKEL_ASSIGN_OR_RETURN(out.links_revoked, RevokeLinksUsing(held, c, consent_id, out.withdrawn_at));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  core_.WakeDelivery();
  return out;
}

Result<StudentConsents> Service::ListConsents(const Caller& c, const std::string& student_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListConsents));
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  NodeCore::Held held(core_);
  if (c.role == Role::kStaff) {
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::CaseRecord> visible, store::ListCases(held.db(), c.user_id));
    bool mine = std::any_of(visible.begin(), visible.end(),
                            [&](const store::CaseRecord& r) { return r.student_id == student_id; });
    if (!mine) return Status::Denied("no case of yours concerns student " + student_id);
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ConsentRecord> records, store::ConsentsForSubject(held.db(), student_id));
  StudentConsents out;
  out.student_id = student_id;
  for (auto& r : records) {
    ConsentEntry entry;
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ShareRecord> used, store::SharesUsingConsent(held.db(), r.consent.id));
    for (const auto& s : used) entry.shares.push_back({s.message_id, s.recipient_id, s.state});
    SCHAKEL_ASSIGN_OR_RETURN(entry.links, store::LinksUsingConsent(held.db(), r.consent.id));
    entry.record = std::move(r);
    out.consents.push_back(std::move(entry));
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "consent.read", student_id, "", "", "", "ok", ""));
  return out;
}

}  // namespace schakel::service
