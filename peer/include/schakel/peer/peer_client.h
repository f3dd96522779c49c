// PeerClient: one node's connection to one partner node (the client side of
// docs/peer-protocol.md), for a delivery worker thread.
//
// A client dials the partner's address, runs the TLS 1.3 handshake accepting
// only the partner's pinned key, exchanges HELLO frames (the partner must say
// it is the node we dial), and then sends requests: Deliver()
// writes a DELIVER frame and blocks until the RESPONSE (the partner's answer,
// e.g. a signed receipt) or FAILURE (the partner's handler refused);
// DeliverBatch() sends several at once (protocol version 3); Send() and
// Collect() keep several batches in flight. The
// connection stays open between requests and is reused; it is opened on
// first use or by Connect(), and reopened by the next call after any error
// that closed it.
//
// Status codes: kUnavailable when the partner cannot be reached, the
// connection breaks, a deadline passes or the partner is stopping (worth a
// retry later); kDenied when the partner's key is not the pinned one, it
// refused our certificate, or it claims another node id; kResourceExhausted
// when the partner has too many connections from us or our payload exceeds
// its limit; kInvalidInput for a payload over our own limit (nothing sent);
// kInternal for protocol violations. A FAILURE frame gives the partner's
// handler's Status as it sent it (code and message, "peer <id>: " in front),
// and leaves the connection open. Whether a request whose Deliver() failed
// was processed by the partner is unknown: requests must be idempotent (the
// delivery layer's message ids make them so).
//
// Threads: a client owns a private io_context that runs only inside its own
// calls, on the calling thread; there are no background threads. It is not
// thread-safe: one thread at a time, except Interrupt(), which may be called
// from any thread while the client exists (for shutdown): the call in
// progress, and every later call, returns kUnavailable promptly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/config/networks.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/peer_tls.h"

namespace schakel::peer {
namespace peer_internal {
class ClientCore;
}

// Whom to dial: from the partner's node card.
struct PeerEndpoint {
  std::string node_id;  // the partner's node id; its HELLO must say this
  std::string host;     // IP address or DNS name, IPv6 without brackets
  uint16_t port = 0;
  SpkiPin pin{};  // the partner's TLS key pin
  // Also accepted: the pin of the partner's previous card, for a while after
  // its newer card came over the peer channel (it serves the old
  // certificate until it restarts).
  std::optional<SpkiPin> previous_pin;
};

struct PeerClientOptions {
  // Resolving, TCP connect, TLS handshake and HELLO together. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  // Writing one DELIVER and receiving its answer, including the partner's
  // processing. 16 MiB at 4 Mbit/s takes about 35 s. Default: 120 s.
  std::chrono::milliseconds request_timeout{120'000};
  // Payload limit for frames both ways after HELLO. Default:
  // kDefaultMaxFramePayloadBytes. REQUIRES: 1 KiB .. 1 GiB.
  size_t max_frame_payload_bytes = kDefaultMaxFramePayloadBytes;
  // Local IP address to connect from. Default: "" (the system chooses).
  std::string local_host;
  // The highest protocol version offered in HELLO (tests: a client of an
  // older release). Default: kPeerProtocolMaxVersion. REQUIRES:
  // kPeerProtocolMinVersion..kPeerProtocolMaxVersion.
  uint16_t max_version = kPeerProtocolMaxVersion;
  // [peer] allowed_networks: when not empty, an address the partner's host
  // resolves to outside these is not dialed. Whatever this says, a host
  // given as a name that resolves to a loopback, link-local, unspecified,
  // multicast or broadcast address is not dialed either (a literal one was
  // let in at import with --allow-local-address): docs/node-card.md "A
  // partner's address". kDenied when nothing is left to dial.
  std::vector<config::IpNetwork> allowed_networks;
};

class PeerClient {
 public:
  // `own_node_id` is ours (sent in HELLO), `identity` our TLS identity (its
  // key is copied into the client's TLS context). No I/O happens here.
  static Result<std::unique_ptr<PeerClient>> Create(std::string own_node_id, const crypto::TlsIdentity& identity,
                                                    PeerEndpoint peer, const PeerClientOptions& options = {});
  // Closes (see Close()).
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Opens the connection if it is not open. Deliver() calls it as needed.
  Status Connect();
  // Sends one share (a DELIVER frame) and returns the partner's answer.
  Result<std::string> Deliver(std::string_view payload);
  // The same exchange for a request that is not a share (a witness
  // request): the fault point peer_client.mid_frame, which stands for a
  // share cut off mid-frame (in Deliver and Send), does not apply to it.
  Result<std::string> Request(std::string_view payload);
  // Sends requests and returns one answer per request, in order. To a
  // partner that speaks kPeerProtocolBatchVersion they go in batches
  // (kMaxBatchEnvelopes, kMaxBatchBytes; a large one alone), all of a batch
  // written before its answers are read; to an older partner one at a time.
  // An answer is as Deliver's: a FAILURE is that request's Status and the
  // connection goes on; when the connection fails, every request not yet
  // answered gets that Status (whether the partner processed the ones in
  // flight is unknown) and the next call reconnects.
  std::vector<Result<std::string>> DeliverBatch(const std::vector<std::string_view>& payloads);

