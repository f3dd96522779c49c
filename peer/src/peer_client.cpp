#include "schakel/peer/peer_client.h"

#include "peer_client_core.h"  // includes <utility> before Asio

#include "fault_point_io.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "schakel/base/log.h"
#include "schakel/base/strings.h"

namespace schakel::peer {
namespace peer_internal {

namespace {

// Why an address the partner's host resolved to is not dialed; empty when
// it may be. `literal`: the host is an IP address itself (let in at import).
std::string RefusedTarget(const asio::ip::address& at, bool literal, const std::vector<config::IpNetwork>& allowed) {
  auto ip = config::ParseIpAddress(at.to_string());
  if (!ip.ok()) return "resolves to an address that cannot be checked (" + at.to_string() + ")";
  if (!literal) {
    std::string_view kind = config::LocalAddressKind(*ip);
    if (!kind.empty()) return "the name resolves to " + ip->ToString() + ", a " + std::string(kind) + " address";
  }
  if (!config::InAllowedNetworks(allowed, *ip)) return ip->ToString() + " is outside [peer] allowed_networks";
  return "";
}

}  // namespace

Status ClientCore::Run(milliseconds timeout, std::string_view doing, asio::awaitable<Status> op) {
  io_.restart();
  bool done = false;
  bool timed_out = false;
  Status result = Status::Internal(Where() + ": operation did not complete");
  asio::steady_timer timer(io_);
  timer.expires_after(timeout);
  asio::co_spawn(io_, std::move(op), [&](std::exception_ptr e, Status s) {
    done = true;
    timer.cancel();
    result = e ? Status::Internal(Where() + ": unexpected failure") : std::move(s);
  });
  asio::co_spawn(io_, Watch(timer, done, timed_out), asio::detached);
  try {
    io_.run();
  } catch (...) {
    CloseNow();
    return Status::Internal(Where() + ": unexpected failure");
  }
  if (!result.ok() && interrupted_) return Status::Unavailable(Where() + ": interrupted");
  if (timed_out) {
    return Status::Unavailable(Where() + ": timed out after " + std::to_string(timeout.count()) + " ms " +
                               std::string(doing));
  }
  return result;
}

asio::awaitable<void> ClientCore::Watch(asio::steady_timer& timer, const bool& done, bool& timed_out) {
  ErrorCode ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (done || ec) co_return;
  timed_out = true;
  CancelIo();
  timer.expires_after(milliseconds(1000));
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (done || ec) co_return;
  if (stream_) {
    ErrorCode ignored;
    stream_->lowest_layer().close(ignored);
  }
}

Status ClientCore::Connect() {
  if (connected_) {
    // Answers on their way make the socket readable: not stale.
    if (!awaiting_.empty() || !Stale()) return Status::Ok();
    // Nothing was sent on it yet, so opening a new one is safe.
    LogDebug("peer: connection to " + Where() + " was ended by the partner; reconnecting");
    CloseNow();
  }
  if (interrupted_) return Status::Unavailable(Where() + ": interrupted");
  CloseNow();
  Status s = Run(options_.connect_timeout, "connecting", DoConnect());
  if (!s.ok()) {
    CloseNow();
    return s;
  }
  connected_ = true;
  ++generation_;
  LogDebug("peer: connected to " + Where());
  return s;
}

Result<std::string> ClientCore::Deliver(std::string_view payload, bool share) {
  if (payload.size() > options_.max_frame_payload_bytes) {
    return Status::InvalidInput(Where() + ": payload of " + std::to_string(payload.size()) +
                                " bytes exceeds the frame limit of " +
                                std::to_string(options_.max_frame_payload_bytes));
  }
  if (interrupted_) return Status::Unavailable(Where() + ": interrupted");
  SCHAKEL_RETURN_IF_ERROR(NothingAwaited());
  SCHAKEL_RETURN_IF_ERROR(Connect());
  std::string response;
  failure_frame_ = false;
  Status s = Run(options_.request_timeout, "waiting for the answer", DoDeliver(payload, share, response));
  if (!s.ok()) {
    if (!failure_frame_ || interrupted_) CloseNow();
    return s;
  }
  return response;
}

void ClientCore::Close() {
  if (stream_ && connected_ && !interrupted_ && awaiting_.empty()) {
    Status ignored = Run(std::min(options_.connect_timeout, milliseconds(1000)), "closing", DoShutdown());
    (void)ignored;
  }
  CloseNow();
}

asio::awaitable<Status> ClientCore::DoConnect() {
  ErrorCode ec;
  tcp::resolver::results_type results =
      co_await resolver_.async_resolve(peer_.host, std::to_string(peer_.port), tcp::resolver::numeric_service,
                                       asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Status::Unavailable(Where() + ": cannot resolve: " + ec.message());
  std::vector<tcp::endpoint> targets;
  std::string refused;
  const bool literal = config::ParseIpAddress(peer_.host).ok();
  for (const auto& entry : results) {
    std::string why = RefusedTarget(entry.endpoint().address(), literal, options_.allowed_networks);
    if (why.empty()) {
      targets.push_back(entry.endpoint());
    } else if (refused.empty()) {
      refused = why;
    }
  }
  if (targets.empty()) {
    co_return Status::Denied(Where() + ": " + (refused.empty() ? "resolves to no address" : refused) +
                             "; not dialed (docs/node-card.md, \"A partner's address\")");
  }

  std::optional<asio::ip::address> local;
  if (!options_.local_host.empty()) {
    asio::ip::address a = asio::ip::make_address(options_.local_host, ec);
    if (ec) co_return Status::InvalidInput("peer client: local_host is not an IP address");
    local = a;
  }

  // A fresh verifier per connection; the stream goes first (it points to it).
  stream_.reset();
  PinLookup accepted = ExpectOnePin(peer_.pin, peer_.node_id);
  if (peer_.previous_pin) {
    PinLookup previous = ExpectOnePin(*peer_.previous_pin, peer_.node_id);
    accepted = [accepted, previous](const SpkiPin& presented) -> std::optional<std::string> {
      if (auto id = accepted(presented)) return id;
      return previous(presented);
    };
  }
  verifier_ = std::make_unique<PeerVerifier>(std::move(accepted));
  stream_.emplace(io_, tls_);
  auto& socket = stream_->lowest_layer();
  ErrorCode last = asio::error::host_not_found;
  bool tcp_up = false;
  for (const tcp::endpoint& target : targets) {
    ErrorCode ignored;
    socket.close(ignored);
    socket.open(target.protocol(), ec);
    if (!ec && local) socket.bind(tcp::endpoint(*local, 0), ec);
    if (!ec) co_await socket.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      tcp_up = true;
      break;
    }
    last = ec;
    if (ec == asio::error::operation_aborted || interrupted_) break;
  }
  if (!tcp_up) co_return Status::Unavailable(Where() + ": cannot connect: " + last.message());
  socket.set_option(tcp::no_delay(true), ec);

  Status secured = co_await DoTlsHandshake();
  if (!secured.ok()) co_return secured;
  co_return co_await DoHelloExchange();
}

// TLS 1.3 on the connected socket, with the partner's key checked against
// its pin.
asio::awaitable<Status> ClientCore::DoTlsHandshake() {
  ErrorCode ec;
  Status attached = verifier_->Attach(stream_->native_handle());
  if (!attached.ok()) co_return attached;
  co_await stream_->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (verifier_->saw_certificate() && !verifier_->accepted()) {
      LogWarn("peer: refused " + Where() + ": its TLS key has pin " + PinHex(verifier_->presented_pin()) +
              ", the pin on file is " + PinHex(peer_.pin));
      co_return Status::Denied(Where() + ": presented TLS key pin " + PinHex(verifier_->presented_pin()) +
                               ", expected " + PinHex(peer_.pin) + " (unknown or changed key); refused");
    }
    co_return TransportFailure(ec, "TLS handshake");
  }
  Result<std::string> who = verifier_->Confirm(stream_->native_handle());
  if (!who.ok()) co_return who.status().WithContext(Where());
  co_return Status::Ok();
}

// HELLO both ways: names checked, a version in common.
asio::awaitable<Status> ClientCore::DoHelloExchange() {
  ErrorCode ec;
  Hello ours;
  ours.node_id = own_id_;
  ours.max_version = options_.max_version;
  std::string hello_bytes = EncodeHello(ours);
  co_await WriteFrame(*stream_, FrameType::kHello, hello_bytes, ec);
  if (ec) co_return TransportFailure(ec, "sending HELLO");
  FrameIn in;
  co_await ReadFrame(*stream_, kMaxHandshakeFramePayloadBytes, in, ec);
  if (ec) co_return TransportFailure(ec, "waiting for HELLO");
  if (in.too_large) {
    co_await SendError(PeerErrorCode::kFrameTooLarge, "oversize frame before HELLO");
    co_return Status::Internal(Where() + ": sent an oversize frame before HELLO");
  }
  if (in.type == static_cast<uint8_t>(FrameType::kError)) co_return FromPeerError(in);
  if (in.type != static_cast<uint8_t>(FrameType::kHello)) {
    co_await SendError(PeerErrorCode::kProtocolViolation, "expected HELLO, got " + FrameTypeName(in.type));
    co_return Status::Internal(Where() + ": sent " + FrameTypeName(in.type) + " instead of HELLO");
  }
  Result<Hello> theirs = DecodeHello(in.payload);
  if (!theirs.ok()) {
    co_await SendError(PeerErrorCode::kProtocolViolation, theirs.status().message());
    co_return Status::Internal(Where() + ": " + theirs.status().message());
  }
  if (theirs->node_id != peer_.node_id) {
    co_await SendError(PeerErrorCode::kIdentityMismatch, "HELLO node id is not the node this TLS key is pinned to");
    co_return Status::Denied(Where() + ": says it is \"" + theirs->node_id + "\"; refused");
  }
  std::optional<uint16_t> version = NegotiateVersion(ours, *theirs);
  if (!version) {
    co_await SendError(PeerErrorCode::kUnsupportedVersion, "no protocol version in common");
    co_return Status::Unavailable(Where() + ": speaks protocol versions " + std::to_string(theirs->min_version) + ".." +
                                  std::to_string(theirs->max_version) + ", we speak " +
                                  std::to_string(ours.min_version) + ".." + std::to_string(ours.max_version));
  }
  version_ = *version;
  co_return Status::Ok();
}

asio::awaitable<Status> ClientCore::DoDeliver(std::string_view payload, bool share, std::string& response) {
  ErrorCode ec;
  if (share && FaultPointHit("peer_client.mid_frame")) {
    co_await WriteHalfFrameThenCrash(*stream_, FrameType::kDeliver, payload, "peer_client.mid_frame");
  }
  co_await WriteFrame(*stream_, FrameType::kDeliver, payload, ec);
  if (ec) co_return TransportFailure(ec, "sending the request");
  Result<std::string> answer = Status::Internal("no answer");
  Status read = co_await ReadAnswer(answer);
  if (!read.ok()) co_return read;
  if (!answer.ok()) {
    failure_frame_ = true;
    co_return answer.status();
  }
  response = std::move(answer).value();
  co_return Status::Ok();
}

asio::awaitable<Status> ClientCore::ReadAnswer(Result<std::string>& answer) {
  ErrorCode ec;
  FrameIn in;
  co_await ReadFrame(*stream_, options_.max_frame_payload_bytes, in, ec);
  if (ec) co_return TransportFailure(ec, "waiting for the answer");
  if (in.too_large) {
    co_await SendError(PeerErrorCode::kFrameTooLarge, "answer exceeds the frame limit");
    co_return Status::ResourceExhausted(Where() + ": answer of " + std::to_string(in.announced_size) +
                                        " bytes exceeds the frame limit");
  }
  switch (static_cast<FrameType>(in.type)) {
    case FrameType::kResponse:
      answer = std::move(in.payload);
      co_return Status::Ok();
    case FrameType::kFailure:
      answer = DecodeFailure(in.payload).WithContext("peer " + peer_.node_id);
      co_return Status::Ok();
    case FrameType::kError:
      co_return FromPeerError(in);
    case FrameType::kHello:
    case FrameType::kDeliver:
    case FrameType::kDeliverMore:
      break;
  }
  co_await SendError(PeerErrorCode::kProtocolViolation, "unexpected " + FrameTypeName(in.type) + " frame");
  co_return Status::Internal(Where() + ": sent " + FrameTypeName(in.type) + " instead of an answer");
}

asio::awaitable<Status> ClientCore::DoShutdown() {
  ErrorCode ec;
  co_await stream_->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  co_return Status::Ok();
}

// `why` by value: a coroutine must own what it uses after a co_await.
// cppcheck-suppress passedByValue
asio::awaitable<void> ClientCore::SendError(PeerErrorCode code, std::string why) {
  LogInfo("peer: closing connection to " + Where() + ": " + PeerErrorCodeName(static_cast<uint16_t>(code)) + ": " +
          why);
  std::string payload = EncodeError(code, why);
  ErrorCode ec;
  co_await WriteFrame(*stream_, FrameType::kError, payload, ec);
}

Status ClientCore::TransportFailure(const ErrorCode& ec, std::string_view doing) const {
  if (IsCertificateRefusedAlert(ec)) {
    return Status::Denied(Where() + ": refused our TLS certificate (" + DescribeError(ec) +
                          "); does it have our node card?");
  }
  return Status::Unavailable(Where() + ": " + std::string(doing) + ": " + DescribeError(ec));
}

Status ClientCore::FromPeerError(const FrameIn& in) const {
  Result<PeerError> e = DecodeError(in.payload);
  if (!e.ok()) return Status::Internal(Where() + ": sent a malformed ERROR frame");
  std::string text = Where() + ": " + PeerErrorCodeName(e->code) + ": " + e->message;
  switch (static_cast<PeerErrorCode>(e->code)) {
    case PeerErrorCode::kIdentityMismatch:
      return Status::Denied(std::move(text));
    case PeerErrorCode::kTooManyConnections:
    case PeerErrorCode::kFrameTooLarge:
      return Status::ResourceExhausted(std::move(text));
    case PeerErrorCode::kUnsupportedVersion:
    case PeerErrorCode::kTimeout:
    case PeerErrorCode::kIdleTimeout:
    case PeerErrorCode::kShuttingDown:
      return Status::Unavailable(std::move(text));
    case PeerErrorCode::kProtocolViolation:
    case PeerErrorCode::kInternal:
      break;
  }
  return Status::Internal(std::move(text));
}

}  // namespace peer_internal

