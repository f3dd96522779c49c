// Sealed envelopes, receipts and revocations. The byte formats are specified
// in docs/envelope.md; keep the two in step.
#include "schakel/crypto/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "envelope_internal.h"
#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

using std::chrono::milliseconds;

constexpr char kMagic[4] = {'S', 'C', 'H', 'K'};
constexpr char kReceiptMagic[4] = {'S', 'C', 'H', 'R'};
constexpr char kRevocationMagic[4] = {'S', 'C', 'H', 'V'};
constexpr uint8_t kReceiptVersion = 1;
constexpr uint8_t kRevocationVersion = 1;

// Domain labels; each is used with its terminating NUL (sizeof).
constexpr char kKeyIdLabel[] = "schakel/enc-key-id/v1";
constexpr char kKdfLabel[] = "schakel/envelope/v1/key";
constexpr char kSignLabel[] = "schakel/envelope/v1/sign";
constexpr char kReceiptLabel[] = "schakel/receipt/v1";
constexpr char kRevocationLabel[] = "schakel/revocation/v1";

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kSigBytes = crypto_sign_BYTES;
constexpr size_t kKeyBytes = 32;
static_assert(kNonceBytes == 24 && kTagBytes == 16 && kSigBytes == 64);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);
static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);

// Fixed parts of the envelope: magic 4, version 1, header length 4 | header |
// ephemeral key 32, nonce 24, ciphertext length 4 | ciphertext.
constexpr size_t kPreHeaderBytes = 4 + 1 + 4;
constexpr size_t kPostHeaderBytes = 32 + kNonceBytes + 4;
constexpr size_t kMinCiphertextBytes = kSigBytes + kTagBytes;

constexpr int64_t kMaxInstantMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

// ----- encoding ------------------------------------------------------------

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutI64(std::string& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}
// Strings are a 16-bit big-endian length and the bytes. Every string this
// module writes is checked to be short first.
void PutStr(std::string& out, std::string_view s) {
  PutU16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}
void PutBytes(std::string& out, std::span<const uint8_t> b) {
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}
void PutLabel(std::string& out, const char* label, size_t size_with_nul) { out.append(label, size_with_nul); }

int64_t ToMs(Instant t) { return t.time_since_epoch().count(); }
Instant FromMs(int64_t ms) { return Instant{milliseconds{ms}}; }

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool U8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = static_cast<uint16_t>(Byte(0) << 8 | Byte(1));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = static_cast<uint32_t>(Byte(0)) << 24 | static_cast<uint32_t>(Byte(1)) << 16 |
         static_cast<uint32_t>(Byte(2)) << 8 | static_cast<uint32_t>(Byte(3));
    pos_ += 4;
    return true;
  }
  bool I64(int64_t* v) {
    if (remaining() < 8) return false;
    uint64_t u = 0;
    for (size_t i = 0; i < 8; ++i) u = u << 8 | Byte(i);
    *v = static_cast<int64_t>(u);
    pos_ += 8;
    return true;
  }
  bool Str(std::string* s) {
    uint16_t n = 0;
    if (!U16(&n) || remaining() < n) return false;
    s->assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  template <size_t N>
  bool Bytes(std::array<uint8_t, N>* out) {
    if (remaining() < N) return false;
    std::memcpy(out->data(), data_.data() + pos_, N);
    pos_ += N;
    return true;
  }
  std::string_view Take(size_t n) {
    std::string_view v = data_.substr(pos_, n);
    pos_ += v.size();
    return v;
  }

 private:
  uint32_t Byte(size_t i) const { return static_cast<unsigned char>(data_[pos_ + i]); }
  std::string_view data_;
  size_t pos_ = 0;
};

