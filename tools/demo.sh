#!/usr/bin/env bash
# The Schakel demo: four nodes on loopback — a school, a wijkteam, the RMC and
# leerplicht (LVS) — in a temporary folder, narrated with the fixtures'
# students. Exits 0 only if every step did what it says; cleans up after itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCHAKEL="$ROOT/build/schakel"
SCHAKELD="$ROOT/build/schakeld"
CASES="$ROOT/tests/fixtures/cases"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/schakel-demo-XXXXXX")
PIDS=()
START=$(date +%s)

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
ok() { printf '  \033[32mok\033[0m %s\n' "$*"; }
fail() {
  printf '  \033[31mFAILED\033[0m %s\n' "$*" >&2
  for n in school wijkteam rmc lvs; do [ -f "$WORK/$n.log" ] && sed "s/^/  [$n] /" "$WORK/$n.log" | tail -5 >&2; done
  exit 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Four consecutive free ports (peer, api, links, console), chosen at random.
free_base() {
  python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000, 4)
    try:
        socks = []
        for p in range(base, base + 4):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        for s in socks: s.close()
        print(base); break
    except OSError:
        for s in socks: s.close()
PY
}

# as NODE TOKEN-VAR schakel-args...: run an online command as a user.
as() { local node=$1 token=$2; shift 2; SCHAKEL_TOKEN="$token" "$SCHAKEL" --dir "$WORK/$node" "$@"; }
expect_refused() {  # description, command...
  local what=$1; shift
  set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  [ $rc -eq 3 ] || fail "$what: expected a refusal (exit 3), got exit $rc: $(cat "$WORK/err")"
}
wait_state() {  # node token message state
  for _ in $(seq 1 100); do
    state=$(as "$1" "$2" shares --json | json "[s['state'] for s in d['shares'] if s['message_id']=='$3'][0]")
    [ "$state" = "$4" ] && return 0
    sleep 0.1
  done
  fail "share $3 did not reach state $4 (it is $state)"
}

say "1. Four organisations create their nodes"
declare -A NAME=([school]="Trajectum College" [wijkteam]="Buurtteam Overvecht" [rmc]="RMC Utrecht" [lvs]="Leerplicht Utrecht")
declare -A ID=([school]=school-trajectum [wijkteam]=wijkteam-overvecht [rmc]=rmc-utrecht [lvs]=lvs-utrecht)
for n in school wijkteam rmc lvs; do
  base=$(free_base)
  "$SCHAKEL" init --dir "$WORK/$n" --name "${NAME[$n]}" --org-id "${ID[$n]}" --org-type "$n" \
    --listen "127.0.0.1:$base" >/dev/null || fail "init $n"
  ok "${NAME[$n]} (${ID[$n]}), peer port $base"
done

say "2. The school pairs with each partner: cards exchanged, fingerprints compared by phone"
for n in wijkteam rmc lvs; do
  fp_partner=$("$SCHAKEL" node fingerprint --dir "$WORK/$n")
  fp_school=$("$SCHAKEL" node fingerprint --dir "$WORK/school")
  "$SCHAKEL" partner add --allow-local-address --dir "$WORK/school" --card "$WORK/$n/node-card.json" --fingerprint "$fp_partner" >/dev/null
  "$SCHAKEL" partner add --allow-local-address --dir "$WORK/$n" --card "$WORK/school/node-card.json" --fingerprint "$fp_school" >/dev/null
  ok "school <-> ${ID[$n]}  (${fp_partner:0:17}…)"
done
wrong="${fp_partner:0:4}$(( (${fp_partner:4:1} + 1) % 10 ))${fp_partner:5}"
expect_refused "mistyped fingerprint" "$SCHAKEL" partner add --allow-local-address --dir "$WORK/wijkteam" \
  --card "$WORK/lvs/node-card.json" --fingerprint "$wrong"
ok "a mistyped fingerprint is refused: $(cat "$WORK/err")"

