// Internal to base: the "NAME" or "NAME:N" value of the environment variables
// that arm a fault point (SCHAKEL_FAULT_FAIL for fault_inject.h,
// SCHAKEL_FAULT_POINT for fault_point.h), read the same way for both so the
// two kinds of point cannot drift apart in what they accept.
#pragma once

#ifdef SCHAKEL_FAULT_POINTS

#include <atomic>
#include <string>

namespace schakel::internal {

struct FaultSpec {
  std::string name;  // empty: nothing armed
  long nth = 1;      // the pass the point acts on (default: the first)
};

// Reads the environment variable `variable`. Unset, empty, longer than 128
// characters, or N not a whole number in [1, 1000000]: nothing armed.
FaultSpec ReadFaultSpec(const char* variable);

// A point's arming and how often it was passed, read once per process.
struct ArmedFault {
  FaultSpec spec;
  std::atomic<long> passes{0};
};

}  // namespace schakel::internal

#endif  // SCHAKEL_FAULT_POINTS
