#!/usr/bin/env bash
# tools/package_test.sh BUILD_DIR — the Debian package, installed into a
# folder and run the way its systemd unit runs it.
#
# 1. cpack builds the .deb from BUILD_DIR (a configured Release build whose
#    binaries are built) into a scratch folder.
# 2. `dpkg -x` unpacks it into a fresh folder root; the expected files must be
#    there (binaries, unit, man pages, example config, copyright docs) and the
#    maintainer scripts must pass `sh -n` and do what they promise (postinst
#    creates the system user and the root-only /etc/schakel, restarts a
#    running daemon on upgrade; none calls systemctl to stop or start), and
#    lintian must report no error and no warning.
# 3. `systemd-analyze verify` checks the unit (its binaries the unpacked ones),
#    when systemd-analyze exists.
# 4. The node is created with the unpacked `schakel init` under
#    ROOT/var/lib/schakel, its key moved to ROOT/etc/schakel/db.key (0600,
#    root) as the README says. The unit's ExecStartPre and ExecStart lines are
#    read from the unpacked unit, their paths moved into ROOT, and run as the
#    unit would: as an unprivileged user (nobody, standing in for the package's
#    `schakel` user), no new privileges, the key handed over as a credential
#    copy bound over the key path (in a private mount namespace, when
#    `unshare -m` works here), and NOTIFY_SOCKET pointing at a datagram socket
#    this script listens on, which must receive READY=1.
# 5. `schakel status` answers against it; SIGTERM stops it with exit 0 after
#    STOPPING=1.
#
# Every wait is bounded. Exit 0 when everything holds, 1 with the reason
# otherwise. Needs root (the files in a .deb are root's; the daemon is run
# under another uid).
set -euo pipefail

