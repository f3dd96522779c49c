// The peer server: its listener and threads, the connection caps, and the
// public PeerServer. One connection's walk is in peer_session.cpp.
#include "peer_server_internal.h"  // includes <utility> before Asio

#include "schakel/base/fault_point.h"

#include <algorithm>
#include <iterator>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schakel/base/strings.h"

namespace schakel::peer {
namespace peer_internal {

// --- ServerCore -------------------------------------------------------------

Status ServerCore::Listen() {
  const config::Address& where = options_.listen;
  ErrorCode ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(where.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, where.port);
  } else {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(where.host, std::to_string(where.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Status::Unavailable("peer listener: cannot resolve " + where.ToString() + ": " +
                                 (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }
  std::string text = EndpointText(endpoint);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ErrorCode ignored;
    acceptor_.close(ignored);
    return Status::Unavailable("peer listener: cannot listen on " + text + ": " + ec.message());
  }
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return Status::Unavailable("peer listener: " + ec.message());
  local_.host = AddressText(bound.address());
  local_.port = bound.port();
  return Status::Ok();
}

void ServerCore::StartThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accept_loop_done_ = false;
  }
  asio::co_spawn(accept_strand_, AcceptLoop(), [this](std::exception_ptr e) {
    if (e) LogError("peer: accept loop failed unexpectedly");
    std::lock_guard<std::mutex> lock(mu_);
    accept_loop_done_ = true;
    cv_.notify_all();
  });
  for (int i = 0; i < options_.io_threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          io_.run();
          return;
        } catch (...) {
          LogError("peer: unexpected exception on an I/O thread");
        }
      }
    });
  }
  LogInfo("peer: listening on " + local_.ToString());
}

asio::awaitable<void> ServerCore::AcceptLoop() {
  for (;;) {
    ErrorCode ec;
    tcp::socket socket(
        co_await acceptor_.async_accept(asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec)));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) co_return;
      }
      // Out of file descriptors, say: back off instead of spinning.
      LogWarn("peer: accept failed: " + ec.message());
      asio::steady_timer pause(accept_strand_, milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Admit(std::move(socket));
  }
}

namespace {

// The network a remote address counts in: its /24 (IPv4) or /64 (IPv6).
std::string PrefixText(const asio::ip::address& address) {
  if (address.is_v4() || (address.is_v6() && address.to_v6().is_v4_mapped())) {
    asio::ip::address_v4 v4 =
        address.is_v4() ? address.to_v4() : asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    asio::ip::address_v4::bytes_type b = v4.to_bytes();
    b[3] = 0;
    return asio::ip::address_v4(b).to_string() + "/24";
  }
  asio::ip::address_v6::bytes_type b = address.to_v6().to_bytes();
  for (size_t i = 8; i < b.size(); ++i) b[i] = 0;
  return asio::ip::address_v6(b).to_string() + "/64";
}

constexpr auto kRefusalWindow = std::chrono::minutes(1);
constexpr size_t kMaxRefusalWindows = 4096;

}  // namespace

std::shared_ptr<Session> ServerCore::TakeStaleStranger(Clock::time_point now, const std::string& ip,
                                                       const std::string& prefix) {
  Session* oldest = nullptr;
  for (const auto& [ptr, weak] : sessions_) {
    if (ptr->slot_ != Session::Slot::kAddress || ptr->evicted_) continue;
    if (!ip.empty() && ptr->remote_ip() != ip) continue;
    if (!prefix.empty() && ptr->remote_prefix() != prefix) continue;
    if (now - ptr->admitted() < options_.stranger_grace) continue;
    if (oldest == nullptr || ptr->admitted() < oldest->admitted()) oldest = ptr;
  }
  if (oldest == nullptr) return nullptr;
  std::shared_ptr<Session> victim = sessions_[oldest].lock();
  if (!victim) return nullptr;  // ending already; its slot comes back by itself
  oldest->evicted_ = true;
  ++evicting_;
  return victim;
}

void ServerCore::LogRefusal(const std::string& prefix, const std::string& who, const std::string& why) {
  const Clock::time_point now = Clock::now();
  std::string line;
  {
    std::lock_guard<std::mutex> lock(refusal_mu_);
    auto it = refusals_.find(prefix);
    if (it != refusals_.end() && now - it->second.start < kRefusalWindow) {
      it->second.more++;
      return;
    }
    if (it != refusals_.end() && it->second.more > 0) {
      line = "peer: refused " + std::to_string(it->second.more) + " more connections from " + prefix +
             " in the minute after the one logged (" + it->second.why + "); now " + who + ": " + why;
    } else {
      line = "peer: refused connection from " + who + ": " + why + " (more refusals from " + prefix +
             " this minute are counted, not logged)";
    }
    if (refusals_.size() >= kMaxRefusalWindows && it == refusals_.end()) {
      // Bounded: windows that ended are dropped first, else all.
      for (auto w = refusals_.begin(); w != refusals_.end();) {
        w = now - w->second.start >= kRefusalWindow ? refusals_.erase(w) : std::next(w);
      }
      if (refusals_.size() >= kMaxRefusalWindows) refusals_.clear();
    }
    RefusalWindow& w = refusals_[prefix];
    w.start = now;
    w.more = 0;
    w.why = why;
  }
  refusal_log_lines_++;
  LogWarn(line);
}

