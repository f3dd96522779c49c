#include "fault_point_io.h"  // includes peer_io.h, which includes <utility> before Asio

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), which <csignal> need not declare
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "schakel/base/log.h"

namespace schakel::daemon {
namespace {

#ifdef SCHAKEL_FAULT_POINTS
struct Armed {
  std::string name;   // empty: nothing armed
  long nth = 1;       // crash on this pass
  std::atomic<long> passes{0};
};

Armed& ArmedPoint() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never freed: a crash may come from any thread at any time
    const char* env = std::getenv("SCHAKEL_FAULT_POINT");
    if (env == nullptr || *env == '\0') return a;
    std::string spec(env);
    if (spec.size() > 128) return a;
    auto colon = spec.find(':');
    if (colon != std::string::npos) {
      char* end = nullptr;
      long n = std::strtol(spec.c_str() + colon + 1, &end, 10);
      if (end == nullptr || *end != '\0' || n < 1 || n > 1000000) return a;
      a->nth = n;
      spec.resize(colon);
    }
    a->name = spec;
    return a;
  }();
  return *armed;
}
#endif

}  // namespace

#ifdef SCHAKEL_FAULT_POINTS
bool FaultPointHit(std::string_view name) {
  Armed& a = ArmedPoint();
  if (a.name.empty() || a.name != name) return false;
  return a.passes.fetch_add(1) + 1 == a.nth;
}
#endif

void FaultCrash(std::string_view name) {
  // stderr is unbuffered: the line is out before the signal lands.
  LogWarn("fault point " + std::string(name) + ": killing this process (SIGKILL) for a fault test");
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

boost::asio::awaitable<void> WriteHalfFrameThenCrash(peer_internal::TlsStream& stream,
                                                     FrameType type, std::string_view payload,
                                                     std::string_view name) {
  std::array<uint8_t, kFrameHeaderBytes> header =
      EncodeFrameHeader(type, static_cast<uint32_t>(payload.size()));
  std::array<boost::asio::const_buffer, 2> buffers{
      boost::asio::buffer(header), boost::asio::buffer(payload.data(), payload.size() / 2)};
  peer_internal::ErrorCode ec;
  co_await boost::asio::async_write(stream, buffers,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  // Give the kernel a moment to put the bytes on the wire: a socket closed
  // with unread input is reset, and pending output would be dropped.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  FaultCrash(name);
}

}  // namespace schakel::daemon
