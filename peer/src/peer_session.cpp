// The peer server's connections: TLS with the pinned key, the HELLO, then
// requests handed to the handler, each step under its deadline.
#include "peer_server_internal.h"  // includes <utility> before Asio

#include "schakel/audit/witness.h"
#include "schakel/base/fault_point.h"
#include "schakel/peer/card_announce.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schakel/base/strings.h"

namespace schakel::peer::peer_internal {

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
  if (!co_await Handshake()) co_return;
  std::optional<Hello> hello = co_await ReadHello();
  if (!hello) co_return;
  if (!co_await AnswerHello(*hello)) co_return;
  co_await ServeRequests();
}

// TLS with the pinned key; false (logged) when it did not come up.
asio::awaitable<bool> Session::Handshake() {
  ErrorCode ec;
  Status attached = verifier_.Attach(stream_.native_handle());
  if (!attached.ok()) {
    LogError("peer: " + attached.message());
    co_return false;
  }
  phase_ = Phase::kHandshake;
  co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || stop_requested_) {
    OnHandshakeFailed(ec);
    co_return false;
  }
  tls_up_ = true;
  Result<std::string> who = verifier_.Confirm(stream_.native_handle());
  if (!who.ok()) {
    core_.refused_pin_++;
    LogWarn("peer: refused " + remote_ + ": " + who.status().message());
    co_return false;
  }
  peer_id_ = *who;
  co_return true;
}

// The partner's HELLO, checked; nullopt when it was refused (answered with
// ERROR where the protocol says so).
asio::awaitable<std::optional<Hello>> Session::ReadHello() {
  ErrorCode ec;
  // HELLO, still under the handshake deadline, with the small frame limit.
  FrameIn in;
  co_await ReadFrame(stream_, kMaxHandshakeFramePayloadBytes, in, ec);
  if (ec || stop_requested_) {
    co_await OnReadFailed(ec, false);
    co_return std::nullopt;
  }
  if (in.too_large) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kFrameTooLarge, FrameTypeName(in.type) + " of " + std::to_string(in.announced_size) +
                                                     " bytes before HELLO (limit " +
                                                     std::to_string(kMaxHandshakeFramePayloadBytes) + ")");
    co_return std::nullopt;
  }
  if (in.type == static_cast<uint8_t>(FrameType::kError)) {
    LogPeerError(in);
    co_return std::nullopt;
  }
  if (in.type != static_cast<uint8_t>(FrameType::kHello)) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kProtocolViolation, "expected HELLO, got " + FrameTypeName(in.type));
    co_return std::nullopt;
  }
  Result<Hello> hello = DecodeHello(in.payload);
  if (!hello.ok()) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kProtocolViolation, hello.status().message());
    co_return std::nullopt;
  }
  if (hello->node_id != peer_id_) {
    core_.protocol_errors_++;
    LogWarn("peer: " + Who() + " says it is \"" + hello->node_id + "\" but its TLS key is pinned to " + peer_id_ +
            "; refused");
    co_await Fail(PeerErrorCode::kIdentityMismatch, "HELLO node id is not the node this TLS key is pinned to");
    co_return std::nullopt;
  }
  co_return std::move(hello).value();
}

