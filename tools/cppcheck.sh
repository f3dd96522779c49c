#!/usr/bin/env bash
# tools/cppcheck.sh [BUILD_DIR] — cppcheck over every translation unit of
# Schakel (libraries, daemon, cli, tests, fuzz targets) from the compile
# database in BUILD_DIR (default build/lint; any configured build dir works).
# Exit 0 when clean, 1 on a finding, 2 when it cannot run.
#
# Findings that are false positives are suppressed where they occur
# (// cppcheck-suppress ID, with a comment why) or, for third-party code and
# whole-project cases, in tools/cppcheck-suppressions.txt (also with why).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/build/lint}
JOBS=${JOBS:-2}

if ! command -v cppcheck >/dev/null; then
  echo "cppcheck: not installed (apt-get install cppcheck)" >&2
  exit 2
fi
if [ ! -f "$DIR/compile_commands.json" ]; then
  echo "cppcheck: no $DIR/compile_commands.json; configure first (cmake -S . -B $DIR)" >&2
  exit 2
fi
# The build dir holds cppcheck's per-file results, so a rerun only checks
# what changed.
mkdir -p "$DIR/cppcheck"

# --enable=warning,performance,portability: the bug-finding classes; "style"
# is left to clang-tidy and review. Headers of the system and of third-party
# libraries (/usr) are not ours: cppcheck does not descend into them
# (--suppress=*:/usr/*, and they are not on the -I path it reads unless named
# by the project; missingIncludeSystem is therefore expected and suppressed).
exec cppcheck ${CPPCHECK_EXTRA:-} \
  --project="$DIR/compile_commands.json" \
  --cppcheck-build-dir="$DIR/cppcheck" \
  --enable=warning,performance,portability \
  --std=c++20 \
  --library=googletest,openssl,sqlite3,boost,posix,gnu \
  --inline-suppr \
  --suppressions-list="$ROOT/tools/cppcheck-suppressions.txt" \
  --suppress='*:/usr/*' \
  -i"$ROOT/build" -i"$ROOT/tests/browser" \
  --error-exitcode=1 \
  --quiet \
  -j"$JOBS" \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]'
