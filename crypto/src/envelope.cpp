// Sealed envelopes: the header, sealing and opening. The byte format is
// specified in docs/envelope.md; keep the two in step. Receipts and
// revocations are in receipts.cpp.
#include "schakel/crypto/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "envelope_internal.h"
#include "schakel/base/strings.h"
#include "wire_internal.h"

namespace schakel::crypto {
namespace {

using namespace wire;  // NOLINT(google-build-using-namespace): this module's own encoding

constexpr char kMagic[4] = {'S', 'C', 'H', 'K'};

// Domain labels; each is used with its terminating NUL (sizeof).
constexpr char kKeyIdLabel[] = "schakel/enc-key-id/v1";
constexpr char kKdfLabel[] = "schakel/envelope/v1/key";
constexpr char kSignLabel[] = "schakel/envelope/v1/sign";

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

// ----- field checks --------------------------------------------------------

bool IsValidContentType(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

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
  if (!IsValidPurpose(h.purpose)) return bad("purpose", "[a-z0-9_-]{1,64}");
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
  SecureBuffer work(body_at + body.size());  // wiped as it goes, on every path
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