void ServerCore::Admit(tcp::socket socket) {
  ErrorCode ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // gone already; the socket closes with this scope
  socket.set_option(tcp::no_delay(true), ec);
  std::string ip = AddressText(remote.address());
  std::string prefix = PrefixText(remote.address());
  std::string text = EndpointText(remote);
  std::string refusal;
  std::shared_ptr<Session> session;
  std::shared_ptr<Session> evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = per_address_.find(ip);
    size_t from_address = it == per_address_.end() ? 0 : it->second;
    auto pit = per_prefix_.find(prefix);
    size_t from_prefix = pit == per_prefix_.end() ? 0 : pit->second;
    const size_t live = sessions_.size() - evicting_;
    const size_t max_strangers = std::min(options_.max_stranger_connections, options_.max_connections);
    if (stopping_) {
      refusal = "stopping";
    } else if (from_address >= options_.max_connections_per_address) {
      evicted = TakeStaleStranger(Clock::now(), ip);
      if (!evicted) refusal = std::to_string(from_address) + " connections from this address still handshaking";
    } else if (from_prefix >= options_.max_connections_per_prefix) {
      evicted = TakeStaleStranger(Clock::now(), "", prefix);
      if (!evicted) refusal = std::to_string(from_prefix) + " connections from " + prefix + " still handshaking";
    } else if (live >= options_.max_connections || strangers_ >= max_strangers) {
      evicted = TakeStaleStranger(Clock::now());
      if (!evicted) {
        refusal = live >= options_.max_connections
                      ? "at the cap of " + std::to_string(options_.max_connections) + " connections"
                      : "at the cap of " + std::to_string(max_strangers) + " connections still handshaking";
      }
    }
    if (refusal.empty()) {
      session = std::make_shared<Session>(*this, std::move(socket), ip, prefix, text);
      sessions_.emplace(session.get(), session);
      ++per_address_[ip];
      ++per_prefix_[prefix];
      ++strangers_;
    }
  }
  if (evicted) {
    // Outside mu_: if this is the last owner, ~Session takes mu_.
    evicted_strangers_++;
    asio::post(evicted->executor(), [evicted] { evicted->RequestStop(); });
    evicted.reset();
  }
  if (!session) {
    refused_capacity_++;
    LogRefusal(prefix, text, refusal);
    return;  // closes the socket
  }
  accepted_++;
  session->Start();
}

bool ServerCore::Identify(Session& session, const std::string& peer_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (session.slot_ == Session::Slot::kAddress) ReleaseStranger(session);
  session.slot_ = Session::Slot::kNone;
  size_t& n = per_peer_[peer_id];
  if (n >= options_.max_connections_per_peer) return false;
  ++n;
  session.slot_ = Session::Slot::kPeer;
  session.slot_peer_ = peer_id;
  return true;
}

void ServerCore::ReleaseStranger(Session& session) {
  auto it = per_address_.find(session.remote_ip());
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  auto pit = per_prefix_.find(session.remote_prefix());
  if (pit != per_prefix_.end() && --pit->second == 0) per_prefix_.erase(pit);
  --strangers_;
}

void ServerCore::Release(Session& session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (session.evicted_) --evicting_;
  if (session.slot_ == Session::Slot::kAddress) {
    ReleaseStranger(session);
  } else if (session.slot_ == Session::Slot::kPeer) {
    auto it = per_peer_.find(session.slot_peer_);
    if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
  }
  session.slot_ = Session::Slot::kNone;
  sessions_.erase(&session);
  cv_.notify_all();
}

void ServerCore::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  std::vector<std::weak_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [ptr, weak] : sessions_) open.push_back(weak);
  }
  asio::post(accept_strand_, [this] {
    ErrorCode ignored;
    acceptor_.close(ignored);
  });
  for (auto& weak : open) {
    // Outside mu_: if this is the last owner, ~Session takes mu_.
    if (std::shared_ptr<Session> s = weak.lock()) {
      asio::post(s->executor(), [s] { s->RequestStop(); });
    }
  }
  open.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.shutdown_grace, [this] { return sessions_.empty() && accept_loop_done_; });
    if (!sessions_.empty()) {
      LogWarn("peer: " + std::to_string(sessions_.size()) +
              " connections did not close within the grace period; abandoning them");
    }
  }
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!local_.host.empty()) LogInfo("peer: stopped listening on " + local_.ToString());
}

