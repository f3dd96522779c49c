// ClientCore: everything of a PeerClient (peer_client.h); its members are
// defined in peer_client.cpp (the connection, one request at a time) and
// peer_client_batch.cpp (batches and pipelining). Internal to peer/.
#pragma once

#include "peer_io.h"  // includes <utility> before Asio

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "schakel/peer/peer_client.h"

namespace schakel::peer::peer_internal {
namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;

// Everything of a PeerClient; the io_context runs only inside Run().
class ClientCore {
 public:
  ClientCore(std::string own_id, PeerEndpoint peer, const PeerClientOptions& options, asio::ssl::context tls)
      : own_id_(std::move(own_id)), peer_(std::move(peer)), options_(options), tls_(std::move(tls)), resolver_(io_) {}
  ~ClientCore() { Close(); }

  Status Connect();
  Result<std::string> Deliver(std::string_view payload, bool share);
  std::vector<Result<std::string>> DeliverBatch(const std::vector<std::string_view>& payloads);
  PeerClient::Sent Send(const std::vector<std::string_view>& payloads);
  void Collect(PeerClient::Sent& sent);
  bool CanPipeline() const { return connected_ && version_ >= kPeerProtocolBatchVersion; }
  size_t awaiting() const { return awaiting_.size(); }
  PeerClient::Ready AwaitAnswers(int wake_fd, milliseconds timeout);
  void Close();
  void Interrupt() {
    interrupted_ = true;
    asio::post(io_, [this] { CancelIo(); });
  }
  bool connected() const { return connected_; }
  uint16_t protocol_version() const { return connected_ ? version_ : 0; }
  const PeerEndpoint& peer() const { return peer_; }

 private:
  // Runs `op` on the calling thread with a deadline: when it passes, the
  // pending operation is cancelled (and a second later the socket closed).
  Status Run(milliseconds timeout, std::string_view doing, asio::awaitable<Status> op);
  asio::awaitable<void> Watch(asio::steady_timer& timer, const bool& done, bool& timed_out);

  asio::awaitable<Status> DoConnect();
  asio::awaitable<Status> DoTlsHandshake();
  asio::awaitable<Status> DoHelloExchange();
  // `share`: a share's DELIVER, where the fault point peer_client.mid_frame
  // applies (docs/fault-tests.md); a witness request is not one.
  asio::awaitable<Status> DoDeliver(std::string_view payload, bool share, std::string& response);
  // DeliverBatch's one-at-a-time step: answers[next], then next + 1; false
  // (the rest answered with the failure) when the connection failed.
  bool DeliverOne(const std::vector<std::string_view>& payloads, size_t& next,
                  std::vector<Result<std::string>>& answers);
  // How many of payloads[first...] the next batch takes: as many as fit
  // kMaxBatchEnvelopes and the byte budget; at least one.
  size_t NextBatch(const std::vector<std::string_view>& payloads, size_t first) const;
  // Refuses a call that would read answers while a Sent awaits its own.
  Status NothingAwaited() const;
  // Send's writing and Collect's reading.
  asio::awaitable<Status> DoWrite(const std::vector<FrameOut>& frames);
  asio::awaitable<Status> DoCollect(PeerClient::Sent& sent, size_t& answered);
  // Sends payloads[first, first + count) as one batch and reads the answers
  // into answers[first...]; a non-OK Status: the connection failed after
  // the answers that are in.
  asio::awaitable<Status> DoDeliverBatch(const std::vector<std::string_view>& payloads, size_t first, size_t count,
                                         std::vector<Result<std::string>>& answers, size_t& answered);
  // Reads one answer frame: RESPONSE or FAILURE into `answer`; a non-OK
  // Status when the connection cannot go on.
  asio::awaitable<Status> ReadAnswer(Result<std::string>& answer);
  asio::awaitable<Status> DoShutdown();
  // Sends ERROR before we close because the partner broke the protocol;
  // failures are ignored (we close either way).
  asio::awaitable<void> SendError(PeerErrorCode code, std::string why);

  Status TransportFailure(const ErrorCode& ec, std::string_view doing) const;
  Status FromPeerError(const FrameIn& in) const;
  std::string Where() const {
    std::string host = peer_.host.find(':') != std::string::npos ? "[" + peer_.host + "]" : peer_.host;
    return "peer " + peer_.node_id + " at " + host + ":" + std::to_string(peer_.port);
  }

  // Between requests the partner sends nothing unless it is ending the
  // connection (ERROR idle_timeout or shutting_down, close_notify, FIN): no
  // session tickets, no key updates. Readable now means: do not reuse.
  bool Stale() {
    if (!stream_) return true;
    pollfd p{};
    p.fd = stream_->lowest_layer().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) != 0;
  }
  void CancelIo() {
    resolver_.cancel();
    if (stream_) {
      ErrorCode ignored;
      stream_->lowest_layer().cancel(ignored);
    }
  }
  void CloseNow() {
    if (stream_) {
      ErrorCode ignored;
      stream_->lowest_layer().close(ignored);
    }
    stream_.reset();
    connected_ = false;
  }

  const std::string own_id_;
  const PeerEndpoint peer_;
  const PeerClientOptions options_;
  asio::ssl::context tls_;
  asio::io_context io_;
  tcp::resolver resolver_;
  std::unique_ptr<PeerVerifier> verifier_;  // before stream_: attached to its SSL
  std::optional<TlsStream> stream_;
  bool connected_ = false;
  uint16_t version_ = 0;        // negotiated, while connected
  bool failure_frame_ = false;  // the last Deliver got FAILURE: connection stays
  uint64_t generation_ = 0;     // counts the connections opened
  // Sents not collected yet, oldest first: which Send, on which connection.
  struct Awaited {
    uint64_t serial = 0;
    uint64_t generation = 0;
  };
  std::deque<Awaited> awaiting_;
  uint64_t next_serial_ = 1;
  Status lost_ = Status::Ok();  // why the last connection with answers awaited ended
  std::atomic<bool> interrupted_{false};
};

}  // namespace schakel::peer::peer_internal