// Negotiates the version, takes the partner's connection slot and sends
// this node's HELLO; false when the connection ends here. `hello` by value:
// a coroutine must own what it uses after a co_await.
// cppcheck-suppress passedByValue
asio::awaitable<bool> Session::AnswerHello(Hello hello) {
  ErrorCode ec;
  Hello ours;
  ours.node_id = core_.node_id_;
  std::optional<uint16_t> version = NegotiateVersion(ours, hello);
  if (!version) {
    core_.protocol_errors_++;
    co_await Fail(PeerErrorCode::kUnsupportedVersion, "versions " + std::to_string(hello.min_version) + ".." +
                                                          std::to_string(hello.max_version) + " offered, " +
                                                          std::to_string(ours.min_version) + ".." +
                                                          std::to_string(ours.max_version) + " spoken here");
    co_return false;
  }
  batch_hold_.Attach(&core_.budget_, peer_id_);
  if (!core_.Identify(*this, peer_id_)) {
    core_.refused_peer_limit_++;
    co_await Fail(
        PeerErrorCode::kTooManyConnections,
        "partner has " + std::to_string(core_.options_.max_connections_per_peer) + " connections open already");
    co_return false;
  }
  if (stop_requested_) {
    co_await Fail(PeerErrorCode::kShuttingDown, "node is stopping");
    co_return false;
  }

  version_ = *version;
  SetDeadline(core_.options_.frame_timeout);
  phase_ = Phase::kWriting;
  std::string hello_bytes = EncodeHello(ours);
  co_await WriteFrame(stream_, FrameType::kHello, hello_bytes, ec);
  if (ec) {
    if (timed_out_) core_.timeouts_++;
    LogInfo("peer: sending HELLO to " + Who() + " failed: " + DescribeError(ec));
    co_return false;
  }
  LogDebug("peer: " + Who() + " connected, protocol version " + std::to_string(*version));
  core_.handler_.OnIdentified(peer_id_);
  co_return true;
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
    std::vector<std::string> batch;
    if (!co_await ReadBatch(header, got, batch)) co_return;
    // Group commit across batches: a partner that pipelines sends its next
    // batch while this one is stored; what of it is here already joins
    // this one (handled together, answered in order, as if it had been one
    // batch), while the two are small (MergeMore).
    while (MergeMore(batch) && BytesWaiting(stream_)) {
      SetDeadline(options.frame_timeout);
      got = 0;
      co_await ReadHeaderStart(stream_, header, got, ec);
      if (ec || stop_requested_) {
        if (!co_await Answer(batch)) co_return;
        co_await OnReadFailed(ec, true);
        co_return;
      }
      if (!co_await ReadBatch(header, got, batch)) co_return;
    }
    if (!co_await Answer(batch)) co_return;
  }
}

bool Session::MergeMore(const std::vector<std::string>& batch) const {
  if (version_ < kPeerProtocolBatchVersion || batch.size() >= kMaxBatchEnvelopes) return false;
  size_t bytes = 0;
  for (const std::string& request : batch) bytes += request.size();
  return bytes <= kMaxBatchBytes / 2;
}

// One request, or (version 3) a batch: DELIVER_MORE frames up to a DELIVER,
// appended to `batch` (which may hold a batch before it: ServeRequests).
// false when the connection ends (answered with ERROR where it should be).
asio::awaitable<bool> Session::ReadBatch(std::array<uint8_t, kFrameHeaderBytes> header, size_t got,
                                         std::vector<std::string>& batch) {
  const PeerServerOptions& options = core_.options_;
  ErrorCode ec;
  const size_t start = batch.size();
  size_t batch_bytes = 0;
  for (bool last = false; !last;) {
    SetDeadline(options.frame_timeout);
    phase_ = Phase::kReading;
    const bool first = batch.size() == start;
    // A request of a batch of several counts against kMaxBatchBytes.
    size_t limit = first ? options.max_frame_payload_bytes
                         : std::min(options.max_frame_payload_bytes, kMaxBatchBytes - batch_bytes);
    FrameIn in;
    const BudgetedRead budget{&batch_hold_, &timed_out_};
    if (first) {
      co_await FinishFrame(stream_, header, got, limit, in, ec, budget);
    } else {
      co_await ReadFrame(stream_, limit, in, ec, budget);
    }
    if (ec || stop_requested_) {
      co_await OnReadFailed(ec, false);
      co_return false;
    }
    if (in.too_large) {
      core_.protocol_errors_++;
      // Built apart: GCC 12 destroys a temporary of a ?: inside a
      // co_await's arguments twice.
      std::string limit_text = "the limit of " + std::to_string(options.max_frame_payload_bytes);
      if (!first) limit_text = "what is left of the batch limit of " + std::to_string(kMaxBatchBytes);
      std::string why =
          FrameTypeName(in.type) + " of " + std::to_string(in.announced_size) + " bytes exceeds " + limit_text;
      co_await Fail(PeerErrorCode::kFrameTooLarge, std::move(why));
      co_return false;
    }
    if (in.type == static_cast<uint8_t>(FrameType::kError)) {
      LogPeerError(in);
      co_return false;
    }
    const bool more = in.type == static_cast<uint8_t>(FrameType::kDeliverMore) && version_ >= kPeerProtocolBatchVersion;
    if (in.type != static_cast<uint8_t>(FrameType::kDeliver) && !more) {
      core_.protocol_errors_++;
      co_await Fail(PeerErrorCode::kProtocolViolation, "unexpected " + FrameTypeName(in.type) + " frame");
      co_return false;
    }
    if (more && (batch.size() - start + 1 >= kMaxBatchEnvelopes || in.payload.size() > kMaxBatchBytes)) {
      core_.protocol_errors_++;
      co_await Fail(PeerErrorCode::kProtocolViolation, "a batch holds at most " + std::to_string(kMaxBatchEnvelopes) +
                                                           " requests and " + std::to_string(kMaxBatchBytes) +
                                                           " bytes");
      co_return false;
    }
    batch_bytes += in.payload.size();
    batch.push_back(std::move(in.payload));
    last = !more;
  }
  co_return true;
}