const uint8_t* U8Ptr(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint8_t* U8Ptr(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

// ----- field checks --------------------------------------------------------

bool IsValidPurpose(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

bool IsValidContentType(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool IsValidInstant(Instant t) { return ToMs(t) >= 0 && ToMs(t) <= kMaxInstantMs; }

// Checks the fields of a header (not version or key id). The message names the
// field, never its value: values from outside may be anything.
Status CheckHeaderFields(const EnvelopeHeader& h) {
  auto bad = [](std::string_view field, std::string_view want) {
    return Status::InvalidInput("header field \"" + std::string(field) + "\": expected " + std::string(want));
  };
  if (!IsValidObjectId(h.message_id)) return bad("message_id", "[A-Za-z0-9._-]{1,128}");
  if (!IsValidNodeId(h.sender_id)) return bad("sender_id", "a node id [a-z0-9-]{3,64}");
  if (!IsValidNodeId(h.recipient_id)) return bad("recipient_id", "a node id [a-z0-9-]{3,64}");
  if (!IsValidInstant(h.created)) return bad("created", "an instant in 1970..9999");
  if (!IsValidInstant(h.retain_until) || h.retain_until < h.created) {
    return bad("retain_until", "an instant in 1970..9999, not before created");
  }
  if (!IsValidPurpose(h.purpose)) return bad("purpose", "[a-z_]{1,64}");
  if (h.consent_ids.size() > kMaxConsentIds) {
    return bad("consent_ids", "at most " + std::to_string(kMaxConsentIds) + " ids");
  }
  for (const auto& id : h.consent_ids) {
    if (!IsValidObjectId(id)) return bad("consent_ids", "ids [A-Za-z0-9._-]{1,128}");
  }
  if (!IsValidContentType(h.content_type)) {
    return bad("content_type", "1..128 bytes of printable ASCII");
  }
  return Status::Ok();
}

std::string EncodeHeader(const EnvelopeHeader& h, const EncKeyId& key_id) {
  std::string out;
  PutStr(out, h.message_id);
  PutStr(out, h.sender_id);
  PutStr(out, h.recipient_id);
  PutI64(out, ToMs(h.created));
  PutI64(out, ToMs(h.retain_until));
  PutStr(out, h.purpose);
  PutU16(out, static_cast<uint16_t>(h.consent_ids.size()));
  for (const auto& id : h.consent_ids) PutStr(out, id);
  PutStr(out, h.content_type);
  PutBytes(out, key_id);
  return out;
}

Status DecodeHeader(std::string_view bytes, EnvelopeHeader* h) {
  Reader r(bytes);
  int64_t created = 0, retain = 0;
  uint16_t n = 0;
  auto short_at = [&](std::string_view field) {
    return Status::InvalidInput("header ends inside field \"" + std::string(field) + "\"");
  };
  if (!r.Str(&h->message_id)) return short_at("message_id");
  if (!r.Str(&h->sender_id)) return short_at("sender_id");
  if (!r.Str(&h->recipient_id)) return short_at("recipient_id");
  if (!r.I64(&created)) return short_at("created");
  if (!r.I64(&retain)) return short_at("retain_until");
  if (!r.Str(&h->purpose)) return short_at("purpose");
  if (!r.U16(&n)) return short_at("consent_ids");
  if (n > kMaxConsentIds) {
    return Status::InvalidInput("header field \"consent_ids\": expected at most " + std::to_string(kMaxConsentIds) +
                                " ids");
  }
  h->consent_ids.resize(n);
  for (auto& id : h->consent_ids) {
    if (!r.Str(&id)) return short_at("consent_ids");
  }
  if (!r.Str(&h->content_type)) return short_at("content_type");
  if (!r.Bytes(&h->recipient_key_id)) return short_at("recipient_key_id");
  if (r.remaining() != 0) {
    return Status::InvalidInput(std::to_string(r.remaining()) + " bytes after the last header field");
  }
  h->created = FromMs(created);
  h->retain_until = FromMs(retain);
  return CheckHeaderFields(*h);
}

// ----- the envelope's structure ------------------------------------------

Status Refuse(EnvelopeError* out, EnvelopeError kind, const std::string& msg, Code code = Code::kInvalidInput) {
  if (out) *out = kind;
  std::string full = "envelope: " + msg;
  return code == Code::kNotFound ? Status::NotFound(full) : Status::InvalidInput(full);
}

struct Parsed {
  EnvelopeHeader header;
  std::string_view header_bytes;
  std::string_view associated;  // every byte before the ciphertext
  PublicKey ephemeral_pk{};
  std::array<uint8_t, kNonceBytes> nonce{};
  std::string_view ciphertext;
};

Status ParseEnvelope(std::string_view env, Parsed* p, EnvelopeError* error) {
  if (error) *error = EnvelopeError::kNone;
  if (env.size() > kMaxEnvelopeBytes) {
    return Refuse(error, EnvelopeError::kOversize,
                  "oversize: " + std::to_string(env.size()) + " bytes, more than the limit of " +
                      std::to_string(kMaxEnvelopeBytes));
  }
  auto truncated = [&](size_t need) {
    return Refuse(
        error, EnvelopeError::kTruncated,
        "truncated: " + std::to_string(env.size()) + " bytes where at least " + std::to_string(need) + " are needed");
  };
  size_t magic_len = std::min(env.size(), sizeof kMagic);
  if (magic_len > 0 && std::memcmp(env.data(), kMagic, magic_len) != 0) {
    return Refuse(error, EnvelopeError::kMalformed, "not a Schakel envelope (bad magic)");
  }
  Reader r(env);
  if (env.size() < sizeof kMagic) return truncated(kPreHeaderBytes);
  r.Take(sizeof kMagic);
  uint8_t version = 0;
  if (!r.U8(&version)) return truncated(kPreHeaderBytes);
  if (version != kEnvelopeVersion) {
    return Refuse(error, EnvelopeError::kUnknownVersion,
                  "unknown version " + std::to_string(version) + " (this node reads version " +
                      std::to_string(kEnvelopeVersion) + ")");
  }
  uint32_t header_len = 0;
  if (!r.U32(&header_len)) return truncated(kPreHeaderBytes);
  if (header_len > kMaxEnvelopeHeaderBytes) {
    return Refuse(error, EnvelopeError::kOversize,
                  "oversize header: " + std::to_string(header_len) + " bytes, more than the limit of " +
                      std::to_string(kMaxEnvelopeHeaderBytes));
  }
  size_t fixed = kPreHeaderBytes + header_len + kPostHeaderBytes;
  if (env.size() < fixed) return truncated(fixed);
  p->header_bytes = r.Take(header_len);
  r.Bytes(&p->ephemeral_pk);
  r.Bytes(&p->nonce);
  uint32_t ct_len = 0;
  r.U32(&ct_len);
  size_t total = fixed + ct_len;
  if (total > kMaxEnvelopeBytes) {
    return Refuse(error, EnvelopeError::kOversize,
                  "oversize: its lengths say " + std::to_string(total) + " bytes, more than the limit of " +
                      std::to_string(kMaxEnvelopeBytes));
  }
  if (env.size() < total) return truncated(total);
  if (env.size() > total) {
    return Refuse(error, EnvelopeError::kMalformed, std::to_string(env.size() - total) + " bytes after the end");
  }
  if (ct_len < kMinCiphertextBytes) {
    return Refuse(error, EnvelopeError::kMalformed,
                  "ciphertext of " + std::to_string(ct_len) + " bytes is shorter than a signature and a tag");
  }
  p->associated = env.substr(0, fixed);
  p->ciphertext = env.substr(fixed);
  Status st = DecodeHeader(p->header_bytes, &p->header);
  if (!st.ok()) return Refuse(error, EnvelopeError::kMalformed, st.message());
  p->header.version = version;
  return Status::Ok();
}

// BLAKE2b-256(label || shared || ephemeral_pk || recipient_pk) into key.
void DeriveKey(const uint8_t* shared, const PublicKey& ephemeral_pk, const PublicKey& recipient_pk, uint8_t* key) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kKeyBytes);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(kKdfLabel), sizeof kKdfLabel);
  crypto_generichash_update(&st, shared, 32);
  crypto_generichash_update(&st, ephemeral_pk.data(), ephemeral_pk.size());
  crypto_generichash_update(&st, recipient_pk.data(), recipient_pk.size());
  crypto_generichash_final(&st, key, kKeyBytes);
  sodium_memzero(&st, sizeof st);
}

// The bytes signed before the body: label || u32 header length || header.
size_t SignedPrefixSize(size_t header_len) { return sizeof kSignLabel + 4 + header_len; }
void WriteSignedPrefix(uint8_t* at, std::string_view header_bytes) {
  std::memcpy(at, kSignLabel, sizeof kSignLabel);
  at += sizeof kSignLabel;
  auto n = static_cast<uint32_t>(header_bytes.size());
  at[0] = static_cast<uint8_t>(n >> 24);
  at[1] = static_cast<uint8_t>(n >> 16);
  at[2] = static_cast<uint8_t>(n >> 8);
  at[3] = static_cast<uint8_t>(n);
  std::memcpy(at + 4, header_bytes.data(), header_bytes.size());
}

// Guarded scratch memory for Seal, kept per thread, so that sealing does not
// pay for a fresh sodium_malloc per record (mmap, mprotect, mlock and their
// undoing: tens of microseconds in a sandboxed VM, as much as an X25519
// operation). Whatever a call writes is wiped when its Scratch goes, on every
// path. Large requests get a buffer of their own, so a thread does not keep
// megabytes locked after one big share.
class Scratch {
 public:
  explicit Scratch(size_t size) : used_(size) {
    constexpr size_t kMaxCached = size_t{256} * 1024;
    constexpr size_t kMinCached = size_t{16} * 1024;
    thread_local SecureBuffer cached;
    if (size <= kMaxCached) {
      if (cached.size() < size) cached = SecureBuffer(std::max(size, kMinCached));
      buf_ = &cached;
    } else {
      own_ = SecureBuffer(size);
      buf_ = &own_;
    }
  }
  ~Scratch() { Wipe(buf_->data(), used_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  uint8_t* data() { return buf_->data(); }

 private:
  SecureBuffer own_;
  SecureBuffer* buf_ = nullptr;
  size_t used_;
};

// Seal with optional fixed randomness (tests only).
Result<std::string> SealImpl(const EnvelopeHeader& header, std::string_view body, const SigningKeyPair& sender,
                             const PublicKey& recipient_enc_pk, const uint8_t* fixed_ephemeral,
                             const uint8_t* fixed_nonce) {
  EnsureInitialised();
  SCHAKEL_RETURN_IF_ERROR(CheckHeaderFields(header).WithContext("envelope"));
  if (sender.secret.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidInput("envelope: the sender's identity key is not loaded");
  }
  const std::string header_bytes = EncodeHeader(header, EncryptionKeyId(recipient_enc_pk));
  if (header_bytes.size() > kMaxEnvelopeHeaderBytes) {
    return Status::InvalidInput("envelope: header of " + std::to_string(header_bytes.size()) +
                                " bytes, more than the limit of " + std::to_string(kMaxEnvelopeHeaderBytes));
  }
  const size_t fixed = kPreHeaderBytes + header_bytes.size() + kPostHeaderBytes;
  const size_t overhead = fixed + kMinCiphertextBytes;
  if (body.size() > kMaxEnvelopeBytes - overhead) {
    return Status::InvalidInput("envelope: body of " + std::to_string(body.size()) +
                                " bytes is too large; with this header at most " +
                                std::to_string(kMaxEnvelopeBytes - overhead) + " fit");
  }

  // One guarded buffer for every secret of this call:
  //   [0,32) ephemeral secret | [32,64) shared secret | [64,96) key |
  //   room for the signed prefix | body.
  // The signed message (prefix || body) and the plaintext (sig || body) both
  // end at the body, so the body is copied once.
  const size_t prefix = SignedPrefixSize(header_bytes.size());
  const size_t room = std::max(prefix, kSigBytes);
  const size_t body_at = 96 + room;
  Scratch work(body_at + body.size());
  uint8_t* eph_sk = work.data();
  uint8_t* shared = work.data() + 32;
  uint8_t* key = work.data() + 64;
  if (fixed_ephemeral) {
    std::memcpy(eph_sk, fixed_ephemeral, 32);
  } else {
    randombytes_buf(eph_sk, 32);
  }
  PublicKey eph_pk{};
  if (crypto_scalarmult_base(eph_pk.data(), eph_sk) != 0 ||
      crypto_scalarmult(shared, eph_sk, recipient_enc_pk.data()) != 0) {
    return Status::InvalidInput("envelope: the recipient's encryption key is not a usable X25519 key");
  }
  sodium_memzero(eph_sk, 32);
  DeriveKey(shared, eph_pk, recipient_enc_pk, key);
  sodium_memzero(shared, 32);

  if (!body.empty()) std::memcpy(work.data() + body_at, body.data(), body.size());
  uint8_t* signed_msg = work.data() + body_at - prefix;
  WriteSignedPrefix(signed_msg, header_bytes);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, signed_msg, prefix + body.size(), sender.secret.data());
  uint8_t* plaintext = work.data() + body_at - kSigBytes;
  std::memcpy(plaintext, sig.data(), kSigBytes);
  const size_t plaintext_len = kSigBytes + body.size();

  std::string out;
  out.reserve(fixed + plaintext_len + kTagBytes);
  out.append(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kEnvelopeVersion));
  PutU32(out, static_cast<uint32_t>(header_bytes.size()));
  out += header_bytes;
  PutBytes(out, eph_pk);
  std::array<uint8_t, kNonceBytes> nonce{};
  if (fixed_nonce) {
    std::memcpy(nonce.data(), fixed_nonce, kNonceBytes);
  } else {
    randombytes_buf(nonce.data(), nonce.size());
  }
  PutBytes(out, nonce);
  PutU32(out, static_cast<uint32_t>(plaintext_len + kTagBytes));
  out.resize(fixed + plaintext_len + kTagBytes);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(U8Ptr(out) + fixed, &clen, plaintext, plaintext_len, U8Ptr(out), fixed,
                                             nullptr, nonce.data(), key);
  // `work` (key, plaintext) is wiped when it goes out of scope.
  return out;
}

// Receipts and revocations share the field encoding of the header.
std::string ReceiptFields(const Receipt& r) {
  std::string out;
  PutStr(out, r.message_id);
  PutStr(out, r.sender_id);
  PutStr(out, r.recipient_id);
  PutI64(out, ToMs(r.received));
  PutBytes(out, r.body_hash);
  return out;
}

std::string RevocationFields(const Revocation& v) {
  std::string out;
  PutStr(out, v.message_id);
  PutStr(out, v.sender_id);
  PutStr(out, v.recipient_id);
  PutStr(out, v.reason);
  PutI64(out, ToMs(v.revoked_at));
  return out;
}

Status CheckReceiptFields(const Receipt& r) {
  if (!IsValidObjectId(r.message_id)) return Status::InvalidInput("receipt: bad message_id");
  if (!IsValidNodeId(r.sender_id)) return Status::InvalidInput("receipt: bad sender_id");
  if (!IsValidNodeId(r.recipient_id)) return Status::InvalidInput("receipt: bad recipient_id");
  if (!IsValidInstant(r.received)) return Status::InvalidInput("receipt: bad received time");
  return Status::Ok();
}

Status CheckRevocationFields(const Revocation& v) {
  if (!IsValidObjectId(v.message_id)) return Status::InvalidInput("revocation: bad message_id");
  if (!IsValidNodeId(v.sender_id)) return Status::InvalidInput("revocation: bad sender_id");
  if (!IsValidNodeId(v.recipient_id)) return Status::InvalidInput("revocation: bad recipient_id");
  if (v.reason.empty() || v.reason.size() > kMaxRevocationReasonBytes || !IsPrintableUtf8(v.reason)) {
    return Status::InvalidInput("revocation: reason must be 1.." + std::to_string(kMaxRevocationReasonBytes) +
                                " bytes of printable UTF-8");
  }
  if (!IsValidInstant(v.revoked_at)) return Status::InvalidInput("revocation: bad time");
  return Status::Ok();
}

std::string Labelled(const char* label, size_t size_with_nul, const std::string& fields) {
  std::string m;
  m.reserve(size_with_nul + fields.size());
  PutLabel(m, label, size_with_nul);
  m += fields;
  return m;
}

bool SameKeyId(const EncKeyId& a, const EncKeyId& b) { return ConstantTimeEqual(a, b); }

}  // namespace

