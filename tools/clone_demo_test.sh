#!/usr/bin/env bash
# tools/clone_demo_test.sh — a fresh clone runs the demo with nothing beside it.
#
# Clones the repository's committed HEAD into an empty folder (nothing else in
# it: no sibling folders, no build output) and runs `./dev demo` there; passes when
# that exits 0. `./dev demo` does its own set-up and build in the clone; with
# ccache and CCACHE_BASEDIR (./dev sets it) the compiler output of an earlier
# build of the same sources is reused, so this costs the links and the demo's
# own run. The clone is removed afterwards. Every wait is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIMIT=${CLONE_DEMO_TIMEOUT:-1800}

fail() { printf 'clone demo test: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf 'clone demo test: %s\n' "$*" >&2; }

[ -d "$ROOT/.git" ] || fail "$ROOT is not a git repository"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/schakel-clone-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/empty"
git clone -q --no-hardlinks "$ROOT" "$WORK/empty/schakel" || fail "git clone did not work"
[ "$(ls -A "$WORK/empty")" = "schakel" ] || fail "the folder beside the clone is not empty"
say "cloned $(git -C "$WORK/empty/schakel" rev-parse --short HEAD) into an empty folder; running ./dev demo there"

set +e
(cd "$WORK/empty/schakel" && timeout --kill-after=10 "$LIMIT" ./dev demo) >"$WORK/demo.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  tail -40 "$WORK/demo.log" >&2
  fail "./dev demo in the fresh clone exited $rc"
fi
grep -q "every step did what it said" "$WORK/demo.log" || fail "the demo ended without its closing line"
say "passed: ./dev demo exited 0 in a clone with nothing beside it ($(grep -o 'Demo complete in [0-9]* s' "$WORK/demo.log"))"
