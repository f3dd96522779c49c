// Receipts, revocations and purge confirmations: the signed statements about
// a sealed message. Receipts and revocations use the field encoding of the
// envelope's header (docs/envelope.md); a purge confirmation is JSON.
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "schakel/base/json.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "wire_internal.h"

namespace schakel::crypto {
namespace {

using namespace wire;  // NOLINT(google-build-using-namespace): this module's own encoding

constexpr char kReceiptMagic[4] = {'S', 'C', 'H', 'R'};
constexpr char kRevocationMagic[4] = {'S', 'C', 'H', 'V'};
constexpr uint8_t kReceiptVersion = 1;
constexpr uint8_t kRevocationVersion = 1;

// Domain labels; each is used with its terminating NUL (sizeof).
constexpr char kReceiptLabel[] = "schakel/receipt/v1";
constexpr char kRevocationLabel[] = "schakel/revocation/v1";
constexpr char kPurgeConfirmationLabel[] = "schakel/purge-confirmation/v1";
constexpr char kPurgeConfirmationLabelV2[] = "schakel/purge-confirmation/v2";

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
  // Version 1 allowed free text; what an older partner sends is still
  // honoured. This build makes codes only (MakeRevocation).
  if (v.reason.empty() || v.reason.size() > kMaxRevocationReasonBytes || !IsPrintableUtf8(v.reason)) {
    return Status::InvalidInput("revocation: reason must be 1.." + std::to_string(kMaxRevocationReasonBytes) +
                                " bytes of printable UTF-8");
  }
  if (!IsValidInstant(v.revoked_at)) return Status::InvalidInput("revocation: bad time");
  return Status::Ok();
}

// ----- purge confirmations: JSON read with base/json.h's limits -------------

std::string PurgeMessage(const std::string& message_id, const std::string& sender_id, const std::string& recipient_id) {
  std::string fields = message_id;
  fields.push_back('\0');
  fields += sender_id;
  fields.push_back('\0');
  fields += recipient_id;
  return Labelled(kPurgeConfirmationLabel, sizeof kPurgeConfirmationLabel, fields);
}

std::string PurgeMessageV2(const std::string& message_id, const std::string& sender_id, const std::string& recipient_id,
                           bool held, const std::string& purged_at) {
  std::string fields = message_id;
  fields.push_back('\0');
  fields += sender_id;
  fields.push_back('\0');
  fields += recipient_id;
  fields.push_back('\0');
  fields += held ? "1" : "0";
  fields.push_back('\0');
  fields += purged_at;
  return Labelled(kPurgeConfirmationLabelV2, sizeof kPurgeConfirmationLabelV2, fields);
}

}  // namespace

// ----- revocation reasons ------------------------------------------------------

namespace {
constexpr RevocationReason kAllReasons[] = {RevocationReason::kSentInError, RevocationReason::kConsentWithdrawn,
                                            RevocationReason::kWrongRecipient, RevocationReason::kContentIncorrect,
                                            RevocationReason::kOther};
}  // namespace

std::string_view RevocationReasonName(RevocationReason r) {
  switch (r) {
    case RevocationReason::kSentInError:
      return "sent_in_error";
    case RevocationReason::kConsentWithdrawn:
      return "consent_withdrawn";
    case RevocationReason::kWrongRecipient:
      return "wrong_recipient";
    case RevocationReason::kContentIncorrect:
      return "content_incorrect";
    case RevocationReason::kOther:
      return "other";
  }
  return "other";
}

std::optional<RevocationReason> ParseRevocationReason(std::string_view s) {
  for (RevocationReason r : kAllReasons) {
    if (RevocationReasonName(r) == s) return r;
  }
  return std::nullopt;
}

