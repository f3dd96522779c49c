#!/usr/bin/env python3
"""Writes daemon/startup-order.txt: the functions schakeld runs from its start
until it idles, which the link lays out together.

An idle node's resident memory is mostly pages of code mapped from files, and
the kernel maps those in blocks of 64 KiB around each page a process touches.
Spread over the program, the few hundred functions a start runs make most of
schakeld's code resident; laid out together they take a few blocks
(docs/performance.md, "Start-up code laid out together").

How: two nodes that are each other's partner (so the start greets a partner
and opens its lane); the school's schakeld runs under valgrind's callgrind
until it has been ready for 35 seconds (one maintenance pass), its counts
are dumped, then it is stopped. Every function of schakeld with a count is listed by the input
section that holds it (`-ffunction-sections` gives each its own: .text.<name>,
.text.startup.<name> for a static constructor, .text.unlikely.<name> for a
cold part; a constructor's C1 symbol is in its C2 section), read from the
link map the build writes (BUILD_DIR/schakeld.map), most instructions first.
Needs valgrind (Debian package `valgrind`) and a Release build of this tree.

Usage: tools/startup_order.py BUILD_DIR [OUT]   (OUT: daemon/startup-order.txt)
       tools/startup_order.py --check BUILD_DIR ORDER_FILE
--check (the test startup_code_together) reads no program run: it fails when
fewer than 80 % of the listed sections are in the build (the list is stale:
write it again) or when those that are do not lie together in the program.
"""
import bisect
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# Ready, then idle through one maintenance pass (every 30 s, daemon.h):
# an idle node runs that code too.
IDLE_SECONDS = 35
READY_TIMEOUT = 120  # valgrind starts a program some 50 times slower


def free_port_base():
    """Four free ports from P (peer, api, links, console), picked and claimed
    as every test picks them (tools/free_port_base.py)."""
    picker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "free_port_base.py")
    out = subprocess.run([sys.executable, picker], check=True, capture_output=True, text=True, timeout=30)
    return int(out.stdout.strip())


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def init_node(schakel, d, org_id, org_type, port):
    run(schakel, "init", "--dir", d, "--name", org_id, "--org-id", org_id, "--org-type", org_type,
        "--listen", f"127.0.0.1:{port}")
    card = os.path.join(d, "node-card.json")
    with open(card, "w") as f:
        subprocess.run([schakel, "--dir", d, "node", "card"], check=True, stdout=f)
    fp = subprocess.run([schakel, "--dir", d, "node", "fingerprint"], check=True, capture_output=True,
                        text=True).stdout.strip().splitlines()[-1]
    return card, fp


def wait_ready(proc, timeout):
    """True once the daemon logs that it is ready, within `timeout` seconds.
    Its stderr is read to the end meanwhile, so that it never blocks on a
    full pipe."""
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            if " ready: " in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    return ready.wait(timeout)


def text_sections(link_map):
    """(address, size, name) of every input section of .text in gold's map
    (those it kept: the map lists the discarded ones first)."""
    if not os.path.exists(link_map):
        sys.exit(f"startup_order: {link_map} not found: schakeld was not linked with SCHAKEL_STARTUP_ORDER "
                 "(needs ld.gold)")
    full = re.compile(r"^ (\.text\S*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+\S")
    named = re.compile(r"^ (\.text\S*)\s*$")
    placed = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+\S")
    sections = []
    with open(link_map) as f:
        lines = f.read().splitlines()
    kept = next((i for i, line in enumerate(lines) if line.startswith("Memory map")), len(lines))
    for i in range(kept, len(lines)):
        line = lines[i]
        m = full.match(line)
        if m:
            sections.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1)))
            continue
        m = named.match(line)
        if m and i + 1 < len(lines):
            p = placed.match(lines[i + 1])
            if p:
                sections.append((int(p.group(1), 16), int(p.group(2), 16), m.group(1)))
    return sorted(s for s in sections if s[1] > 0)


