// Sealed envelopes: how a share travels from one node to another, and the
// signed receipts and revocations that answer it (DESIGN.md "How a share
// travels"; the byte format is specified in docs/envelope.md).
//
// Seal signs, then encrypts. The sender's Ed25519 identity key signs a domain
// label, the encoded header and the body; the signature and the body are
// encrypted with XChaCha20-Poly1305 under a key derived from a fresh
// ephemeral X25519 key and the recipient's X25519 encryption key
// (BLAKE2b-256 over a label, the shared secret and both public keys). Every
// byte before the ciphertext (magic, version, header, ephemeral key, nonce,
// lengths) is associated data, so no byte of an envelope can change unnoticed.
// The header (ids, times, purpose, consents, content type, the recipient's
// encryption key id) stays readable for routing; the signature covers the
// sender and recipient ids, so a recipient cannot pass a share on as if it
// had been sent to someone else.
//
// Trust: PeekHeader reads the header of an untrusted envelope without keys,
// to route it and to find the sender's key; nothing in it is authentic until
// Open succeeds. Open returns the header and body only after decryption and
// the signature by the expected sender key both succeed.
//
// Secrets: ephemeral keys, shared secrets, derived keys and plaintext live in
// SecureBuffer and are wiped on every path, failures included. The opened
// body stays in guarded memory inside Opened and is wiped when it goes.
//
// Errors: Status values (kInvalidInput for anything wrong with an envelope,
// receipt or revocation from outside; kNotFound for an unknown recipient
// key); Open and PeekHeader can also report an EnvelopeError so callers can
// branch without reading messages. Thread-safety: pure functions; the key
// lookup passed to Open is called on the caller's thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kMaxEnvelopeBytes = 16 * 1024 * 1024;  // whole envelope
inline constexpr size_t kMaxEnvelopeHeaderBytes = 16 * 1024;   // encoded header
inline constexpr size_t kMaxConsentIds = 256;

// Names an X25519 encryption key without giving it: BLAKE2b-128 over
// "schakel/enc-key-id/v1\0" || enc_pk.
using EncKeyId = std::array<uint8_t, 16>;
EncKeyId EncryptionKeyId(const PublicKey& enc_pk);

// The readable, authenticated part of an envelope. Limits (checked by Seal
// and by every reader):
struct EnvelopeHeader {
  uint8_t version = kEnvelopeVersion;    // Seal writes kEnvelopeVersion
  std::string message_id;                // [A-Za-z0-9._-]{1,128}, unique per sender
  std::string sender_id;                 // node id, [a-z0-9-]{3,64}
  std::string recipient_id;              // node id, [a-z0-9-]{3,64}
  Instant created{};                     // 1970..9999, milliseconds
  Instant retain_until{};                // not before created; recipients purge then
  std::string purpose;                   // [a-z0-9_-]{1,64} (IsValidPurpose), e.g. "doorverwijzing"
  std::vector<std::string> consent_ids;  // each [A-Za-z0-9._-]{1,128}; at most kMaxConsentIds
  std::string content_type;              // printable ASCII, 1..128 bytes
  EncKeyId recipient_key_id{};           // Seal sets it from the recipient's key
};

// Why an envelope was refused. Values are stable.
enum class EnvelopeError : uint8_t {
  kNone = 0,
  kTruncated = 1,         // shorter than its own lengths say
  kOversize = 2,          // envelope or header beyond the limits
  kUnknownVersion = 3,    // not version 1
  kMalformed = 4,         // bad magic, bad field, trailing bytes
  kWrongRecipient = 5,    // addressed to another node
  kUnknownKey = 6,        // recipient key id not held (rotated away?)
  kDecryptionFailed = 7,  // AEAD failure: altered, or not for our key
  kBadSignature = 8,      // decrypts, but not signed by the expected sender key
};