// Makes Opened values; a class so that Opened can befriend it.
class EnvelopeOpener {
 public:
  static Result<Opened> Run(std::string_view envelope, const EncKeyLookup& lookup, const PublicKey& sender_pk,
                            std::string_view expected_recipient_id, EnvelopeError* error) {
    EnsureInitialised();
    Parsed p;
    SCHAKEL_RETURN_IF_ERROR(ParseEnvelope(envelope, &p, error));
    const EnvelopeHeader& h = p.header;
    if (h.recipient_id != expected_recipient_id) {
      return Refuse(error, EnvelopeError::kWrongRecipient,
                    "wrong recipient: addressed to \"" + h.recipient_id + "\", this node is \"" +
                        std::string(expected_recipient_id) + "\"");
    }
    const EncryptionKeyPair* pair = lookup ? lookup(h.recipient_key_id) : nullptr;
    if (pair == nullptr || pair->secret.size() != 32 ||
        !SameKeyId(EncryptionKeyId(pair->public_key), h.recipient_key_id)) {
      return Refuse(error, EnvelopeError::kUnknownKey,
                    "encrypted to an encryption key this node does not hold (key id " + ToHex(h.recipient_key_id) + ")",
                    Code::kNotFound);
    }

    // [0,32) shared | [32,64) key | room for the signed prefix | body; the
    // plaintext (sig || body) is decrypted so that the body lands at body_at.
    const size_t body_len = p.ciphertext.size() - kTagBytes - kSigBytes;
    const size_t prefix = SignedPrefixSize(p.header_bytes.size());
    const size_t room = std::max(prefix, kSigBytes);
    const size_t body_at = 64 + room;
    SecureBuffer work(body_at + body_len);
    uint8_t* shared = work.data();
    uint8_t* key = work.data() + 32;
    const auto decryption_failed = [&] {
      return Refuse(error, EnvelopeError::kDecryptionFailed,
                    "decryption failed: the envelope was altered or is not encrypted to this "
                    "node's key");
    };
    if (crypto_scalarmult(shared, pair->secret.data(), p.ephemeral_pk.data()) != 0) {
      return decryption_failed();  // a low-order ephemeral key
    }
    DeriveKey(shared, p.ephemeral_pk, pair->public_key, key);
    sodium_memzero(shared, 32);
    uint8_t* plaintext = work.data() + body_at - kSigBytes;
    unsigned long long plen = 0;
    int rc =
        crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext, &plen, nullptr, U8Ptr(p.ciphertext), p.ciphertext.size(),
                                                   U8Ptr(p.associated), p.associated.size(), p.nonce.data(), key);
    sodium_memzero(key, kKeyBytes);
    if (rc != 0) return decryption_failed();  // `work` is wiped by its destructor

