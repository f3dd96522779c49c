#!/usr/bin/env python3
"""An independent implementation of docs/audit.md (entry formats 1 and 2),
written from that page and not from the C++ code, using Python's hashlib and
json and the `cryptography` package (OpenSSL) instead of libsodium.

  audit_export_reference.py generate 1 > audit_export_v1.jsonl
  audit_export_reference.py generate 2 > audit_export_v2.jsonl
      writes a known-answer export: the events below (format 1: without
      their last three fields), appended one every 1.5 s from
      2026-11-23T10:00:00.000Z by node "school-trajectum" whose Ed25519 seed
      is 00 01 .. 1f, a checkpoint after every 3rd entry and one 0.25 s after
      the last (the node's Close()).
  audit_export_reference.py check EXPORT CARD_JSON
      verifies an export against a node card's node_id and sign_pk (the card's
      own signature is not checked here: that is node_card.h's job), printing
      "verified N entries, M checkpoints, last seq S" (exit 0) or
      "seq X (line L): <problem>" (exit 1).

tests/audit/format_test.cpp builds the same log with the C++ AuditLog and
must export exactly these bytes, and runs `check` on a C++ export when
python3 and `cryptography` are installed.
"""
import base64
import datetime
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization

ENTRY_LABELS = {1: b"schakel/audit-entry/v1\x00", 2: b"schakel/audit-entry/v2\x00"}
CHECKPOINT_LABEL = b"schakel/audit-checkpoint/v1\x00"
TEXT_FIELDS = ["ts", "actor_user", "actor_role", "actor_org", "action", "subject",
               "object", "purpose", "legal_basis", "outcome", "reason", "source"]
V2_FIELDS = ["recipient", "categories", "consents"]
LIMITS = {"ts": 24, "action": 64, "outcome": 64, "subject": 128, "reason": 1024, "consents": 1024}


def fields_of(fmt):
    return TEXT_FIELDS + (V2_FIELDS if fmt == 2 else [])
ZERO = bytes(32)


def s16(b):
    assert len(b) < 65536
    return struct.pack(">H", len(b)) + b


def entry_hash(fmt, seq, fields, prev):
    m = ENTRY_LABELS[fmt] + struct.pack(">Q", seq)
    for name in fields_of(fmt):
        m += s16(fields[name].encode("utf-8"))
    return hashlib.sha256(m + prev).digest()


def checkpoint_message(node_id, seq, h, ts):
    return (CHECKPOINT_LABEL + s16(node_id.encode()) + struct.pack(">Q", seq) + h
            + s16(ts.encode()))


def fmt_ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def jstr(s):
    out = ['"']
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def entry_line(fmt, seq, f, prev, h):
    head = '{"type":"entry","seq":%d' % seq if fmt == 1 else '{"type":"entry","format":2,"seq":%d' % seq
    v2 = "" if fmt == 1 else ',"recipient":%s,"categories":%s,"consents":%s' % (
        jstr(f["recipient"]), jstr(f["categories"]), jstr(f["consents"]))
    return (head + ',"ts":%s,"actor":{"user":%s,"role":%s,"org":%s},'
            '"action":%s,"subject":%s,"object":%s,"purpose":%s,"legal_basis":%s,'
            '"outcome":%s,"reason":%s,"source":%s%s,"prev_hash":"%s","hash":"%s"}\n') % (
        jstr(f["ts"]), jstr(f["actor_user"]), jstr(f["actor_role"]),
        jstr(f["actor_org"]), jstr(f["action"]), jstr(f["subject"]), jstr(f["object"]),
        jstr(f["purpose"]), jstr(f["legal_basis"]), jstr(f["outcome"]), jstr(f["reason"]),
        jstr(f["source"]), v2, prev.hex(), h.hex())


def checkpoint_line(node_id, seq, ts, h, sig):
    return '{"type":"checkpoint","node_id":%s,"seq":%d,"ts":%s,"hash":"%s","sig":"%s"}\n' % (
        jstr(node_id), seq, jstr(ts), h.hex(), base64.b64encode(sig).decode())


# The known-answer events (tests/audit/format_test.cpp holds the same list):
# the twelve fields of format 1 (without ts), then recipient, categories and
# consents of format 2.
EVENTS = [
    ("u-1", "staff", "school-trajectum", "case.create", "stu-1", "casus-2026-0042", "", "", "ok", "", "api",
     "", "", ""),
    ("u-1", "staff", "school-trajectum", "share.create", "stu-1", "msg-0001", "doorverwijzing",
     "consent", "permit", "", "api", "wijkteam-overvecht", "school,gezin", "c-0001,c-0002"),
    ("u-2", "coordinator", "school-trajectum", "share.create", "stu-1", "msg-0002", "kernteamoverleg",
     "", "deny", "missing_consent_jongere,consent_expired", "api", "wijkteam-overvecht", "school", ""),
    ("system", "peer", "wijkteam-overvecht", "receipt.received", "stu-1", "msg-0001", "doorverwijzing",
     "consent", "ok", "", "peer:wijkteam-overvecht", "wijkteam-overvecht", "", ""),
    ("u-3", "coordinator", "school-trajectum", "share.create", "stu-2", "msg-0003", "meldcode",
     "meldcode", "permit", "justification ref \"MC-7\" \\ zorg \u2014 \u00e9\u00e8 \U0001F600", "cli",
     "veilig-thuis", "school,gezondheid", ""),
    ("u-9", "auditor", "school-trajectum", "audit.export", "", "", "", "", "ok", "", "api", "", "", ""),
    ("anon", "link", "", "link.view", "stu-1", "link-5", "doorverwijzing", "consent", "deny",
     "bad_access_code", "link:192.0.2.7", "J. de Vries (huisarts) \u00e9", "gezondheid", "c-0003"),
]
SEED = bytes(range(32))
NODE_ID = "school-trajectum"
BASE = datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=datetime.timezone.utc)


