#include "schakel/base/fault_point.h"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), which <csignal> need not declare
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "schakel/base/log.h"

namespace schakel {
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

}  // namespace schakel