say "3. Users: each person gets a token (shown once, only its hash is stored)"
user() { "$SCHAKEL" user add --dir "$WORK/$1" --name "$2" --role "$3" | tail -n1; }
# A staff or coordinator account waits until a coordinator confirms it (the
# node's first coordinator is made at once); before the daemons run the
# coordinator confirms offline with their own token.
confirm() {
  printf '%s' "$3" > "$WORK/confirm.token"
  "$SCHAKEL" user confirm "$2" --offline --dir "$WORK/$1" --token-file "$WORK/confirm.token" >/dev/null
  rm -f "$WORK/confirm.token"
}
ZORGCO=$(user school "J. Bakker (zorgcoördinator)" coordinator)
MENTOR=$(user school "R. Portman (mentor)" staff)
confirm school "R. Portman (mentor)" "$ZORGCO"
ZORGCO2=$(user school "A. Yilmaz (teamleider zorg)" coordinator)
confirm school "A. Yilmaz (teamleider zorg)" "$ZORGCO"
AUDITOR=$(user school "P. de Wit (privacy officer)" auditor)
declare -A COORDS
for node in wijkteam rmc lvs; do
  COORD=$(user "$node" "coordinator-$node" coordinator)
  COORDS[$node]=$COORD
  case $node in
    wijkteam) GEZINSWERKER=$(user wijkteam "S. El Amrani (gezinswerker)" staff)
              confirm wijkteam "S. El Amrani (gezinswerker)" "$COORD" ;;
    rmc) TRAJECT=$(user rmc "K. Jansen (trajectbegeleider)" staff)
         confirm rmc "K. Jansen (trajectbegeleider)" "$COORD" ;;
    lvs) LPA=$(user lvs "M. Visser (leerplichtambtenaar)" staff)
         confirm lvs "M. Visser (leerplichtambtenaar)" "$COORD" ;;
  esac
done
ok "mentor, two coordinators and an auditor at the school, each staff account confirmed by a coordinator; one user and a coordinator at each partner"
"$SCHAKEL" student load --dir "$WORK/school" --file "$CASES/../roster.csv" >/dev/null || fail "student load"
ok "the school's student register is filled from its administration (the admin may only add; changes are a coordinator's)"

say "4. The daemons start"
for n in school wijkteam rmc lvs; do
  "$SCHAKELD" --dir "$WORK/$n" 2>"$WORK/$n.log" &
  PIDS+=($!)
done
for n in school wijkteam rmc lvs; do
  for _ in $(seq 1 100); do grep -q "ready" "$WORK/$n.log" && break; sleep 0.05; done
  grep -q "ready" "$WORK/$n.log" || fail "$n did not start"
done
ok "four nodes serving on loopback"
as wijkteam "${COORDS[wijkteam]}" inbox route --sender school-trajectum --student stu-1042 \
  --user "S. El Amrani (gezinswerker)" >/dev/null || fail "inbox route"
ok "the wijkteam's coordinator confirms once: what the school sends about stu-1042 goes to the gezinswerker"

say "5. Sanne (14) — the mentor wants to refer her to the wijkteam"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['case_id']='casus-eigen'; d['student_id']='stu-9999'; print(json.dumps(d))" \
  "$CASES/sanne.json" >"$WORK/unregistered.json"
if as school "$MENTOR" case add --file "$WORK/unregistered.json" 2>"$WORK/err"; then
  fail "a case for an unregistered student was accepted"
fi
grep -q "not in the student register" "$WORK/err" || fail "unregistered student: $(cat "$WORK/err")"
ok "a case only for a student in the register (stu-9999 is not: refused, exit 2)"
as school "$MENTOR" case add --file "$CASES/sanne.json" >/dev/null
expect_refused "share without consent" as school "$MENTOR" share casus-2026-0042 \
  --to wijkteam-overvecht --purpose doorverwijzing
ok "refused, because nobody consented yet:"
tr ';' '\n' <"$WORK/err" | grep -o 'missing_consent_[a-z]*: [^.]*' | sed 's/^/       /' | sort -u

say "6. The zorgcoördinator records the consents of her mother and of Sanne herself"
cat >"$WORK/ouder.json" <<'J'
{"subject_id": "stu-1042", "grantor_role": "ouder", "purposes": ["doorverwijzing"],
 "recipients": ["wijkteam"], "categories": ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"],
 "valid_from": "2026-09-01", "valid_until": "2027-07-31"}