def generate(fmt):
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    out = []
    prev = ZERO
    now = BASE
    for seq, ev in enumerate(EVENTS, start=1):
        now = now + datetime.timedelta(milliseconds=1500)
        names = fields_of(fmt)
        fields = dict(zip(names, ((fmt_ts(now),) + ev)[:len(names)]))
        h = entry_hash(fmt, seq, fields, prev)
        out.append(entry_line(fmt, seq, fields, prev, h))
        if seq % 3 == 0:
            ts = fmt_ts(now)
            out.append(checkpoint_line(NODE_ID, seq, ts, h,
                                       key.sign(checkpoint_message(NODE_ID, seq, h, ts))))
        prev = h
    now = now + datetime.timedelta(milliseconds=250)
    seq = len(EVENTS)
    ts = fmt_ts(now)
    out.append(checkpoint_line(NODE_ID, seq, ts, prev,
                               key.sign(checkpoint_message(NODE_ID, seq, prev, ts))))
    sys.stdout.write("".join(out))
    pk = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sys.stderr.write("sign_pk %s\n" % pk.hex())


class Bad(Exception):
    def __init__(self, seq, line, what):
        super().__init__("seq %d (line %d): %s" % (seq, line, what))


def no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("repeated field " + k)
        d[k] = v
    return d


def check(path, card_path):
    card = json.load(open(card_path, encoding="utf-8"))
    node_id = card["node_id"]
    pk = Ed25519PublicKey.from_public_bytes(base64.b64decode(card["sign_pk"], validate=True))
    prev, expect, last_cp, entries, cps = ZERO, 1, 0, 0, 0
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, raw in enumerate(lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            o = json.loads(raw.decode("utf-8"), object_pairs_hook=no_dups)
        except ValueError as e:
            raise Bad(expect, n, "malformed line: %s" % e)
        if not isinstance(o, dict):
            raise Bad(expect, n, "malformed line: not an object")
        if o.get("type") == "entry":
            fmt = o.get("format", 1)
            if fmt == 1 and "format" in o or fmt not in (1, 2) or type(fmt) is not int:
                raise Bad(expect, n, "malformed line: format")
            want = {"type", "seq", "ts", "actor", "action", "subject", "object", "purpose",
                    "legal_basis", "outcome", "reason", "source", "prev_hash", "hash"}
            if fmt == 2:
                want |= {"format"} | set(V2_FIELDS)
            if set(o) != want or not isinstance(o["actor"], dict) or \
                    set(o["actor"]) != {"user", "role", "org"}:
                raise Bad(expect, n, "malformed line: fields")
            f = {k: o[k] for k in fields_of(fmt) if k in o}
            f["actor_user"], f["actor_role"], f["actor_org"] = (
                o["actor"]["user"], o["actor"]["role"], o["actor"]["org"])
            for k in fields_of(fmt):
                if not isinstance(f[k], str) or len(f[k].encode()) > LIMITS.get(k, 256):
                    raise Bad(expect, n, "malformed line: " + k)
            seq = o["seq"]
            if type(seq) is not int or seq < 1:
                raise Bad(expect, n, "malformed line: seq")
            if seq != expect:
                raise Bad(min(seq, expect), n, "seq_out_of_order")
            if bytes.fromhex(o["prev_hash"]) != prev:
                raise Bad(seq, n, "broken_chain")
            h = entry_hash(fmt, seq, f, prev)
            if o["hash"] != h.hex():
                raise Bad(seq, n, "hash_mismatch")
            prev, expect, entries = h, expect + 1, entries + 1
        elif o.get("type") == "checkpoint":
            if set(o) != {"type", "node_id", "seq", "ts", "hash", "sig"}:
                raise Bad(expect, n, "malformed line: fields")
            seq = o["seq"]
            if o["node_id"] != node_id:
                raise Bad(seq, n, "checkpoint_wrong_node")
            if seq != expect - 1 or seq <= last_cp:
                raise Bad(seq, n, "checkpoint_misplaced")
            h = bytes.fromhex(o["hash"])
            try:
                pk.verify(base64.b64decode(o["sig"], validate=True),
                          checkpoint_message(node_id, seq, h, o["ts"]))
            except InvalidSignature:
                raise Bad(seq, n, "bad_checkpoint_signature")
            if h != prev:
                raise Bad(seq, n, "checkpoint_hash_mismatch")
            last_cp, cps = seq, cps + 1
        else:
            raise Bad(expect, n, "malformed line: type")
    if expect - 1 > last_cp:
        raise Bad(last_cp + 1, 0, "not_covered")
    print("verified %d entries, %d checkpoints, last seq %d" % (entries, cps, expect - 1))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "generate" and sys.argv[2] in ("1", "2"):
        generate(int(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        try:
            check(sys.argv[2], sys.argv[3])
        except Bad as e:
            print(e)
            sys.exit(1)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
