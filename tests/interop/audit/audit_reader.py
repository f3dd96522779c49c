#!/usr/bin/env python3
"""A reference reader of docs/audit.md (entry formats 1 and 2, checkpoints,
countersignatures, retention starts), written from that page and not from
the C++ code, using Python's hashlib and json and the `cryptography` package
(OpenSSL) instead of libsodium.

  audit_reader.py generate 1 > export_v1.jsonl
  audit_reader.py generate 2 > export_v2.jsonl
      writes a known-answer export: the events below (format 1: without
      their last three fields), appended one every 1.5 s from
      2026-11-23T10:00:00.000Z by node "school-trajectum" whose Ed25519 seed
      is 00 01 .. 1f, a checkpoint after every 3rd entry and one 0.25 s after
      the last (the node's Close()).
  audit_reader.py vectors > export_v2_head.kat
      the signing inputs of the first lines of that export, in hex, for the
      document (docs/audit.md "Known-answer vectors").
  audit_reader.py check EXPORT CARD_JSON [--anchor SEQ:HASH]
      verifies an export against a node card's node_id and sign_pk (the card's
      own signature is docs/node-card.md's business), printing
      "verified N entries, M checkpoints, last seq S" (exit 0) or
      "seq X (line L): PROBLEM: what" (exit 1), naming the problem and the
      seq exactly as docs/audit.md "Verifying an export" says.

tests/interop/audit/audit_interop_test.cpp runs `check` on the known-answer
exports, on fresh exports of the C++ AuditLog and on a tampering corpus, and
requires the C++ verifier to report the same problem, seq and line.
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
import os
import re


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



def vectors():
    """The signing inputs of the first three entries and the checkpoint
    after them (lines 1-4 of export_v2.jsonl), in hex."""
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    pk = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    out = ["# docs/audit.md \"Known-answer vectors\": node school-trajectum, Ed25519 seed 000102..1f",
           "sign_pk %s" % pk.hex(),
           "sign_pk_base64 %s" % base64.b64encode(pk).decode()]
    prev = ZERO
    now = BASE
    for seq, ev in enumerate(EVENTS[:3], start=1):
        now = now + datetime.timedelta(milliseconds=1500)
        fields = dict(zip(fields_of(2), (fmt_ts(now),) + ev))
        m = ENTRY_LABELS[2] + struct.pack(">Q", seq)
        for name in fields_of(2):
            m += s16(fields[name].encode("utf-8"))
        m += prev
        h = hashlib.sha256(m).digest()
        out += ["entry %d hash_input %s" % (seq, m.hex()), "entry %d hash %s" % (seq, h.hex())]
        prev = h
    ts = fmt_ts(now)
    msg = checkpoint_message(NODE_ID, 3, prev, ts)
    out += ["checkpoint 3 message %s" % msg.hex(), "checkpoint 3 sig %s" % key.sign(msg).hex()]
    sys.stdout.write("\n".join(out) + "\n")


# ----- the reader -------------------------------------------------------------

class Bad(Exception):
    def __init__(self, problem, seq, line, what=""):
        where = "seq %d (line %d)" % (seq, line) if line else "seq %d" % seq
        super().__init__("%s: %s: %s" % (where, problem, what or problem))


class Shape(Exception):
    """The line is not of its shape: it names the seq expected next."""


ENTRY_KEYS = {"type", "seq", "ts", "actor", "action", "subject", "object", "purpose",
              "legal_basis", "outcome", "reason", "source", "prev_hash", "hash"}
V2_KEYS = {"format", "recipient", "categories", "consents"}
CHECKPOINT_KEYS = {"type", "node_id", "seq", "ts", "hash", "sig"}
WITNESS_KEYS = CHECKPOINT_KEYS | {"witness"}
ALL_KEYS = ENTRY_KEYS | V2_KEYS | CHECKPOINT_KEYS | WITNESS_KEYS
TOKEN = re.compile(r"[a-z0-9._:-]{1,64}\Z")
SUBJECT = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
NODE = re.compile(r"[a-z0-9-]{3,64}\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
B64SIG = re.compile(r"[A-Za-z0-9+/]{86}==\Z")
TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{3}Z\Z")


def printable(s, tab_ok):
    """No C0 control (tab only where allowed), no DEL, no C1 control."""
    for ch in s:
        o = ord(ch)
        if (o < 0x20 and not (tab_ok and ch == "\t")) or 0x7F <= o <= 0x9F:
            return False
    return True


def real_time(ts):
    m = TS.match(ts) if ts.isascii() else None
    if not m:
        return False
    y, mo, d, h, mi, s = (int(x) for x in m.groups())
    if not 1 <= mo <= 12 or d < 1 or h > 23 or mi > 59 or s > 59:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
    return d <= days


def pairs_no_repeat(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Shape("field %s appears twice" % k)
        d[k] = v
    return d


def strings_only(value):
    """JSON strings from \\u escapes may hold lone surrogates; they are not
    text (docs/audit.md: a bad escape makes the line not of its shape)."""
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise Shape("lone surrogate in a \\u escape")
    elif isinstance(value, dict):
        for k, v in value.items():
            strings_only(k)
            strings_only(v)


def is_count(v):
    return type(v) is int and 1 <= v <= 999999999999999999


def parse_line(raw):
    """The shape: returns the object or raises Shape."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > 64 * 1024:
        raise Shape("line longer than 65536 bytes")
    if not raw:
        raise Shape("empty line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Shape("not UTF-8")
    if not printable(text, tab_ok=True):
        raise Shape("control character outside an escape")
    try:
        o = json.loads(text, object_pairs_hook=pairs_no_repeat)
    except ValueError as e:
        if isinstance(e, json.JSONDecodeError) or not str(e).startswith("field "):
            raise Shape("not JSON: %s" % e)
        raise Shape(str(e))
    if not isinstance(o, dict):
        raise Shape("not an object")
    strings_only(o)
    unknown = set(o) - ALL_KEYS
    if unknown:
        raise Shape("unknown field")
    for k, v in o.items():
        if k in ("seq", "format"):
            if not is_count(v):
                raise Shape("%s: expected a count" % k)
        elif k == "actor":
            if not isinstance(v, dict) or not set(v) <= {"user", "role", "org"} or \
                    not all(isinstance(x, str) for x in v.values()):
                raise Shape("actor: expected an object of user, role, org")
        elif not isinstance(v, str):
            raise Shape("%s: expected a string" % k)
    t = o.get("type")
    if t == "entry":
        want = ENTRY_KEYS | (V2_KEYS if "format" in o else set())
        if set(o) != want or set(o["actor"]) != {"user", "role", "org"}:
            raise Shape("fields of an entry")
    elif t == "checkpoint":
        if set(o) != CHECKPOINT_KEYS:
            raise Shape("fields of a checkpoint")
    elif t == "witness":
        if set(o) != WITNESS_KEYS:
            raise Shape("fields of a witness line")
    else:
        raise Shape("type")
    return o


def entry_fields(o):
    fmt = o.get("format", 1)
    f = {k: o[k] for k in fields_of(fmt) if k in o}
    f["actor_user"], f["actor_role"], f["actor_org"] = (
        o["actor"]["user"], o["actor"]["role"], o["actor"]["org"])
    return fmt, f


def entry_value_problem(o):
    """docs/audit.md "Entries": the first broken rule, or None."""
    if "format" in o and o["format"] != 2:
        return "format"
    fmt, f = entry_fields(o)
    if not real_time(f["ts"]):
        return "ts"
    for k in fields_of(fmt)[1:]:
        b = f[k].encode("utf-8")
        if len(b) > LIMITS.get(k, 256) or not printable(f[k], tab_ok=False):
            return k
    if not TOKEN.match(f["action"]) or not TOKEN.match(f["outcome"]):
        return "action or outcome"
    if f["subject"] and not SUBJECT.match(f["subject"]):
        return "subject"
    if not f["source"]:
        return "source"
    if not HEX64.match(o["prev_hash"]) or not HEX64.match(o["hash"]):
        return "hash"
    return None


def signed_value_problem(o):
    if not real_time(o["ts"]):
        return "ts"
    if not HEX64.match(o["hash"]):
        return "hash"
    if not B64SIG.match(o["sig"]):
        return "sig"
    try:
        # validate=True refuses bytes outside the alphabet; the pattern above
        # already did; re-encoding refuses non-zero padding bits.
        sig = base64.b64decode(o["sig"], validate=True)
    except ValueError:
        return "sig"
    if len(sig) != 64 or base64.b64encode(sig).decode() != o["sig"]:
        return "sig"
    if o["type"] == "witness" and not NODE.match(o["witness"]):
        return "witness"
    return None


def verifies(pk, sig_b64, msg):
    try:
        pk.verify(base64.b64decode(sig_b64), msg)
        return True
    except InvalidSignature:
        return False


def check(path, card_path, anchor=None):
    card = json.load(open(card_path, encoding="utf-8"))
    node_id = card["node_id"]
    pk = Ed25519PublicKey.from_public_bytes(base64.b64decode(card["sign_pk"], validate=True))
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise Bad("empty_export", 0, 0)
    lines = data.split(b"\n")
    unterminated = lines[-1] != b""
    if not unterminated:
        lines.pop()
    prev, expect = ZERO, 1
    last_seq, last_cp, entries, cps, start = 0, 0, 0, 0, 0
    for n, raw in enumerate(lines, start=1):
        try:
            o = parse_line(raw)
        except Shape as e:
            raise Bad("malformed_line", expect, n, str(e))
        seq, t = o["seq"], o["type"]
        if t == "entry":
            what = entry_value_problem(o)
            if what:
                raise Bad("malformed_line", seq, n, what)
            fmt, f = entry_fields(o)
            if seq != expect:
                raise Bad("seq_out_of_order", min(seq, expect), n)
            if bytes.fromhex(o["prev_hash"]) != prev:
                raise Bad("broken_chain", seq, n)
            h = entry_hash(fmt, seq, f, prev)
            if o["hash"] != h.hex():
                raise Bad("hash_mismatch", seq, n)
            if anchor and anchor[0] == seq and anchor[1] != h:
                raise Bad("anchor_mismatch", seq, n)
            prev, expect, last_seq, entries = h, expect + 1, seq, entries + 1
        elif t == "checkpoint":
            what = signed_value_problem(o)
            if what:
                raise Bad("malformed_line", seq, n, what)
            h = bytes.fromhex(o["hash"])
            if o["node_id"] != node_id:
                raise Bad("checkpoint_wrong_node", seq, n)
            msg = checkpoint_message(node_id, seq, h, o["ts"])
            if n == 1:  # a retention boundary: the log starts after it
                if not verifies(pk, o["sig"], msg):
                    raise Bad("bad_checkpoint_signature", seq, n)
                if anchor and anchor[0] == seq and anchor[1] != h:
                    raise Bad("anchor_mismatch", seq, n)
                prev, expect, last_seq, last_cp, start, cps = h, seq + 1, seq, seq, seq, 1
                continue
            if seq <= last_cp or seq != last_seq:
                raise Bad("checkpoint_misplaced", seq, n)
            if not verifies(pk, o["sig"], msg):
                raise Bad("bad_checkpoint_signature", seq, n)
            if h != prev:
                raise Bad("checkpoint_hash_mismatch", seq, n)
            last_cp, cps = seq, cps + 1
        else:  # a countersignature: its shape only (no partners' cards here)
            what = signed_value_problem(o)
            if what:
                raise Bad("malformed_line", seq, n, what)
    if unterminated:
        raise Bad("missing_final_newline", last_seq, len(lines))
    if anchor and anchor[0] > last_seq:
        raise Bad("truncated_before_anchor", anchor[0], 0)
    if last_seq > last_cp:
        raise Bad("not_covered", last_cp + 1, 0)
    text = "verified %d entries, %d checkpoints, last seq %d" % (entries, cps, last_seq)
    if start:
        text += "; the log starts after seq %d" % start
    print(text)


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "generate" and args[1] in ("1", "2"):
        generate(int(args[1]))
    elif args == ["vectors"]:
        vectors()
    elif len(args) in (3, 5) and args[0] == "check":
        anchor = None
        if len(args) == 5:
            if args[3] != "--anchor":
                sys.exit(2)
            seq, _, h = args[4].partition(":")
            anchor = (int(seq), bytes.fromhex(h))
        try:
            check(args[1], args[2], anchor)
        except Bad as e:
            print(e)
            sys.exit(1)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
