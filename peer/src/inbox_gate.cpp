// The recipient's gate (docs/consent.md "The recipient's gate"): what an
// InboxHandler checks before it stores a share, and the refusal it answers
// with instead.
#include <algorithm>
#include <chrono>

#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/crypto/envelope.h"
#include "schakel/peer/delivery.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/service/service.h"
#include "schakel/store/records.h"

namespace schakel::peer {

using service::AuditOrFail;
using service::SystemEvent;

std::optional<crypto::RefusalCode> InboxHandler::CheckFlow(const store::Partner& partner,
                                                           const crypto::EnvelopeHeader& h,
                                                           consent::CategorySet present, Instant now) const {
  // The sender's org type is the one on its card in our directory, not
  // anything it says in the envelope.
  std::optional<consent::OrgType> sender_type = consent::ParseOrgType(partner.card.org_type);
  if (!sender_type) return crypto::RefusalCode::kUnknownPurpose;
  const consent::Flow* flow =
      core_.protocol.FindFlow(h.purpose, *sender_type, {core_.config.node_id, core_.config.org_type});
  if (flow == nullptr) return crypto::RefusalCode::kUnknownPurpose;
  if (!present.SubsetOf(flow->categories)) return crypto::RefusalCode::kCategoryNotAllowed;
  int days =
      std::min(flow->retention_days.value_or(core_.config.retention_default_days), core_.config.retention_max_days);
  Instant latest = now + std::chrono::hours(24) * days + kRetentionSlack;
  if (h.retain_until > latest) return crypto::RefusalCode::kRetentionTooLong;
  return std::nullopt;
}

Result<bool> InboxHandler::OverQuota(NodeCore::Held& held, const std::string& peer, size_t bytes, Instant now) {
  SCHAKEL_ASSIGN_OR_RETURN(InboundWindows::Volume v, inbound_.At(held.db(), peer, now));
  if (v.minute_shares >= core_.config.inbound_shares_per_minute) return true;
  return v.day_bytes + static_cast<int64_t>(bytes) > core_.config.inbound_bytes_per_day;
}

Result<std::string> InboxHandler::Refuse(const std::string& peer, uint16_t version, const crypto::EnvelopeHeader& h,
                                         const std::string& student_id, crypto::RefusalCode code, Instant now) {
  const std::string code_name(crypto::RefusalCodeName(code));
  {
    NodeCore::Held held(core_);
    audit::AuditEvent e =
        SystemEvent({"inbox.refused", student_id, h.message_id, h.purpose, "", "deny", code_name}, "peer:" + peer);
    e.actor_user = peer;
    e.actor_role = "peer";
    e.actor_org = peer;
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, e));
  }
  core_.reachability.DeliveredFrom(peer, now);
  LogInfo("refused share " + h.message_id + " from " + peer + ": " + code_name);
  // An older sender knows no refusal: it gets a FAILURE and tries again later.
  if (version < kPeerProtocolRefusalVersion) return Status::Denied("refused: " + code_name);
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Refusal refusal, crypto::MakeRefusal(h.message_id, h.sender_id, h.recipient_id, code,
                                                                        now, core_.keys.identity()));
  return crypto::EncodeRefusal(refusal);
}

}  // namespace schakel::peer
