#!/usr/bin/env python3
"""An independent implementation of docs/envelope.md (version 1), written from
that page and not from the C++ code, using Python's hashlib and the
`cryptography` package (OpenSSL) instead of libsodium.

  envelope_v1_reference.py generate > envelope_v1.kat   # the known answers
  envelope_v1_reference.py check envelope_v1.kat        # opens and verifies them

tests/crypto/envelope_test.cpp (EnvelopeKatTest) seals the same inputs with
the C++ code and must produce these bytes exactly, and opens them. The KAT is
therefore not circular: two implementations agree on every byte.
"""
import datetime
import hashlib
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MASK = 0xFFFFFFFF
MAX_ENVELOPE = 16 * 1024 * 1024
MAX_HEADER = 16 * 1024


# ----- XChaCha20-Poly1305 (HChaCha20 + RFC 8439) ---------------------------

def _rotl(v, c):
    return ((v << c) & MASK) | (v >> (32 - c))


def _qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK; s[d] ^= s[a]; s[d] = _rotl(s[d], 16)
    s[c] = (s[c] + s[d]) & MASK; s[b] ^= s[c]; s[b] = _rotl(s[b], 12)
    s[a] = (s[a] + s[b]) & MASK; s[d] ^= s[a]; s[d] = _rotl(s[d], 8)
    s[c] = (s[c] + s[d]) & MASK; s[b] ^= s[c]; s[b] = _rotl(s[b], 7)


def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        _qr(s, 0, 4, 8, 12); _qr(s, 1, 5, 9, 13); _qr(s, 2, 6, 10, 14); _qr(s, 3, 7, 11, 15)
        _qr(s, 0, 5, 10, 15); _qr(s, 1, 6, 11, 12); _qr(s, 2, 7, 8, 13); _qr(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_encrypt(key, nonce, plaintext, ad):
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce[16:], plaintext, ad)


def xchacha_decrypt(key, nonce, ciphertext, ad):
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).decrypt(b"\0" * 4 + nonce[16:], ciphertext, ad)


def _self_test():
    # draft-irtf-cfrg-xchacha-03, section 2.2.1.
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    want = "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    assert hchacha20(key, nonce).hex() == want, "HChaCha20 test vector"


# ----- encodings -------------------------------------------------------------

def u16(v): return struct.pack(">H", v)
def u32(v): return struct.pack(">I", v)
def i64(v): return struct.pack(">q", v)


def s16(b):
    if isinstance(b, str):
        b = b.encode()
    assert len(b) < 65536
    return u16(len(b)) + b


def instant_ms(text):
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (dt - epoch) // datetime.timedelta(milliseconds=1)


def key_id(enc_pk):
    return hashlib.blake2b(b"schakel/enc-key-id/v1\0" + enc_pk, digest_size=16).digest()


def encode_header(h, enc_pk):
    out = s16(h["message_id"]) + s16(h["sender_id"]) + s16(h["recipient_id"])
    out += i64(instant_ms(h["created"])) + i64(instant_ms(h["retain_until"]))
    out += s16(h["purpose"])
    out += u16(len(h["consent_ids"])) + b"".join(s16(c) for c in h["consent_ids"])
    out += s16(h["content_type"]) + key_id(enc_pk)
    return out


def raw(priv):
    # public_bytes(Raw, Raw), not public_bytes_raw(): Debian 12's
    # cryptography (38) predates the latter.
    return priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# ----- envelope ------------------------------------------------------------

SIGN_LABEL = b"schakel/envelope/v1/sign\0"
KDF_LABEL = b"schakel/envelope/v1/key\0"


