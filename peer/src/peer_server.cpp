#include "schakel/peer/peer_server.h"

#include "peer_io.h"  // includes <utility> before Asio

#include "schakel/base/fault_point.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schakel/base/log.h"
#include "schakel/base/strings.h"

namespace schakel::peer {
namespace peer_internal {
namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class Session;

// The server's state shared by its sessions. Lives until every thread that
// runs its io_context is joined; sessions refer to it by reference.
class ServerCore {
 public:
  ServerCore(std::string node_id, PinLookup partners, PeerHandler& handler, const PeerServerOptions& options,
             asio::ssl::context tls)
      : node_id_(std::move(node_id)),
        partners_(std::move(partners)),
        handler_(handler),
        options_(options),
        tls_(std::move(tls)),
        accept_strand_(asio::make_strand(io_)),
        acceptor_(accept_strand_) {}
  ~ServerCore() { Stop(); }

  Status Listen();
  void StartThreads();
  void Stop();
  PeerServerStats Stats() const;
  config::Address local_address() const { return local_; }

  // Swaps a session's per-address slot for a per-partner slot; false when
  // the partner has all its connections already.
  bool Identify(Session& session, const std::string& peer_id);
  // Gives a finished session's slots back.
  void Release(Session& session);

  const std::string node_id_;
  const PinLookup partners_;
  PeerHandler& handler_;
  const PeerServerOptions options_;

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_capacity_{0};
  std::atomic<uint64_t> refused_peer_limit_{0};
  std::atomic<uint64_t> refused_pin_{0};
  std::atomic<uint64_t> handshake_failures_{0};
  std::atomic<uint64_t> protocol_errors_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> handler_failures_{0};

  // Before io_: sessions destroyed with io_ use it.
  asio::ssl::context tls_;

 private:
  asio::awaitable<void> AcceptLoop();
  void Admit(tcp::socket socket);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // GUARDED_BY(mu_): the open sessions and their slots.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, size_t> per_address_;
  std::unordered_map<std::string, size_t> per_peer_;
  bool stopping_ = false;
  bool accept_loop_done_ = true;  // false while the accept loop runs

  std::mutex stop_mu_;    // serialises Stop()
  bool stopped_ = false;  // GUARDED_BY(stop_mu_)

  // Declared after everything sessions touch, so it is destroyed first: a
  // session abandoned at Stop() dies with it and still finds the maps.
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  config::Address local_;
};

// One connection: the Serve coroutine walks through TLS, HELLO and requests;
// the Watch coroutine enforces the current deadline. Both run on the
// connection's strand (the socket's executor), so the members below need no
// lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class Slot { kAddress, kPeer, kNone };

  Session(ServerCore& core, tcp::socket socket, std::string remote_ip, std::string remote)
      : core_(core),
        verifier_(core.partners_),
        stream_(std::move(socket), core.tls_),
        timer_(stream_.get_executor()),
        remote_ip_(std::move(remote_ip)),
        remote_(std::move(remote)) {
    deadline_ = Clock::now() + core_.options_.handshake_timeout;
  }
  ~Session() { core_.Release(*this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    auto self = shared_from_this();
    asio::co_spawn(stream_.get_executor(), Run(self), [self](std::exception_ptr e) {
      if (e) LogError("peer: session with " + self->remote_ + " failed unexpectedly");
      self->Finish();
    });
    asio::co_spawn(stream_.get_executor(), Watch(self), [](std::exception_ptr) {});
  }

  // From Stop(), on the strand. A response being written is let finish (it
  // may carry a receipt); anything else is cancelled.
  void RequestStop() {
    if (finished_ || stop_requested_) return;
    stop_requested_ = true;
    SetDeadline(ErrorGrace());
    if (phase_ != Phase::kWriting) Cancel();
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }
  const std::string& remote_ip() const { return remote_ip_; }

  // GUARDED_BY(core_.mu_)
  Slot slot_ = Slot::kAddress;
  std::string slot_peer_;

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting };

  static asio::awaitable<void> Run(std::shared_ptr<Session> self) { co_await self->Serve(); }
  static asio::awaitable<void> Watch(std::shared_ptr<Session> self);

