#!/bin/sh
# ctest driver for link.test.mjs: a fresh node in a temp dir, schakeld on
# loopback ports picked here, a case, two consents and a link; then the
# browser test; then the daemon is stopped. Usage:
#   run_link_test.sh BUILD_DIR FIXTURES_DIR (tests/fixtures)
set -eu
build=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Four consecutive free ports (peer, api, links, console), below the
# ephemeral range and claimed against the other tests (tools/free_port_base.py).
base=$(python3 "$here/../../tools/free_port_base.py")
dir=$tmp/school
"$build/schakel" init --dir "$dir" --name "Trajectum College" --org-id school-a --org-type school \
  --listen "127.0.0.1:$base" >/dev/null
"$build/schakel" student load --dir "$dir" --file "$fixtures/roster.csv" >/dev/null
# The first coordinator is made at once; the mentor waits for its confirmation.
"$build/schakel" user add --dir "$dir" --name zorgco --role coordinator | tail -n 1 > "$tmp/zorgco.token"
"$build/schakel" user add --dir "$dir" --name mentor --role staff | tail -n 1 > "$tmp/mentor.token"
"$build/schakel" user confirm mentor --offline --dir "$dir" --token-file "$tmp/zorgco.token" >/dev/null
"$build/schakeld" --dir "$dir" > "$tmp/daemon.log" 2>&1 &
pid=$!
i=0
until "$build/schakel" status --dir "$dir" --token-file "$tmp/mentor.token" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 150 ]; then echo "schakeld did not start"; cat "$tmp/daemon.log"; exit 1; fi
  sleep 0.1
done
"$build/schakel" case add --dir "$dir" --token-file "$tmp/mentor.token" --file "$fixtures/cases/sanne.json" >/dev/null
cat > "$tmp/ouder.json" <<'J'
{"subject_id": "stu-1042", "grantor_role": "ouder", "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
 "categories": ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"],
 "valid_from": "2026-01-01", "valid_until": null}
J
cat > "$tmp/jongere.json" <<'J'
{"subject_id": "stu-1042", "grantor_role": "jongere", "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
 "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
 "valid_from": "2026-01-01", "valid_until": null}
J
"$build/schakel" consent add --dir "$dir" --token-file "$tmp/zorgco.token" --file "$tmp/ouder.json" >/dev/null
"$build/schakel" consent add --dir "$dir" --token-file "$tmp/zorgco.token" --file "$tmp/jongere.json" >/dev/null
"$build/schakel" link create casus-2026-0042 --dir "$dir" --token-file "$tmp/mentor.token" \
  --for "dr. A. Jansen" --type wijkteam --purpose doorverwijzing --allow-partial > "$tmp/link.out"
url=$(grep -o 'https://[^ ]*/l/[A-Za-z0-9_-]*' "$tmp/link.out" | head -n 1)
code=$(tail -n 1 "$tmp/link.out")
timeout 120 node "$here/link.test.mjs" "$url" "$code" "$build/screenshots"