Result<std::unique_ptr<PeerClient>> PeerClient::Create(std::string own_node_id, const crypto::TlsIdentity& identity,
                                                       PeerEndpoint peer, const PeerClientOptions& options) {
  if (!IsValidNodeId(own_node_id)) return Status::InvalidInput("peer client: bad own node id");
  if (!IsValidNodeId(peer.node_id)) return Status::InvalidInput("peer client: bad peer node id");
  if (peer.host.empty() || peer.port == 0) {
    return Status::InvalidInput("peer client: peer address needs a host and a port");
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return Status::InvalidInput("peer client: timeouts must be positive");
  }
  if (options.max_frame_payload_bytes < 1024 || options.max_frame_payload_bytes > (size_t{1} << 30)) {
    return Status::InvalidInput("peer client: max_frame_payload_bytes must be 1 KiB .. 1 GiB");
  }
  if (options.max_version < kPeerProtocolMinVersion || options.max_version > kPeerProtocolMaxVersion) {
    return Status::InvalidInput("peer client: max_version must be a protocol version this build speaks");
  }
  SCHAKEL_ASSIGN_OR_RETURN(boost::asio::ssl::context tls, MakePeerTlsContext(PeerRole::kClient, identity));
  auto core =
      std::make_unique<peer_internal::ClientCore>(std::move(own_node_id), std::move(peer), options, std::move(tls));
  return std::unique_ptr<PeerClient>(new PeerClient(std::move(core)));
}

