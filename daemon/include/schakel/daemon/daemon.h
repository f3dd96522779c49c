// Daemon: the running node (schakeld). Owns the configuration, the open
// store and the keys, the I/O context and, as later parts land, the
// listeners. Run() blocks until Stop() or SIGTERM/SIGINT, then shuts down
// cleanly: stops accepting, closes sessions, flushes what must be durable.
//
// Thread-safety: Stop() may be called from any thread; everything else from
// the thread that created the daemon.
#pragma once

#include <memory>
#include <string>

#include "schakel/base/clock.h"
#include "schakel/base/status.h"
#include "schakel/config/node_config.h"

namespace schakel::daemon {

struct DaemonOptions {
  std::string dir;                 // the node directory
  const Clock* clock = nullptr;    // Default: the system clock
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

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sends a state line ("READY=1", "STOPPING=1") to systemd's notify socket if
// NOTIFY_SOCKET is set; does nothing otherwise.
void NotifySystemd(const std::string& state);

}  // namespace schakel::daemon
