#!/usr/bin/env python3
"""Prints a base port P with P..P+3 free on 127.0.0.1 (peer, api, links,
console: what `schakel init --listen 127.0.0.1:P` uses), for the shell test
drivers and the browser tests (tests/browser/support.mjs, freePortBase).

Picked as the C++ tests pick theirs (tests/federation_support.h,
FreePortBase/ClaimPortBase): below Linux's ephemeral range (32768-60999),
because a daemon binds its ports seconds after they were picked and meanwhile
an outgoing connection of a test running beside this one may be given any
ephemeral port; and claimed with a file made with O_EXCL in
/tmp/schakel-test-ports, so that no other test picks the same base (a claim
older than an hour is stale and taken over).
Exits 1 with a message when no base is free.
"""
import os
import random
import socket
import sys
import time

CLAIMS = "/tmp/schakel-test-ports"


def claim(base: int) -> bool:
    os.makedirs(CLAIMS, mode=0o700, exist_ok=True)
    path = os.path.join(CLAIMS, str(base))
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            pass
        try:
            age = time.time() - os.stat(path).st_mtime
        except FileNotFoundError:
            continue  # released meanwhile: try again
        if age < 3600:
            return False
        try:
            os.unlink(path)  # stale
        except FileNotFoundError:
            pass
    return False


def free(base: int) -> bool:
    socks = []
    try:
        for port in range(base, base + 4):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def main() -> int:
    for _ in range(400):
        base = 10000 + random.randrange(5690) * 4  # 10000 .. 32759
        if claim(base) and free(base):
            print(base)
            return 0
    print("free_port_base.py: no four free loopback ports in a row below 32768", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