J
cat >"$WORK/jongere.json" <<'J'
{"subject_id": "stu-1042", "grantor_role": "jongere", "purposes": ["doorverwijzing"],
 "recipients": ["wijkteam"], "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
 "valid_from": "2026-09-01", "valid_until": null}
J
C_OUDER=$(as school "$ZORGCO" consent add --file "$WORK/ouder.json" --evidence "toestemmingsformulier getekend")
C_SANNE=$(as school "$ZORGCO" consent add --file "$WORK/jongere.json" --evidence "gesprek met Sanne en mentor")
expect_refused "a mentor recording consent" as school "$MENTOR" consent add --file "$WORK/ouder.json"
ok "consents $C_OUDER (ouder) and $C_SANNE (jongere); a mentor may not record consent (exit 3)"

say "7. The referral goes, holding only what both consented to"
MSG_SANNE=$(as school "$MENTOR" share casus-2026-0042 --to wijkteam-overvecht --purpose doorverwijzing \
  --allow-partial | tail -n1)
wait_state school "$MENTOR" "$MSG_SANNE" delivered
as wijkteam "$GEZINSWERKER" inbox show "$MSG_SANNE" --json >"$WORK/sanne.json"
got=$(json "','.join(sorted(k for k in d['summary'] if k not in ('case_id','student_id','birth_date','created','updated')))" <"$WORK/sanne.json")
[ "$got" = "afspraken,gezinssituatie,hulpvraag,identificatie" ] || fail "wijkteam received: $got"
ok "delivered with a signed receipt; the wijkteam sees: $got"
ok "withheld: bsn, onderwijs, verzuim (not in the flow), contact (Sanne did not consent), gezondheid (nobody named it)"
as school "$MENTOR" link create casus-2026-0042 --for "J. de Vries (buurtteam, belt de ouders)" --type wijkteam \
  --purpose doorverwijzing --allow-partial --expires 7d >"$WORK/link"