    Signature sig{};
    std::memcpy(sig.data(), plaintext, kSigBytes);
    uint8_t* signed_msg = work.data() + body_at - prefix;
    WriteSignedPrefix(signed_msg, p.header_bytes);
    if (crypto_sign_verify_detached(sig.data(), signed_msg, prefix + body_len, sender_pk.data()) != 0) {
      return Refuse(error, EnvelopeError::kBadSignature,
                    "bad signature: not signed by the expected key of sender \"" + h.sender_id + "\"");
    }
    if (error) *error = EnvelopeError::kNone;
    return Opened(std::move(p.header), sig, std::move(work), body_at, body_len);
  }
};

EncKeyId EncryptionKeyId(const PublicKey& enc_pk) {
  EnsureInitialised();
  EncKeyId id{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, id.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(kKeyIdLabel), sizeof kKeyIdLabel);
  crypto_generichash_update(&st, enc_pk.data(), enc_pk.size());
  crypto_generichash_final(&st, id.data(), id.size());
  return id;
}

Result<std::string> Seal(const EnvelopeHeader& header, std::string_view body, const SigningKeyPair& sender,
                         const PublicKey& recipient_enc_pk) {
  return SealImpl(header, body, sender, recipient_enc_pk, nullptr, nullptr);
}

Result<EnvelopeHeader> PeekHeader(std::string_view envelope, EnvelopeError* error) {
  Parsed p;
  SCHAKEL_RETURN_IF_ERROR(ParseEnvelope(envelope, &p, error));
  return std::move(p.header);
}