  asio::awaitable<void> Serve();
  asio::awaitable<void> ServeRequests();
  asio::awaitable<void> OnReadFailed(const ErrorCode& ec, bool between_frames);
  asio::awaitable<void> Fail(PeerErrorCode code, std::string why);
  void OnHandshakeFailed(const ErrorCode& ec);
  Result<std::string> CallHandler(std::string_view payload);
  void LogPeerError(const FrameIn& in);

  milliseconds ErrorGrace() const { return std::min(core_.options_.frame_timeout, milliseconds(1000)); }
  std::string Who() const { return peer_id_.empty() ? remote_ : peer_id_ + " (" + remote_ + ")"; }

  // A new deadline for what comes next; wakes the watchdog if it sleeps
  // past it.
  void SetDeadline(milliseconds d) {
    deadline_ = Clock::now() + d;
    deadline_fired_ = false;
    timed_out_ = false;
    if (deadline_ < timer_.expiry()) timer_.cancel();
  }
  // First expiry: cancel the pending operation (the coroutine sees
  // operation_aborted with timed_out_ set and may still send ERROR).
  // Second expiry without a new deadline: close the socket outright.
  void OnDeadline() {
    if (!deadline_fired_) {
      deadline_fired_ = true;
      timed_out_ = true;
      deadline_ = Clock::now() + ErrorGrace();
      Cancel();
    } else {
      ErrorCode ignored;
      stream_.lowest_layer().close(ignored);
      deadline_ = Clock::time_point::max();
    }
  }
  void Cancel() {
    ErrorCode ignored;
    stream_.lowest_layer().cancel(ignored);
  }
  void Finish() {
    finished_ = true;
    ErrorCode ignored;
    stream_.lowest_layer().close(ignored);
    timer_.cancel();
  }

  ServerCore& core_;
  PeerVerifier verifier_;  // before stream_: attached to its SSL object
  TlsStream stream_;
  asio::steady_timer timer_;
  const std::string remote_ip_;
  const std::string remote_;  // "ip:port"
  std::string peer_id_;       // once the pin is accepted

  Clock::time_point deadline_;
  Phase phase_ = Phase::kHandshake;
  bool deadline_fired_ = false;
  bool timed_out_ = false;
  bool stop_requested_ = false;
  bool finished_ = false;
  bool tls_up_ = false;
};

asio::awaitable<void> Session::Watch(std::shared_ptr<Session> self) {
  ErrorCode ec;
  while (!self->finished_) {
    if (self->deadline_ <= Clock::now()) {
      self->OnDeadline();
      continue;
    }
    self->timer_.expires_at(self->deadline_);
    co_await self->timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Session::Serve() {
  ErrorCode ec;
  Status attached = verifier_.Attach(stream_.native_handle());
  if (!attached.ok()) {
    LogError("peer: " + attached.message());
    co_return;
  }
  phase_ = Phase::kHandshake;
  co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || stop_requested_) {
    OnHandshakeFailed(ec);
    co_return;
  }
  tls_up_ = true;
  Result<std::string> who = verifier_.Confirm(stream_.native_handle());
  if (!who.ok()) {
    core_.refused_pin_++;
    LogWarn("peer: refused " + remote_ + ": " + who.status().message());
    co_return;
  }
  peer_id_ = *who;

  // HELLO, still under the handshake deadline, with the small frame limit.
  FrameIn in;
  co_await ReadFrame(stream_, kMaxHandshakeFramePayloadBytes, in, ec);
  if (ec || stop_requested_) {
    co_await OnReadFailed(ec, false);
    co_return;
  }
  if (in.too_large) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kFrameTooLarge, FrameTypeName(in.type) + " of " + std::to_string(in.announced_size) +
                                                     " bytes before HELLO (limit " +
                                                     std::to_string(kMaxHandshakeFramePayloadBytes) + ")");
    co_return;
  }
  if (in.type == static_cast<uint8_t>(FrameType::kError)) {
    LogPeerError(in);
    co_return;
  }
  if (in.type != static_cast<uint8_t>(FrameType::kHello)) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kProtocolViolation, "expected HELLO, got " + FrameTypeName(in.type));
    co_return;
  }
  Result<Hello> hello = DecodeHello(in.payload);
  if (!hello.ok()) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kProtocolViolation, hello.status().message());
    co_return;
  }
  if (hello->node_id != peer_id_) {
    core_.protocol_errors_++;
    LogWarn("peer: " + Who() + " says it is \"" + hello->node_id + "\" but its TLS key is pinned to " + peer_id_ +
            "; refused");
    co_await Fail(PeerErrorCode::kIdentityMismatch, "HELLO node id is not the node this TLS key is pinned to");
    co_return;
  }
  Hello ours;
  ours.node_id = core_.node_id_;
  std::optional<uint16_t> version = NegotiateVersion(ours, *hello);
  if (!version) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kUnsupportedVersion, "versions " + std::to_string(hello->min_version) + ".." +
                                                          std::to_string(hello->max_version) + " offered, " +
                                                          std::to_string(ours.min_version) + ".." +
                                                          std::to_string(ours.max_version) + " spoken here");
    co_return;
  }
  if (!core_.Identify(*this, peer_id_)) {
    core_.refused_peer_limit_++;
    co_await Fail(
        PeerErrorCode::kTooManyConnections,
        "partner has " + std::to_string(core_.options_.max_connections_per_peer) + " connections open already");
    co_return;
  }
  if (stop_requested_) {
    co_await Fail(PeerErrorCode::kShuttingDown, "node is stopping");
    co_return;
  }

  SetDeadline(core_.options_.frame_timeout);
  phase_ = Phase::kWriting;
  std::string hello_bytes = EncodeHello(ours);
  co_await WriteFrame(stream_, FrameType::kHello, hello_bytes, ec);
  if (ec) {
    if (timed_out_) core_.timeouts_++;
    LogInfo("peer: sending HELLO to " + Who() + " failed: " + DescribeError(ec));
    co_return;
  }
  LogDebug("peer: " + Who() + " connected, protocol version " + std::to_string(*version));
  co_await ServeRequests();
}