PeerServerStats ServerCore::Stats() const {
  PeerServerStats s;
  s.accepted = accepted_.load();
  s.refused_capacity = refused_capacity_.load();
  s.evicted_strangers = evicted_strangers_.load();
  s.refusal_log_lines = refusal_log_lines_.load();
  s.refused_peer_limit = refused_peer_limit_.load();
  s.refused_pin = refused_pin_.load();
  s.handshake_failures = handshake_failures_.load();
  s.protocol_errors = protocol_errors_.load();
  s.timeouts = timeouts_.load();
  s.requests = requests_.load();
  s.handler_failures = handler_failures_.load();
  s.batches = batches_.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.active = sessions_.size();
  s.buffered_bytes = budget_.used();
  s.buffered_peak = budget_.peak();
  return s;
}

}  // namespace peer_internal

std::vector<Result<std::string>> PeerHandler::OnDeliverBatch(const std::string& peer_node_id, uint16_t protocol_version,
                                                             const std::vector<std::string>& payloads) {
  std::vector<Result<std::string>> answers;
  answers.reserve(payloads.size());
  for (const std::string& payload : payloads) answers.push_back(OnDeliver(peer_node_id, protocol_version, payload));
  return answers;
}

namespace {

Status CheckOptions(const std::string& node_id, const PinLookup& partners, const PeerServerOptions& o) {
  if (!IsValidNodeId(node_id)) return Status::InvalidInput("peer server: bad node id");
  if (!partners) return Status::InvalidInput("peer server: no partner pin lookup");
  if (o.listen.host.empty()) return Status::InvalidInput("peer server: listen host is empty");
  if (o.handshake_timeout.count() <= 0 || o.frame_timeout.count() <= 0 || o.idle_timeout.count() <= 0 ||
      o.shutdown_grace.count() < 0) {
    return Status::InvalidInput("peer server: timeouts must be positive");
  }
  if (o.max_connections == 0 || o.max_connections_per_address == 0 || o.max_connections_per_peer == 0 ||
      o.max_connections_per_prefix == 0 || o.max_stranger_connections == 0) {
    return Status::InvalidInput("peer server: connection caps must be at least 1");
  }
  if (o.stranger_grace.count() < 0) return Status::InvalidInput("peer server: stranger_grace must not be negative");
  if (o.max_frame_payload_bytes < 1024 || o.max_frame_payload_bytes > (size_t{1} << 30)) {
    return Status::InvalidInput("peer server: max_frame_payload_bytes must be 1 KiB .. 1 GiB");
  }
  if (o.max_buffered_bytes / 3 < o.max_frame_payload_bytes) {
    return Status::InvalidInput("peer server: max_buffered_bytes must be at least 3 times max_frame_payload_bytes");
  }
  if (o.io_threads < 1 || o.io_threads > 64) {
    return Status::InvalidInput("peer server: io_threads must be 1..64");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PeerServer>> PeerServer::Start(std::string node_id, const crypto::TlsIdentity& identity,
                                                      PinLookup partners, PeerHandler& handler,
                                                      const PeerServerOptions& options) {
  SCHAKEL_RETURN_IF_ERROR(CheckOptions(node_id, partners, options));
  SCHAKEL_ASSIGN_OR_RETURN(boost::asio::ssl::context tls, MakePeerTlsContext(PeerRole::kServer, identity));
  auto core = std::make_unique<peer_internal::ServerCore>(std::move(node_id), std::move(partners), handler, options,
                                                          std::make_shared<boost::asio::ssl::context>(std::move(tls)));
  SCHAKEL_RETURN_IF_ERROR(core->Listen());
  core->StartThreads();
  return std::unique_ptr<PeerServer>(new PeerServer(std::move(core)));
}

PeerServer::PeerServer(std::unique_ptr<peer_internal::ServerCore> core) : core_(std::move(core)) {}
PeerServer::~PeerServer() { Stop(); }
void PeerServer::Stop() { core_->Stop(); }
config::Address PeerServer::local_address() const { return core_->local_address(); }
PeerServerStats PeerServer::stats() const { return core_->Stats(); }

Status PeerServer::ReplaceIdentity(const crypto::TlsIdentity& identity) {
  SCHAKEL_ASSIGN_OR_RETURN(boost::asio::ssl::context tls, MakePeerTlsContext(PeerRole::kServer, identity));
  core_->ReplaceTls(std::make_shared<boost::asio::ssl::context>(std::move(tls)));
  return Status::Ok();
}

}  // namespace schakel::peer
