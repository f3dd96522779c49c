#!/usr/bin/env python3
"""A reference reader of docs/node-card.md (version 1), written from that page
and not from the C++ code, using Python's json, hashlib and base64 and the
`cryptography` package (OpenSSL) instead of nlohmann/json and libsodium.

  node_card_reader.py generate [DIR]              # writes card_v1.json, card_v1.kat
  node_card_reader.py check CARD.json [FINGERPRINT]

check parses the card strictly, verifies both signatures and prints the
fingerprint (exit 0); a refused card prints one line "refused: REASON"
(exit 1); bad usage exits 2. tests/interop/node_card/node_card_interop_test.cpp
builds the same card with the C++ code and runs this reader on cards the C++
code made, so the vectors are not circular: two implementations agree.
"""
import base64
import hashlib
import ipaddress
import json
import os
import re
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey, Ed25519PublicKey)
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    # Neither exit 0 nor exit 1: a missing package must not pass for a refusal.
    print("cannot run: the python3 'cryptography' package is missing", file=sys.stderr)
    sys.exit(3)

MAX_CARD_BYTES = 16 * 1024
CARD_LABEL = b"schakel/node-card/v1\0"
ENC_KEY_LABEL = b"schakel/enc-key/v1\0"
FINGERPRINT_LABEL = b"schakel/fingerprint/v1\0"
SIGNED_FIELDS = ("address", "created", "enc_pk", "enc_pk_sig", "name", "node_id",
                 "org_type", "sign_pk", "tls_spki_sha256", "version")
ALL_FIELDS = frozenset(SIGNED_FIELDS + ("sig",))
# The order node-card.json is written in (informative: readers ignore layout).
PRETTY_ORDER = ("version", "node_id", "name", "org_type", "address", "sign_pk", "enc_pk",
                "enc_pk_sig", "tls_spki_sha256", "created", "sig")


class Refused(Exception):
    pass


# ----- canonical form --------------------------------------------------------

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                  "\r": "\\r", "\t": "\\t"}


def json_string(s):
    out = ['"']
    for ch in s:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)  # DEL, '/', non-ASCII: as they are
    out.append('"')
    return "".join(out)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def member_texts(card):
    """The JSON text of each signed field's value, by field name."""
    m = {k: json_string(card[k]) for k in ("address", "created", "name", "node_id", "org_type")}
    for k in ("sign_pk", "enc_pk", "enc_pk_sig"):
        m[k] = json_string(b64(card[k]))
    m["tls_spki_sha256"] = json_string(card["tls_spki_sha256"].hex())
    m["version"] = str(card["version"])
    return m


def canonical_text(card):
    m = member_texts(card)
    return "{" + ",".join(json_string(k) + ":" + m[k] for k in SIGNED_FIELDS) + "}"


def card_message(card):
    return CARD_LABEL + canonical_text(card).encode("utf-8")


def enc_key_message(enc_pk):
    return ENC_KEY_LABEL + enc_pk


def pretty_json(card):
    m = member_texts(card)
    m["sig"] = json_string(b64(card["sig"]))
    lines = ["  " + json_string(k) + ": " + m[k] for k in PRETTY_ORDER]
    return "{\n" + ",\n".join(lines) + "\n}\n"


# ----- fingerprint -----------------------------------------------------------

def fingerprint_digits(sign_pk):
    h = hashlib.sha512(FINGERPRINT_LABEL + sign_pk).digest()
    return "".join("%05d" % (int.from_bytes(h[5 * g:5 * g + 5], "big") % 100000)
                   for g in range(12))


def fingerprint(sign_pk):
    d = fingerprint_digits(sign_pk)
    return " ".join(d[i:i + 5] for i in range(0, 60, 5))


def fingerprint_matches(sign_pk, typed):
    normalised = "".join(c for c in typed if c not in " -\n\r\t")
    return normalised == fingerprint_digits(sign_pk)


# ----- strict reading --------------------------------------------------------

class _Float:
    """A number with a fraction or exponent (never a valid version)."""


def _pairs(pairs):
    seen = {}
    for k, v in pairs:
        if k not in ALL_FIELDS:
            raise Refused("unknown field %s" % json.dumps(k))
        if k in seen:
            raise Refused("field %s appears twice" % json.dumps(k))
        seen[k] = v
    return seen


