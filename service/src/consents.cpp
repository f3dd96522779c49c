// Consents: record, withdraw (cancelling, revoking and unlinking what relied
// on them), list.
#include <algorithm>
#include <mutex>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "schakel/formats/json.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using formats::Json;
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

namespace {

bool Live(ShareState s) {
  return s == ShareState::kQueued || s == ShareState::kPendingApproval || s == ShareState::kSending ||
         s == ShareState::kDelivered;
}

consent::CategorySet CategoriesIn(const std::string& comma_list) {
  consent::CategorySet out;
  for (const auto& name : Split(comma_list, ',')) {
    if (auto c = consent::ParseCategory(name)) out.Add(*c);
  }
  return out;
}

// A narrowed copy's evidence: the original's, and what was withdrawn when.
std::string NarrowedEvidence(const std::string& evidence, const std::string& from, consent::CategorySet lost,
                             const std::string& at) {
  auto j = formats::ParseJsonLimited(evidence, {16 * 1024, 4});
  Json out = j.ok() && j->is_object() ? *j : Json{{"earlier_evidence", evidence}};
  out["narrowed_from"] = from;
  out["narrowed_at"] = at;
  out["withdrawn_categories"] = internal::CategoryNames(lost);
  return out.dump();
}

}  // namespace

// What relied on a consent that is withdrawn, narrowed or fallen with
// another parent's. Shares carrying a category in `lost`: queued and
// pending ones are cancelled, those that may have reached the partner
// (sending or delivered) get a revocation queued. Open dossier links
// carrying one are revoked: their sealed content is deleted, as a delivered
// share is revoked. The rest stay; after a narrowing they rely on
// `replacement`. Inside the caller's transaction.
Status Service::EndWhatRelied(NodeCore::Held& held, const Caller& c, const std::string& consent_id,
                              consent::CategorySet lost, const std::string& replacement, Instant now,
                              ConsentWithdrawal* out) {
  const std::string& at = out->withdrawn_at;
  auto hand_on = [&](std::vector<std::string> ids) {
    std::replace(ids.begin(), ids.end(), consent_id, replacement);
    return ids;
  };
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ShareRecord> shares, store::SharesUsingConsent(held.db(), consent_id));
  for (auto& s : shares) {
    SeeOnTheWire(core_, s);  // on the wire: it may be there (a revocation, not a cancellation)
    if (!Live(s.state)) continue;
    if (s.categories.Intersect(lost).Empty()) {
      if (!replacement.empty()) {
        SCHAKEL_RETURN_IF_ERROR(store::SetShareConsentIds(held.db(), s.message_id, hand_on(s.consent_ids)));
      }
    } else if (s.state == ShareState::kQueued || s.state == ShareState::kPendingApproval) {
      SCHAKEL_RETURN_IF_ERROR(
          store::SetShareState(held.db(), s.message_id, ShareState::kCancelled, "consent_withdrawn", at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), "share", s.message_id));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.cancelled", s.student_id, s.message_id, s.purpose,
                                          s.legal_basis, "ok", "consent_withdrawn", ShareTo(s)));
      out->cancelled.push_back(s.message_id);
    } else {
      SCHAKEL_RETURN_IF_ERROR(QueueRevocation(held, s, crypto::RevocationReason::kConsentWithdrawn, now));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.revoked", s.student_id, s.message_id, s.purpose,
                                          s.legal_basis, "ok", "consent_withdrawn", ShareTo(s)));
      out->revoked.push_back(s.message_id);
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::OpenLinkRef> links, store::OpenLinksUsingConsent(held.db(), consent_id));
  for (const auto& l : links) {
    if (CategoriesIn(l.categories).Intersect(lost).Empty()) {
      if (!replacement.empty()) {
        SCHAKEL_RETURN_IF_ERROR(
            store::SetLinkConsentIds(held.db(), l.link_id, Join(hand_on(Split(l.consent_ids, ',')), ",")));
      }
      continue;
    }
    SCHAKEL_RETURN_IF_ERROR(store::RevokeLink(held.db(), l.link_id, "consent_withdrawn", at));
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "link.revoked", l.student_id, l.link_id, l.purpose, l.legal_basis,
                                        "ok", "consent_withdrawn"));
    out->links_revoked.push_back(l.link_id);
  }
  return Status::Ok();
}

