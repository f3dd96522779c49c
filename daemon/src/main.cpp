// schakeld: the Schakel node daemon.
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "schakel/base/log.h"
#include "schakel/base/version.h"
#include "schakel/config/node_config.h"
#include "schakel/config/protocol_file.h"
#include "schakel/daemon/daemon.h"
#include "schakel/store/node_dir.h"

namespace {

constexpr const char* kUsage =
    "usage: schakeld --dir DIR [--check-config] [--log-level LEVEL]\n"
    "  --dir DIR         the node directory made by `schakel init` (default $SCHAKEL_DIR, else .)\n"
    "  --check-config    validate DIR/schakel.toml and exit (0 valid, 2 invalid)\n"
    "  --log-level L     debug, info, warn or error (overrides [log] level)\n";

int Fail(const std::string& what, const schakel::Status& st) {
  std::cerr << "schakeld: " << what << ": " << st.message() << "\n";
  return st.ExitCode();
}

}  // namespace

int main(int argc, char** argv) {
  // No core dump of a process that holds the database key and the node's
  // private keys, and no ptrace or /proc/PID/mem for the same user (the
  // unit sets LimitCORE=0 as well).
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    std::cerr << "schakeld: start: cannot turn core dumps off (prctl): " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string dir;
  bool check_only = false;
  std::string log_level;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--log-level" && i + 1 < argc) {
      log_level = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "schakeld " << schakel::kVersion << "\n";
      return 0;
    } else {
      std::cerr << "schakeld: usage: unknown or incomplete argument \"" << a << "\"\n" << kUsage;
      return 2;
    }
  }
  if (dir.empty()) {
    const char* env = std::getenv("SCHAKEL_DIR");
    dir = (env != nullptr && *env != '\0') ? env : ".";
  }
  // Every option is checked before anything starts, --check-config included.
  schakel::LogLevel level = schakel::LogLevel::kInfo;
  if (!log_level.empty() && !schakel::ParseLogLevel(log_level, &level)) {
    return Fail("usage",
                schakel::Status::InvalidInput("--log-level \"" + log_level + "\": must be debug, info, warn or error"));
  }
  if (check_only) {
    auto cfg = schakel::config::LoadNodeConfig(dir);
    if (!cfg.ok()) return Fail("config", cfg.status());
    auto protocol = schakel::config::LoadProtocolInForce(*cfg, dir);
    if (!protocol.ok()) return Fail("config", protocol.status().WithContext("[policy] file"));
    std::cout << dir << "/schakel.toml: valid (node " << cfg->node_id << ", "
              << (cfg->policy_file.empty() ? "the built-in privacy protocol" : "protocol " + cfg->policy_file) << ")\n";
    return 0;
  }
  schakel::daemon::DaemonOptions options;
  options.dir = dir;
  // Passphrase mode: take the passphrase out of the environment (wiped in
  // place, then unset) while this is the only thread.
  std::optional<schakel::crypto::SecureBuffer> passphrase;
  {
    auto cfg = schakel::config::LoadNodeConfig(dir);
    if (!cfg.ok()) return Fail("start", cfg.status());
    if (!cfg->passphrase_env.empty()) {
      auto taken = schakel::store::TakePassphraseFromEnv(cfg->passphrase_env);
      if (!taken.ok()) return Fail("start", taken.status());
      passphrase = std::move(taken).value();
      options.passphrase = &*passphrase;
    }
  }
  auto daemon = schakel::daemon::Daemon::Create(options);
  passphrase.reset();  // the key is derived: the passphrase is wiped
  options.passphrase = nullptr;
  if (!daemon.ok()) return Fail("start", daemon.status());
  if (!log_level.empty()) schakel::SetLogLevel(level);
  schakel::Status st = daemon.value()->Run();
  if (!st.ok()) return Fail("run", st);
  return 0;
}