// Seals `body` for the holder of recipient_enc_pk. The header's version and
// recipient_key_id are filled in by Seal (the values passed are ignored).
// Errors: kInvalidInput naming the header field that breaks a limit, or a body
// that would make the envelope larger than kMaxEnvelopeBytes.
Result<std::string> Seal(const EnvelopeHeader& header, std::string_view body, const SigningKeyPair& sender,
                         const PublicKey& recipient_enc_pk);

// Parses and checks the structure and header of an envelope without any key.
// Untrusted: use it to route and to look up the sender's key for Open.
Result<EnvelopeHeader> PeekHeader(std::string_view envelope, EnvelopeError* error = nullptr);

// An opened envelope: the authenticated header, the sender's signature (kept
// as proof of origin) and the body in guarded memory. Move-only.
class Opened {
 public:
  const EnvelopeHeader& header() const { return header_; }
  const Signature& signature() const { return signature_; }
  // Views into guarded memory, valid while this Opened lives.
  std::string_view body() const { return {reinterpret_cast<const char*>(storage_.data()) + body_offset_, body_size_}; }
  std::span<const uint8_t> body_bytes() const { return storage_.span().subspan(body_offset_, body_size_); }

 private:
  friend class EnvelopeOpener;  // only Open makes one
  Opened(EnvelopeHeader header, const Signature& signature, SecureBuffer storage, size_t body_offset, size_t body_size)
      : header_(std::move(header)),
        signature_(signature),
        storage_(std::move(storage)),
        body_offset_(body_offset),
        body_size_(body_size) {}

  EnvelopeHeader header_;
  Signature signature_;
  SecureBuffer storage_;  // the plaintext buffer; the key material in it is wiped
  size_t body_offset_;
  size_t body_size_;
};

// Finds this node's encryption key pair by key id; nullptr when not held.
// The pair must outlive the call.
using EncKeyLookup = std::function<const EncryptionKeyPair*(const EncKeyId&)>;

// Checks the structure, that the envelope is addressed to
// expected_recipient_id, finds the key by id, decrypts, and verifies the
// sender's signature with expected_sender_sign_pk (the key pinned for the
// partner named by header().sender_id). Any failure returns an error and
// leaves no plaintext behind.
Result<Opened> Open(std::string_view envelope, const EncKeyLookup& recipient_keys,
                    const PublicKey& expected_sender_sign_pk, std::string_view expected_recipient_id,
                    EnvelopeError* error = nullptr);
// The same with a single recipient key.
Result<Opened> Open(std::string_view envelope, const EncryptionKeyPair& recipient_key,
                    const PublicKey& expected_sender_sign_pk, std::string_view expected_recipient_id,
                    EnvelopeError* error = nullptr);

// ---------------------------------------------------------------------------
// Receipts: the recipient's signed statement that it stored a message.

using BodyHash = std::array<uint8_t, 32>;
// SHA-256 of the body, as the sender keeps it from sealing and the recipient
// computes it from the opened body.
BodyHash HashBody(std::string_view body);

struct Receipt {
  std::string message_id;
  std::string sender_id;     // who sent the message
  std::string recipient_id;  // who received it and signs this receipt
  Instant received{};
  BodyHash body_hash{};
  Signature sig{};  // by the recipient's identity key
};

// Signs a receipt for an opened envelope, received at `received`.
Receipt MakeReceipt(const Opened& opened, Instant received, const SigningKeyPair& recipient);
// Checks a receipt against what was sent: the signature by the recipient's
// identity key, and that message id, sender, recipient and body hash match.
Status VerifyReceipt(const Receipt& receipt, const PublicKey& recipient_sign_pk, const EnvelopeHeader& sent,
                     const BodyHash& sent_body_hash);
// Wire form ("SCHR", docs/envelope.md); Decode checks shape, not signature.
std::string EncodeReceipt(const Receipt& receipt);
Result<Receipt> DecodeReceipt(std::string_view bytes);

// ---------------------------------------------------------------------------
// Revocations: the sender's signed instruction to purge a message it sent.

// What a received revocation's reason may be (version 1 allowed free text);
// what this build makes: a code of at most kMaxRevocationCodeBytes.
inline constexpr size_t kMaxRevocationReasonBytes = 512;
inline constexpr size_t kMaxRevocationCodeBytes = 64;

