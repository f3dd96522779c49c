// The state of a running node shared by its parts (API,
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

#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/config/node_config.h"
#include "schakel/consent/protocol.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/service/reachability.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"

namespace schakel::service {

struct NodeCore {
  std::string dir;
  config::NodeConfig config;
  const Clock* clock = nullptr;
  consent::Protocol protocol;

  crypto::SigningKeyPair identity;
  std::vector<store::EncKey> enc_keys;  // current and retired, for opening
  crypto::TlsIdentity tls;

  std::mutex mu;
  std::unique_ptr<store::Database> db;     // GUARDED_BY(mu)
  std::unique_ptr<audit::AuditLog> audit;  // GUARDED_BY(mu)

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

}  // namespace schakel::service

namespace schakel::service {

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

// The audit policy (docs/audit.md). An action on personal data happens only
// once its audit entry is written; an entry about something that did not
// happen may be lost, but not silently. Each entry is written by exactly one
// of these two, chosen where it is written:
//
// AuditOrFail: for everything that happens (content shown, data stored,
// changed, sent, deleted, a link made or expired). On an error the caller
// MUST NOT go on: it rolls back the transaction holding the action, does
// not show the content, and answers an error. Write the entry inside the
// action's transaction, before its commit.
//
// AuditBestEffort: only for entries about things that did not happen
// (denials and refusals, a link's code page viewed without content, a
// dry run). A failure is logged at error level with the action, the object
// id and the status message only (never the subject, reason or anything
// personal) and the caller goes on with its refusal.
//
// Both fill actor_org with this node's id. REQUIRES: core.mu held.
[[nodiscard]] Status AuditOrFail(NodeCore& core, audit::AuditEvent event);
void AuditBestEffort(NodeCore& core, audit::AuditEvent event);

}  // namespace schakel::service
