#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] — run every libFuzzer target (docs/fuzzing.md).
#
# Installs clang and libFuzzer if missing, configures build/fuzz with clang++
# and -DSCHAKEL_FUZZ=ON (libraries with -fsanitize=fuzzer-no-link,address,
# undefined), builds the NAME_fuzz targets and runs each for SECONDS seconds
# (first argument, else $SECONDS... of the environment if set, else 60) on a
# copy of its seeds in build/fuzz/corpus/NAME, so tests/fuzz/corpus stays
# clean. New inputs libFuzzer finds stay in that copy.
#
# Environment: FUZZ_TARGETS="json consent" to run only some; JOBS (build);
# FUZZ_RECORD=FILE appends one tab-separated line per target run to FILE
# (docs/fuzz-hours.tsv is the project's record; docs/fuzzing.md).
# Prints per target the runs executed, coverage and corpus and whether it
# found anything; exits 1 if any target crashed, leaked or timed out, naming
# the crash file.
#
# The corpus a run leaves in build/fuzz/corpus/NAME lives on one machine.
# tools/fuzz.sh --keep [NAME...] carries it to the next: it minimizes each
# target's corpus (libFuzzer -merge=1: the fewest inputs with the same
# coverage) into tests/fuzz/kept/NAME.tar.gz, to be committed. A run whose
# build/fuzz/corpus/NAME does not exist yet starts from that archive and the
# seeds, not from the seeds alone.
#
# tools/fuzz.sh --summary [FILE] prints the totals per target of a record
# (default docs/fuzz-hours.tsv) and builds nothing. A run stopped from
# outside (SIGINT) is recorded "interrupted": its hours count, and it found
# nothing. A run that stopped at a timeout whose input, run again alone,
# finishes within the limit (the fuzzer was kept off a busy CPU) is recorded
# "timeout-unreproduced" and found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# tools/fuzz.sh --table [FILE] prints the same totals as the Markdown table
# of docs/fuzzing.md, the most CPU first.
if [ "${1:-}" = "--table" ]; then
  record=${2:-$ROOT/docs/fuzz-hours.tsv}
  [ -f "$record" ] || { echo "fuzz.sh: no record at $record" >&2; exit 2; }
  echo "| target | runs | wall | CPU | executions | cov | ft | corpus |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  awk -F'\t' '
    function commas(n,   s) { s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
    /^#/ || NF < 11 { next }
    { t = $3; wall[t] += $4; runs[t] += $6; n[t]++
      if ($5 == "-") unmeasured[t]++; else cpu[t] += $5
      cov[t] = $7; ft[t] = $8; units[t] = $9; bytes[t] = $10 }
    END {
      for (t in n) {
        c = sprintf("%.1f min", cpu[t] / 60)
        if (unmeasured[t] == n[t]) c = "?"; else if (unmeasured[t] > 0) c = c " (+ unmeasured)"
        printf "%015.3f\t| `%s` | %d | %d min | %s | %s | %s | %s | %d files, %.0f KiB |\n", cpu[t], t, n[t], int(wall[t] / 60 + 0.5), c, commas(runs[t]), cov[t], ft[t], units[t], bytes[t] / 1024
      }
    }' "$record" | sort -r | cut -f2-
  exit 0
fi
if [ "${1:-}" = "--summary" ]; then
  record=${2:-$ROOT/docs/fuzz-hours.tsv}
  [ -f "$record" ] || { echo "fuzz.sh: no record at $record" >&2; exit 2; }
  # Columns: date commit target wall_s cpu_s runs cov ft corpus_units corpus_bytes result
  printf "%-15s %5s %9s %9s %13s %7s %7s %8s %10s %6s\n" target runs wall_min cpu_min executions cov ft corpus bytes found
  awk -F'\t' '
    /^#/ || NF < 11 { next }
    { t = $3; wall[t] += $4; runs[t] += $6; n[t]++
      if ($5 == "-") unmeasured[t]++; else cpu[t] += $5
      cov[t] = $7; ft[t] = $8; units[t] = $9; bytes[t] = $10
      if ($11 != "ok" && $11 != "interrupted" && $11 != "timeout-unreproduced") found[t]++ }
    END {
      for (t in n) {
        # CPU minutes; "+" when some runs were not measured, "?" when none was.
        c = sprintf("%.1f", cpu[t] / 60)
        if (unmeasured[t] == n[t]) c = "?"; else if (unmeasured[t] > 0) c = c "+"
        printf "%-15s %5d %9.1f %9s %13d %7s %7s %8s %10s %6d\n", t, n[t], wall[t] / 60, c, runs[t], cov[t], ft[t], units[t], bytes[t], found[t]
      }
    }' "$record" | sort
  exit 0
fi
JOBS=${JOBS:-2}
KEEP=""
if [ "${1:-}" = "--keep" ]; then
  KEEP=yes
  shift
  if [ $# -gt 0 ]; then FUZZ_TARGETS="$*"; fi
  set --
fi
# bash sets $SECONDS to the shell's uptime; only a value exported by the
# caller counts.
if [ $# -ge 1 ]; then
  SECS=$1
elif printenv SECONDS >/dev/null 2>&1; then
  SECS=$(printenv SECONDS)
else
  SECS=60
fi
case "$SECS" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number of seconds, not '$SECS'" >&2; exit 2 ;; esac

BUILD=$ROOT/build/fuzz
# Every tests/fuzz/NAME_fuzz.cpp is a target.
ALL_TARGETS=()
for f in "$ROOT"/tests/fuzz/*_fuzz.cpp; do
  f=${f##*/}
  ALL_TARGETS+=("${f%_fuzz.cpp}")
done
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

log() { printf '==> %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in clang libfuzzer-14-dev libclang-rt-14-dev; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_and_build() {
  local launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  log "configuring build/fuzz with clang++ (SCHAKEL_FUZZ=ON)"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSCHAKEL_FUZZ=ON -DSCHAKEL_WERROR=ON -DSCHAKEL_BENCH=OFF "${launcher[@]}" >/dev/null
  local names=()
  for t in "${TARGETS[@]}"; do names+=("${t}_fuzz"); done
  log "building ${names[*]}"
  cmake --build "$BUILD" -j"$JOBS" --target "${names[@]}"
}

# Minimizes build/fuzz/corpus/NAME into tests/fuzz/kept/NAME.tar.gz. The
# archive is the same bytes for the same inputs (names are libFuzzer's
# SHA-1 of the content; order, owner and times fixed).
keep() {  # target
  local t=$1 corpus=$BUILD/corpus/$1 bin=$BUILD/tests/fuzz/${1}_fuzz
  local kept=$ROOT/tests/fuzz/kept
  if [ ! -d "$corpus" ]; then
    log "$t: no corpus in $corpus to keep (run the target first)"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/min" "$kept"
  if ! ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    "$tmp/min" "$corpus" >"$tmp/merge.log" 2>&1; then
    tail -5 "$tmp/merge.log" >&2
    rm -rf "$tmp"
    echo "fuzz.sh: minimizing the corpus of $t failed" >&2
    return 1
  fi
  (cd "$tmp/min" && find . -type f -printf '%P\n' | LC_ALL=C sort |
    tar --create --owner=0 --group=0 --numeric-owner --mtime=@0 --mode=0644 --files-from=- |
    gzip -n -9 >"$kept/$t.tar.gz")
  printf '%-15s %6s files in %s -> %6s files, %s bytes in tests/fuzz/kept/%s.tar.gz\n' "$t" \
    "$(find "$corpus" -type f | wc -l)" "build/fuzz/corpus/$t" "$(find "$tmp/min" -type f | wc -l)" \
    "$(stat -c %s "$kept/$t.tar.gz")" "$t"
  rm -rf "$tmp"
}

install_missing
configure_and_build

if [ -n "$KEEP" ]; then
  kept_all=0
  for t in "${TARGETS[@]}"; do keep "$t" || kept_all=1; done
  exit "$kept_all"
fi

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

failed=0
total_runs=0
printf '%-15s %8s %12s %7s %7s %14s  %s\n' target seconds runs cov ft corpus result
for t in "${TARGETS[@]}"; do
  bin=$BUILD/tests/fuzz/${t}_fuzz
  corpus=$BUILD/corpus/$t
  artifacts=$BUILD/artifacts/$t
  if [ ! -d "$corpus" ] && [ -f "$ROOT/tests/fuzz/kept/$t.tar.gz" ]; then
    mkdir -p "$corpus"
    tar --extract --gzip --no-same-owner --file "$ROOT/tests/fuzz/kept/$t.tar.gz" --directory "$corpus"
  fi
  mkdir -p "$corpus" "$artifacts"
  cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  out=$BUILD/logs/$t.log
  mkdir -p "$(dirname "$out")"
  status=0
  wall_before=$(date +%s)
  # bash's `time` gives the fuzzer's own CPU seconds (user, system): on a
  # busy machine they, not the wall clock, say how much fuzzing was done.
  TIMEFORMAT='%U %S'
  { time ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$out" 2>&1; } 2>"$out.cpu" || status=$?
  wall=$(($(date +%s) - wall_before))
  cpu=$(awk 'NF == 2 { printf "%.0f", $1 + $2 }' "$out.cpu")
  cpu=${cpu:-0}
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
  if [ -z "$runs" ]; then
    runs=$(grep -oE '^#[0-9]+' "$out" | tail -1 | tr -d '#' || true)
  fi
  runs=${runs:-0}
  # libFuzzer's last status line: "#N ... cov: E ft: F corp: U/S ..."
  last=$(grep -E ' cov: [0-9]+ ft: [0-9]+ corp: ' "$out" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
  total_runs=$((total_runs + runs))
  crash=$(grep -oE "Test unit written to [^ ]+" "$out" | tail -1 | sed 's/Test unit written to //' || true)
  # A timeout is judged on the wall clock: a fuzzer at low priority on a
  # busy machine can be kept off the CPU past it. Such an input is run
  # again alone; one that then finishes within the limit was no hang.
  unreproduced=""
  if [ "$status" -ne 0 ] && [[ "$crash" == */timeout-* ]] && [ -f "$crash" ] &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" -timeout=10 -rss_limit_mb=2048 "$crash" >"$out.recheck" 2>&1; then
    unreproduced=yes
  fi
  if [ "$status" -eq 0 ]; then
    result="nothing found"
  elif [ -z "$crash" ] && grep -q "libFuzzer: run interrupted" "$out"; then
    result="interrupted; nothing found"
  elif [ -n "$unreproduced" ]; then
    result="timed out on a busy machine, ran alone within the limit ($crash); nothing found"
  else
    failed=1
    result="FOUND (exit $status) ${crash:-no artifact}; log $out"
  fi
  printf '%-15s %8s %12s %7s %7s %14s  %s\n' "$t" "$SECS" "$runs" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
  if [ -n "${FUZZ_RECORD:-}" ]; then
    units=$(find "$corpus" -type f | wc -l)
    bytes=$(du -sb "$corpus" | cut -f1)
    ok=ok
    if [ "$status" -ne 0 ]; then ok="found:exit-$status"; fi
    # Stopped from outside (SIGINT, SIGTERM): the hours count, nothing was found.
    if [ "$status" -ne 0 ] && [ -z "$crash" ] && grep -q "libFuzzer: run interrupted" "$out"; then ok=interrupted; fi
    if [ -n "$unreproduced" ]; then ok=timeout-unreproduced; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$commit" "$t" "$wall" \
      "$cpu" "$runs" "${cov:--}" "${ft:--}" "$units" "$bytes" "$ok" >>"$FUZZ_RECORD"
  fi
  if [ "$status" -ne 0 ] && [ -z "$unreproduced" ]; then
    grep -E "ERROR: |fuzz property failed|runtime error|SUMMARY" "$out" | head -5 | sed 's/^/    /'
  fi
done
printf '%-15s %8s %12s\n' total $((SECS * ${#TARGETS[@]})) "$total_runs"
exit "$failed"
