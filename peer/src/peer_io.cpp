#include "peer_io.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <span>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace schakel::peer::peer_internal {
namespace asio = boost::asio;
namespace {

// Below this, header and payload go out in one TLS record (one copy); above
// it, as two writes without copying the payload.
constexpr size_t kCoalesceBytes = 16 * 1024;

asio::awaitable<void> ReadPayload(TlsStream& stream, const std::array<uint8_t, kFrameHeaderBytes>& header,
                                  size_t max_payload, FrameIn& out, ErrorCode& ec, BudgetedRead budget) {
  PayloadReader reader;
  if (reader.Start(header, max_payload, out) != PayloadReader::Begin::kReading) co_return;
  // The frame's whole need is taken from the budget before any payload is
  // read (counted, not allocated): all or nothing, so frames waiting for
  // budget never hold part of it, and one that has it can finish.
  while (!reader.TakeBudget(budget.hold)) {
    if (budget.timed_out != nullptr && *budget.timed_out) {
      ec = asio::error::timed_out;
      co_return;
    }
    asio::steady_timer wait(stream.get_executor(), std::chrono::milliseconds(10));
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    ec.clear();
  }
  while (!reader.complete()) {
    const std::span<char> room = reader.Room(out);
    co_await asio::async_read(stream, asio::buffer(room.data(), room.size()),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    reader.Filled(room.size());
  }
  reader.Finish(budget.hold);
}

}  // namespace

asio::awaitable<void> ReadFrame(TlsStream& stream, size_t max_payload, FrameIn& out, ErrorCode& ec,
                                BudgetedRead budget) {
  std::array<uint8_t, kFrameHeaderBytes> header{};
  co_await asio::async_read(stream, asio::buffer(header), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await ReadPayload(stream, header, max_payload, out, ec, budget);
}

asio::awaitable<void> ReadHeaderStart(TlsStream& stream, std::array<uint8_t, kFrameHeaderBytes>& header, size_t& got,
                                      ErrorCode& ec) {
  got = co_await stream.async_read_some(asio::buffer(header), asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> FinishFrame(TlsStream& stream, std::array<uint8_t, kFrameHeaderBytes>& header, size_t got,
                                  size_t max_payload, FrameIn& out, ErrorCode& ec, BudgetedRead budget) {
  if (got < kFrameHeaderBytes) {
    co_await asio::async_read(stream, asio::buffer(header.data() + got, kFrameHeaderBytes - got),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
  co_await ReadPayload(stream, header, max_payload, out, ec, budget);
}

asio::awaitable<void> WriteFrame(TlsStream& stream, FrameType type, std::string_view payload, ErrorCode& ec) {
  std::array<uint8_t, kFrameHeaderBytes> header = EncodeFrameHeader(type, static_cast<uint32_t>(payload.size()));
  if (payload.size() <= kCoalesceBytes) {
    std::string buf;
    buf.reserve(kFrameHeaderBytes + payload.size());
    buf.append(reinterpret_cast<const char*>(header.data()), header.size());
    buf.append(payload);
    co_await asio::async_write(stream, asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(payload.data(), payload.size())};
  co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> WriteFrames(TlsStream& stream, const std::vector<FrameOut>& frames, ErrorCode& ec) {
  std::vector<std::array<uint8_t, kFrameHeaderBytes>> headers;
  headers.reserve(frames.size());
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(2 * frames.size());
  for (const FrameOut& f : frames) {
    headers.push_back(EncodeFrameHeader(f.type, static_cast<uint32_t>(f.payload.size())));
    buffers.emplace_back(headers.back().data(), headers.back().size());
    if (!f.payload.empty()) buffers.emplace_back(f.payload.data(), f.payload.size());
  }
  co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
}

bool TlsHoldsBytes(TlsStream& stream) {
  SSL* ssl = stream.native_handle();
  return SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
}

bool BytesWaiting(TlsStream& stream) {
  if (TlsHoldsBytes(stream)) return true;
  pollfd p{};
  p.fd = stream.lowest_layer().native_handle();
  p.events = POLLIN;
  return ::poll(&p, 1, 0) > 0;
}

std::string DescribeError(const ErrorCode& ec) {
  if (ec == asio::error::operation_aborted) return "cancelled";
  if (ec == asio::error::eof) return "connection closed";
  if (ec == asio::ssl::error::stream_truncated) return "connection closed without TLS close";
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) return std::string("TLS: ") + reason;
    return "TLS error " + std::to_string(ec.value());
  }
  return ec.message();
}

bool IsPeerClosed(const ErrorCode& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

bool IsCertificateRefusedAlert(const ErrorCode& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  auto packed = static_cast<unsigned long>(ec.value());
  if (ERR_GET_LIB(packed) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(packed)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  std::string host = AddressText(ep.address());
  std::string port = std::to_string(ep.port());
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

}  // namespace schakel::peer::peer_internal