Result<ConsentWithdrawal> Service::WithdrawConsent(const Caller& c, const std::string& consent_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kWithdrawConsent));
  return WithdrawConsentByGrantor(c, consent_id);
}

Result<ConsentWithdrawal> Service::WithdrawConsentByGrantor(const Caller& c, const std::string& consent_id) {
  return NarrowConsentByGrantor(c, consent_id, consent::CategorySet::All());
}

Result<ConsentWithdrawal> Service::NarrowConsentByGrantor(const Caller& c, const std::string& consent_id,
                                                          consent::CategorySet withdrawn) {
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRecord> record, store::FindConsent(held.db(), consent_id));
  if (!record) return Status::NotFound("no consent " + consent_id);
  const consent::CategorySet lost = record->consent.categories.Intersect(withdrawn);
  if (lost.Empty() && !record->consent.categories.Empty())
    return Status::InvalidInput("consent " + consent_id + " names none of the categories to withdraw");
  Instant now = core_.clock->Now();
  ConsentWithdrawal out;
  out.consent_id = consent_id;
  out.withdrawn_at = FormatInstantMs(now);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::WithdrawConsent(held.db(), consent_id, now, c.user_id));
  const consent::CategorySet kept = record->consent.categories.Minus(lost);
  if (!kept.Empty()) {
    // The narrowed copy: the same grantor, request, parent and period.
    store::ConsentRecord narrowed = *record;
    narrowed.consent.id = internal::RandomId("c-", 8);
    narrowed.consent.categories = kept;
    narrowed.recorded_by = c.user_id;
    narrowed.recorded_at = out.withdrawn_at;
    narrowed.evidence = NarrowedEvidence(record->evidence, consent_id, lost, out.withdrawn_at);
    SCHAKEL_RETURN_IF_ERROR(store::InsertConsent(held.db(), narrowed));
    out.replaced_by = narrowed.consent.id;
  }
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, c, "consent.withdraw", record->consent.subject_id, consent_id, "", "consent", "ok",
                  kept.Empty() ? "" : "withdrew " + consent::CategoryNames(lost) + ",replaced_by=" + out.replaced_by));
  // Withdrawing everything takes the whole request down for the other
  // parents (the engine's FindFallen); withdrawing some takes those down.
  const consent::CategorySet fallen = kept.Empty() ? consent::CategorySet::All() : lost;
  SCHAKEL_RETURN_IF_ERROR(EndWhatRelied(held, c, consent_id, fallen, out.replaced_by, now, &out));
  if (record->consent.grantor_role == consent::GrantorRole::kOuder && !record->consent.request_id.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ConsentRecord> all,
                             store::ConsentsForSubject(held.db(), record->consent.subject_id));
    for (const auto& other : all) {
      const consent::Consent& o = other.consent;
      if (o.grantor_role != consent::GrantorRole::kOuder || o.request_id != record->consent.request_id ||
          o.id == consent_id || o.id == out.replaced_by || o.withdrawn_at) {
        continue;
      }
      SCHAKEL_RETURN_IF_ERROR(EndWhatRelied(held, c, o.id, fallen, "", now, &out));
    }
  }
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
    for (auto& s : used) {
      SeeOnTheWire(core_, s);
      entry.shares.push_back({s.message_id, s.recipient_id, s.state});
    }
    SCHAKEL_ASSIGN_OR_RETURN(entry.links, store::LinksUsingConsent(held.db(), r.consent.id));
    entry.record = std::move(r);
    out.consents.push_back(std::move(entry));
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "consent.read", student_id, "", "", "", "ok", ""));
  return out;
}

}  // namespace schakel::service