Result<Opened> Open(std::string_view envelope, const EncKeyLookup& recipient_keys,
                    const PublicKey& expected_sender_sign_pk, std::string_view expected_recipient_id,
                    EnvelopeError* error) {
  return EnvelopeOpener::Run(envelope, recipient_keys, expected_sender_sign_pk, expected_recipient_id, error);
}

Result<Opened> Open(std::string_view envelope, const EncryptionKeyPair& recipient_key,
                    const PublicKey& expected_sender_sign_pk, std::string_view expected_recipient_id,
                    EnvelopeError* error) {
  const EncKeyId id = EncryptionKeyId(recipient_key.public_key);
  EncKeyLookup lookup = [&](const EncKeyId& wanted) -> const EncryptionKeyPair* {
    return SameKeyId(wanted, id) ? &recipient_key : nullptr;
  };
  return EnvelopeOpener::Run(envelope, lookup, expected_sender_sign_pk, expected_recipient_id, error);
}

// ----- receipts --------------------------------------------------------------

BodyHash HashBody(std::string_view body) { return Sha256({U8Ptr(body), body.size()}); }

Receipt MakeReceipt(const Opened& opened, Instant received, const SigningKeyPair& recipient) {
  Receipt r;
  r.message_id = opened.header().message_id;
  r.sender_id = opened.header().sender_id;
  r.recipient_id = opened.header().recipient_id;
  r.received = received;
  r.body_hash = HashBody(opened.body());
  r.sig = Sign(recipient, Labelled(kReceiptLabel, sizeof kReceiptLabel, ReceiptFields(r)));
  return r;
}

