// Shares on the wire (schakel/service/on_the_wire.h): what this node treats
// as possibly with the partner although its row still says `queued`, and
// the durable marker that carries that over a crash.
#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/service/service.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/records.h"

namespace schakel::service {

namespace {
constexpr const char* kMarker = store::kMetaSharesOnTheWire;
}  // namespace

void SeeOnTheWire(const NodeCore& core, store::ShareRecord& share) {
  if (share.state == store::ShareState::kQueued && core.on_the_wire.Contains(share.message_id)) {
    share.state = store::ShareState::kSending;
  }
}

Status PutOnTheWire(NodeCore::Held& held, const std::string& message_id) {
  SharesOnTheWire& wire = held.core().on_the_wire;
  if (!wire.marked()) {
    SCHAKEL_RETURN_IF_ERROR(store::SetMeta(held.db(), kMarker, "1"));
    wire.set_marked(true);
  }
  wire.Add(message_id);
  return Status::Ok();
}

Status KeepAsMaybeSent(NodeCore::Held& held, const std::string& message_id) {
  return store::MarkShareMaybeSent(held.db(), message_id, FormatInstantMs(held.core().clock->Now()));
}

void TakeOffTheWire(NodeCore::Held& held, const std::string& message_id) { held.core().on_the_wire.Remove(message_id); }

Result<int> SettleAfterUncleanStop(NodeCore::Held& held, Instant now) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> marker, store::GetMeta(held.db(), kMarker));
  if (marker.value_or("0") != "1") return 0;
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(int settled, store::MarkQueuedSharesMaybeSent(held.db(), FormatInstantMs(now)));
  SCHAKEL_RETURN_IF_ERROR(store::SetMeta(held.db(), kMarker, "0"));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  if (settled > 0) {
    LogWarn(std::to_string(settled) +
            " queued share(s) may have reached their partner (the last run did not stop cleanly, or the database "
            "was restored from a backup): they are taken as sending, so a withdrawal or recall revokes them");
  }
  return settled;
}

Status ClearOnTheWireMarker(NodeCore::Held& held) {
  SharesOnTheWire& wire = held.core().on_the_wire;
  if (!wire.marked() || wire.size() > 0) return Status::Ok();
  SCHAKEL_RETURN_IF_ERROR(store::SetMeta(held.db(), kMarker, "0"));
  wire.set_marked(false);
  return Status::Ok();
}

}  // namespace schakel::service