def _no_constant(name):
    raise Refused("not valid JSON (%s)" % name)


def parse_json(data):
    if len(data) > MAX_CARD_BYTES:
        raise Refused("larger than %d bytes" % MAX_CARD_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("invalid UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]  # one byte order mark at the very start is ignored
    try:
        obj = json.loads(text, object_pairs_hook=_pairs, parse_float=lambda s: _Float(),
                         parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise Refused("not valid JSON (%s)" % e.msg)
    except RecursionError:
        raise Refused("not valid JSON (too deep)")
    if not isinstance(obj, dict):
        raise Refused("expected a JSON object")
    for k in SIGNED_FIELDS + ("sig",):
        if k not in obj:
            raise Refused('missing field "%s"' % k)
    for k, v in obj.items():
        want = int if k == "version" else str
        if type(v) is not want:
            raise Refused('field "%s": expected %s' % (k, "an integer" if want is int else "a string"))
        if want is str:
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate written as \uXXXX
                raise Refused("not valid JSON (lone surrogate in field \"%s\")" % k)
    return obj


def printable(s):
    for ch in s:
        c = ord(ch)
        if (c < 0x20 and ch != "\t") or 0x7F <= c < 0xA0:
            return False
    return True


HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)


def valid_host(host):
    if not 1 <= len(host) <= 253:
        return False
    if re.fullmatch(r"[0-9.]+", host, re.ASCII):
        try:  # all digits and dots: must be a dotted-quad IPv4 address
            ipaddress.IPv4Address(host)
            return True
        except ValueError:
            return False
    return all(HOST_LABEL.fullmatch(label) for label in host.split("."))


def valid_address(a):
    if not 1 <= len(a.encode("utf-8")) <= 262 or ":" not in a:
        return False
    host, _, port = a.rpartition(":")
    if not re.fullmatch(r"[1-9][0-9]{0,4}", port, re.ASCII) or int(port) > 65535 or not host:
        return False
    if host.startswith("["):
        inner = host[1:-1]
        if not host.endswith("]") or not 1 <= len(inner) <= 45 or "%" in inner:
            return False
        try:
            ipaddress.IPv6Address(inner)
            return True
        except ValueError:
            return False
    return ":" not in host and valid_host(host)


INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
                     r"([Zz]|[+-](\d{2}):(\d{2}))", re.ASCII)
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def valid_instant(t):
    m = INSTANT.fullmatch(t)
    if not m or len(t) > 40:
        return False
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not 1900 <= y <= 9999 or not 1 <= mo <= 12:
        return False
    if not 1 <= d <= MONTH_DAYS[mo - 1] + (1 if mo == 2 and leap else 0):
        return False
    if hh > 23 or mi > 59 or ss > 59:
        return False
    return m.group(9) is None or (int(m.group(9)) <= 23 and int(m.group(10)) <= 59)


def key_bytes(obj, field, n):
    text = obj[field]
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        data = None
    # The one spelling of n bytes: standard alphabet, padded, zero padding bits.
    if data is None or len(data) != n or b64(data) != text:
        raise Refused('field "%s": expected base64 of exactly %d bytes' % (field, n))
    return data


def read_card(data):
    obj = parse_json(data)
    if obj["version"] != 1:
        raise Refused("unsupported version %d" % obj["version"])
    card = {"version": 1}
    checks = (
        ("node_id", lambda v: re.fullmatch(r"[a-z0-9-]{3,64}", v, re.ASCII)),
        ("name", lambda v: 1 <= len(v.encode("utf-8")) <= 200 and printable(v)),
        ("org_type", lambda v: re.fullmatch(r"[a-z_]{2,32}", v, re.ASCII)),
        ("address", valid_address),
        ("created", valid_instant),
    )
    for field, ok in checks:
        if not ok(obj[field]):
            raise Refused('field "%s": not allowed' % field)
        card[field] = obj[field]
    card["sign_pk"] = key_bytes(obj, "sign_pk", 32)
    card["enc_pk"] = key_bytes(obj, "enc_pk", 32)
    card["enc_pk_sig"] = key_bytes(obj, "enc_pk_sig", 64)
    card["sig"] = key_bytes(obj, "sig", 64)
    if not re.fullmatch(r"[0-9a-f]{64}", obj["tls_spki_sha256"], re.ASCII):
        raise Refused('field "tls_spki_sha256": expected 64 lower-case hex digits')
    card["tls_spki_sha256"] = bytes.fromhex(obj["tls_spki_sha256"])
    verify(card["sign_pk"], card["sig"], card_message(card), "sig")
    verify(card["sign_pk"], card["enc_pk_sig"], enc_key_message(card["enc_pk"]), "enc_pk_sig")
    return card


# Ed25519 as libsodium verifies it, stricter than RFC 8032 (and OpenSSL):
# sign_pk must encode its y below p, and neither sign_pk nor the signature's R
# may be a point of small order -- y (bit 255, the sign of x, ignored) one of
# 0, 1, the two y of the points of order 8, p-1, p, p+1. Such a key would let
# anyone "sign" any card.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
SMALL_ORDER_Y = frozenset((0, 1, _Y8, P - _Y8, P - 1, P, P + 1))


def _y(encoded):
    return int.from_bytes(encoded, "little") & ((1 << 255) - 1)


def verify(pk, sig, message, what):
    if _y(pk) >= P or _y(pk) in SMALL_ORDER_Y or _y(sig[:32]) in SMALL_ORDER_Y:
        raise Refused("%s: sign_pk or R is not canonical or of small order" % what)
    if int.from_bytes(sig[32:], "little") >= L:
        raise Refused("%s: S is not below the group order" % what)
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, message)
    except (InvalidSignature, ValueError):
        raise Refused("%s does not verify against sign_pk" % what)


