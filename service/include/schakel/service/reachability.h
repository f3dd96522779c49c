// What the node last saw of each partner, for
// `schakel status`. The delivery worker records every attempt to send to a
// partner (success, or the error), the inbox handler every message a partner
// delivered to us. Nothing here is personal data: node ids, times and
// transport error texts (which name addresses and codes, never case content).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "schakel/base/clock.h"

namespace schakel::service {

struct PartnerContact {
  // The last delivery attempt to the partner, and whether it succeeded.
  std::optional<Instant> last_attempt;
  bool last_attempt_ok = false;
  // The last successful exchange in either direction (we delivered, or the
  // partner delivered to us).
  std::optional<Instant> last_success;
  // The last failed delivery attempt and why.
  std::optional<Instant> last_error_at;
  std::string last_error;
  // Deliveries the partner made to us (inbound), the last one.
  std::optional<Instant> last_inbound;
};

class Reachability {
 public:
  // At most this many partners are tracked; contacts of others are dropped
  // (the directory is far smaller; this only bounds memory).
  static constexpr size_t kMaxPartners = 4096;
  // Error texts are cut to this many bytes.
  static constexpr size_t kMaxErrorBytes = 200;

  void DeliveredTo(const std::string& node_id, Instant at);
  void FailedTo(const std::string& node_id, Instant at, const std::string& why);
  void DeliveredFrom(const std::string& node_id, Instant at);

  // What was recorded for the partner; empty if nothing yet.
  std::optional<PartnerContact> Get(const std::string& node_id) const;

 private:
  // REQUIRES: mu_ held. nullptr when the table is full.
  PartnerContact* Slot(const std::string& node_id);

  mutable std::mutex mu_;
  std::map<std::string, PartnerContact> contacts_;  // GUARDED_BY(mu_)
};

}  // namespace schakel::service
