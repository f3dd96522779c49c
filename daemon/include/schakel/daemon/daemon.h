// Daemon: the running node (schakeld). Owns the configuration, the open
// store and the keys, the I/O context and, as later parts land, the
// listeners. Run() blocks until Stop() or SIGTERM/SIGINT, then shuts down
// cleanly: stops accepting, closes sessions, flushes what must be durable.
//
// Thread-safety: Stop() may be called from any thread; everything else from
// the thread that created the daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/daemon/options.h"
#include "schakel/peer/peer_server.h"

namespace schakel::daemon {

class Daemon;

struct DaemonOptions {
  std::string dir;               // the node directory
  const Clock* clock = nullptr;  // Default: the system clock
  // Default: check retention and audit checkpoints every 30 s.
  std::chrono::milliseconds maintenance_interval{30000};
  audit::AuditLogOptions audit;
  peer::PeerServerOptions peer;  // listen comes from the config
  ApiOptions api;
  DeliveryOptions delivery;
  // Called on the daemon's thread once every listener is up (tests).
  std::function<void(Daemon&)> on_ready;
  // In passphrase mode: the passphrase schakeld took out of the environment
  // before any thread started (store::TakePassphraseFromEnv); null: Create
  // reads [store] passphrase_env itself and leaves the variable be. Used
  // only inside Create; the caller may wipe it once Create returns.
  const crypto::SecureBuffer* passphrase = nullptr;
};

class Daemon {
 public:
  // Loads the config, opens the store with the configured key, loads keys.
  static Result<std::unique_ptr<Daemon>> Create(const DaemonOptions& options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Serves until stopped. Tells systemd it is ready when NOTIFY_SOCKET is set.
  Status Run();
  void Stop();

  const config::NodeConfig& config() const;
  // The bound ports (useful when the config says port 0). Valid after ready.
  uint16_t api_port() const;
  uint16_t peer_port() const;
  // The staff console's HTTPS port; 0 when [console] listen is not set.
  uint16_t console_port() const;
  // Runs retention and the audit checkpoint check now (tests).
  void RunMaintenanceNow();
  // Processes the due part of the delivery queue now, on the caller's thread.
  void DeliverNow();
  // Runs f on the caller's thread while holding the node lock, as a long
  // write would (tests: what still answers beside a writer, docs/performance.md).
  void WithNodeLockHeld(const std::function<void()>& f);

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sends a state line ("READY=1", "STOPPING=1") to systemd's notify socket if
// NOTIFY_SOCKET is set; does nothing otherwise.
void NotifySystemd(const std::string& state);

// The routes the daemon serves, as "METHOD PATTERN" ("GET /v1/cases/*"),
// for the test that drives every route with every role: a route added
// without its row in that test's table fails it.
std::vector<std::string> ApiRoutes();
std::vector<std::string> ConsoleRoutes();

}  // namespace schakel::daemon