def seal(h, body, sender_seed, enc_pk, esk, nonce):
    hdr = encode_header(h, enc_pk)
    assert len(hdr) <= MAX_HEADER
    sig = Ed25519PrivateKey.from_private_bytes(sender_seed).sign(
        SIGN_LABEL + u32(len(hdr)) + hdr + body)
    eph = X25519PrivateKey.from_private_bytes(esk)
    epk = raw(eph)
    ss = eph.exchange(X25519PublicKey.from_public_bytes(enc_pk))
    k = hashlib.blake2b(KDF_LABEL + ss + epk + enc_pk, digest_size=32).digest()
    ad = b"SCHK" + bytes([1]) + u32(len(hdr)) + hdr + epk + nonce + u32(64 + len(body) + 16)
    env = ad + xchacha_encrypt(k, nonce, sig + body, ad)
    assert len(env) <= MAX_ENVELOPE
    return env


def open_envelope(env, my_id, enc_sk, sender_pk):
    assert len(env) <= MAX_ENVELOPE, "oversize"
    assert env[:4] == b"SCHK", "bad magic"
    assert env[4] == 1, "unknown version"
    (hlen,) = struct.unpack(">I", env[5:9])
    assert hlen <= MAX_HEADER, "oversize header"
    hdr = env[9:9 + hlen]
    p = 9 + hlen
    epk, nonce = env[p:p + 32], env[p + 32:p + 56]
    (clen,) = struct.unpack(">I", env[p + 56:p + 60])
    assert clen >= 80 and len(env) == p + 60 + clen, "lengths"
    ad, ct = env[:p + 60], env[p + 60:]
    # The recipient id is the third str of the header.
    q = 0
    fields = []
    for _ in range(3):
        (n,) = struct.unpack(">H", hdr[q:q + 2])
        fields.append(hdr[q + 2:q + 2 + n].decode())
        q += 2 + n
    assert fields[2] == my_id, "wrong recipient"
    me = X25519PrivateKey.from_private_bytes(enc_sk)
    enc_pk = raw(me)
    assert hdr[-16:] == key_id(enc_pk), "unknown key"
    ss = me.exchange(X25519PublicKey.from_public_bytes(epk))
    k = hashlib.blake2b(KDF_LABEL + ss + epk + enc_pk, digest_size=32).digest()
    pt = xchacha_decrypt(k, nonce, ct, ad)
    sig, body = pt[:64], pt[64:]
    Ed25519PublicKey.from_public_bytes(sender_pk).verify(
        sig, SIGN_LABEL + u32(hlen) + hdr + body)
    return fields, body


def receipt(h, body, received, recipient_seed):
    fields = (s16(h["message_id"]) + s16(h["sender_id"]) + s16(h["recipient_id"])
              + i64(instant_ms(received)) + hashlib.sha256(body).digest())
    sig = Ed25519PrivateKey.from_private_bytes(recipient_seed).sign(
        b"schakel/receipt/v1\0" + fields)
    return b"SCHR" + bytes([1]) + fields + sig


def revocation(h, reason, at, sender_seed):
    fields = (s16(h["message_id"]) + s16(h["sender_id"]) + s16(h["recipient_id"])
              + s16(reason) + i64(instant_ms(at)))
    sig = Ed25519PrivateKey.from_private_bytes(sender_seed).sign(
        b"schakel/revocation/v1\0" + fields)
    return b"SCHV" + bytes([1]) + fields + sig


# ----- vectors ---------------------------------------------------------------

