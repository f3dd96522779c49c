#!/usr/bin/env python3
"""Clang's thread-safety analysis over the code that shares the node's state.

The lock requirements are written as annotations (base/thread_annotations.h:
SCHAKEL_GUARDED_BY, SCHAKEL_REQUIRES, SCHAKEL_ACQUIRE, ...); GCC ignores them,
so this script compiles every translation unit that can see them with
clang++ -fsyntax-only -Wthread-safety and fails on any finding. Called by
`./dev lint` (tools/lint.sh) after clang-tidy.

Usage: tools/thread_safety.py BUILD_DIR [JOBS]
BUILD_DIR holds compile_commands.json (the lint build, configured only).
Exit 0 clean, 1 on findings, 2 when clang++ or the database is missing.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

# The folders whose code holds or passes the node lock or the key ring's.
FOLDERS = ("/service/src/", "/peer/src/", "/daemon/src/", "/base/src/")
# BOOST_ASIO_HAS_CO_AWAIT: Boost 1.74 does not detect clang 14's coroutines (docs/static-analysis.md).
FLAGS = ["-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety", "-Wno-unknown-warning-option",
         "-DBOOST_ASIO_HAS_CO_AWAIT=1"]


def command_for(entry, clang):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = [clang]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c",) or a.startswith("-fcf-protection") or a.startswith("-fstack-clash"):
            continue
        out.append(a)
    return out + FLAGS


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    clang = shutil.which("clang++-14") or shutil.which("clang++")
    if clang is None:
        print("thread-safety: clang++ is missing (apt-get install clang-14)", file=sys.stderr)
        return 2
    path = os.path.join(build, "compile_commands.json")
    try:
        with open(path, encoding="utf-8") as f:
            db = json.load(f)
    except OSError as e:
        print(f"thread-safety: cannot read {path}: {e}", file=sys.stderr)
        return 2
    entries = [e for e in db if any(d in e["file"] for d in FOLDERS)]
    if not entries:
        print("thread-safety: no translation units found", file=sys.stderr)
        return 2

    def check(entry):
        r = subprocess.run(command_for(entry, clang), cwd=entry["directory"], capture_output=True, text=True,
                           timeout=600)
        return entry["file"], r.returncode, r.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for file, rc, err in pool.map(check, entries):
            if rc != 0:
                failed += 1
                print(err, file=sys.stderr)
                print(f"thread-safety: {file}: exit {rc}", file=sys.stderr)
    print(f"thread-safety: {len(entries)} translation units, {failed} with findings", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