Status VerifyReceipt(const Receipt& receipt, const PublicKey& recipient_sign_pk, const EnvelopeHeader& sent,
                     const BodyHash& sent_body_hash) {
  SCHAKEL_RETURN_IF_ERROR(CheckReceiptFields(receipt));
  if (!Verify(recipient_sign_pk, Labelled(kReceiptLabel, sizeof kReceiptLabel, ReceiptFields(receipt)), receipt.sig)) {
    return Status::InvalidInput("receipt: bad signature: not signed by the recipient's key");
  }
  if (receipt.message_id != sent.message_id || receipt.sender_id != sent.sender_id ||
      receipt.recipient_id != sent.recipient_id) {
    return Status::InvalidInput("receipt: for another message, sender or recipient");
  }
  if (!ConstantTimeEqual(receipt.body_hash, sent_body_hash)) {
    return Status::InvalidInput("receipt: body hash differs from the body that was sent");
  }
  return Status::Ok();
}

std::string EncodeReceipt(const Receipt& receipt) {
  std::string out(kReceiptMagic, sizeof kReceiptMagic);
  out.push_back(static_cast<char>(kReceiptVersion));
  out += ReceiptFields(receipt);
  PutBytes(out, receipt.sig);
  return out;
}

Result<Receipt> DecodeReceipt(std::string_view bytes) {
  if (bytes.size() > 1024) return Status::InvalidInput("receipt: larger than 1024 bytes");
  Reader r(bytes);
  Receipt out;
  std::array<uint8_t, 4> magic{};
  uint8_t version = 0;
  int64_t received = 0;
  if (!r.Bytes(&magic) || std::memcmp(magic.data(), kReceiptMagic, 4) != 0) {
    return Status::InvalidInput("receipt: not a Schakel receipt (bad magic or truncated)");
  }
  if (!r.U8(&version)) return Status::InvalidInput("receipt: truncated");
  if (version != kReceiptVersion) {
    return Status::InvalidInput("receipt: unknown version " + std::to_string(version));
  }
  if (!r.Str(&out.message_id) || !r.Str(&out.sender_id) || !r.Str(&out.recipient_id) || !r.I64(&received) ||
      !r.Bytes(&out.body_hash) || !r.Bytes(&out.sig)) {
    return Status::InvalidInput("receipt: truncated");
  }
  if (r.remaining() != 0) return Status::InvalidInput("receipt: bytes after the end");
  out.received = FromMs(received);
  SCHAKEL_RETURN_IF_ERROR(CheckReceiptFields(out));
  return out;
}

