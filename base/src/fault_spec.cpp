#include "fault_spec.h"

#include <cstdlib>

#ifdef SCHAKEL_FAULT_POINTS

namespace schakel::internal {

FaultSpec ReadFaultSpec(const char* variable) {
  FaultSpec none;
  const char* env = std::getenv(variable);
  if (env == nullptr || *env == '\0') return none;
  std::string spec(env);
  if (spec.size() > 128) return none;
  FaultSpec out;
  auto colon = spec.find(':');
  if (colon != std::string::npos) {
    char* end = nullptr;
    long n = std::strtol(spec.c_str() + colon + 1, &end, 10);
    if (end == nullptr || *end != '\0' || n < 1 || n > 1000000) return none;
    out.nth = n;
    spec.resize(colon);
  }
  out.name = spec;
  return out;
}

}  // namespace schakel::internal

#endif  // SCHAKEL_FAULT_POINTS
