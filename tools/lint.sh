#!/usr/bin/env bash
# tools/lint.sh — static analysis of Schakel: clang-tidy (.clang-tidy) over
# every translation unit of the libraries, the daemon and the tool, then
# cppcheck (tools/cppcheck.sh) over every translation unit including the
# tests, then Clang's thread-safety analysis (tools/thread_safety.py) over
# the code that holds the node's locks. Called by `./dev lint`. Exit 0 when
# all are clean, 1 on findings, 2 when a tool is missing.
#
#   LINT_DIR   build dir that holds the compile database (default build/lint;
#              it is only configured, never built)
#   JOBS       parallel jobs (default 2)
#   TIDY_FILTER  regex of files for clang-tidy (default: all but tests/)
#
# docs/static-analysis.md says what is checked and why.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DIR=${LINT_DIR:-build/lint}
JOBS=${JOBS:-2}
TIDY_FILTER=${TIDY_FILTER:-"^$ROOT/(base|consent|formats|config|crypto|store|audit|service|peer|http|daemon|cli)/src/"}

log() { printf '==> %s\n' "$*" >&2; }

missing=()
command -v clang-tidy-14 >/dev/null || missing+=(clang-tidy-14)
command -v cppcheck >/dev/null || missing+=(cppcheck)
command -v clang++-14 >/dev/null || missing+=(clang-14)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "lint: missing ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi

# Configure only: the compile database is all the analysers need. Each test
# file in it on its own (not in the build's unity groups), as it is written.
log "configuring $DIR (compile database)"
cmake -S "$ROOT" -B "$DIR" -DCMAKE_BUILD_TYPE=Release -DSCHAKEL_BENCH=OFF -DSCHAKEL_TEST_UNITY=OFF >/dev/null

status=0
start=$(date +%s)
log "clang-tidy (-j$JOBS)"
# One clang-tidy per translation unit, JOBS at a time. Findings are errors
# (WarningsAsErrors: '*'), so a file with a finding exits non-zero. A run
# killed by a signal (clang-tidy 14 dies with SIGBUS when a file it has
# mapped is rewritten under it, e.g. by an editor) is retried once.
tidy_one() {
  local file=$1 out rc
  out=$(clang-tidy-14 -p "$DIR" --quiet "$file" 2>&1) && rc=0 || rc=$?
  if [ "$rc" -gt 128 ]; then
    out=$(clang-tidy-14 -p "$DIR" --quiet "$file" 2>&1) && rc=0 || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -v -E '^[0-9]+ (warning|error)s? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter' >&2
    printf 'clang-tidy: %s: exit %s\n' "${file#"$ROOT"/}" "$rc" >&2
    return 1
  fi
}
export -f tidy_one
export DIR ROOT
files=$(python3 -c 'import json,re,sys
r=re.compile(sys.argv[2])
print("\n".join(sorted({e["file"] for e in json.load(open(sys.argv[1])) if r.search(e["file"])})))' \
  "$DIR/compile_commands.json" "$TIDY_FILTER")
count=$(printf '%s\n' "$files" | grep -c . || true)
log "clang-tidy: $count files"
if ! printf '%s\n' "$files" | xargs -r -d '\n' -P "$JOBS" -n 1 bash -c 'tidy_one "$1"' _; then
  status=1
fi
mid=$(date +%s)
log "clang-tidy took $((mid - start)) s"

log "cppcheck (-j$JOBS)"
if ! JOBS=$JOBS "$ROOT/tools/cppcheck.sh" "$DIR"; then
  status=1
fi
end=$(date +%s)
log "cppcheck took $((end - mid)) s"

# Clang's thread-safety analysis: the lock annotations of base/thread_annotations.h.
log "thread-safety analysis (clang++ -Wthread-safety, -j$JOBS)"
if ! python3 "$ROOT/tools/thread_safety.py" "$DIR" "$JOBS"; then
  status=1
fi
log "thread-safety took $(($(date +%s) - end)) s"

if [ $status -eq 0 ]; then log "lint: clean"; else log "lint: findings above"; fi
exit $status
