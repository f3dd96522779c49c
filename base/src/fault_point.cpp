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
internal::ArmedFault& ArmedPoint() {
  static internal::ArmedFault* armed = [] {
    auto* a = new internal::ArmedFault;  // never freed: a crash may come from any thread at any time
    a->spec = internal::ReadFaultSpec("SCHAKEL_FAULT_POINT");
    return a;
  }();
  return *armed;
}
#endif

}  // namespace

#ifdef SCHAKEL_FAULT_POINTS
bool FaultPointHit(std::string_view name) {
  internal::ArmedFault& a = ArmedPoint();
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
