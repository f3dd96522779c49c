#include "fault_point_io.h"  // includes peer_io.h, which includes <utility> before Asio

#include <array>
#include <chrono>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace schakel::peer {

boost::asio::awaitable<void> WriteHalfFrameThenCrash(peer_internal::TlsStream& stream, FrameType type,
                                                     std::string_view payload, std::string_view name) {
  std::array<uint8_t, kFrameHeaderBytes> header = EncodeFrameHeader(type, static_cast<uint32_t>(payload.size()));
  std::array<boost::asio::const_buffer, 2> buffers{boost::asio::buffer(header),
                                                   boost::asio::buffer(payload.data(), payload.size() / 2)};
  peer_internal::ErrorCode ec;
  co_await boost::asio::async_write(stream, buffers, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  // Give the kernel a moment to put the bytes on the wire: a socket closed
  // with unread input is reset, and pending output would be dropped.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  FaultCrash(name);
}

}  // namespace schakel::peer