LINK_URL=$(grep -o 'https://[^ ]*/l/[A-Za-z0-9_-]*' "$WORK/link" | head -n1)
LINK_ID=$(as school "$MENTOR" link list --json | json "d['links'][0]['link_id']")
# The link page's status: the demo's own certificate, so no verification.
http_status() { python3 -c "import ssl,sys,urllib.request as u
try: print(u.urlopen(sys.argv[1], context=ssl._create_unverified_context(), timeout=5).status)
except u.HTTPError as e: print(e.code)" "$1"; }
[ "$(http_status "$LINK_URL")" = 200 ] || fail "the dossier link does not answer 200"
ok "and a dossier link $LINK_ID for a colleague without a node, under the same consents (its page answers 200)"

say "8. Noor (11) is absent without leave: a verzuimmelding to leerplicht needs no consent"
as school "$MENTOR" case add --file "$CASES/noor.json" >/dev/null
MSG_NOOR=$(as school "$MENTOR" share casus-2026-0155 --to lvs-utrecht --purpose verzuimmelding --allow-partial | tail -n1)
wait_state school "$MENTOR" "$MSG_NOOR" delivered
expect_refused "reading an unassigned share" as lvs "$LPA" inbox show "$MSG_NOOR"
as lvs "${COORDS[lvs]}" inbox assign "$MSG_NOOR" --user "M. Visser (leerplichtambtenaar)" >/dev/null || fail "assign"
ok "at leerplicht it waited in the coordinators' queue (the officer could not open it) until assigned to her"
got=$(as lvs "$LPA" inbox show "$MSG_NOOR" --json | json "','.join(sorted(k for k in d['summary'] if k not in ('case_id','student_id','birth_date','created','updated')))")
[ "$got" = "bsn,identificatie,verzuim" ] || fail "leerplicht received: $got"
ok "legal obligation (Leerplichtwet 1969, art. 21); leerplicht sees only: $got"

say "8b. Noor's absence was excused after all: the mentor recalls the verzuimmelding sent in error"
as school "$MENTOR" recall "$MSG_NOOR" --reason sent_in_error >/dev/null
wait_state school "$MENTOR" "$MSG_NOOR" purged
state=$(as lvs "$LPA" inbox show "$MSG_NOOR" --json | json "d['state']+' '+str(d['summary'])+' '+d['purge_reason']")
[ "$state" = "purged None sent_in_error" ] || fail "leerplicht still holds the recalled share: $state"
if as school "$MENTOR" recall "$MSG_NOOR" --reason "verkeerde leerling" 2>"$WORK/err"; then
  fail "a free-text reason was accepted"
fi
grep -q "must be one of sent_in_error" "$WORK/err" || fail "a free-text reason: $(cat "$WORK/err")"
ok "a legal obligation is no reason to keep what was sent in error: leerplicht purged it and confirmed, signed"
ok "reasons are codes (sent_in_error, consent_withdrawn, wrong_recipient, content_incorrect, other), never free text"

say "9. Daan (18) leaves school without a diploma: the RMC handover rests on his own consent"
as school "$MENTOR" case add --file "$CASES/daan.json" >/dev/null
cat >"$WORK/daan.json" <<'J'
{"subject_id": "stu-2207", "grantor_role": "jongere", "purposes": ["overdracht_rmc"],
 "recipients": ["rmc-utrecht"], "categories": ["identificatie", "contact", "onderwijs", "verzuim", "hulpvraag", "afspraken"],
 "valid_from": "2026-11-01", "valid_until": "2027-11-01"}
J
as school "$ZORGCO" consent add --file "$WORK/daan.json" --evidence "Daan tekende zelf" >/dev/null
MSG_DAAN=$(as school "$MENTOR" share casus-2026-0107 --to rmc-utrecht --purpose overdracht_rmc --allow-partial | tail -n1)
wait_state school "$MENTOR" "$MSG_DAAN" delivered
as rmc "${COORDS[rmc]}" inbox assign "$MSG_DAAN" --user "K. Jansen (trajectbegeleider)" >/dev/null || fail "assign"
got=$(as rmc "$TRAJECT" inbox show "$MSG_DAAN" --json | json "','.join(sorted(k for k in d['summary'] if k not in ('case_id','student_id','birth_date','created','updated')))")
ok "delivered to the RMC on Daan's own consent; they see: $got"

say "9b. Noor's parents are asked for permission through Schakel; the demo answers as her mother would, on the page"
as school "$ZORGCO" consent request stu-3155 --to wijkteam-overvecht --purpose doorverwijzing \
  --category identificatie --category contact --category hulpvraag --category afspraken \
  --until "$(date -d '+1 year' +%F)" --json >"$WORK/request.json" || fail "consent request"
roles=$(json "','.join(l['grantor_role'] for l in d['links'])" <"$WORK/request.json")
ok "one link and code per person her age needs ($roles); the school hands them over separately"
# answer_page URL CODE NAME CATEGORY...: what a parent does in the browser —
# open the link (nothing shown), type the code (the question), tick, sign, agree.
answer_page() {
  python3 - "$@" <<'PY' || fail "answering the permission page"
import re, ssl, sys, urllib.parse as p, urllib.request as u
url, code, name, cats = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ctx = ssl._create_unverified_context()  # the demo's own certificate
def post(fields):
    req = u.Request(url, data=p.urlencode(fields).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    return u.urlopen(req, context=ctx, timeout=20).read().decode()
first = u.urlopen(url, context=ctx, timeout=20).read().decode()
assert "Toegangscode" in first and "Noor" not in first, "the page shows something before the code"
question = post({"code": code})
assert "Noor El Amrani" in question and "checked" not in question, "the question is not as expected"
fields = {"code": code, "action": "answer", "choice": "agree", "name": name}
fields.update({"cat_" + c: "1" for c in cats})
done = post(fields)
assert "toestemming voor deze gegevens" in done, "the answer was not recorded"
PY
}
for role in ${roles//,/ }; do
  url=$(json "[l['url'] for l in d['links'] if l['grantor_role']=='$role'][0]" <"$WORK/request.json")
  code=$(json "[l['code'] for l in d['links'] if l['grantor_role']=='$role'][0]" <"$WORK/request.json")
  if [ "$role" = ouder ]; then who="F. El Amrani"; else who="Noor"; fi
  answer_page "$url" "$code" "$who" identificatie hulpvraag afspraken
  ok "$role ($who) opened the page, typed the code, ticked identificatie, hulpvraag and afspraken (not contact), signed"
done
as school "$ZORGCO" consent requests stu-3155 >"$WORK/requests"
grep -q "ouder: agreed (afspraken,hulpvraag,identificatie)" "$WORK/requests" || fail "request state: $(cat "$WORK/requests")"
ok "the answer is a consent with evidence (the typed name, the time, the SHA-256 of the text shown)"
MSG_NOOR2=$(as school "$MENTOR" share casus-2026-0155 --to wijkteam-overvecht --purpose doorverwijzing \
  --allow-partial | tail -n1)
wait_state school "$MENTOR" "$MSG_NOOR2" delivered
as wijkteam "${COORDS[wijkteam]}" inbox show "$MSG_NOOR2" --json >"$WORK/noor2.json"
got=$(json "','.join(sorted(k for k in d['summary'] if k not in ('case_id','student_id','birth_date','created','updated')))" <"$WORK/noor2.json")
[ "$got" = "afspraken,hulpvraag,identificatie" ] || fail "wijkteam received: $got"
ok "the referral carries what her parent agreed to: $got"

say "10. Sanne withdraws her consent: the wijkteam's copy is purged and the dossier link ends"
as school "$ZORGCO" consent withdraw "$C_SANNE" --json >"$WORK/withdraw"
[ "$(json "','.join(d['links_revoked'])" <"$WORK/withdraw")" = "$LINK_ID" ] || fail "the withdrawal did not end the link"
[ "$(http_status "$LINK_URL")" = 410 ] || fail "the dossier link still answers after the withdrawal"
ok "the withdrawal revoked link $LINK_ID; its page now answers 410 (gone) and its sealed content is deleted"
wait_state school "$MENTOR" "$MSG_SANNE" purged
state=$(as wijkteam "$GEZINSWERKER" inbox show "$MSG_SANNE" --json | json "d['state']+' '+str(d['summary'])")
[ "$state" = "purged None" ] || fail "the wijkteam still holds the share: $state"
ok "the school's outbox says purged; the wijkteam keeps only a tombstone: $(as wijkteam "$GEZINSWERKER" inbox --json | json "[s['purge_reason'] for s in d['inbox']][0]")"
expect_refused "sharing again after withdrawal" as school "$MENTOR" share casus-2026-0042 \
  --to wijkteam-overvecht --purpose doorverwijzing --allow-partial
ok "a new referral is refused again (missing_consent_jongere)"

say "11. The privacy officer checks the access log"
expect_refused "a mentor reading the audit log" as school "$MENTOR" audit export
as school "$AUDITOR" audit export >"$WORK/audit.jsonl"
"$SCHAKEL" audit verify --export "$WORK/audit.jsonl" --card "$WORK/school/node-card.json" >"$WORK/verify"
ok "$(cat "$WORK/verify")"
# Whole into a file first: a pipe into head would end the command with
# SIGPIPE (exit 141 under pipefail) once the report outgrows 12 lines.
as school "$AUDITOR" audit subject stu-1042 >"$WORK/subject"
sed -n '1,12s/^/       /p' "$WORK/subject"

for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" || fail "a daemon did not stop cleanly"; done
PIDS=()
# SCHAKEL_DEMO_KEEP=DIR keeps the four stopped nodes (databases included) in
# DIR: how tests/fixtures/nodes-v5 was made, a database from before a schema
# change for the migration tests.
if [ -n "${SCHAKEL_DEMO_KEEP:-}" ]; then
  mkdir -p "$SCHAKEL_DEMO_KEEP"
  for n in school wijkteam rmc lvs; do cp -r "$WORK/$n" "$SCHAKEL_DEMO_KEEP/"; done
  ok "nodes kept in $SCHAKEL_DEMO_KEEP"
fi
say "Demo complete in $(( $(date +%s) - START )) s: every step did what it said."