// ----- revocations -----------------------------------------------------------

Result<Revocation> MakeRevocation(std::string message_id, std::string sender_id, std::string recipient_id,
                                  std::string reason, Instant revoked_at, const SigningKeyPair& sender) {
  Revocation v;
  v.message_id = std::move(message_id);
  v.sender_id = std::move(sender_id);
  v.recipient_id = std::move(recipient_id);
  v.reason = std::move(reason);
  v.revoked_at = revoked_at;
  SCHAKEL_RETURN_IF_ERROR(CheckRevocationFields(v));
  if (sender.secret.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidInput("revocation: the sender's identity key is not loaded");
  }
  v.sig = Sign(sender, Labelled(kRevocationLabel, sizeof kRevocationLabel, RevocationFields(v)));
  return v;
}

Status VerifyRevocation(const Revocation& revocation, const PublicKey& sender_sign_pk,
                        std::string_view expected_recipient_id) {
  SCHAKEL_RETURN_IF_ERROR(CheckRevocationFields(revocation));
  if (!Verify(sender_sign_pk, Labelled(kRevocationLabel, sizeof kRevocationLabel, RevocationFields(revocation)),
              revocation.sig)) {
    return Status::InvalidInput("revocation: bad signature: not signed by the sender's key");
  }
  if (revocation.recipient_id != expected_recipient_id) {
    return Status::InvalidInput("revocation: addressed to \"" + revocation.recipient_id + "\", not to this node");
  }
  return Status::Ok();
}