// Hands the batch to the handler and writes its answers, in order; false
// when they could not be written.
asio::awaitable<bool> Session::Answer(std::vector<std::string>& batch) {
  const PeerServerOptions& options = core_.options_;
  ErrorCode ec;
  phase_ = Phase::kHandling;
  core_.requests_ += batch.size();
  if (batch.size() > 1) core_.batches_++;
  // The fault point stands for a share read whole; a witness request or a
  // card announcement, which a partner may send between its shares, is not
  // one.
  if (batch.size() != 1 || (!audit::IsWitnessRequest(batch.front()) && !IsCardAnnouncement(batch.front()))) {
    FaultPoint("peer_server.after_read");
  }
  std::vector<Result<std::string>> answers = CallHandler(batch);
  std::vector<std::string>().swap(batch);  // a large request need not wait for the answer's write
  batch_hold_.Release();
  std::vector<std::string> bodies(answers.size());
  std::vector<FrameOut> frames(answers.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    Result<std::string>& answer = answers[i];
    if (answer.ok() && answer->size() > options.max_frame_payload_bytes) {
      LogError("peer: handler answer for " + Who() + " exceeds the frame limit");
      answer = Status::Internal("response exceeds the frame limit");
    }
    if (answer.ok()) {
      frames[i].type = FrameType::kResponse;
      bodies[i] = std::move(answer).value();
    } else {
      core_.handler_failures_++;
      frames[i].type = FrameType::kFailure;
      bodies[i] = EncodeFailure(answer.status());
    }
    frames[i].payload = bodies[i];
  }
  SetDeadline(options.frame_timeout);
  phase_ = Phase::kWriting;
  co_await WriteFrames(stream_, frames, ec);
  if (ec) {
    if (timed_out_) core_.timeouts_++;
    LogInfo("peer: sending the answer to " + Who() +
            " failed: " + (timed_out_ ? std::string("timed out") : DescribeError(ec)));
    co_return false;
  }
  co_return true;
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

std::vector<Result<std::string>> Session::CallHandler(const std::vector<std::string>& batch) {
  try {
    std::vector<Result<std::string>> answers;
    if (batch.size() == 1) {
      answers.push_back(core_.handler_.OnDeliver(peer_id_, version_, batch.front()));
    } else {
      answers = core_.handler_.OnDeliverBatch(peer_id_, version_, batch);
    }
    if (answers.size() == batch.size()) {
      for (Result<std::string>& answer : answers) {
        if (!answer.ok()) answer = ForPartner(answer.status(), Who());
      }
      return answers;
    }
    LogError("peer: handler answered " + std::to_string(answers.size()) + " of a batch of " +
             std::to_string(batch.size()) + " from " + Who());
  } catch (const std::exception&) {
    LogError("peer: handler threw while serving " + Who());
  } catch (...) {
    LogError("peer: handler threw while serving " + Who());
  }
  return std::vector<Result<std::string>>(batch.size(),
                                          Status::Internal("the receiving node failed to process the request"));
}

void Session::LogPeerError(const FrameIn& in) {
  Result<PeerError> e = DecodeError(in.payload);
  if (e.ok()) {
    LogInfo("peer: " + Who() + " sent ERROR " + PeerErrorCodeName(e->code) + ": " + e->message);
  } else {
    LogInfo("peer: " + Who() + " sent a malformed ERROR frame");
  }
}
}  // namespace schakel::peer::peer_internal
