// What each partner sent within the recipient's quota windows (the last
// minute's shares, the last 24 hours' bytes: docs/consent.md "The
// recipient's gate"), kept between receipts. Counting a partner's whole day
// again for every share it sends costs more the more it sent; a window kept
// here reads only the rows it let go of since it last moved
// (store::InboundBetween), and adds each share as it is stored.
//
// Not thread-safe: the inbox handler uses it under the node lock, in the
// transaction that stores the shares; a transaction that counted and then
// did not commit must Forget the partner, whose windows are then read again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/store/database.h"
#include "schakel/store/records.h"

namespace schakel::peer {

class InboundWindows {
 public:
  static constexpr std::chrono::minutes kMinute{1};
  static constexpr std::chrono::hours kDay{24};

  struct Volume {
    int64_t minute_shares = 0;  // received at or after now - 1 minute
    int64_t day_bytes = 0;      // summary bytes received at or after now - 24 hours
  };

  // The partner's volume at `now`, as store::InboundSince would count it.
  Result<Volume> At(store::Database& db, const std::string& peer, Instant now);
  // A share of `bytes` stored from `peer`, received at `received` (the text
  // of the inbox row), in the open transaction, after At for that share.
  void Add(const std::string& peer, const std::string& received, int64_t bytes);
  // Forgets `peer`: the next At counts its windows from the inbox.
  void Forget(const std::string& peer) { by_peer_.erase(peer); }

 private:
  struct Window {
    std::string since;  // FormatInstantMs; rows received at or after it
    store::InboundVolume volume;
  };
  struct Windows {
    Window minute, day;
  };
  static Status Slide(store::Database& db, const std::string& peer, Window& w, const std::string& since);

  std::map<std::string, Windows> by_peer_;
};

}  // namespace schakel::peer