// Why a share is revoked. On the wire a revocation carries one of these as
// its reason: a code, never free text (a reason could otherwise carry
// personal data past the envelope's encryption). A recipient honours any
// reason (a newer sender's code, an older one's free text: neither is a
// reason to keep data) and records one it does not know as "other".
enum class RevocationReason { kSentInError, kConsentWithdrawn, kWrongRecipient, kContentIncorrect, kOther };
std::string_view RevocationReasonName(RevocationReason r);
std::optional<RevocationReason> ParseRevocationReason(std::string_view s);
// "sent_in_error, consent_withdrawn, ...": for messages naming the choices.
std::string RevocationReasonList();

struct Revocation {
  std::string message_id;
  std::string sender_id;     // who sent the message and signs this revocation
  std::string recipient_id;  // who must purge it
  std::string reason;        // made: a code [a-z_]{1,64} (RevocationReasonName); received: printable, 1..512 bytes
  Instant revoked_at{};
  Signature sig{};  // by the sender's identity key
};

// Fills in the signature. Errors: kInvalidInput for a field beyond its limits.
Result<Revocation> MakeRevocation(std::string message_id, std::string sender_id, std::string recipient_id,
                                  std::string reason, Instant revoked_at, const SigningKeyPair& sender);
// Checks fields and the signature by the sender's identity key, and that the
// revocation is addressed to expected_recipient_id.
Status VerifyRevocation(const Revocation& revocation, const PublicKey& sender_sign_pk,
                        std::string_view expected_recipient_id);
// Wire form ("SCHV", docs/envelope.md); Decode checks shape, not signature.
std::string EncodeRevocation(const Revocation& revocation);
Result<Revocation> DecodeRevocation(std::string_view bytes);

// ---------------------------------------------------------------------------
// Refusals: the recipient's signed statement that its gate did not accept a
// share (docs/consent.md "The recipient's gate"); nothing of it was stored.

// Why the recipient refused: a fixed list, never free text. The names go on
// the wire and into audit entries and are never renamed.
enum class RefusalCode : uint8_t {
  kUnknownPurpose = 1,      // "unknown_purpose": no flow for sender type -> this node, purpose
  kCategoryNotAllowed = 2,  // "category_not_allowed": a category the flow does not carry
  kRetentionTooLong = 3,    // "retention_too_long": retain-until beyond what this node keeps
  kQuota = 4,               // "quota": the partner is over its inbound shares or bytes
  kUnsupported = 5,         // "unsupported": a content type this node does not take
};
std::string_view RefusalCodeName(RefusalCode code);
std::optional<RefusalCode> ParseRefusalCode(std::string_view name);

struct Refusal {
  std::string message_id;
  std::string sender_id;     // who sent the refused message
  std::string recipient_id;  // who refused it and signs this refusal
  RefusalCode code = RefusalCode::kUnknownPurpose;
  Instant refused_at{};
  Signature sig{};  // by the recipient's identity key
};

// Fills in the signature. Errors: kInvalidInput for a field beyond its limits.
Result<Refusal> MakeRefusal(std::string message_id, std::string sender_id, std::string recipient_id, RefusalCode code,
                            Instant refused_at, const SigningKeyPair& recipient);
// Checks fields and the signature by the recipient's identity key, and that
// the refusal names this message, sender and recipient.
Status VerifyRefusal(const Refusal& refusal, const PublicKey& recipient_sign_pk, std::string_view message_id,
                     std::string_view sender_id, std::string_view recipient_id);
// Wire form ("SCHN", docs/envelope.md); Decode checks shape (at most
// kMaxRefusalBytes, known code, no trailing bytes), not the signature.
inline constexpr size_t kMaxRefusalBytes = 1024;
std::string EncodeRefusal(const Refusal& refusal);
Result<Refusal> DecodeRefusal(std::string_view bytes);
// Whether an answer is meant as a refusal (starts with its magic); decode it
// to know whether it is one.
bool IsRefusal(std::string_view bytes);

