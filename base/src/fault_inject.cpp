#include "schakel/base/fault_inject.h"

#ifdef SCHAKEL_FAULT_POINTS

#include "fault_spec.h"

namespace schakel {
namespace {

internal::ArmedFault& ArmedFailure() {
  static internal::ArmedFault* armed = [] {
    auto* a = new internal::ArmedFault;  // never freed: points may be passed by threads still running at exit
    a->spec = internal::ReadFaultSpec("SCHAKEL_FAULT_FAIL");
    return a;
  }();
  return *armed;
}

}  // namespace

bool FaultFail(std::string_view name) {
  internal::ArmedFault& a = ArmedFailure();
  if (a.spec.name.empty() || a.spec.name != name) return false;
  return a.passes.fetch_add(1) + 1 >= a.spec.nth;
}

}  // namespace schakel

#endif  // SCHAKEL_FAULT_POINTS
