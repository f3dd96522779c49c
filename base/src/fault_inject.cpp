#include "schakel/base/fault_inject.h"

#ifdef SCHAKEL_FAULT_POINTS

#include <atomic>

#include "fault_spec.h"

namespace schakel {
namespace {

struct Armed {
  internal::FaultSpec spec;  // name empty: nothing armed; fail from pass nth on
  std::atomic<long> passes{0};
};

Armed& ArmedFailure() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never freed: points may be passed by threads still running at exit
    a->spec = internal::ReadFaultSpec("SCHAKEL_FAULT_FAIL");
    return a;
  }();
  return *armed;
}

}  // namespace

bool FaultFail(std::string_view name) {
  Armed& a = ArmedFailure();
  if (a.spec.name.empty() || a.spec.name != name) return false;
  return a.passes.fetch_add(1) + 1 >= a.spec.nth;
}

}  // namespace schakel

#endif  // SCHAKEL_FAULT_POINTS
