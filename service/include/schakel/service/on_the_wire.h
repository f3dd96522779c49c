// The shares a delivery lane has put on the wire whose answer is not
// recorded yet (docs/consent.md "On the wire"). Their rows still say
// `queued`: marking each one `sending` durably before it left cost a commit
// on every share's path (docs/performance.md "2026-12-06, afternoon"). They
// may be with the partner all the same, so whoever decides between
// cancelling and revoking reads them through service::SeeOnTheWire, which
// shows such a share as `sending`.
//
// The set is changed only under the node lock (service::PutOnTheWire,
// TakeOffTheWire, both taking a NodeCore::Held), so that under the node lock
// it agrees with the rows; its own lock, a leaf, lets listings read it
// beside a writer. What is in it is lost when the process dies: the durable
// marker (meta `shares_on_the_wire`, written once per process before the
// first share goes out, cleared at a clean stop) makes the next start take
// every queued share as possibly sent (service::SettleAfterUncleanStop).
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>

namespace schakel::service {

class SharesOnTheWire {
 public:
  void Add(const std::string& message_id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.insert(message_id);
  }
  // Whether it was there.
  bool Remove(const std::string& message_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.erase(message_id) > 0;
  }
  bool Contains(const std::string& message_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.count(message_id) > 0;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.size();
  }
  // Whether this process has written the durable marker.
  bool marked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return marked_;
  }
  void set_marked(bool marked) {
    std::lock_guard<std::mutex> lock(mu_);
    marked_ = marked;
  }

 private:
  mutable std::mutex mu_;      // a leaf: nothing is taken while it is held
  std::set<std::string> ids_;  // GUARDED_BY(mu_)
  bool marked_ = false;        // GUARDED_BY(mu_)
};

}  // namespace schakel::service
