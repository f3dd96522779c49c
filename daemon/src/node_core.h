// Private to daemon/: the state of a running node shared by its parts (API,
// delivery worker, peer handler, retention timer).
//
// Locking: `mu` guards the database connection and the audit log. Every
// read or write of either takes it; no one holds it across network I/O.
// Keys and config are set at start-up and read-only afterwards.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "reachability.h"
#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/config/node_config.h"
#include "schakel/consent/protocol.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"

namespace schakel::daemon {

struct NodeCore {
  std::string dir;
  config::NodeConfig config;
  const Clock* clock = nullptr;
  consent::Protocol protocol;

  crypto::SigningKeyPair identity;
  std::vector<store::EncKey> enc_keys;  // current and retired, for opening
  crypto::TlsIdentity tls;

  std::mutex mu;
  std::unique_ptr<store::Database> db;      // GUARDED_BY(mu)
  std::unique_ptr<audit::AuditLog> audit;   // GUARDED_BY(mu)

  // What was last seen of each partner (status); has its own lock.
  Reachability reachability;
  // When the daemon's maintenance timer (retention, audit checkpoints) fires
  // next, in ms since the epoch on `clock`; 0 before it is scheduled.
  std::atomic<int64_t> next_maintenance_ms{0};
  std::chrono::milliseconds maintenance_interval{0};

  // Wakes the delivery worker when something is queued.
  std::mutex wake_mu;
  std::condition_variable wake;
  bool wake_pending = false;  // GUARDED_BY(wake_mu)

  void WakeDelivery() {
    {
      std::lock_guard<std::mutex> lock(wake_mu);
      wake_pending = true;
    }
    wake.notify_all();
  }
};

}  // namespace schakel::daemon

namespace schakel::daemon {

// The fields of an audit entry besides the actor.
struct AuditWhat {
  std::string action;
  std::string subject;
  std::string object;
  std::string purpose;
  std::string legal_basis;
  std::string outcome;
  std::string reason;
};

// An event by the node itself ("schakeld", role "system").
audit::AuditEvent SystemEvent(AuditWhat what, std::string source);

// Appends one audit entry, filling actor_org with this node's id.
// REQUIRES: core.mu held.
Status AppendAudit(NodeCore& core, audit::AuditEvent event);

}  // namespace schakel::daemon