asio::awaitable<void> Session::ServeRequests() {
  const PeerServerOptions& options = core_.options_;
  ErrorCode ec;
  for (;;) {
    if (stop_requested_) {
      co_await Fail(PeerErrorCode::kShuttingDown, "node is stopping");
      co_return;
    }
    // Idle until the first byte of the next frame, then the frame deadline.
    SetDeadline(options.idle_timeout);
    phase_ = Phase::kIdle;
    std::array<uint8_t, kFrameHeaderBytes> header{};
    size_t got = 0;
    co_await ReadHeaderStart(stream_, header, got, ec);
    if (ec || stop_requested_) {
      co_await OnReadFailed(ec, true);
      co_return;
    }
    SetDeadline(options.frame_timeout);
    phase_ = Phase::kReading;
    FrameIn in;
    co_await FinishFrame(stream_, header, got, options.max_frame_payload_bytes, in, ec);
    if (ec || stop_requested_) {
      co_await OnReadFailed(ec, false);
      co_return;
    }
    if (in.too_large) {
      core_.protocol_errors_++;
      co_await Fail(PeerErrorCode::kFrameTooLarge, FrameTypeName(in.type) + " of " + std::to_string(in.announced_size) +
                                                       " bytes exceeds the limit of " +
                                                       std::to_string(options.max_frame_payload_bytes));
      co_return;
    }
    if (in.type == static_cast<uint8_t>(FrameType::kError)) {
      LogPeerError(in);
      co_return;
    }
    if (in.type != static_cast<uint8_t>(FrameType::kDeliver)) {
      core_.protocol_errors_++;
      co_await Fail(PeerErrorCode::kProtocolViolation, "unexpected " + FrameTypeName(in.type) + " frame");
      co_return;
    }

    phase_ = Phase::kHandling;
    core_.requests_++;
    FaultPoint("peer_server.after_read");
    Result<std::string> answer = CallHandler(in.payload);
    std::string().swap(in.payload);  // a large request need not wait for the answer's write
    if (answer.ok() && answer->size() > options.max_frame_payload_bytes) {
      LogError("peer: handler answer for " + Who() + " exceeds the frame limit");
      answer = Status::Internal("response exceeds the frame limit");
    }
    SetDeadline(options.frame_timeout);
    phase_ = Phase::kWriting;
    if (answer.ok()) {
      co_await WriteFrame(stream_, FrameType::kResponse, *answer, ec);
    } else {
      core_.handler_failures_++;
      std::string failure = EncodeFailure(answer.status());
      co_await WriteFrame(stream_, FrameType::kFailure, failure, ec);
    }
    if (ec) {
      if (timed_out_) core_.timeouts_++;
      LogInfo("peer: sending the answer to " + Who() +
              " failed: " + (timed_out_ ? std::string("timed out") : DescribeError(ec)));
      co_return;
    }
  }
}

