// Named crash points for the fault tests
// (tests/daemon/fault_kill_test.cpp, docs/fault-tests.md).
//
// Compiled in only when CMake's SCHAKEL_FAULT_POINTS is ON (the default for
// development and test builds; `./dev package` turns it OFF, so the Debian
// package holds no crash points). When the environment variable
// SCHAKEL_FAULT_POINT is "NAME" or "NAME:N", the Nth time (default: the
// first) the process passes FaultPoint("NAME") it kills itself with SIGKILL:
// no destructors, no flushes, no rollback, as a power cut or the OOM killer
// would. Any other value, or no variable, and every point is a no-op.
//
// Thread-safety: may be called from any thread.
#pragma once

#include <string_view>

namespace schakel {

#ifdef SCHAKEL_FAULT_POINTS
// Counts a pass through `name`; true when this pass is the one to crash at.
bool FaultPointHit(std::string_view name);
#else
constexpr bool FaultPointHit(std::string_view) { return false; }
#endif

// Logs the point's name and kills this process with SIGKILL.
[[noreturn]] void FaultCrash(std::string_view name);

// Crashes here when SCHAKEL_FAULT_POINT names this point (see above).
inline void FaultPoint(std::string_view name) {
  if (FaultPointHit(name)) FaultCrash(name);
}

}  // namespace schakel