std::string EncodeRevocation(const Revocation& revocation) {
  std::string out(kRevocationMagic, sizeof kRevocationMagic);
  out.push_back(static_cast<char>(kRevocationVersion));
  out += RevocationFields(revocation);
  PutBytes(out, revocation.sig);
  return out;
}

Result<Revocation> DecodeRevocation(std::string_view bytes) {
  if (bytes.size() > 2048) return Status::InvalidInput("revocation: larger than 2048 bytes");
  Reader r(bytes);
  Revocation out;
  std::array<uint8_t, 4> magic{};
  uint8_t version = 0;
  int64_t at = 0;
  if (!r.Bytes(&magic) || std::memcmp(magic.data(), kRevocationMagic, 4) != 0) {
    return Status::InvalidInput("revocation: not a Schakel revocation (bad magic or truncated)");
  }
  if (!r.U8(&version)) return Status::InvalidInput("revocation: truncated");
  if (version != kRevocationVersion) {
    return Status::InvalidInput("revocation: unknown version " + std::to_string(version));
  }
  if (!r.Str(&out.message_id) || !r.Str(&out.sender_id) || !r.Str(&out.recipient_id) || !r.Str(&out.reason) ||
      !r.I64(&at) || !r.Bytes(&out.sig)) {
    return Status::InvalidInput("revocation: truncated");
  }
  if (r.remaining() != 0) return Status::InvalidInput("revocation: bytes after the end");
  out.revoked_at = FromMs(at);
  SCHAKEL_RETURN_IF_ERROR(CheckRevocationFields(out));
  return out;
}

namespace internal {

Result<std::string> SealWithFixedRandomness(const EnvelopeHeader& header, std::string_view body,
                                            const SigningKeyPair& sender, const PublicKey& recipient_enc_pk,
                                            std::span<const uint8_t> ephemeral_secret,
                                            const std::array<uint8_t, 24>& nonce) {
  if (ephemeral_secret.size() != 32) return Status::InvalidInput("envelope: ephemeral secret must be 32 bytes");
  return SealImpl(header, body, sender, recipient_enc_pk, ephemeral_secret.data(), nonce.data());
}

}  // namespace internal
}  // namespace schakel::crypto
