// The `schakel` command-line tool, as a library so tests can run it in-process.
//
// RunCli parses argv, runs one command and returns the process exit code of
// CONTRACT.md (0 done, 1 failed at run time, 2 bad input or usage, 3 refused
// by policy or role). Errors are written to `err` as one line:
// "schakel: <what>: <why>". With --json, results go to `out` as one JSON
// document. No exception leaves RunCli.
#pragma once

#include <iosfwd>

namespace schakel::cli {

int RunCli(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace schakel::cli
