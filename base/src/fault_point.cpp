#include "schakel/base/fault_point.h"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), which <csignal> need not declare
#include <unistd.h>

#include <atomic>
#include <string>

#include "fault_spec.h"
#include "schakel/base/log.h"

namespace schakel {
namespace {

#ifdef SCHAKEL_FAULT_POINTS
struct Armed {
  internal::FaultSpec spec;  // name empty: nothing armed; crash on pass nth
  std::atomic<long> passes{0};
};

Armed& ArmedPoint() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never freed: a crash may come from any thread at any time
    a->spec = internal::ReadFaultSpec("SCHAKEL_FAULT_POINT");
    return a;
  }();
  return *armed;
}
#endif

}  // namespace

#ifdef SCHAKEL_FAULT_POINTS
bool FaultPointHit(std::string_view name) {
  Armed& a = ArmedPoint();
  if (a.spec.name.empty() || a.spec.name != name) return false;
  return a.passes.fetch_add(1) + 1 == a.spec.nth;
}
#endif

void FaultCrash(std::string_view name) {
  // stderr is unbuffered: the line is out before the signal lands.
  LogWarn("fault point " + std::string(name) + ": killing this process (SIGKILL) for a fault test");
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

}  // namespace schakel