def counting(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


VECTORS = [
    dict(name="small-json", sender_seed=counting(0x00, 32), recipient_seed=counting(0x20, 32),
         recipient_enc_secret=counting(0x40, 32), ephemeral_secret=counting(0x60, 32),
         nonce=counting(0x80, 24), message_id="msg-2026-0001", sender_id="school-trajectum",
         recipient_id="wijkteam-overvecht", created="2026-11-23T10:00:00.125Z",
         retain_until="2027-05-22T10:00:00Z", purpose="doorverwijzing",
         consent_ids=["c1", "c2"], content_type="application/vnd.schakel.case+json",
         body=b'{"case_id":"casus-2026-0042","hulpvraag":{"question":"Hoe krijgen we Sanne '
              b'weer op school?"}}',
         received="2026-11-23T10:00:05Z", reason="consent_withdrawn",
         revoked_at="2026-12-01T08:30:00Z"),
    dict(name="empty-body-no-consents", sender_seed=counting(0xA0, 32),
         recipient_seed=counting(0xC0, 32), recipient_enc_secret=counting(0xE0, 32),
         ephemeral_secret=counting(0x10, 32), nonce=bytes(24), message_id="m",
         sender_id="lvs-utrecht", recipient_id="school-abc", created="1970-01-01T00:00:00Z",
         retain_until="1970-01-01T00:00:00Z", purpose="verzuimmelding", consent_ids=[],
         content_type="text/plain; charset=utf-8", body=b"", received="1970-01-01T00:00:00.001Z",
         reason="legal obligation ended \u2013 tombstone kept",
         revoked_at="9999-12-31T23:59:59.999Z"),
    dict(name="binary-300", sender_seed=counting(0x55, 32), recipient_seed=counting(0x66, 32),
         recipient_enc_secret=counting(0x77, 32), ephemeral_secret=counting(0x88, 32),
         nonce=counting(0x99, 24), message_id="share_2026.11-23", sender_id="rmc-regio-utrecht",
         recipient_id="ggd-regio-utrecht", created="2026-03-29T01:59:59.999+01:00",
         retain_until="2026-09-25T00:00:00Z", purpose="overdracht_rmc",
         consent_ids=["consent-1", "consent-2", "C.3_x"], content_type="application/octet-stream",
         body=bytes((i * 7) & 0xFF for i in range(300)), received="2026-03-29T03:00:00+02:00",
         reason="r", revoked_at="2026-04-01T00:00:00Z"),
]


def generate():
    _self_test()
    print("# Known answers for docs/envelope.md version 1, generated by")
    print("# envelope_v1_reference.py (Python, OpenSSL) and matched byte for byte by")
    print("# the C++ implementation in tests/crypto/envelope_test.cpp.")
    print("# Binary values are hex; consent_ids is a comma-separated list.")
    for v in VECTORS:
        sender_pk = raw(Ed25519PrivateKey.from_private_bytes(v["sender_seed"]))
        enc_pk = raw(X25519PrivateKey.from_private_bytes(v["recipient_enc_secret"]))
        env = seal(v, v["body"], v["sender_seed"], enc_pk, v["ephemeral_secret"], v["nonce"])
        print()
        print("name =", v["name"])
        for key in ("sender_seed", "recipient_seed", "recipient_enc_secret",
                    "ephemeral_secret", "nonce"):
            print(key, "=", v[key].hex())
        print("sender_sign_pk =", sender_pk.hex())
        print("recipient_enc_pk =", enc_pk.hex())
        for key in ("message_id", "sender_id", "recipient_id", "created", "retain_until",
                    "purpose"):
            print(key, "=", v[key])
        print("consent_ids =", ",".join(v["consent_ids"]))
        print("content_type =", v["content_type"])
        print("body =", v["body"].hex())
        print("envelope =", env.hex())
        print("received =", v["received"])
        print("receipt =", receipt(v, v["body"], v["received"], v["recipient_seed"]).hex())
        print("reason =", v["reason"])
        print("revoked_at =", v["revoked_at"])
        print("revocation =", revocation(v, v["reason"], v["revoked_at"], v["sender_seed"]).hex())


def check(path):
    _self_test()
    blocks, cur = [], {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur = {}
            continue
        k, _, val = line.partition("=")
        cur[k.strip()] = val.strip()
    if cur:
        blocks.append(cur)
    for b in blocks:
        fields, body = open_envelope(bytes.fromhex(b["envelope"]), b["recipient_id"],
                                     bytes.fromhex(b["recipient_enc_secret"]),
                                     bytes.fromhex(b["sender_sign_pk"]))
        assert fields == [b["message_id"], b["sender_id"], b["recipient_id"]]
        assert body.hex() == b["body"], b["name"]
        print("ok", b["name"])


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "generate":
        generate()
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
