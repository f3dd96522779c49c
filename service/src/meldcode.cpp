// Meldcode four eyes, besides the approval (shares.cpp): a second coordinator
// rejects a pending share with a reason, its requester cancels it, and the
// written justification is read only by those who may, each reading audited
// (docs/consent.md "Meldcode").
#include <algorithm>

#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using store::Role;
using store::ShareState;

namespace internal {

Result<store::ShareRecord> PendingShare(NodeCore::Held& held, const std::string& message_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> found, store::FindShare(held.db(), message_id));
  if (!found) return Status::NotFound("no share " + message_id);
  if (found->state != ShareState::kPendingApproval) {
    return Status::InvalidInput("share " + message_id + " is not waiting for approval (it is " +
                                std::string(store::ShareStateName(found->state)) + ")");
  }
  return *found;
}

Status CheckMeldcodeApprover(NodeCore::Held& held, const Caller& c, const store::ShareRecord& s, const char* action) {
  const std::string& function = held.core().config.meldcode_approver_role;
  if (function == "coordinator") return Status::Ok();
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserById(held.db(), c.user_id));
  if (user && user->function == function) return Status::Ok();
  AuditBestEffort(held, CallerEvent(c,
                                    {action, s.student_id, s.message_id, s.purpose, s.legal_basis, "deny",
                                     "not_approver_role" + JustificationRef(s.justification.value_or(""))},
                                    ShareTo(s)));
  return Status::Denied("only a coordinator holding the function " + function +
                        " decides on a Meldcode report ([meldcode] approver_role); an administrator gives it with "
                        "`schakel user set-function NAME " +
                        function + "`");
}

std::string JustificationSha256(std::string_view justification) {
  auto digest = crypto::Sha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(justification.data()), justification.size()));
  return ToHex(digest);
}

std::string JustificationRef(std::string_view justification) {
  return ",justification_sha256=" + JustificationSha256(justification);
}

}  // namespace internal

namespace {

// 1..kMaxRejectReasonBytes printable bytes, no tab or line break (it goes
// into an audit entry, which holds one line per field).
Status CheckRejectReason(const std::string& reason) {
  if (reason.empty() || reason.size() > kMaxRejectReasonBytes || !IsPrintableUtf8(reason) ||
      reason.find('\t') != std::string::npos) {
    return Status::InvalidInput("reason: 1 to " + std::to_string(kMaxRejectReasonBytes) +
                                " bytes of printable text on one line (no tab or line break)");
  }
  return Status::Ok();
}

// Staff see the shares they requested and those of their cases.
Result<bool> MaySeeShare(NodeCore::Held& held, const Caller& c, const store::ShareRecord& s) {
  if (c.role == Role::kCoordinator || s.requested_by == c.user_id) return true;
  if (c.role != Role::kStaff) return false;
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::CaseRecord> visible, store::ListCases(held.db(), c.user_id));
  return std::any_of(visible.begin(), visible.end(),
                     [&](const store::CaseRecord& r) { return r.case_id == s.case_id; });
}

}  // namespace

Result<MeldcodeEnded> Service::RejectMeldcode(const Caller& c, const std::string& message_id,
                                              const std::string& reason) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRejectMeldcode));
  SCHAKEL_RETURN_IF_ERROR(CheckRejectReason(reason));
  return EndPending(c, message_id, /*reject=*/true, reason);
}

Result<MeldcodeEnded> Service::CancelMeldcode(const Caller& c, const std::string& message_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kCancelMeldcode));
  return EndPending(c, message_id, /*reject=*/false, "");
}

// Rejection (a coordinator other than the requester) or cancellation (the
// requester): the pending share ends cancelled, nothing was sealed, and the
// change and its audit entry are written together.
Result<MeldcodeEnded> Service::EndPending(const Caller& c, const std::string& message_id, bool reject,
                                          const std::string& reason) {
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(store::ShareRecord s, internal::PendingShare(held, message_id));
  const std::string ref = internal::JustificationRef(s.justification.value_or(""));
  const bool own = s.requested_by == c.user_id;
  if (reject && own) {
    AuditBestEffort(held, c, "share.reject", s.student_id, message_id, s.purpose, s.legal_basis, "deny",
                    "same_person" + ref, ShareTo(s));
    return Status::Denied(
        "a Meldcode share needs a second person: the requester may not reject it (cancel it instead)");
  }
  if (reject) SCHAKEL_RETURN_IF_ERROR(internal::CheckMeldcodeApprover(held, c, s, "share.reject"));
  if (!reject && !own) {
    AuditBestEffort(held, c, "share.cancel", s.student_id, message_id, s.purpose, s.legal_basis, "deny",
                    "not_requester" + ref, ShareTo(s));
    return Status::Denied(
        "only the requester may cancel a pending Meldcode share; a coordinator rejects it, with a "
        "reason");
  }
  const std::string code = reject ? "meldcode_rejected" : "cancelled_by_requester";
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(
      store::SetShareState(held.db(), message_id, ShareState::kCancelled, code, FormatInstantMs(core_.clock->Now())));
  // The reason comes last: everything after "reason=" is the coordinator's text.
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, reject ? "share.rejected" : "share.cancelled", s.student_id, message_id,
                                      s.purpose, s.legal_basis, reject ? "deny" : "ok",
                                      code + ref + (reject ? ",reason=" + reason : std::string())));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return MeldcodeEnded{message_id, ShareState::kCancelled, code, c.user_id};
}

Result<ShareView> Service::ShowShare(const Caller& c, const std::string& message_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShowShare));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> found, store::FindShare(held.db(), message_id));
  if (!found) return Status::NotFound("no share " + message_id);
  SeeOnTheWire(core_, *found);
  ShareView out{std::move(*found), std::nullopt};
  store::ShareRecord& s = out.record;
  SCHAKEL_ASSIGN_OR_RETURN(bool may, MaySeeShare(held, c, s));
  if (!may) {
    AuditBestEffort(held, c, "share.read", s.student_id, message_id, s.purpose, s.legal_basis, "deny", "not_yours",
                    ShareTo(s));
    return Status::Denied("share " + message_id + " is not yours");
  }
  if (!s.justification) return out;
  out.justification_sha256 = internal::JustificationSha256(*s.justification);
  if (c.role != Role::kCoordinator && s.requested_by != c.user_id) {
    s.justification.reset();
    return out;
  }
  // Shown only once its reading is on record.
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.justification_read", s.student_id, message_id, s.purpose,
                                      s.legal_basis, "ok", "justification_sha256=" + *out.justification_sha256,
                                      ShareTo(s)));
  return out;
}

Result<MeldcodeJustification> Service::ReadJustification(const Caller& c, const std::string& message_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kReadJustification));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> found, store::FindShare(held.db(), message_id));
  if (!found) return Status::NotFound("no share " + message_id);
  if (!found->justification) return Status::NotFound("share " + message_id + " has no justification");
  MeldcodeJustification out;
  out.message_id = message_id;
  out.student_id = found->student_id;
  out.state = found->state;
  out.requested_by = found->requested_by;
  out.justification = std::move(*found->justification);
  out.sha256 = internal::JustificationSha256(out.justification);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.justification_read", found->student_id, message_id,
                                      found->purpose, found->legal_basis, "ok", "justification_sha256=" + out.sha256,
                                      ShareTo(*found)));
  return out;
}

}  // namespace schakel::service