BUILD=${1:?usage: tools/package_test.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
ROOT_SRC=$(cd "$(dirname "$0")/.." && pwd)

fail() { printf 'package test: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf 'package test: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "needs root (run by ./dev test as root)"
for tool in cpack dpkg-deb python3 setpriv; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

WORK=$(mktemp -d /tmp/schakel-package-test.XXXXXX)
chmod 0755 "$WORK"
DAEMON_PID=""
LISTENER_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; fi
  if [ -n "$LISTENER_PID" ] && kill -0 "$LISTENER_PID" 2>/dev/null; then kill "$LISTENER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- 1. build the .deb -------------------------------------------------------
say "building the .deb with cpack from $BUILD"
(cd "$BUILD" && cpack -G DEB -B "$WORK/deb" >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log" >&2; fail "cpack"; }
DEB=$(ls "$WORK"/deb/schakel_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || fail "cpack made no schakel_*.deb"
say "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

# ---- 2. unpack into a folder root and look at it ------------------------------
ROOT="$WORK/root"
mkdir -p "$ROOT"
dpkg -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$WORK/control"
for f in usr/bin/schakel usr/bin/schakeld usr/libexec/schakel/schakel-kdf; do
  [ -x "$ROOT/$f" ] || fail "missing executable /$f"
done
# systemd reads units from /usr/lib/systemd/system and /lib/systemd/system.
UNIT=""
for u in usr/lib/systemd/system/schakeld.service lib/systemd/system/schakeld.service; do
  if [ -f "$ROOT/$u" ]; then UNIT="$ROOT/$u"; break; fi
done
[ -n "$UNIT" ] || fail "missing the unit schakeld.service under /usr/lib/systemd/system"
for f in usr/share/man/man1/schakel.1.gz usr/share/man/man8/schakeld.8.gz \
         usr/share/doc/schakel/schakel.toml.example usr/share/doc/schakel/README.md \
         usr/share/doc/schakel/SECURITY.md usr/share/bash-completion/completions/schakel; do
  [ -f "$ROOT/$f" ] || fail "missing /$f"
done
gzip -t "$ROOT/usr/share/man/man1/schakel.1.gz" "$ROOT/usr/share/man/man8/schakeld.8.gz" || fail "a man page is not valid gzip"
if command -v man >/dev/null; then
  man -l "$ROOT/usr/share/man/man8/schakeld.8.gz" 2>/dev/null | grep -q . || fail "man cannot render schakeld(8)"
fi
grep -q '^Package: schakel$' "$WORK/control/control" || fail "control: Package is not schakel"
grep -q '^Depends:.*adduser' "$WORK/control/control" || fail "control: does not depend on adduser (postinst needs it)"
# Depends computed by dpkg-shlibdeps from the binaries: the libraries with versions.
for lib in libsodium23 libsqlcipher0 libssl3 libqrencode4 libstdc++6 libc6; do
  grep -q "^Depends:.*$lib (>=" "$WORK/control/control" || fail "control: Depends lacks $lib with a version (shlibdeps)"
done
for s in postinst prerm postrm; do
  [ -x "$WORK/control/$s" ] || fail "maintainer script $s missing or not executable"
  sh -n "$WORK/control/$s" || fail "maintainer script $s: sh -n"
  cmp -s "$WORK/control/$s" "$ROOT_SRC/packaging/$s" || fail "maintainer script $s differs from packaging/$s"
done
grep -q 'adduser --system --group' "$WORK/control/postinst" || fail "postinst does not create the system user"
grep -q 'install -d -m 0750 -o root -g schakel /etc/schakel' "$WORK/control/postinst" || fail "postinst does not make /etc/schakel (0750 root:schakel)"
for f in usr/share/doc/schakel/copyright usr/share/doc/schakel/changelog.gz; do
  [ -f "$ROOT/$f" ] || fail "missing /$f"
done
if grep -q 'systemctl \(stop\|disable\|start\|restart\)' "$WORK/control/prerm" "$WORK/control/postinst" "$WORK/control/postrm"; then
  fail "a maintainer script calls systemctl to stop or start (use deb-systemd-invoke)"
fi
grep -q 'deb-systemd-invoke try-restart schakeld.service' "$WORK/control/postinst" ||
  fail "postinst does not restart a running daemon on upgrade"
# lintian, Debian's own package checker: no error and no warning.
if command -v lintian >/dev/null; then
  lintian --fail-on error,warning --display-info --tag-display-limit 0 "$DEB" >"$WORK/lintian.log" 2>&1 ||
    { cat "$WORK/lintian.log" >&2; fail "lintian"; }
  # The hardening tags are only informational for lintian; here they fail:
  # the binaries must carry Debian's hardening flags (CMakeLists.txt).
  if grep -q 'hardening-' "$WORK/lintian.log"; then
    cat "$WORK/lintian.log" >&2
    fail "lintian: the binaries lack hardening flags"
  fi
  say "lintian: no errors, no warnings, no hardening tags"
else
  fail "lintian is not installed (./dev setup installs it)"
fi
# The binaries run from the folder and find their libraries.
"$ROOT/usr/bin/schakel" --version | grep -q . || fail "the unpacked schakel does not run"
say "files, control and maintainer scripts are in order"

# ---- 3. the unit ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  # verify wants the ExecStart binaries at their paths and the man pages
  # installed: check a copy whose binaries are the unpacked ones, and the
  # man pages above.
  mkdir -p "$WORK/verify"
  sed "s|/usr/bin/|$ROOT/usr/bin/|g" "$UNIT" >"$WORK/verify/schakeld.service"
  systemd-analyze verify --man=no "$WORK/verify/schakeld.service" >"$WORK/verify.log" 2>&1 ||
    { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify"; }
  if grep -q . "$WORK/verify.log"; then cat "$WORK/verify.log" >&2; fail "systemd-analyze verify complained"; fi
  say "systemd-analyze verify: ok"
else
  say "systemd-analyze is not installed: unit not verified"
fi
for want in 'Type=notify' 'User=schakel' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateTmp=yes' \
            'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'StateDirectory=schakel' 'LoadCredential=db.key:/etc/schakel/db.key'; do
  grep -qx "$want" "$UNIT" || fail "unit lacks $want"
done

# ---- 4. a node started as the unit starts it -------------------------------------
STATE="$ROOT/var/lib/schakel"
KEY="$ROOT/etc/schakel/db.key"
mkdir -p "$ROOT/var/lib" "$ROOT/etc"
# nobody stands in for the package's system user schakel.
RUN_USER=nobody
RUN_GROUP=$(id -gn "$RUN_USER")
# What postinst does, with the stand-in's group for schakel.
install -d -m 0750 -o root -g "$RUN_GROUP" "$ROOT/etc/schakel"
# `init --listen HOST:P` puts the API, link and console listeners on P+1..P+3:
# find four free loopback ports in a row (below the ephemeral range, claimed
# against other tests: tools/free_port_base.py).
PEER_PORT=$(python3 "$ROOT_SRC/tools/free_port_base.py") || fail "no four free loopback ports in a row"
"$ROOT/usr/bin/schakel" init --dir "$STATE" --name "Pakkettest College" --org-id school-pakkettest \
  --org-type school --listen "127.0.0.1:$PEER_PORT" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; fail "schakel init"; }
mv "$STATE/secrets/db.key" "$KEY"
chmod 0600 "$KEY"
# The README's step: [store] key_file = "/etc/schakel/db.key" (here inside ROOT).
python3 - "$STATE/schakel.toml" "$KEY" <<'EOF'
import re, sys
path, key = sys.argv[1], sys.argv[2]
text = open(path).read()
new, n = re.subn(r"^key_file\s*=.*$", 'key_file = "%s"' % key, text, flags=re.M)
if n != 1:
    sys.exit("no key_file line in " + path)
open(path, "w").write(new)
EOF
grep -q "^key_file = \"$KEY\"" "$STATE/schakel.toml" || fail "could not point [store] key_file at $KEY"
TOKEN=$("$ROOT/usr/bin/schakel" user add --dir "$STATE" --name "Beheer" --role admin | tail -n 1)
[ -n "$TOKEN" ] || fail "schakel user add printed no token"
# StateDirectory=schakel: systemd gives the folder to the service user, mode 0750.
chown -R "$RUN_USER:$RUN_GROUP" "$STATE"
chmod 0750 "$STATE"

# LoadCredential=db.key:/etc/schakel/db.key: a copy the service user may read.
CREDS="$WORK/credentials/schakeld.service"
install -d -m 0500 -o "$RUN_USER" -g "$RUN_GROUP" "$CREDS"
install -m 0400 -o "$RUN_USER" -g "$RUN_GROUP" "$KEY" "$CREDS/db.key"
if ! setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups test -r "$KEY"; then :; else
  fail "the key at $KEY is readable by $RUN_USER"
fi

# The unit's command lines, with their paths moved into the folder root.
unit_cmd() {  # key (ExecStart / ExecStartPre)
  local line
  line=$(grep -m1 "^$1=" "$UNIT" | cut -d= -f2-) || true
  [ -n "$line" ] || fail "the unit has no $1"
  line=${line//\/usr\/bin\//$ROOT/usr/bin/}
  line=${line//\/var\/lib\/schakel/$STATE}
  printf '%s' "$line"
}
EXEC_PRE=$(unit_cmd ExecStartPre)
EXEC=$(unit_cmd ExecStart)

# BindReadOnlyPaths=%d/db.key:/etc/schakel/db.key: in a private mount
# namespace when possible, as the unit does; else the credential path itself.
if unshare -m true 2>/dev/null; then
  BIND="mount --bind -o ro '$CREDS/db.key' '$KEY' &&"
  say "key handed over as a credential bound over $KEY (private mount namespace)"
  WRAP=(unshare -m --propagation private)
else
  sed -i "s|key_file = \"$KEY\"|key_file = \"$CREDS/db.key\"|" "$STATE/schakel.toml"
  BIND=""
  WRAP=()
  say "unshare -m is not permitted here: the daemon reads the credential copy directly"
fi
AS_USER="setpriv --reuid=$RUN_USER --regid=$RUN_GROUP --clear-groups --no-new-privs"

"${WRAP[@]}" sh -c "$BIND $AS_USER $EXEC_PRE" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; fail "ExecStartPre ($EXEC_PRE)"; }
say "ExecStartPre (--check-config) passed"

NOTIFY="$WORK/notify.sock"
python3 - "$NOTIFY" "$WORK/notify.log" <<'EOF' &
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)  # the daemon writes to it as the service user
s.settimeout(0.5)
deadline = time.monotonic() + 60
with open(log, "a") as out:
    while time.monotonic() < deadline:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        out.write(data.decode("utf-8", "replace").replace("\n", " ") + "\n")
        out.flush()
        if b"STOPPING=1" in data:
            break
EOF
LISTENER_PID=$!
for _ in $(seq 1 100); do [ -S "$NOTIFY" ] && break; sleep 0.05; done
[ -S "$NOTIFY" ] || fail "the notify listener did not start"
touch "$WORK/notify.log"

# exec: the daemon is the shell's process, so $! is its pid (NotifyAccess=main).
"${WRAP[@]}" env -i PATH=/usr/bin:/bin NOTIFY_SOCKET="$NOTIFY" sh -c "$BIND exec $AS_USER $EXEC" \
  >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
ready=0
for _ in $(seq 1 300); do
  if grep -q 'READY=1' "$WORK/notify.log"; then ready=1; break; fi
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.05
done
[ "$ready" -eq 1 ] || { cat "$WORK/daemon.log" >&2; fail "no READY=1 on NOTIFY_SOCKET within 15 s"; }
say "READY=1 received on NOTIFY_SOCKET ($(head -n 1 "$WORK/notify.log"))"
# Argon2id in its helper process (crypto/kdf_helper.h), found where the
# package puts it.
grep -q "key derivations (link codes, passwords) run in $ROOT/usr/libexec/schakel/schakel-kdf" "$WORK/daemon.log" ||
  { cat "$WORK/daemon.log" >&2; fail "the daemon did not find /usr/libexec/schakel/schakel-kdf"; }

# The daemon runs as the service user, not as root.
DAEMON_UID=$(stat -c %u "/proc/$DAEMON_PID" 2>/dev/null || true)
grep -q "schakeld" "/proc/$DAEMON_PID/comm" 2>/dev/null || fail "process $DAEMON_PID is not schakeld"
[ "$DAEMON_UID" = "$(id -u "$RUN_USER")" ] || fail "schakeld runs as uid '$DAEMON_UID', not $RUN_USER"

STATUS=$(SCHAKEL_TOKEN="$TOKEN" "$ROOT/usr/bin/schakel" status --dir "$STATE" --json) || fail "schakel status"
python3 - "$STATUS" <<'EOF' || fail "schakel status: unexpected answer: $STATUS"
import json, sys
s = json.loads(sys.argv[1])
assert s["node_id"] == "school-pakkettest", s
assert s["version"], s
assert s["database"]["total_bytes"] > 0, s
assert s["outbox_depth"] == 0, s
EOF
SCHAKEL_TOKEN="$TOKEN" "$ROOT/usr/bin/schakel" status --dir "$STATE" | head -n 1 | grep -q '^node school-pakkettest' ||
  fail "schakel status (human) does not name the node"
say "schakel status answers"

# ---- 5. SIGTERM: clean stop ----------------------------------------------------------
kill -TERM "$DAEMON_PID"
code=""
for _ in $(seq 1 300); do
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
  sleep 0.05
done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "schakeld did not stop within 15 s of SIGTERM"
wait "$DAEMON_PID" && code=0 || code=$?
DAEMON_PID=""
[ "$code" -eq 0 ] || { cat "$WORK/daemon.log" >&2; fail "schakeld exited $code after SIGTERM"; }
for _ in $(seq 1 100); do grep -q 'STOPPING=1' "$WORK/notify.log" && break; sleep 0.05; done
grep -q 'STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 on NOTIFY_SOCKET"
grep -q 'stopped' "$WORK/daemon.log" || fail "the daemon log has no 'stopped' line"
# Nothing secret reached the log.
if grep -q "$TOKEN" "$WORK/daemon.log"; then fail "the admin token appears in the daemon log"; fi
say "SIGTERM: STOPPING=1 and exit 0; all checks passed"
