// Private to the daemon: frame I/O over a TLS stream, shared by PeerServer
// and PeerClient (C++20 coroutines on Asio).
//
// These coroutines know nothing of deadlines: the owner of the stream runs a
// watchdog that cancels the socket's operations when a deadline passes, and
// the coroutine then completes with operation_aborted. Errors are returned in
// `ec` (never thrown); a frame whose header announces more than the limit is
// reported through FrameIn::too_large before any payload is read or
// allocated.
//
// Thread-safety: a stream is used by one coroutine at a time, on its strand.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "frame_budget.h"
#include "frame_reader.h"
#include "schakel/peer/peer_protocol.h"

namespace schakel::peer::peer_internal {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
using ErrorCode = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// Where a frame's payload buffer may grow from (frame_budget.h): `hold` of
// the node's budget, and the flag the owner's watchdog sets when the frame
// deadline passes (a reader waiting for budget then gives up with
// timed_out). Without one the buffer still grows with the bytes.
struct BudgetedRead {
  BudgetHold* hold = nullptr;
  const bool* timed_out = nullptr;
};

// Reads one whole frame with a payload limit of `max_payload`. The payload
// buffer grows as bytes arrive (PayloadReader, frame_reader.h), never all at
// once from the header.
boost::asio::awaitable<void> ReadFrame(TlsStream& stream, size_t max_payload, FrameIn& out, ErrorCode& ec,
                                       BudgetedRead budget = {});

// Waits for the first bytes of the next frame header: on success 1..5 bytes
// are in `header` and `got` says how many. For idle detection: the caller
// switches from the idle deadline to the frame deadline after this.
boost::asio::awaitable<void> ReadHeaderStart(TlsStream& stream, std::array<uint8_t, kFrameHeaderBytes>& header,
                                             size_t& got, ErrorCode& ec);

// Completes a frame whose first `got` header bytes are in `header`.
boost::asio::awaitable<void> FinishFrame(TlsStream& stream, std::array<uint8_t, kFrameHeaderBytes>& header, size_t got,
                                         size_t max_payload, FrameIn& out, ErrorCode& ec, BudgetedRead budget = {});

// Writes one frame. REQUIRES: payload.size() fits in u32.
boost::asio::awaitable<void> WriteFrame(TlsStream& stream, FrameType type, std::string_view payload, ErrorCode& ec);

// One frame to write with WriteFrames.
struct FrameOut {
  FrameType type = FrameType::kDeliver;
  std::string_view payload;  // the caller keeps it alive until the write ends
};
// Writes frames back to back in one write (a batch or its answers).
// REQUIRES: each payload's size fits in u32.
boost::asio::awaitable<void> WriteFrames(TlsStream& stream, const std::vector<FrameOut>& frames, ErrorCode& ec);

// Whether OpenSSL holds bytes of the stream that no read has taken yet (a
// record read with the one before, or undecrypted bytes in the stream's BIO
// pair): the socket then looks idle although the next frame is here. Asio's
// own buffer in front of OpenSSL is not seen (it holds bytes only when more
// than its 17 KiB came at once).
bool TlsHoldsBytes(TlsStream& stream);
// TlsHoldsBytes, or the socket is readable now (without waiting; a closed
// connection counts: the read that follows says so).
bool BytesWaiting(TlsStream& stream);

// A short description of an I/O or TLS error for logs and messages.
std::string DescribeError(const ErrorCode& ec);
// The peer closed the connection (EOF, TLS close_notify or a TCP close
// without it, reset): an end, not a fault, when it happens between frames.
bool IsPeerClosed(const ErrorCode& ec);
// A TLS alert by which the peer refused our certificate.
bool IsCertificateRefusedAlert(const ErrorCode& ec);

// "127.0.0.1:7401" / "[::1]:7401"; IPv4-mapped IPv6 shown as IPv4.
std::string EndpointText(const boost::asio::ip::tcp::endpoint& ep);
// The address alone, IPv4-mapped IPv6 as IPv4: the key of the per-address cap.
std::string AddressText(const boost::asio::ip::address& address);

}  // namespace schakel::peer::peer_internal