PeerClient::PeerClient(std::unique_ptr<peer_internal::ClientCore> core) : core_(std::move(core)) {}
PeerClient::~PeerClient() = default;
Status PeerClient::Connect() { return core_->Connect(); }
Result<std::string> PeerClient::Deliver(std::string_view payload) { return core_->Deliver(payload, /*share=*/true); }
Result<std::string> PeerClient::Request(std::string_view payload) { return core_->Deliver(payload, /*share=*/false); }
std::vector<Result<std::string>> PeerClient::DeliverBatch(const std::vector<std::string_view>& payloads) {
  return core_->DeliverBatch(payloads);
}
bool PeerClient::CanPipeline() const { return core_->CanPipeline(); }
PeerClient::Sent PeerClient::Send(const std::vector<std::string_view>& payloads) { return core_->Send(payloads); }
void PeerClient::Collect(Sent& sent) { core_->Collect(sent); }
size_t PeerClient::awaiting() const { return core_->awaiting(); }
PeerClient::Ready PeerClient::AwaitAnswers(int wake_fd, std::chrono::milliseconds timeout) {
  return core_->AwaitAnswers(wake_fd, timeout);
}
uint16_t PeerClient::protocol_version() const { return core_->protocol_version(); }
void PeerClient::Close() { core_->Close(); }
void PeerClient::Interrupt() { core_->Interrupt(); }
bool PeerClient::connected() const { return core_->connected(); }
const PeerEndpoint& PeerClient::peer() const { return core_->peer(); }

Result<std::string> DeliverOnce(std::string own_node_id, const crypto::TlsIdentity& identity, PeerEndpoint peer,
                                std::string_view payload, const PeerClientOptions& options) {
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<PeerClient> client,
                           PeerClient::Create(std::move(own_node_id), identity, std::move(peer), options));
  Result<std::string> answer = client->Deliver(payload);
  client->Close();
  return answer;
}

}  // namespace schakel::peer