def sections_of(names, binary, link_map):
    """The input section of each function, in the order of `names`, once."""
    address = {}
    nm = subprocess.run(["nm", "--defined-only", binary], check=True, capture_output=True, text=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3:
            address[parts[2]] = int(parts[0], 16)
    sections = text_sections(link_map)
    starts = [s[0] for s in sections]
    ordered, seen = [], set()
    for name in names:
        if name not in address:
            continue
        k = bisect.bisect_right(starts, address[name]) - 1
        if k < 0 or not sections[k][0] <= address[name] < sections[k][0] + sections[k][1]:
            continue
        section = sections[k][2]
        # A plain .text (code not compiled with -ffunction-sections) cannot be moved.
        if section != ".text" and section not in seen:
            seen.add(section)
            ordered.append(section)
    return ordered


def functions_of(dump, binary):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", dump], check=True, capture_output=True,
                         text=True).stdout
    counted = []
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+\?\?\?:(\S+) \[(.*)\]$", line)
        if m and m.group(3) == binary:
            name = m.group(2)
            # callgrind marks a function's recursive calls name'2; addresses
            # without a symbol cannot be placed.
            if "'" in name or name.startswith("0x"):
                continue
            counted.append((int(m.group(1).replace(",", "")), name))
    counted.sort(key=lambda c: -c[0])
    return [name for _, name in counted]


def check(build, order_file):
    with open(order_file) as f:
        listed = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if not listed:
        sys.exit(f"startup_order: {order_file} lists no sections")
    sections = text_sections(os.path.join(build, "schakeld.map"))
    wanted = set(listed)
    # A name may be several sections (a local function of that name in more
    # than one object): the link lays out all of them there.
    found = [(a, s) for a, s, name in sections if name in wanted]
    present = wanted & {name for _, _, name in sections}
    share = len(present) / len(wanted)
    print(f"startup_order: {len(present)} of the {len(wanted)} listed sections are in this build ({share:.0%})")
    if share < 0.8:
        sys.exit("startup_order: the list is stale; write it again: ./dev startup-order")
    size = sum(s for _, s in found)
    span = max(a + s for a, s in found) - min(a for a, _ in found)
    # Each section is aligned (16 bytes at most for code): allow for that.
    print(f"startup_order: {len(found)} sections, {size} bytes of code in a span of {span} bytes")
    if span > size + 16 * len(found):
        sys.exit("startup_order: the listed sections are not laid out together (was schakeld linked by "
                 "ld.gold with --section-ordering-file?)")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(os.path.abspath(sys.argv[2]), sys.argv[3])
        return
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(__file__), "..", "daemon",
                                                                 "startup-order.txt")
    schakel, schakeld = os.path.join(build, "schakel"), os.path.join(build, "schakeld")
    link_map = os.path.join(build, "schakeld.map")
    for tool in ("valgrind", "callgrind_annotate", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"startup_order: {tool} not found (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="schakel-order-")
    procs = []
    try:
        school, team = os.path.join(work, "school"), os.path.join(work, "team")
        school_card, school_fp = init_node(schakel, school, "order-school", "school", free_port_base())
        team_card, team_fp = init_node(schakel, team, "order-team", "wijkteam", free_port_base())
        run(schakel, "--dir", school, "partner", "add", "--card", team_card, "--fingerprint", team_fp,
            "--allow-local-address")
        run(schakel, "--dir", team, "partner", "add", "--card", school_card, "--fingerprint", school_fp,
            "--allow-local-address")
        team_proc = subprocess.Popen([schakeld, "--dir", team], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        procs.append(team_proc)
        if not wait_ready(team_proc, 30):
            sys.exit("startup_order: the partner node did not become ready")
        dump = os.path.join(work, "callgrind.out")
        school_proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={dump}", schakeld, "--dir",
             school], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(school_proc)
        if not wait_ready(school_proc, READY_TIMEOUT):
            sys.exit("startup_order: schakeld under callgrind did not become ready")
        time.sleep(IDLE_SECONDS)
        # The counts up to now: the start and the idle node, not its stop.
        subprocess.run(["callgrind_control", "--dump", str(school_proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        dumps = [f for f in os.listdir(work) if f.startswith("callgrind.out.")]
        if not dumps:
            sys.exit("startup_order: callgrind wrote no dump")
        names = functions_of(os.path.join(work, sorted(dumps)[0]), schakeld)
        sections = sections_of(names, schakeld, link_map)
        if len(sections) < 100:
            sys.exit(f"startup_order: only {len(sections)} sections found; is {schakeld} a Release build?")
        with open(out, "w") as f:
            f.write("# schakeld's start and idle, most run first: the sections ld.gold lays out together\n")
            f.write("# (daemon/CMakeLists.txt). Written by tools/startup_order.py; see docs/performance.md.\n")
            for section in sections:
                f.write(section + "\n")
        print(f"startup_order: {len(sections)} sections of {len(names)} functions written to {out}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