# ----- vectors ---------------------------------------------------------------

ED25519_SEED = bytes(range(0x00, 0x20))
X25519_SECRET = bytes(range(0x40, 0x60))


def raw_public(private_key):
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def vector_card():
    identity = Ed25519PrivateKey.from_private_bytes(ED25519_SEED)
    enc_pk = raw_public(X25519PrivateKey.from_private_bytes(X25519_SECRET))
    card = {
        "version": 1,
        "node_id": "school-trajectum",
        "name": 'Trajectum College "Zuid" \u2013 Caf\u00e9\\Noord',
        "org_type": "school",
        "address": "schakel.trajectum.example:7401",
        "sign_pk": raw_public(identity),
        "enc_pk": enc_pk,
        "enc_pk_sig": identity.sign(enc_key_message(enc_pk)),
        "tls_spki_sha256": bytes(0xF0 ^ i for i in range(32)),
        "created": "2026-11-23T10:00:00Z",
    }
    card["sig"] = identity.sign(card_message(card))
    return card


def generate(directory):
    card = vector_card()
    with open(os.path.join(directory, "card_v1.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(pretty_json(card))
    lines = [
        "# Known answers for docs/node-card.md (version 1), generated by",
        "# node_card_reader.py (Python, OpenSSL) and matched byte for byte by the",
        "# C++ code in node_card_interop_test.cpp. Binary values are hex.",
        "ed25519_seed = " + ED25519_SEED.hex(),
        "x25519_secret = " + X25519_SECRET.hex(),
        "sign_pk = " + card["sign_pk"].hex(),
        "enc_pk = " + card["enc_pk"].hex(),
        "enc_pk_sig_input = " + enc_key_message(card["enc_pk"]).hex(),
        "enc_pk_sig = " + card["enc_pk_sig"].hex(),
        "canonical_text = " + canonical_text(card),
        "sig_input = " + card_message(card).hex(),
        "sig = " + card["sig"].hex(),
        "fingerprint = " + fingerprint(card["sign_pk"]),
    ]
    with open(os.path.join(directory, "card_v1.kat"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def check(path, typed):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CARD_BYTES + 1)
    except OSError as e:
        print("cannot read %s: %s" % (path, e.strerror), file=sys.stderr)
        return 2
    try:
        card = read_card(data)
        if typed is not None and not fingerprint_matches(card["sign_pk"], typed):
            raise Refused("the fingerprint given does not match sign_pk")
    except Refused as e:
        print("refused: %s" % e)
        return 1
    print(fingerprint(card["sign_pk"]))
    return 0


def main(argv):
    if len(argv) in (1, 2) and argv[0] == "generate":
        generate(argv[1] if len(argv) == 2 else os.path.dirname(os.path.abspath(__file__)))
        return 0
    if len(argv) in (2, 3) and argv[0] == "check":
        return check(argv[1], argv[2] if len(argv) == 3 else None)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
