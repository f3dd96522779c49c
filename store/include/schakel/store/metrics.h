// Counts for the node's Prometheus endpoint (GET /metrics). Only
// vocabulary travels in these keys (share states, purposes, gate outcomes):
// never a student, case, user or partner id, so nothing personal can end up
// in a label.
//
// Errors: Status values from the store. Thread-safety: as Database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "schakel/base/status.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct NodeMetrics {
  // (state, purpose) -> shares in this node's outbox table.
  std::map<std::pair<std::string, std::string>, int64_t> shares;
  int64_t outbox_depth = 0;   // items (shares, revocations) waiting for delivery
  int64_t audit_entries = 0;  // entries in the audit log
  // outcome ("permit", "deny") -> gate decisions logged (share.permitted,
  // share.pending_approval, share.evaluated, share.denied).
  std::map<std::string, int64_t> decisions;
  // Per partner with items waiting: how many, and when the oldest was queued
  // (Unix seconds; 0 when its time does not parse). Partner node ids are
  // [a-z0-9-], safe as label values.
  struct PartnerQueue {
    int64_t depth = 0;
    int64_t oldest_unix_s = 0;
  };
  std::map<std::string, PartnerQueue> partner_queues;
};

Result<NodeMetrics> CollectMetrics(Database& db);

}  // namespace schakel::store
