// PeerServer: the node's mutual-TLS listener for other nodes (the peer
// protocol of docs/peer-protocol.md).
//
// It accepts TCP connections, runs a TLS 1.3 handshake that admits only
// partners by their pinned key (peer_tls.h), exchanges HELLO frames (the
// claimed node id must be the pinned partner's), then serves DELIVER
// requests one after another on each connection: each payload goes to
// PeerHandler::OnDeliver, whose answer goes back as a RESPONSE frame (or, if
// the handler returns an error, as a FAILURE frame; the connection stays
// open). Payloads are opaque bytes to this layer.
//
// Every step has a deadline and every size a limit (PeerServerOptions).
// Malformed, oversize, unexpected or too slow frames end that connection
// with an ERROR frame (once TLS is up) and never affect other connections.
// Connections over the caps are refused: at accept time (total, and per
// remote address until the peer is identified) by closing the socket at
// once, after HELLO (per partner) with an ERROR frame.
//
// Ownership and threads: the server owns its io_context and
// `options.io_threads` threads, started by Start() and joined by Stop() (or
// the destructor). Each connection is a pair of C++20 coroutines (the session
// and its deadline watchdog) on its own strand. The handler must outlive the
// server.
//
// Thread-safety: Stop(), stats() and local_address() may be called from any
// thread. OnDeliver is called on the server's I/O threads, never twice at
// once for the same connection, but concurrently for different connections
// when io_threads > 1; it blocks that thread (and that connection) while it
// runs, so it should do bounded work (store, sign, return).
//
// Errors: Start() returns kInvalidInput for bad options, kUnavailable when
// the address cannot be resolved or bound, and the TLS context's errors.
// Per-connection failures are logged (remote address, partner node id or TLS
// key pin; never payloads or secrets) and counted in stats().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/peer_tls.h"

namespace schakel::peer {
namespace peer_internal {
class ServerCore;
}

// The application behind the server: the inbox (open, store, sign a receipt).
class PeerHandler {
 public:
  virtual ~PeerHandler() = default;
  // One DELIVER from the partner `peer_node_id` (authenticated by its pinned
  // TLS key and its HELLO), on a connection that negotiated
  // `protocol_version` (what the partner understands in an answer, see
  // peer_protocol.h). The returned bytes go back as RESPONSE; a non-OK
  // Status goes back as FAILURE with its code and message (keep the message
  // free of secrets and case contents: the peer sees it). Exceptions are
  // caught and answered as kInternal. See the top of the file for threads.
  virtual Result<std::string> OnDeliver(const std::string& peer_node_id, uint16_t protocol_version,
                                        std::string_view payload) = 0;
  // A batch of requests (protocol version 3: DELIVER_MORE ... DELIVER), one
  // answer per request in the same order; each answer as for OnDeliver. A
  // handler that stores may store the batch in one transaction (group
  // commit), but must not answer any request before what it answers is
  // durable. Default: OnDeliver for each in turn.
  virtual std::vector<Result<std::string>> OnDeliverBatch(const std::string& peer_node_id, uint16_t protocol_version,
                                                          const std::vector<std::string>& payloads);
  // The partner `peer_node_id` has just identified itself (pinned TLS key,
  // HELLO answered): its node is up. Called on the server's thread, so it
  // must return at once and not throw. Default: nothing.
  virtual void OnIdentified(const std::string& peer_node_id) noexcept { (void)peer_node_id; }
};

struct PeerServerOptions {
  // Where to listen. REQUIRES: host set. Port 0 lets the system pick one; see
  // PeerServer::local_address().
  config::Address listen;

