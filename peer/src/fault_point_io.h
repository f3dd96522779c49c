// Private to peer/: the "mid-frame" crash point of the fault tests
// (see fault_point.h), apart so that fault_point.h needs no Asio.
#pragma once

#include "peer_io.h"  // includes <utility> before Asio

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "schakel/base/fault_point.h"

namespace schakel::peer {

// Writes the frame header and the first half of `payload` to `stream`,
// waits for the bytes to leave, then crashes (FaultCrash). Called only when
// FaultPointHit(name) said so.
boost::asio::awaitable<void> WriteHalfFrameThenCrash(peer_internal::TlsStream& stream, FrameType type,
                                                     std::string_view payload, std::string_view name);

}  // namespace schakel::peer
