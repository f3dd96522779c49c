#include "schakel/daemon/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "schakel/base/log.h"
#include "schakel/crypto/identity.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"

namespace schakel::daemon {

void NotifySystemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract socket
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), addr_len);
  ::close(fd);
}

struct Daemon::Impl {
  DaemonOptions options;
  SystemClock system_clock;
  config::NodeConfig config;
  std::unique_ptr<store::Database> db;
  crypto::SigningKeyPair identity;
  boost::asio::io_context io;
  boost::asio::signal_set signals{io};
};

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

const config::NodeConfig& Daemon::config() const { return impl_->config; }

Result<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (impl->options.clock == nullptr) impl->options.clock = &impl->system_clock;
  SCHAKEL_ASSIGN_OR_RETURN(impl->config, config::LoadNodeConfig(options.dir));
  LogLevel level = LogLevel::kInfo;
  if (ParseLogLevel(impl->config.log_level, &level)) SetLogLevel(level);
  store::NodePaths paths(options.dir, impl->config.key_file);
  store::KeySource source{paths.key_file, impl->config.passphrase_env, {}};
  SCHAKEL_ASSIGN_OR_RETURN(impl->db, store::OpenNodeDatabase(paths, source));
  SCHAKEL_ASSIGN_OR_RETURN(impl->identity, store::LoadIdentity(*impl->db));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> stored_id, store::GetMeta(*impl->db, "node_id"));
  if (!stored_id || *stored_id != impl->config.node_id) {
    return Status::InvalidInput(paths.config + ": node.id \"" + impl->config.node_id +
                                "\" does not match the database's node");
  }
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

Status Daemon::Run() {
  Impl& d = *impl_;
  d.signals.add(SIGTERM);
  d.signals.add(SIGINT);
  d.signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    LogInfo(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    Stop();
  });
  LogInfo("node " + d.config.node_id + " ready (fingerprint " +
          crypto::Fingerprint(d.identity.public_key) + ")");
  NotifySystemd("READY=1\nSTATUS=serving");
  auto work = boost::asio::make_work_guard(d.io);
  d.io.run();
  NotifySystemd("STOPPING=1");
  LogInfo("node " + d.config.node_id + " stopped");
  return Status::Ok();
}

void Daemon::Stop() {
  boost::asio::post(impl_->io, [this] {
    impl_->signals.cancel();
    impl_->io.stop();
  });
}

}  // namespace schakel::daemon