// ---------------------------------------------------------------------------
// Purge confirmations: the recipient's signed answer to a revocation, that it
// purged the message, sent as JSON, signed with Ed25519 by the recipient's
// identity key.
//
// Version 2 (this build makes it for partners that speak peer protocol 2)
// signs whether the recipient held the message and when it purged it:
// over "schakel/purge-confirmation/v2\0" || message_id || "\0" || sender_id
// || "\0" || recipient_id || "\0" || ("1" held | "0" nothing held) || "\0"
// || purged_at (RFC 3339, milliseconds, Z), as {"version": 2, "message_id",
// "sender_id", "recipient_id", "held", "purged_at", "sig"}.
//
// Version 1 (made for, and accepted from, partners one version behind) signs
// only "schakel/purge-confirmation/v1\0" || message_id || "\0" || sender_id
// || "\0" || recipient_id, as {"message_id", "sender_id", "recipient_id",
// "purged_at", "sig"}: purged_at beside the signature, not under it.
inline constexpr int kPurgeConfirmationVersion = 2;

struct PurgeConfirmation {
  int version = kPurgeConfirmationVersion;
  // Whether the recipient held the message when it purged; nullopt in
  // version 1, which did not say.
  std::optional<bool> held;
  // As the recipient stated it; signed from version 2 on.
  std::string purged_at;
};

std::string MakePurgeConfirmation(const std::string& message_id, const std::string& sender_id,
                                  const std::string& recipient_id, bool held, Instant purged_at,
                                  const SigningKeyPair& recipient, int version = kPurgeConfirmationVersion);
// Checks the JSON's shape (at most 4096 bytes, known keys only, no duplicates),
// that it names this message, sender and recipient, and the signature;
// accepts versions 1 and 2.
Result<PurgeConfirmation> VerifyPurgeConfirmation(std::string_view confirmation, const std::string& message_id,
                                                  const std::string& sender_id, const std::string& recipient_id,
                                                  const PublicKey& recipient_sign_pk);

// ---------------------------------------------------------------------------
// Adoption notices: the recipient's signed answer to a revocation of a share
// it took into its own dossier under its own law (`schakel inbox adopt`;
// docs/legal-basis.md, "Retention"): it keeps the copy and says on which legal basis. Sent
// only to a partner that speaks peer protocol 4 (kPeerProtocolAdoptVersion).
//
// Signed with Ed25519 by the recipient's identity key over
// "schakel/adoption-notice/v1\0" || message_id || "\0" || sender_id || "\0"
// || recipient_id || "\0" || adopted_at (RFC 3339, ms, Z) || "\0" || basis,
// as {"adoption": 1, "message_id", "sender_id", "recipient_id", "adopted_at",
// "basis", "sig"}.
inline constexpr int kAdoptionNoticeVersion = 1;
// A legal basis as the recipient names it ("Jeugdwet art. 7.3.8"): 1 to
// 200 bytes of printable UTF-8 on one line.
inline constexpr size_t kMaxAdoptionBasisBytes = 200;
Status CheckAdoptionBasis(std::string_view basis);

struct AdoptionNotice {
  std::string adopted_at;  // as the recipient stated it (signed)
  std::string basis;       // signed
};

std::string MakeAdoptionNotice(const std::string& message_id, const std::string& sender_id,
                               const std::string& recipient_id, Instant adopted_at, const std::string& basis,
                               const SigningKeyPair& recipient);
// Whether a revocation's answer is meant as an adoption notice (a JSON object
// with the key "adoption"); verify it to know whether it is one.
bool IsAdoptionNotice(std::string_view answer);
// Checks the JSON's shape (at most 4096 bytes, known keys only), that it
// names this message, sender and recipient, the basis (CheckAdoptionBasis),
// and the signature.
Result<AdoptionNotice> VerifyAdoptionNotice(std::string_view notice, const std::string& message_id,
                                            const std::string& sender_id, const std::string& recipient_id,
                                            const PublicKey& recipient_sign_pk);

}  // namespace schakel::crypto
