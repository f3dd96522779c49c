#!/usr/bin/env python3
"""A reference reader for docs/peer-protocol.md and docs/envelope.md, written
from those pages and not from the C++ code, with Python's hashlib and the
`cryptography` package (OpenSSL) instead of libsodium. The envelope's
primitives (XChaCha20-Poly1305, the header encoding) come from
tests/crypto/data/envelope_v1_reference.py, the first such implementation.

  reference.py generate DIR   # writes the vectors (*.kat) from fixed seeds
  reference.py check FILE     # parses and verifies every block of FILE

A vector file is blocks of "key = value" lines separated by blank lines; '#'
starts a comment; binary values are hex. Each block names its `kind`
(envelope, receipt, refusal, revocation, purge_confirmation,
adoption_notice, frame) and
carries what a reader needs to check it: the signer's public key, the fields
it must name, the bytes.

check exits 0 when every block is accepted, 1 at the first one refused
(printing one line: which block and why), 2 on a usage error.
tests/interop/peer/peer_interop_test.cpp builds the same vectors with the C++
code and compares them byte for byte, and runs this reader on fresh and on
tampered output of the C++ code.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import struct
import sys

# The tests run this from the source tree: leave no __pycache__ there.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "crypto", "data"))

from cryptography.exceptions import InvalidSignature, InvalidTag  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.x25519 import (  # noqa: E402
    X25519PrivateKey, X25519PublicKey)

import envelope_v1_reference as env1  # noqa: E402


class Refused(Exception):
    """A vector that a reader must refuse; the message says why."""


def need(cond, why):
    if not cond:
        raise Refused(why)


# ----- field rules (docs/envelope.md "Header") -------------------------------

OBJECT_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
NODE_ID = re.compile(r"[a-z0-9-]{3,64}")
PURPOSE = re.compile(r"[a-z0-9_-]{1,64}")
MAX_INSTANT = 253402300799999
REFUSAL_CODES = ("unknown_purpose", "category_not_allowed", "retention_too_long", "quota",
                 "unsupported")


def object_id(b, what):
    need(OBJECT_ID.fullmatch(b.decode("latin-1")), "bad " + what)
    return b.decode()


def node_id(b, what):
    need(NODE_ID.fullmatch(b.decode("latin-1")), "bad " + what)
    return b.decode()


def instant(ms, what):
    need(0 <= ms <= MAX_INSTANT, "bad " + what + " (outside 1970..9999)")
    return ms


def printable_utf8(b):
    """docs/envelope.md "Revocation": UTF-8, no overlong forms or surrogates,
    no control characters but tab (C0, DEL, C1)."""
    try:
        text = b.decode("utf-8")  # refuses overlong forms and surrogates
    except UnicodeDecodeError:
        return False
    return all(c == "\t" or not (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) for c in text)


def ms_of(text):
    return env1.instant_ms(text)


def text_of(ms):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    t += datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def public_key(seed):
    return env1.raw(Ed25519PrivateKey.from_private_bytes(seed))


def verify(pk_hex, sig, message, what):
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(pk_hex)).verify(sig, message)
    except InvalidSignature:
        raise Refused(what + ": bad signature") from None


# ----- a bounds-checked reader -------------------------------------------------

class Reader:
    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n):
        need(len(self.data) - self.pos >= n, self.what + ": truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def str16(self): return self.take(self.u16())

    def end(self):
        need(self.pos == len(self.data), self.what + ": bytes after the end")


# ----- receipts, refusals, revocations (docs/envelope.md) -----------------------

# kind: (magic, label, size limit, signer key in the block)
SIGNED = {
    "receipt": (b"SCHR", b"schakel/receipt/v1\0", 1024),
    "refusal": (b"SCHN", b"schakel/refusal/v1\0", 1024),
    "revocation": (b"SCHV", b"schakel/revocation/v1\0", 2048),
}


def open_signed(kind, data):
    """Magic, version 1 and the limit; returns (reader, start of the fields)."""
    magic, _, limit = SIGNED[kind]
    need(len(data) <= limit, "%s: larger than %d bytes" % (kind, limit))
    need(data[:4] == magic, kind + ": bad magic")
    r = Reader(data, kind)
    r.take(4)
    need(r.u8() == 1, kind + ": unknown version")
    return r, r.pos


def decode_ids(r, kind):
    return {"message_id": object_id(r.str16(), kind + " message_id"),
            "sender_id": node_id(r.str16(), kind + " sender_id"),
            "recipient_id": node_id(r.str16(), kind + " recipient_id")}


def decode_receipt(data):
    r, start = open_signed("receipt", data)
    f = decode_ids(r, "receipt")
    f["received"] = instant(r.i64(), "receipt time")
    f["body_hash"] = r.take(32)
    end, f["sig"] = r.pos, r.take(64)
    r.end()
    return f, data[start:end]


def decode_refusal(data):
    r, start = open_signed("refusal", data)
    f = decode_ids(r, "refusal")
    f["code"] = r.str16().decode("latin-1")
    f["refused_at"] = r.i64()
    end, f["sig"] = r.pos, r.take(64)
    r.end()
    need(f["code"] in REFUSAL_CODES, "refusal: unknown code")
    instant(f["refused_at"], "refusal time")
    return f, data[start:end]


def decode_revocation(data):
    r, start = open_signed("revocation", data)
    f = decode_ids(r, "revocation")
    reason = r.str16()
    need(1 <= len(reason) <= 512 and printable_utf8(reason),
         "revocation: reason must be 1..512 bytes of printable UTF-8")
    f["reason"] = reason.decode()
    f["revoked_at"] = instant(r.i64(), "revocation time")
    end, f["sig"] = r.pos, r.take(64)
    r.end()
    return f, data[start:end]


DECODERS = {"receipt": decode_receipt, "refusal": decode_refusal,
            "revocation": decode_revocation}


def fields_bytes(f, kind):
    out = env1.s16(f["message_id"]) + env1.s16(f["sender_id"]) + env1.s16(f["recipient_id"])
    if kind == "receipt":
        return out + env1.i64(ms_of(f["received"])) + f["body_hash"]
    if kind == "refusal":
        return out + env1.s16(f["code"]) + env1.i64(ms_of(f["refused_at"]))
    return out + env1.s16(f["reason"]) + env1.i64(ms_of(f["revoked_at"]))


def make_signed(kind, f, seed):
    magic, label, _ = SIGNED[kind]
    fields = fields_bytes(f, kind)
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(label + fields)
    return magic + bytes([1]) + fields + sig


def check_signed(kind, b):
    f, fields = DECODERS[kind](bytes.fromhex(b[kind]))
    signer = "sender_sign_pk" if kind == "revocation" else "recipient_sign_pk"
    verify(b[signer], f["sig"], SIGNED[kind][1] + fields, kind)
    for key in ("message_id", "sender_id", "recipient_id", "reason", "code"):
        if key in f:
            need(f[key] == b[key], "%s: %s differs from the expected one" % (kind, key))
    for key in ("received", "refused_at", "revoked_at"):
        if key in f:
            need(f[key] == ms_of(b[key]), "%s: %s differs from the expected one" % (kind, key))
    if kind == "receipt":
        need(f["body_hash"].hex() == b["body_hash"], "receipt: body hash differs")


# ----- purge confirmations (JSON) ----------------------------------------------

def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    need(len(keys) == len(set(keys)), "duplicate key")
    return dict(pairs)


def purge_message(f, held, purged_at):
    ids = (f["message_id"] + "\0" + f["sender_id"] + "\0" + f["recipient_id"]).encode()
    return b"schakel/purge-confirmation/v2\0" + ids + b"\0" + (b"1" if held else b"0") + b"\0" \
        + purged_at.encode()


def make_purge_confirmation(f, held, purged_at, seed):
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(purge_message(f, held, purged_at))
    j = {"version": 2, "message_id": f["message_id"], "sender_id": f["sender_id"],
         "recipient_id": f["recipient_id"], "held": held, "purged_at": purged_at,
         "sig": base64.b64encode(sig).decode()}
    # Key order and spacing are not part of the format; these match the
    # C++ writer, so the vector compares byte for byte.
    return json.dumps(j, sort_keys=True, separators=(",", ":"))


def check_purge_confirmation(b):
    j, sig = signed_json(b["confirmation"], ("version", "message_id", "sender_id", "recipient_id",
                                             "held", "purged_at", "sig"), "purge confirmation")
    need(j["version"] == 2 and type(j["version"]) is int, "purge confirmation: unknown version")
    need(type(j["held"]) is bool, "purge confirmation: held is not true or false")
    for key in ("message_id", "sender_id", "recipient_id"):
        need(j[key] == b[key], "purge confirmation: " + key + " differs")
    need(str(j["held"]).lower() == b["held"], "purge confirmation: held differs")
    rfc3339(j["purged_at"], "purge confirmation purged_at")
    verify(b["recipient_sign_pk"], sig, purge_message(j, j["held"], j["purged_at"]),
           "purge confirmation")


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def rfc3339(text, what):
    need(isinstance(text, str) and len(text) <= 32 and RFC3339.fullmatch(text),
         what + ": not an instant")
    try:
        env1.instant_ms(text)
    except ValueError:
        raise Refused(what + ": not an instant") from None


def signed_json(text, keys, what):
    """A JSON object of at most 4096 bytes with exactly `keys`, no duplicates."""
    need(len(text.encode()) <= 4096, what + ": larger than 4096 bytes")
    try:
        j = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError:
        raise Refused(what + ": not JSON") from None
    need(isinstance(j, dict), what + ": not an object")
    need(set(j) == set(keys), what + ": unknown or missing keys")
    try:
        sig = base64.b64decode(j["sig"], validate=True)
    except (ValueError, TypeError):
        raise Refused(what + ": sig is not base64") from None
    need(len(sig) == 64, what + ": bad signature length")
    return j, sig


# ----- adoption notices (docs/peer-protocol.md "Versions", version 4) ----------

ADOPTION_KEYS = ("adoption", "message_id", "sender_id", "recipient_id", "adopted_at", "basis", "sig")


def adoption_message(f, adopted_at, basis):
    parts = [f["message_id"], f["sender_id"], f["recipient_id"], adopted_at, basis]
    return b"schakel/adoption-notice/v1\0" + "\0".join(parts).encode()


def make_adoption_notice(f, adopted_at, basis, seed):
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(adoption_message(f, adopted_at, basis))
    j = {"adoption": 1, "message_id": f["message_id"], "sender_id": f["sender_id"],
         "recipient_id": f["recipient_id"], "adopted_at": adopted_at, "basis": basis,
         "sig": base64.b64encode(sig).decode()}
    return json.dumps(j, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_adoption_notice(b):
    j, sig = signed_json(b["notice"], ADOPTION_KEYS, "adoption notice")
    need(j["adoption"] == 1 and type(j["adoption"]) is int, "adoption notice: unknown version")
    for key in ("message_id", "sender_id", "recipient_id", "basis", "adopted_at"):
        need(j[key] == b[key], "adoption notice: " + key + " differs")
    rfc3339(j["adopted_at"], "adoption notice adopted_at")
    basis = j["basis"].encode()
    need(1 <= len(basis) <= 200 and printable_utf8(basis) and not set(b"\t\r\n") & set(basis),
         "adoption notice: basis is not 1 to 200 printable characters on one line")
    verify(b["recipient_sign_pk"], sig, adoption_message(j, j["adopted_at"], j["basis"]),
           "adoption notice")


# ----- envelopes (docs/envelope.md "Opening", steps 1 to 14) ------------------

def decode_header(hdr):
    r = Reader(hdr, "envelope header")
    h = decode_ids(r, "envelope")
    h["created"] = instant(r.i64(), "envelope created")
    h["retain_until"] = instant(r.i64(), "envelope retain_until")
    need(h["retain_until"] >= h["created"], "envelope: retain_until before created")
    purpose = r.str16().decode("latin-1")
    need(PURPOSE.fullmatch(purpose), "envelope: bad purpose")
    h["purpose"] = purpose
    n = r.u16()
    need(n <= 256, "envelope: more than 256 consent ids")
    h["consent_ids"] = [object_id(r.str16(), "envelope consent id") for _ in range(n)]
    ctype = r.str16()
    need(1 <= len(ctype) <= 128 and all(0x20 <= c <= 0x7E for c in ctype),
         "envelope: bad content_type")
    h["content_type"] = ctype.decode()
    h["recipient_key_id"] = r.take(16)
    r.end()
    return h


def parse_envelope(env):
    """Steps 1 to 10: the structure and the header, without keys."""
    need(len(env) <= env1.MAX_ENVELOPE, "envelope: oversize")
    need(env[:4] == b"SCHK"[:len(env)], "envelope: bad magic")
    r = Reader(env, "envelope")
    r.take(4)
    need(r.u8() == 1, "envelope: unknown version")
    hlen = r.u32()
    need(hlen <= env1.MAX_HEADER, "envelope: oversize header")
    need(len(env) >= 69 + hlen, "envelope: truncated")
    hdr, epk, nonce, clen = r.take(hlen), r.take(32), r.take(24), r.u32()
    need(69 + hlen + clen <= env1.MAX_ENVELOPE, "envelope: oversize")
    need(len(env) >= 69 + hlen + clen, "envelope: truncated")
    need(len(env) == 69 + hlen + clen, "envelope: bytes after the end")
    need(clen >= 80, "envelope: ciphertext shorter than a signature and a tag")
    return decode_header(hdr), hdr, epk, nonce, env[:69 + hlen], env[69 + hlen:]


def check_envelope(b):
    env = bytes.fromhex(b["envelope"])
    h, hdr, epk, nonce, ad, ct = parse_envelope(env)
    need(h["recipient_id"] == b["recipient_id"], "envelope: wrong recipient")
    me = X25519PrivateKey.from_private_bytes(bytes.fromhex(b["recipient_enc_secret"]))
    enc_pk = env1.raw(me)
    need(h["recipient_key_id"] == env1.key_id(enc_pk), "envelope: unknown key")
    ss = me.exchange(X25519PublicKey.from_public_bytes(epk))
    need(ss != bytes(32), "envelope: all-zero shared secret")
    k = hashlib.blake2b(env1.KDF_LABEL + ss + epk + enc_pk, digest_size=32).digest()
    try:
        pt = env1.xchacha_decrypt(k, nonce, ct, ad)
    except InvalidTag:
        raise Refused("envelope: decryption failed") from None
    sig, body = pt[:64], pt[64:]
    verify(b["sender_sign_pk"], sig, env1.SIGN_LABEL + env1.u32(len(hdr)) + hdr + body, "envelope")
    for key in ("message_id", "sender_id", "purpose", "content_type"):
        need(h[key] == b[key], "envelope: " + key + " differs")
    need(h["consent_ids"] == [c for c in b["consent_ids"].split(",") if c],
         "envelope: consent_ids differ")
    need(h["created"] == ms_of(b["created"]) and h["retain_until"] == ms_of(b["retain_until"]),
         "envelope: times differ")
    need(body.hex() == b["body"], "envelope: body differs")


# ----- frames (docs/peer-protocol.md "Frames") ----------------------------------

FRAME_TYPES = {1: "HELLO", 2: "DELIVER", 3: "RESPONSE", 4: "FAILURE", 5: "ERROR",
               6: "DELIVER_MORE"}
HANDSHAKE_LIMIT = 512
SESSION_LIMIT = 16 * 1024 * 1024 + 64 * 1024


def frame(type_name, payload):
    code = next(k for k, v in FRAME_TYPES.items() if v == type_name)
    return env1.u32(len(payload)) + bytes([code]) + payload


def hello_payload(lo, hi, node):
    return env1.u16(lo) + env1.u16(hi) + bytes([len(node)]) + node.encode()


def message_text(b):
    """FAILURE and ERROR messages: at most 200 bytes of printable ASCII."""
    need(len(b) <= 200 and all(0x20 <= c <= 0x7E for c in b),
         "message is not at most 200 bytes of printable ASCII")
    return b.decode()


def check_hello(p, b):
    r = Reader(p, "HELLO")
    lo, hi = r.u16(), r.u16()
    node = r.take(r.u8())
    need(1 <= lo <= hi, "HELLO: bad version range")
    node_id(node, "HELLO node id")  # bytes after it are ignored (room for later versions)
    need((lo, hi, node.decode()) == (int(b["min_version"]), int(b["max_version"]), b["node_id"]),
         "HELLO: fields differ")


def check_status_frame(kind, p, b, code_bytes):
    need(len(p) >= code_bytes, kind + ": shorter than its code")
    code = int.from_bytes(p[:code_bytes], "big")
    text = message_text(p[code_bytes:])
    need((code, text) == (int(b["code"]), b["message"]), kind + ": fields differ")


TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


def check_traced(p, b):
    """docs/envelope.md "Trace context": "SCHT", u8 1, u8 55, traceparent,
    then an envelope; only on a connection of version 5 or later."""
    need(int(b["version"]) >= 5, "trace context on a connection of version < 5")
    r = Reader(p, "trace context")
    need(r.take(4) == b"SCHT", "trace context: bad magic")
    need(r.u8() == 1, "trace context: unknown version")
    need(r.u8() == 55, "trace context: traceparent length is not 55")
    tp = r.take(55).decode("latin-1")
    need(TRACEPARENT.fullmatch(tp), "trace context: not a lower-case traceparent of version 00")
    need(tp[3:35] != "0" * 32 and tp[36:52] != "0" * 16, "trace context: an all-zero id")
    need(tp == b["traceparent"], "trace context: traceparent differs")
    parse_envelope(p[r.pos:])


def check_carried(p, b):
    carries = b["carries"]
    if carries == "envelope":
        parse_envelope(p)
    elif carries == "traced_envelope":
        check_traced(p, b)
    elif carries == "purge_confirmation":
        check_purge_confirmation(dict(b, confirmation=p.decode("utf-8", "replace")))
    else:
        need(carries in DECODERS, "frame: unknown payload kind " + carries)
        DECODERS[carries](p)


def check_frame(b):
    data = bytes.fromhex(b["frame"])
    need(len(data) >= 5, "frame: shorter than its 5-byte header")
    length, code = struct.unpack(">I", data[:4])[0], data[4]
    handshake = b["state"] == "handshake"
    limit = HANDSHAKE_LIMIT if handshake else SESSION_LIMIT
    need(length <= limit, "frame: frame_too_large (%d > %d)" % (length, limit))
    need(len(data) >= 5 + length, "frame: truncated")
    need(len(data) == 5 + length, "frame: bytes after the frame")
    need(code in FRAME_TYPES, "frame: unknown frame type %d" % code)
    name, p = FRAME_TYPES[code], data[5:]
    need(name == b["type"], "frame: type %s, expected %s" % (name, b["type"]))
    if handshake:
        need(name in ("HELLO", "ERROR"), "frame: " + name + " before HELLO")
    else:
        need(name != "HELLO", "frame: a second HELLO")
    if name == "DELIVER_MORE":
        need(int(b["version"]) >= 3, "frame: DELIVER_MORE on a connection of version < 3")
    if name == "HELLO":
        check_hello(p, b)
    elif name == "FAILURE":
        check_status_frame(name, p, b, 1)
    elif name == "ERROR":
        check_status_frame(name, p, b, 2)
    else:
        check_carried(p, b)


CHECKS = {"envelope": check_envelope, "purge_confirmation": check_purge_confirmation,
          "adoption_notice": check_adoption_notice,
          "frame": check_frame}
for _kind in DECODERS:
    CHECKS[_kind] = (lambda k: lambda b: check_signed(k, b))(_kind)


# ----- the vectors ----------------------------------------------------------------

def counting(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


SENDER_SEED = counting(0x00, 32)
RECIPIENT_SEED = counting(0x20, 32)
RECIPIENT_ENC_SECRET = counting(0x40, 32)
IDS = {"message_id": "msg-2026-0001", "sender_id": "school-trajectum",
       "recipient_id": "wijkteam-overvecht"}
ENVELOPE = dict(IDS, created="2026-11-23T10:00:00.000Z", retain_until="2027-05-22T10:00:00.000Z",
                purpose="doorverwijzing", consent_ids=["c1"],
                content_type="application/vnd.schakel.case+json", body=b"{}")
ESK, NONCE = counting(0x60, 32), counting(0x80, 24)
TRACE = "00-%s-%s-01" % (counting(0xA0, 16).hex(), counting(0xB0, 8).hex())


def block(comment, pairs):
    lines = ["# " + c for c in comment]
    lines += ["%s = %s" % (k, v.hex() if isinstance(v, bytes) else v) for k, v in pairs]
    return "\n".join(lines) + "\n"


def sealed_envelope():
    enc_pk = env1.raw(X25519PrivateKey.from_private_bytes(RECIPIENT_ENC_SECRET))
    return env1.seal(ENVELOPE, ENVELOPE["body"], SENDER_SEED, enc_pk, ESK, NONCE)


def envelope_vector():
    e = ENVELOPE
    return block(
        ["An envelope (docs/envelope.md \"Envelope\"), sealed with the ephemeral secret and",
         "the nonce given here (a sealer draws both at random). tests/interop/peer/reference.py."],
        [("kind", "envelope"), ("sender_seed", SENDER_SEED),
         ("sender_sign_pk", public_key(SENDER_SEED)), ("recipient_seed", RECIPIENT_SEED),
         ("recipient_enc_secret", RECIPIENT_ENC_SECRET),
         ("ephemeral_secret", ESK), ("nonce", NONCE)]
        + [(k, e[k]) for k in ("message_id", "sender_id", "recipient_id", "created",
                               "retain_until", "purpose")]
        + [("consent_ids", ",".join(e["consent_ids"])), ("content_type", e["content_type"]),
           ("body", e["body"]), ("envelope", sealed_envelope())])


RECEIPT = dict(IDS, received="2026-11-23T10:00:05.000Z",
               body_hash=hashlib.sha256(ENVELOPE["body"]).digest())
REFUSAL = dict(IDS, code="retention_too_long", refused_at="2026-11-23T10:00:05.000Z")
REVOCATION = dict(IDS, reason="consent_withdrawn", revoked_at="2026-12-01T08:30:00.000Z")
PURGE = dict(IDS, held="true", purged_at="2026-12-01T08:30:01.000Z")
ADOPTION = dict(IDS, adopted_at="2026-11-30T14:00:00.000Z", basis="Jeugdwet art. 7.3.8")


def signed_vector(kind, f, seed, signer, extra):
    return block(
        ["A %s (docs/envelope.md). tests/interop/peer/reference.py." % kind],
        [("kind", kind), (signer.replace("_sign_pk", "_seed"), seed),
         (signer, public_key(seed))] + extra + [(kind, make_signed(kind, f, seed))])


def vectors():
    ids = [(k, IDS[k]) for k in IDS]
    return {
        "envelope.kat": envelope_vector(),
        "receipt.kat": signed_vector(
            "receipt", RECEIPT, RECIPIENT_SEED, "recipient_sign_pk",
            ids + [("received", RECEIPT["received"]), ("body", ENVELOPE["body"]),
                   ("body_hash", RECEIPT["body_hash"])]),
        "refusal.kat": signed_vector(
            "refusal", REFUSAL, RECIPIENT_SEED, "recipient_sign_pk",
            ids + [("code", REFUSAL["code"]), ("refused_at", REFUSAL["refused_at"])]),
        "revocation.kat": signed_vector(
            "revocation", REVOCATION, SENDER_SEED, "sender_sign_pk",
            ids + [("reason", REVOCATION["reason"]), ("revoked_at", REVOCATION["revoked_at"])]),
        "purge_confirmation.kat": block(
            ["A purge confirmation, version 2 (docs/envelope.md). tests/interop/peer/reference.py."],
            [("kind", "purge_confirmation"), ("recipient_seed", RECIPIENT_SEED),
             ("recipient_sign_pk", public_key(RECIPIENT_SEED))] + ids
            + [("held", PURGE["held"]), ("purged_at", PURGE["purged_at"]),
               ("confirmation", make_purge_confirmation(IDS, True, PURGE["purged_at"],
                                                        RECIPIENT_SEED))]),
        "adoption_notice.kat": block(
            ["An adoption notice (docs/peer-protocol.md \"Versions\", version 4).",
             "tests/interop/peer/reference.py."],
            [("kind", "adoption_notice"), ("recipient_seed", RECIPIENT_SEED),
             ("recipient_sign_pk", public_key(RECIPIENT_SEED))] + ids
            + [("adopted_at", ADOPTION["adopted_at"]), ("basis", ADOPTION["basis"]),
               ("notice", make_adoption_notice(IDS, ADOPTION["adopted_at"], ADOPTION["basis"],
                                               RECIPIENT_SEED))]),
        "frames.kat": frames_vector(),
    }


def frame_blocks():
    """(name, state, type, fields, payload): one exchange of docs/peer-protocol.md
    section 3, carrying the objects of the other vector files."""
    receipt = make_signed("receipt", RECEIPT, RECIPIENT_SEED)
    refusal = make_signed("refusal", REFUSAL, RECIPIENT_SEED)
    revocation = make_signed("revocation", REVOCATION, SENDER_SEED)
    purge = make_purge_confirmation(IDS, True, PURGE["purged_at"], RECIPIENT_SEED).encode()
    ids = [(k, IDS[k]) for k in IDS]
    return [
        ("hello-client", "handshake", "HELLO",
         [("min_version", 1), ("max_version", 5), ("node_id", IDS["sender_id"])],
         hello_payload(1, 5, IDS["sender_id"])),
        ("hello-server", "handshake", "HELLO",
         [("min_version", 1), ("max_version", 5), ("node_id", IDS["recipient_id"])],
         hello_payload(1, 5, IDS["recipient_id"])),
        ("deliver-envelope", "session", "DELIVER", [("carries", "envelope")], sealed_envelope()),
        ("deliver-traced-envelope", "session", "DELIVER",
         [("carries", "traced_envelope"), ("traceparent", TRACE)],
         b"SCHT" + bytes([1, 55]) + TRACE.encode() + sealed_envelope()),
        ("response-receipt", "session", "RESPONSE", [("carries", "receipt")], receipt),
        ("response-refusal", "session", "RESPONSE", [("carries", "refusal")], refusal),
        ("deliver-more-revocation", "session", "DELIVER_MORE", [("carries", "revocation")],
         revocation),
        ("response-purge-confirmation", "session", "RESPONSE",
         [("carries", "purge_confirmation"), ("recipient_sign_pk", public_key(RECIPIENT_SEED))]
         + ids + [("held", "true")], purge),
        ("failure-refused", "session", "FAILURE", [("code", 4), ("message", "refused: quota")],
         bytes([4]) + b"refused: quota"),
        ("error-unsupported-version", "handshake", "ERROR",
         [("code", 3), ("message", "no protocol version in common")],
         env1.u16(3) + b"no protocol version in common"),
    ]


def frames_vector():
    out = []
    for name, state, type_name, fields, payload in frame_blocks():
        out.append(block([], [("kind", "frame"), ("name", name), ("state", state),
                              ("version", 5), ("type", type_name)]
                         + fields + [("frame", frame(type_name, payload))]))
    head = ["Frames of docs/peer-protocol.md on a connection of version 5 (the HELLOs",
            "before it), carrying the objects of the other vector files; the envelope",
            "once bare and once with a trace context (docs/envelope.md).",
            "tests/interop/peer/reference.py."]
    return "\n".join(["# " + h for h in head]) + "\n\n" + "\n".join(out)


def generate(directory):
    env1._self_test()
    for name, text in vectors().items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            f.write(text)


# ----- check -----------------------------------------------------------------------

def read_blocks(path):
    blocks, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if cur:
                    blocks.append(cur)
                cur = {}
                continue
            k, eq, val = line.partition("=")
            need(eq, "not a 'key = value' line")
            cur[k.strip()] = val.strip()
    if cur:
        blocks.append(cur)
    return blocks


def check(path):
    env1._self_test()
    blocks = read_blocks(path)
    need(blocks, "no vectors")
    for i, b in enumerate(blocks):
        name = b.get("name", b.get("kind", "?")) + " (block %d)" % (i + 1)
        try:
            need(b.get("kind") in CHECKS, "unknown kind")
            CHECKS[b["kind"]](b)
        except Refused as e:
            raise Refused(name + ": " + str(e)) from None
        except (KeyError, ValueError) as e:
            raise Refused("%s: malformed vector (%s: %s)" % (name, type(e).__name__, e)) from None
        print("ok", name)


def main(argv):
    if len(argv) == 3 and argv[1] == "generate":
        generate(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "check":
        try:
            check(argv[2])
        except Refused as e:
            print("refused:", e)
            return 1
        except OSError as e:
            print("usage: cannot read", argv[2], "(%s)" % e.strerror, file=sys.stderr)
            return 2
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
