#!/usr/bin/env bash
# The Schakel demo: nodes on loopback in a temporary folder, narrated.
# Exits 0 only if every step did what it says; cleans up after itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCHAKEL="$ROOT/build/schakel"
SCHAKELD="$ROOT/build/schakeld"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/schakel-demo-XXXXXX")
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
step_ok() { printf '  ok: %s\n' "$*"; }
fail() { printf '  FAILED: %s\n' "$*" >&2; exit 1; }

# A free base port: four consecutive ports per node, picked by the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

make_node() {  # dir id type name
  local port
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$(free_port)
    [ "$port" -lt 65000 ] && break
  done
  "$SCHAKEL" init --dir "$WORK/$1" --org-id "$2" --org-type "$3" --name "$4" \
    --listen "127.0.0.1:$port" >/dev/null || fail "init $2"
  step_ok "$4 ($2, $3) created; peer port $port"
}

say "1. Two organisations each create a node"
make_node school school-trajectum school "Trajectum College"
make_node wijkteam wijkteam-overvecht wijkteam "Wijkteam Overvecht"

say "2. They exchange node cards and compare fingerprints by phone"
FP_SCHOOL=$("$SCHAKEL" node fingerprint --dir "$WORK/school")
FP_TEAM=$("$SCHAKEL" node fingerprint --dir "$WORK/wijkteam")
echo "  school reads out:   $FP_SCHOOL"
echo "  wijkteam reads out: $FP_TEAM"

say "3. A mistyped fingerprint is refused"
WRONG="${FP_TEAM:0:4}$(( (${FP_TEAM:4:1} + 1) % 10 ))${FP_TEAM:5}"
set +e
"$SCHAKEL" partner add --dir "$WORK/school" --card "$WORK/wijkteam/node-card.json" \
  --fingerprint "$WRONG" 2>"$WORK/err"
rc=$?
set -e
[ $rc -eq 3 ] || fail "a wrong fingerprint was not refused (exit $rc)"
step_ok "refused (exit 3): $(cat "$WORK/err")"

say "4. With the right fingerprints, each imports the other's card"
"$SCHAKEL" partner add --dir "$WORK/school" --card "$WORK/wijkteam/node-card.json" \
  --fingerprint "$FP_TEAM" || fail "school imports wijkteam"
"$SCHAKEL" partner add --dir "$WORK/wijkteam" --card "$WORK/school/node-card.json" \
  --fingerprint "$FP_SCHOOL" || fail "wijkteam imports school"
"$SCHAKEL" partner list --dir "$WORK/school"

say "5. The school adds its zorgcoördinator"
"$SCHAKEL" user add --dir "$WORK/school" --name "J. Bakker" --role coordinator \
  | tail -n1 | sed 's/^\(skl_.\{6\}\).*/  token: \1… (shown once; only its hash is stored)/'

say "6. Both daemons start, load their keys and stop cleanly"
for n in school wijkteam; do
  "$SCHAKELD" --dir "$WORK/$n" 2>"$WORK/$n.log" &
  PIDS+=($!)
done
for _ in $(seq 1 50); do
  if grep -q ready "$WORK/school.log" && grep -q ready "$WORK/wijkteam.log"; then break; fi
  sleep 0.1
done
grep -q ready "$WORK/school.log" || fail "school daemon did not start: $(cat "$WORK/school.log")"
grep -q ready "$WORK/wijkteam.log" || fail "wijkteam daemon did not start: $(cat "$WORK/wijkteam.log")"
step_ok "both daemons ready"
for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" || fail "daemon exited uncleanly"; done
PIDS=()
step_ok "both stopped on SIGTERM"

say "Demo complete: two nodes paired by card and fingerprint."
