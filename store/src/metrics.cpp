#include "schakel/store/metrics.h"

#include <chrono>

#include "schakel/base/time.h"
#include "schakel/store/records.h"

namespace schakel::store {

Result<NodeMetrics> CollectMetrics(Database& db) {
  NodeMetrics m;
  // One snapshot: the counts of one scrape agree with each other.
  ReadSnapshot snapshot(db);
  SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement q,
                             db.Prepare("SELECT state, purpose, count(*) FROM shares GROUP BY state, purpose;"));
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      m.shares[{q.Text(0), q.Text(1)}] = q.Int(2);
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(m.outbox_depth, CountOutgoing(db));
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement q, db.Prepare("SELECT recipient_id, count(*), min(created) FROM outgoing GROUP BY recipient_id;"));
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      NodeMetrics::PartnerQueue& pq = m.partner_queues[q.Text(0)];
      pq.depth = q.Int(1);
      auto oldest = ParseInstant(q.Text(2));
      if (oldest.ok()) {
        pq.oldest_unix_s = std::chrono::duration_cast<std::chrono::seconds>(oldest->time_since_epoch()).count();
      }
    }
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement q, db.Prepare("SELECT count(*) FROM audit_log;"));
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    m.audit_entries = row ? q.Int(0) : 0;
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement q, db.Prepare("SELECT outcome, count(*) FROM audit_log WHERE action IN "
                                "('share.permitted', 'share.pending_approval', 'share.evaluated', 'share.denied') "
                                "GROUP BY outcome;"));
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      m.decisions[q.Text(0)] = q.Int(1);
    }
  }
  return m;
}

}  // namespace schakel::store
