// Ending a share after it left: revocation (shared by the withdrawal of a
// consent, a recall and a receipt that comes back for a share no longer
// meant to go) and the recall operation.
#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

using store::Role;
using store::ShareState;

Status QueueRevocation(NodeCore::Held& held, const store::ShareRecord& share, crypto::RevocationReason reason,
                       Instant now) {
  NodeCore& core = held.core();
  std::string at = FormatInstantMs(now);
  SCHAKEL_ASSIGN_OR_RETURN(
      crypto::Revocation rev,
      crypto::MakeRevocation(share.message_id, core.config.node_id, share.recipient_id,
                             std::string(crypto::RevocationReasonName(reason)), now, core.keys.identity()));
  // Not sent again: a share in flight when this commits is answered by its
  // receipt, and the revocation behind it in the partner's queue follows.
  SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), "share", share.message_id));
  SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), "revocation", share.message_id));
  SCHAKEL_RETURN_IF_ERROR(store::EnqueueOutgoing(held.db(), "revocation", share.message_id, share.recipient_id,
                                                 crypto::EncodeRevocation(rev), now.time_since_epoch().count(), at));
  return store::SetShareState(held.db(), share.message_id, ShareState::kRevoked,
                              std::string(crypto::RevocationReasonName(reason)), at);
}

Result<ShareRecall> Service::RecallShare(const Caller& c, const std::string& message_id, const std::string& reason) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRecallShare));
  std::optional<crypto::RevocationReason> code = crypto::ParseRevocationReason(reason);
  if (!code) return Status::InvalidInput("reason: must be one of " + crypto::RevocationReasonList());
  if (!IsValidObjectId(message_id)) return Status::InvalidInput("message_id: not a message id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> found, store::FindShare(held.db(), message_id));
  // Staff learn nothing about shares that are not theirs, not even that they exist.
  if (!found || (c.role == Role::kStaff && found->requested_by != c.user_id)) {
    return Status::NotFound("no share " + message_id + " of yours");
  }
  SeeOnTheWire(core_, *found);  // on the wire: it may be there (a revocation, not a cancellation)
  const store::ShareRecord& s = *found;
  Instant now = core_.clock->Now();
  std::string at = FormatInstantMs(now);
  ShareRecall out;
  out.message_id = message_id;
  out.reason = std::string(crypto::RevocationReasonName(*code));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  switch (s.state) {
    case ShareState::kPendingApproval:
    case ShareState::kQueued:
      SCHAKEL_RETURN_IF_ERROR(store::SetShareState(held.db(), message_id, ShareState::kCancelled, out.reason, at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), "share", message_id));
      out.state = ShareState::kCancelled;
      break;
    case ShareState::kSending:
    case ShareState::kDelivered:
      SCHAKEL_RETURN_IF_ERROR(QueueRevocation(held, s, *code, now));
      out.state = ShareState::kRevoked;
      break;
    case ShareState::kRevoked:
    case ShareState::kPurged:
      return Status::AlreadyExists("share " + message_id + " is already " + std::string(ShareStateName(s.state)) +
                                   ": the partner has been told to purge it");
    case ShareState::kCancelled:
    case ShareState::kRefused:
      return Status::InvalidInput("share " + message_id + " is " + std::string(ShareStateName(s.state)) +
                                  ": it never reached the partner, there is nothing to recall");
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "share.recalled", s.student_id, message_id, s.purpose, s.legal_basis,
                                      "ok", out.reason, ShareTo(s)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  core_.WakeDelivery();
  return out;
}

}  // namespace schakel::service