  // Pipelining (docs/peer-protocol.md "Pipelining"), for a partner that
  // speaks kPeerProtocolBatchVersion (CanPipeline()): Send() writes the
  // requests in batches as DeliverBatch() does and returns once they are
  // written, without their answers; Collect() reads the answers of the
  // oldest Sent not collected yet. Between the two more Send()s may go out,
  // so that the partner works on one while this side records the answers of
  // another. Every Sent is collected, in the order sent; until then
  // Deliver(), Request() and DeliverBatch() refuse (kInternal) rather than
  // read another request's answer, and Connect() keeps the connection. A
  // request over our frame limit is answered kInvalidInput and not sent.
  // When the connection fails, every answer not read yet gets that Status
  // (whether the partner processed those requests is unknown).
  struct Sent {
    std::vector<Result<std::string>> answers;  // one per payload; final after Collect()
    std::vector<size_t> sent;                  // the payloads written, in order
    uint64_t serial = 0;                       // which Send() it was
  };
  bool CanPipeline() const;
  Sent Send(const std::vector<std::string_view>& payloads);
  void Collect(Sent& sent);
  // How many Sents wait to be collected.
  size_t awaiting() const;
  // Waits, without reading anything, until the answers of the oldest Sent
  // can be read (their first bytes are here: Collect() then reads them
  // without waiting on the partner), `wake_fd` is readable (an eventfd or a
  // pipe the caller's other threads write to; -1: none; it is drained
  // here), or `timeout` passes (0: only looks). kAnswers also when nothing
  // is awaited or the connection has ended (Collect() then answers at
  // once). Bytes the TLS layer holds already count: OpenSSL's buffers are
  // looked at before the socket.
  enum class Ready { kAnswers, kWoken, kTimedOut };
  Ready AwaitAnswers(int wake_fd, std::chrono::milliseconds timeout);
  // The protocol version negotiated on the open connection; 0 when closed.
  uint16_t protocol_version() const;
  // Ends the connection politely (TLS close_notify, waited for at most
  // about a second). The next call reconnects.
  void Close();
  // Any thread; see the top of the file.
  void Interrupt();

  bool connected() const;
  const PeerEndpoint& peer() const;

 private:
  explicit PeerClient(std::unique_ptr<peer_internal::ClientCore> core);
  std::unique_ptr<peer_internal::ClientCore> core_;
};

// Connect, one Deliver, Close: for one-off requests.
Result<std::string> DeliverOnce(std::string own_node_id, const crypto::TlsIdentity& identity, PeerEndpoint peer,
                                std::string_view payload, const PeerClientOptions& options = {});

}  // namespace schakel::peer
