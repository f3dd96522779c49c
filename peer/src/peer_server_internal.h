// Private to peer/: the peer server's state (ServerCore: the listener, its
// threads and the connection caps) and one connection (Session), shared by
// peer_server.cpp and peer_session.cpp.
#pragma once

#include "peer_io.h"  // includes <utility> before Asio

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "schakel/base/log.h"
#include "schakel/peer/peer_server.h"

namespace schakel::peer::peer_internal {
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
             std::shared_ptr<asio::ssl::context> tls)
      : node_id_(std::move(node_id)),
        partners_(std::move(partners)),
        handler_(handler),
        options_(options),
        budget_(options.max_buffered_bytes, options.max_buffered_bytes / 2),
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
  // A stranger's per-address and per-network counts back. REQUIRES: mu_.
  void ReleaseStranger(Session& session);

  const std::string node_id_;
  const PinLookup partners_;
  PeerHandler& handler_;
  const PeerServerOptions options_;
  // Inbound payload bytes being read or handled (frame_budget.h): in all
  // max_buffered_bytes, one partner half of it.
  FrameBudget budget_;

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_capacity_{0};
  std::atomic<uint64_t> evicted_strangers_{0};
  std::atomic<uint64_t> refusal_log_lines_{0};
  std::atomic<uint64_t> refused_peer_limit_{0};
  std::atomic<uint64_t> refused_pin_{0};
  std::atomic<uint64_t> handshake_failures_{0};
  std::atomic<uint64_t> protocol_errors_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> handler_failures_{0};
  std::atomic<uint64_t> batches_{0};

  // The TLS context new sessions take; ReplaceTls swaps it (a rotated key
  // served without a restart), sessions keep the one they started with.
  std::shared_ptr<asio::ssl::context> CurrentTls() const {
    std::lock_guard<std::mutex> lock(tls_mu_);
    return tls_;
  }
  void ReplaceTls(std::shared_ptr<asio::ssl::context> tls) {
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls_ = std::move(tls);
  }

 private:
  asio::awaitable<void> AcceptLoop();
  void Admit(tcp::socket socket);
  // The oldest stranger that has had stranger_grace, marked as evicted; null
  // when there is none. Non-empty `ip` or `prefix`: only from there.
  // REQUIRES: mu_ held.
  std::shared_ptr<Session> TakeStaleStranger(Clock::time_point now, const std::string& ip = "",
                                             const std::string& prefix = "");
  // A refusal, logged at most once a minute per network with a count.
  void LogRefusal(const std::string& prefix, const std::string& who, const std::string& why);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // GUARDED_BY(mu_): the open sessions and their slots.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, size_t> per_address_;
  std::unordered_map<std::string, size_t> per_prefix_;
  std::unordered_map<std::string, size_t> per_peer_;
  size_t strangers_ = 0;  // sessions in Slot::kAddress
  size_t evicting_ = 0;   // sessions closed to make room, not yet released

  // The refusal log's windows, per network; own lock.
  struct RefusalWindow {
    Clock::time_point start;
    uint64_t more = 0;  // refusals after the one logged
    std::string why;
  };
  std::mutex refusal_mu_;
  std::unordered_map<std::string, RefusalWindow> refusals_;
  bool stopping_ = false;
  bool accept_loop_done_ = true;  // false while the accept loop runs

  std::mutex stop_mu_;    // serialises Stop()
  bool stopped_ = false;  // GUARDED_BY(stop_mu_)

  // Declared after everything sessions touch, so it is destroyed first: a
  // session abandoned at Stop() dies with it and still finds the maps.
  // Before io_: sessions destroyed with io_ may hold the last reference.
  mutable std::mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> tls_;
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

  Session(ServerCore& core, tcp::socket socket, std::string remote_ip, std::string remote_prefix, std::string remote)
      : core_(core),
        tls_(core.CurrentTls()),
        verifier_(core.partners_),
        stream_(std::move(socket), *tls_),
        timer_(stream_.get_executor()),
        remote_ip_(std::move(remote_ip)),
        remote_prefix_(std::move(remote_prefix)),
        remote_(std::move(remote)),
        admitted_(Clock::now()) {
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
  const std::string& remote_prefix() const { return remote_prefix_; }
  Clock::time_point admitted() const { return admitted_; }

  // GUARDED_BY(core_.mu_)
  Slot slot_ = Slot::kAddress;
  std::string slot_peer_;
  bool evicted_ = false;  // closed to make room for a newer connection
  // What this connection's current request or batch holds of the node's
  // budget; taken once the partner is known, given back once answered.
  BudgetHold batch_hold_;

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting };

  static asio::awaitable<void> Run(std::shared_ptr<Session> self) { co_await self->Serve(); }
  static asio::awaitable<void> Watch(std::shared_ptr<Session> self);

  asio::awaitable<void> Serve();
  asio::awaitable<bool> Handshake();
  asio::awaitable<std::optional<Hello>> ReadHello();
  asio::awaitable<bool> AnswerHello(Hello hello);
  asio::awaitable<void> ServeRequests();
  // Whether another batch already here may join `batch` (ServeRequests):
  // protocol 3 or later, fewer than kMaxBatchEnvelopes requests and at most
  // half of kMaxBatchBytes so far. So a merged batch holds at most 63
  // requests and 1.5 x kMaxBatchBytes (or half of it and one request up to
  // the frame limit): the budget takes each frame as it comes all the same.
  bool MergeMore(const std::vector<std::string>& batch) const;
  asio::awaitable<bool> ReadBatch(std::array<uint8_t, kFrameHeaderBytes> header, size_t got,
                                  std::vector<std::string>& batch);
  asio::awaitable<bool> Answer(std::vector<std::string>& batch);
  asio::awaitable<void> OnReadFailed(const ErrorCode& ec, bool between_frames);
  asio::awaitable<void> Fail(PeerErrorCode code, std::string why);
  void OnHandshakeFailed(const ErrorCode& ec);
  // The handler's answers, one per request of the batch, in order.
  std::vector<Result<std::string>> CallHandler(const std::vector<std::string>& batch);
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
  std::shared_ptr<asio::ssl::context> tls_;  // before stream_: the context it was made with
  PeerVerifier verifier_;                    // before stream_: attached to its SSL object
  TlsStream stream_;
  asio::steady_timer timer_;
  const std::string remote_ip_;
  const std::string remote_prefix_;  // "a.b.c.0/24" or "x:x:x:x::/64"
  const std::string remote_;         // "ip:port"
  const Clock::time_point admitted_;
  std::string peer_id_;   // once the pin is accepted
  uint16_t version_ = 0;  // once HELLO is answered: the negotiated protocol version

  Clock::time_point deadline_;
  Phase phase_ = Phase::kHandshake;
  bool deadline_fired_ = false;
  bool timed_out_ = false;
  bool stop_requested_ = false;
  bool finished_ = false;
  bool tls_up_ = false;
};

}  // namespace schakel::peer::peer_internal
