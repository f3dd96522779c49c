// Failure injection for the fault tests (tests/*/fault_*_test.cpp,
// docs/fault-tests.md): named points where a test makes an operation fail as
// an I/O error would, to check that the code around it fails closed.
//
// Compiled in only when CMake's SCHAKEL_FAULT_POINTS is ON (the default for
// development and test builds; `./dev package` turns it OFF, so the Debian
// package holds no injection points and FaultFail is constant false).
//
// When the environment variable SCHAKEL_FAULT_FAIL is "NAME" or "NAME:N",
// FaultFail("NAME") returns true on the Nth pass (default: the first) and on
// every pass after it: from then on the operation keeps failing, as a broken
// disk would, so a test need not know how many passes the request it checks
// makes. Passes are counted per process from its start. Any other value, or
// no variable, and every point answers false.
//
// Thread-safety: may be called from any thread.
#pragma once

#include <string_view>

namespace schakel {

#ifdef SCHAKEL_FAULT_POINTS
// Counts a pass through `name`; true when the operation there is to fail.
bool FaultFail(std::string_view name);
#else
constexpr bool FaultFail(std::string_view) { return false; }
#endif

}  // namespace schakel