  // From accept to the end of both HELLO frames (TCP, TLS handshake, HELLO).
  // Default: 10 s.
  std::chrono::milliseconds handshake_timeout{10'000};
  // From the first byte of a frame to its last, and for writing one frame.
  // 16 MiB at 4 Mbit/s takes about 35 s. Default: 60 s.
  std::chrono::milliseconds frame_timeout{60'000};
  // Longest wait for the next request on an open connection; then the
  // server sends ERROR idle_timeout and closes. Default: 120 s.
  std::chrono::milliseconds idle_timeout{120'000};
  // Cap on the time Stop() waits for sessions to end before it abandons
  // them (an OnDeliver call in progress is always waited for).
  // Default: 2 s.
  std::chrono::milliseconds shutdown_grace{2'000};

  // Open connections in total; more are closed at accept. Default: 256.
  size_t max_connections = 256;
  // Connections from one remote IP address that have not yet identified
  // themselves (TLS + HELLO pending); more are closed at accept. Keeps one
  // address from holding all slots with half-open handshakes. Default: 16.
  size_t max_connections_per_address = 16;
  // Connections from one /24 (IPv4) or /64 (IPv6) network that have not yet
  // identified themselves; more are closed at accept. Many addresses of one
  // network count as one source. At this cap and at the per-address one, a
  // new connection takes the place of the oldest stranger from there that
  // has had stranger_grace (below), if there is one. Default: 32.
  size_t max_connections_per_prefix = 32;
  // Of max_connections, at most this many may be strangers (not yet
  // identified); the rest are kept for partners. When the listener or the
  // strangers' share is full, a new connection takes the place of the
  // oldest stranger that has had stranger_grace to identify itself and has
  // not (that one is closed); only when there is none is the new one
  // refused. A partner identifies itself within milliseconds, so half-open
  // handshakes cannot keep it out. Default: 192 (at most max_connections).
  size_t max_stranger_connections = 192;
  // How long a stranger may take before it may be pushed out. Default: 3 s.
  std::chrono::milliseconds stranger_grace{3'000};
  // Identified connections per partner node id; more get ERROR
  // too_many_connections after HELLO. Default: 8.
  size_t max_connections_per_peer = 8;
  // Payload limit of a frame after HELLO (before it: 512 bytes).
  // Default: kDefaultMaxFramePayloadBytes (16 MiB + 64 KiB).
  // REQUIRES: 1 KiB .. 1 GiB.
  size_t max_frame_payload_bytes = kDefaultMaxFramePayloadBytes;

  // Inbound payload bytes the node holds at once, being read or handled
  // ([peer] max_buffered_mib): a frame's buffer grows as its bytes arrive and
  // each growth is taken from this budget; one partner may hold half of it.
  // A reader that cannot take what it needs waits (TCP slows its sender)
  // until bytes come back or its frame deadline passes. Default: 64 MiB.
  // REQUIRES: at least 3 * max_frame_payload_bytes (a partner's half must
  // hold a largest frame while its buffer grows: 1.5 times its size).
  size_t max_buffered_bytes = size_t{64} << 20;

  // Threads that run the connections (and the handler). Default: 2.
  // REQUIRES: 1..64.
  int io_threads = 2;
};

// Counters since Start(); for /metrics and tests.
struct PeerServerStats {
  uint64_t accepted = 0;            // TCP connections admitted to a session
  uint64_t refused_capacity = 0;    // closed at accept: total, per-address or per-network cap
  uint64_t evicted_strangers = 0;   // strangers closed to make room for a new connection
  uint64_t refusal_log_lines = 0;   // log lines written about refusals (at most one per network a minute, and a count)
  uint64_t refused_peer_limit = 0;  // identified partner over its connection cap
  uint64_t refused_pin = 0;         // TLS key with no partner's pin, or no certificate
  uint64_t handshake_failures = 0;  // other TLS handshake failures (version, garbage)
  uint64_t protocol_errors = 0;     // bad or oversize frames, bad HELLO, identity mismatch
  uint64_t timeouts = 0;            // handshake, frame or idle deadline passed
  uint64_t requests = 0;            // DELIVER and DELIVER_MORE frames handed to the handler
  uint64_t batches = 0;             // of which batches of more than one (version 3)
  uint64_t handler_failures = 0;    // of which the handler returned an error
  uint64_t active = 0;              // sessions open now
  uint64_t buffered_bytes = 0;      // of max_buffered_bytes, held now
  uint64_t buffered_peak = 0;       // the most held at once since Start()
};

class PeerServer {
 public:
  // Binds, listens and starts serving. `node_id` is ours (sent in HELLO);
  // `partners` maps a presented pin to a partner's node id.
  static Result<std::unique_ptr<PeerServer>> Start(std::string node_id, const crypto::TlsIdentity& identity,
                                                   PinLookup partners, PeerHandler& handler,
                                                   const PeerServerOptions& options);
  // Stops (see Stop()).
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  // Stops accepting, tells open sessions ERROR shutting_down and closes them,
  // waits for them up to shutdown_grace, joins the threads. Idempotent.
  // REQUIRES: not called from OnDeliver (it joins the thread running it).
  void Stop();

  // The bound address; its port is the real one when options asked for 0.
  config::Address local_address() const;
  PeerServerStats stats() const;
  // Serves `identity` from now on: connections accepted after this call
  // present it, open ones finish with the one they started with (a key
  // rotated by `schakel node rotate-keys`, docs/region.md "Card updates").
  // Thread-safe. Errors: the TLS context's.
  Status ReplaceIdentity(const crypto::TlsIdentity& identity);

 private:
  explicit PeerServer(std::unique_ptr<peer_internal::ServerCore> core);
  std::unique_ptr<peer_internal::ServerCore> core_;
};

}  // namespace schakel::peer
