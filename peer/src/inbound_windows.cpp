#include "schakel/peer/inbound_windows.h"

namespace schakel::peer {

Status InboundWindows::Slide(store::Database& db, const std::string& peer, Window& w, const std::string& since) {
  if (since == w.since) return Status::Ok();
  if (since < w.since) {
    // The clock went back: the window grows at its start; count it afresh.
    SCHAKEL_ASSIGN_OR_RETURN(w.volume, store::InboundSince(db, peer, since));
  } else {
    SCHAKEL_ASSIGN_OR_RETURN(store::InboundVolume gone, store::InboundBetween(db, peer, w.since, since));
    w.volume.shares -= gone.shares;
    w.volume.bytes -= gone.bytes;
  }
  w.since = since;
  return Status::Ok();
}

Result<InboundWindows::Volume> InboundWindows::At(store::Database& db, const std::string& peer, Instant now) {
  std::string minute_since = FormatInstantMs(now - kMinute);
  std::string day_since = FormatInstantMs(now - kDay);
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) {
    Windows fresh;
    SCHAKEL_ASSIGN_OR_RETURN(fresh.minute.volume, store::InboundSince(db, peer, minute_since));
    SCHAKEL_ASSIGN_OR_RETURN(fresh.day.volume, store::InboundSince(db, peer, day_since));
    fresh.minute.since = std::move(minute_since);
    fresh.day.since = std::move(day_since);
    it = by_peer_.emplace(peer, std::move(fresh)).first;
  } else {
    Status st = Slide(db, peer, it->second.minute, minute_since);
    if (st.ok()) st = Slide(db, peer, it->second.day, day_since);
    if (!st.ok()) {
      by_peer_.erase(it);
      return st;
    }
  }
  return Volume{it->second.minute.volume.shares, it->second.day.volume.bytes};
}

void InboundWindows::Add(const std::string& peer, const std::string& received, int64_t bytes) {
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) return;  // counted from the inbox at the next At
  for (Window* w : {&it->second.minute, &it->second.day}) {
    if (received < w->since) continue;  // already outside this window
    w->volume.shares += 1;
    w->volume.bytes += bytes;
  }
}

}  // namespace schakel::peer