std::string RevocationReasonList() {
  std::string out;
  for (RevocationReason r : kAllReasons) {
    if (!out.empty()) out += ", ";
    out += RevocationReasonName(r);
  }
  return out;
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
  bool code_shaped =
      v.reason.size() <= kMaxRevocationCodeBytes &&
      std::all_of(v.reason.begin(), v.reason.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_'; });
  if (!code_shaped) {
    return Status::InvalidInput("revocation: reason must be a code of 1.." + std::to_string(kMaxRevocationCodeBytes) +
                                " characters [a-z_], such as " + RevocationReasonList());
  }
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
// ----- purge confirmations -------------------------------------------------

std::string MakePurgeConfirmation(const std::string& message_id, const std::string& sender_id,
                                  const std::string& recipient_id, bool held, Instant purged_at,
                                  const SigningKeyPair& recipient, int version) {
  std::string at = FormatInstantMs(purged_at);
  if (version < 2) {
    Signature sig = Sign(recipient, PurgeMessage(message_id, sender_id, recipient_id));
    Json j{{"message_id", message_id},
           {"sender_id", sender_id},
           {"recipient_id", recipient_id},
           {"purged_at", at},
           {"sig", Base64Encode(sig)}};
    return j.dump();
  }
  Signature sig = Sign(recipient, PurgeMessageV2(message_id, sender_id, recipient_id, held, at));
  Json j{{"version", 2}, {"message_id", message_id}, {"sender_id", sender_id},  {"recipient_id", recipient_id},
         {"held", held}, {"purged_at", at},          {"sig", Base64Encode(sig)}};
  return j.dump();
}

Result<PurgeConfirmation> VerifyPurgeConfirmation(std::string_view confirmation, const std::string& message_id,
                                                  const std::string& sender_id, const std::string& recipient_id,
                                                  const PublicKey& recipient_sign_pk) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseJsonLimited(confirmation, {4096, 4}));
  JsonFields f(j, "purge confirmation");
  PurgeConfirmation out;
  out.version = j.is_object() && j.contains("version") ? 2 : 1;
  if (out.version == 1) {
    SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"message_id", "sender_id", "recipient_id", "purged_at", "sig"}));
  } else {
    SCHAKEL_RETURN_IF_ERROR(
        f.OnlyKeys({"version", "message_id", "sender_id", "recipient_id", "held", "purged_at", "sig"}));
    if (!j["version"].is_number_integer() || j["version"].get<int64_t>() != 2) {
      return Status::InvalidInput("purge confirmation.version: this build knows versions 1 and 2");
    }
    if (!j.contains("held") || !j["held"].is_boolean()) {
      return Status::InvalidInput("purge confirmation.held: expected true or false");
    }
    out.held = j["held"].get<bool>();
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::string mid, f.String("message_id", 128));
  SCHAKEL_ASSIGN_OR_RETURN(std::string sid, f.String("sender_id", 64));
  SCHAKEL_ASSIGN_OR_RETURN(std::string rid, f.String("recipient_id", 64));
  SCHAKEL_ASSIGN_OR_RETURN(std::string sig_text, f.String("sig", 128));
  if (mid != message_id || sid != sender_id || rid != recipient_id) {
    return Status::InvalidInput("purge confirmation is for another message");
  }
  if (out.version == 2 || j.contains("purged_at")) {
    SCHAKEL_ASSIGN_OR_RETURN(out.purged_at, f.String("purged_at", 32));
    if (!ParseInstant(out.purged_at).ok()) return Status::InvalidInput("purge confirmation.purged_at: not an instant");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<uint8_t> sig_bytes, Base64Decode(sig_text, 64));
  if (sig_bytes.size() != 64) return Status::InvalidInput("purge confirmation: bad signature length");
  Signature sig{};
  std::copy(sig_bytes.begin(), sig_bytes.end(), sig.begin());
  std::string signed_text = out.version == 1
                                ? PurgeMessage(message_id, sender_id, recipient_id)
                                : PurgeMessageV2(message_id, sender_id, recipient_id, *out.held, out.purged_at);
  if (!Verify(recipient_sign_pk, signed_text, sig)) {
    return Status::InvalidInput("purge confirmation: signature does not verify");
  }
  return out;
}

}  // namespace schakel::crypto