asio::awaitable<void> Session::OnReadFailed(const ErrorCode& ec, bool between_frames) {
  if (stop_requested_) {
    co_await Fail(PeerErrorCode::kShuttingDown, "node is stopping");
    co_return;
  }
  if (timed_out_) {
    core_.timeouts_++;
    if (between_frames) {
      co_await Fail(PeerErrorCode::kIdleTimeout,
                    "no request within " + std::to_string(core_.options_.idle_timeout.count()) + " ms");
    } else {
      co_await Fail(PeerErrorCode::kTimeout, "frame not complete within its deadline");
    }
    co_return;
  }
  if (IsPeerClosed(ec) && between_frames) {
    LogDebug("peer: " + Who() + " closed the connection");
    if (ec == asio::error::eof) {
      // The peer sent close_notify; answer it, briefly.
      SetDeadline(ErrorGrace());
      ErrorCode ignored;
      co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return;
  }
  LogInfo("peer: reading from " + Who() + " failed: " + DescribeError(ec));
}

// `why` by value: a coroutine must own what it uses after a co_await.
// cppcheck-suppress passedByValue
asio::awaitable<void> Session::Fail(PeerErrorCode code, std::string why) {
  LogLevel level =
      code == PeerErrorCode::kShuttingDown || code == PeerErrorCode::kIdleTimeout ? LogLevel::kDebug : LogLevel::kInfo;
  Log(level,
      "peer: closing connection with " + Who() + ": " + PeerErrorCodeName(static_cast<uint16_t>(code)) + ": " + why);
  if (!tls_up_) co_return;
  SetDeadline(ErrorGrace());
  phase_ = Phase::kWriting;
  std::string payload = EncodeError(code, why);
  ErrorCode ec;
  co_await WriteFrame(stream_, FrameType::kError, payload, ec);
  if (ec || stop_requested_) co_return;
  // close_notify; waits (briefly) for the peer's, which also drains what the
  // peer may still be sending, so our ERROR is not lost to a TCP reset.
  co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

void Session::OnHandshakeFailed(const ErrorCode& ec) {
  if (stop_requested_) return;
  if (verifier_.saw_certificate() && !verifier_.accepted()) {
    core_.refused_pin_++;
    LogWarn("peer: refused " + remote_ + ": its TLS key (pin " + PinHex(verifier_.presented_pin()) +
            ") belongs to no partner (unknown or changed key)");
    return;
  }
  if (timed_out_) {
    core_.timeouts_++;
    LogInfo("peer: TLS handshake with " + remote_ + " timed out");
    return;
  }
  if (!verifier_.saw_certificate() && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    core_.refused_pin_++;
    LogWarn("peer: refused " + remote_ + ": it presented no certificate");
    return;
  }
  core_.handshake_failures_++;
  LogInfo("peer: TLS handshake with " + remote_ + " failed: " + DescribeError(ec));
}

// A handler's failure as the partner sees it. Failures of this node's own
// storage (disk full, I/O, corruption, a locked database, internal errors)
// are logged here in full and reach the partner without local detail such as
// file paths or SQLite messages; refusals of the request itself pass as they are.
Status ForPartner(const Status& failure, const std::string& who) {
  LogWarn("peer: request from " + who + " failed: " + failure.message());
  switch (failure.code()) {
    case Code::kResourceExhausted:
      return Status::ResourceExhausted("the receiving node's disk is full; try again later");
    case Code::kIoError:
      return Status::IoError("the receiving node could not store the request; try again later");
    case Code::kCorruption:
      return Status::Corruption("the receiving node could not store the request; try again later");
    case Code::kUnavailable:
      return Status::Unavailable("the receiving node is busy; try again later");
    case Code::kInternal:
      return Status::Internal("the receiving node failed to process the request");
    default:
      return failure;
  }
}

Result<std::string> Session::CallHandler(std::string_view payload) {
  try {
    Result<std::string> answer = core_.handler_.OnDeliver(peer_id_, payload);
    if (!answer.ok()) return ForPartner(answer.status(), Who());
    return answer;
  } catch (const std::exception&) {
  } catch (...) {
  }
  LogError("peer: handler threw while serving " + Who());
  return Status::Internal("the receiving node failed to process the request");
}

void Session::LogPeerError(const FrameIn& in) {
  Result<PeerError> e = DecodeError(in.payload);
  if (e.ok()) {
    LogInfo("peer: " + Who() + " sent ERROR " + PeerErrorCodeName(e->code) + ": " + e->message);
  } else {
    LogInfo("peer: " + Who() + " sent a malformed ERROR frame");
  }
}

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

void ServerCore::Admit(tcp::socket socket) {
  ErrorCode ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // gone already; the socket closes with this scope
  socket.set_option(tcp::no_delay(true), ec);
  std::string ip = AddressText(remote.address());
  std::string text = EndpointText(remote);
  std::string refusal;
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = per_address_.find(ip);
    size_t from_address = it == per_address_.end() ? 0 : it->second;
    if (stopping_) {
      refusal = "stopping";
    } else if (sessions_.size() >= options_.max_connections) {
      refusal = "at the cap of " + std::to_string(options_.max_connections) + " connections";
    } else if (from_address >= options_.max_connections_per_address) {
      refusal = std::to_string(from_address) + " connections from this address still handshaking";
    } else {
      session = std::make_shared<Session>(*this, std::move(socket), ip, text);
      sessions_.emplace(session.get(), session);
      ++per_address_[ip];
    }
  }
  if (!session) {
    refused_capacity_++;
    LogWarn("peer: refused connection from " + text + ": " + refusal);
    return;  // closes the socket
  }
  accepted_++;
  session->Start();
}

bool ServerCore::Identify(Session& session, const std::string& peer_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (session.slot_ == Session::Slot::kAddress) {
    auto it = per_address_.find(session.remote_ip());
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    session.slot_ = Session::Slot::kNone;
  }
  size_t& n = per_peer_[peer_id];
  if (n >= options_.max_connections_per_peer) return false;
  ++n;
  session.slot_ = Session::Slot::kPeer;
  session.slot_peer_ = peer_id;
  return true;
}

void ServerCore::Release(Session& session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (session.slot_ == Session::Slot::kAddress) {
    auto it = per_address_.find(session.remote_ip());
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
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
  s.refused_peer_limit = refused_peer_limit_.load();
  s.refused_pin = refused_pin_.load();
  s.handshake_failures = handshake_failures_.load();
  s.protocol_errors = protocol_errors_.load();
  s.timeouts = timeouts_.load();
  s.requests = requests_.load();
  s.handler_failures = handler_failures_.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.active = sessions_.size();
  return s;
}

}  // namespace peer_internal

namespace {

Status CheckOptions(const std::string& node_id, const PinLookup& partners, const PeerServerOptions& o) {
  if (!IsValidNodeId(node_id)) return Status::InvalidInput("peer server: bad node id");
  if (!partners) return Status::InvalidInput("peer server: no partner pin lookup");
  if (o.listen.host.empty()) return Status::InvalidInput("peer server: listen host is empty");
  if (o.handshake_timeout.count() <= 0 || o.frame_timeout.count() <= 0 || o.idle_timeout.count() <= 0 ||
      o.shutdown_grace.count() < 0) {
    return Status::InvalidInput("peer server: timeouts must be positive");
  }
  if (o.max_connections == 0 || o.max_connections_per_address == 0 || o.max_connections_per_peer == 0) {
    return Status::InvalidInput("peer server: connection caps must be at least 1");
  }
  if (o.max_frame_payload_bytes < 1024 || o.max_frame_payload_bytes > (size_t{1} << 30)) {
    return Status::InvalidInput("peer server: max_frame_payload_bytes must be 1 KiB .. 1 GiB");
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
                                                          std::move(tls));
  SCHAKEL_RETURN_IF_ERROR(core->Listen());
  core->StartThreads();
  return std::unique_ptr<PeerServer>(new PeerServer(std::move(core)));
}

PeerServer::PeerServer(std::unique_ptr<peer_internal::ServerCore> core) : core_(std::move(core)) {}
PeerServer::~PeerServer() { Stop(); }
void PeerServer::Stop() { core_->Stop(); }
config::Address PeerServer::local_address() const { return core_->local_address(); }
PeerServerStats PeerServer::stats() const { return core_->Stats(); }

}  // namespace schakel::peer
