#include "schakel/base/fault_inject.h"

#ifdef SCHAKEL_FAULT_POINTS

#include <atomic>
#include <cstdlib>
#include <string>

namespace schakel {
namespace {

struct Armed {
  std::string name;  // empty: nothing armed
  long nth = 1;      // fail from this pass on
  std::atomic<long> passes{0};
};

Armed& ArmedFailure() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never freed: points may be passed by threads still running at exit
    const char* env = std::getenv("SCHAKEL_FAULT_FAIL");
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

}  // namespace

bool FaultFail(std::string_view name) {
  Armed& a = ArmedFailure();
  if (a.name.empty() || a.name != name) return false;
  return a.passes.fetch_add(1) + 1 >= a.nth;
}

}  // namespace schakel

#endif  // SCHAKEL_FAULT_POINTS
