// Refusals: the recipient's signed "not accepted" for a share its gate
// refused, in the field encoding of receipts and revocations
// (docs/envelope.md).
#include <sodium.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "wire_internal.h"

namespace schakel::crypto {
namespace {

using namespace wire;  // NOLINT(google-build-using-namespace): this module's own encoding

constexpr char kRefusalMagic[4] = {'S', 'C', 'H', 'N'};
constexpr uint8_t kRefusalVersion = 1;
// Used with its terminating NUL (sizeof).
constexpr char kRefusalLabel[] = "schakel/refusal/v1";

constexpr std::array<std::pair<RefusalCode, std::string_view>, 5> kCodes = {{
    {RefusalCode::kUnknownPurpose, "unknown_purpose"},
    {RefusalCode::kCategoryNotAllowed, "category_not_allowed"},
    {RefusalCode::kRetentionTooLong, "retention_too_long"},
    {RefusalCode::kQuota, "quota"},
    {RefusalCode::kUnsupported, "unsupported"},
}};

std::string RefusalFields(const Refusal& r) {
  std::string out;
  PutStr(out, r.message_id);
  PutStr(out, r.sender_id);
  PutStr(out, r.recipient_id);
  PutStr(out, RefusalCodeName(r.code));
  PutI64(out, ToMs(r.refused_at));
  return out;
}

Status CheckRefusalFields(const Refusal& r) {
  if (!IsValidObjectId(r.message_id)) return Status::InvalidInput("refusal: bad message_id");
  if (!IsValidNodeId(r.sender_id)) return Status::InvalidInput("refusal: bad sender_id");
  if (!IsValidNodeId(r.recipient_id)) return Status::InvalidInput("refusal: bad recipient_id");
  if (!ParseRefusalCode(RefusalCodeName(r.code))) return Status::InvalidInput("refusal: unknown code");
  if (!IsValidInstant(r.refused_at)) return Status::InvalidInput("refusal: bad time");
  return Status::Ok();
}

}  // namespace

std::string_view RefusalCodeName(RefusalCode code) {
  for (const auto& [c, name] : kCodes) {
    if (c == code) return name;
  }
  return "";
}

std::optional<RefusalCode> ParseRefusalCode(std::string_view name) {
  for (const auto& [c, n] : kCodes) {
    if (n == name) return c;
  }
  return std::nullopt;
}

Result<Refusal> MakeRefusal(std::string message_id, std::string sender_id, std::string recipient_id, RefusalCode code,
                            Instant refused_at, const SigningKeyPair& recipient) {
  Refusal r;
  r.message_id = std::move(message_id);
  r.sender_id = std::move(sender_id);
  r.recipient_id = std::move(recipient_id);
  r.code = code;
  r.refused_at = refused_at;
  SCHAKEL_RETURN_IF_ERROR(CheckRefusalFields(r));
  if (recipient.secret.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidInput("refusal: the recipient's identity key is not loaded");
  }
  r.sig = Sign(recipient, Labelled(kRefusalLabel, sizeof kRefusalLabel, RefusalFields(r)));
  return r;
}

Status VerifyRefusal(const Refusal& refusal, const PublicKey& recipient_sign_pk, std::string_view message_id,
                     std::string_view sender_id, std::string_view recipient_id) {
  SCHAKEL_RETURN_IF_ERROR(CheckRefusalFields(refusal));
  if (!Verify(recipient_sign_pk, Labelled(kRefusalLabel, sizeof kRefusalLabel, RefusalFields(refusal)), refusal.sig)) {
    return Status::InvalidInput("refusal: bad signature: not signed by the recipient's key");
  }
  if (refusal.message_id != message_id || refusal.sender_id != sender_id || refusal.recipient_id != recipient_id) {
    return Status::InvalidInput("refusal: for another message, sender or recipient");
  }
  return Status::Ok();
}

std::string EncodeRefusal(const Refusal& refusal) {
  std::string out(kRefusalMagic, sizeof kRefusalMagic);
  out.push_back(static_cast<char>(kRefusalVersion));
  out += RefusalFields(refusal);
  PutBytes(out, refusal.sig);
  return out;
}

bool IsRefusal(std::string_view bytes) {
  return bytes.size() >= sizeof kRefusalMagic && std::memcmp(bytes.data(), kRefusalMagic, sizeof kRefusalMagic) == 0;
}

Result<Refusal> DecodeRefusal(std::string_view bytes) {
  if (bytes.size() > kMaxRefusalBytes) {
    return Status::InvalidInput("refusal: larger than " + std::to_string(kMaxRefusalBytes) + " bytes");
  }
  Reader r(bytes);
  Refusal out;
  std::array<uint8_t, 4> magic{};
  uint8_t version = 0;
  std::string code;
  int64_t at = 0;
  if (!r.Bytes(&magic) || std::memcmp(magic.data(), kRefusalMagic, 4) != 0) {
    return Status::InvalidInput("refusal: not a Schakel refusal (bad magic or truncated)");
  }
  if (!r.U8(&version)) return Status::InvalidInput("refusal: truncated");
  if (version != kRefusalVersion) return Status::InvalidInput("refusal: unknown version " + std::to_string(version));
  if (!r.Str(&out.message_id) || !r.Str(&out.sender_id) || !r.Str(&out.recipient_id) || !r.Str(&code) || !r.I64(&at) ||
      !r.Bytes(&out.sig)) {
    return Status::InvalidInput("refusal: truncated");
  }
  if (r.remaining() != 0) return Status::InvalidInput("refusal: bytes after the end");
  std::optional<RefusalCode> parsed = ParseRefusalCode(code);
  if (!parsed) return Status::InvalidInput("refusal: unknown code");
  out.code = *parsed;
  out.refused_at = FromMs(at);
  SCHAKEL_RETURN_IF_ERROR(CheckRefusalFields(out));
  return out;
}

}  // namespace schakel::crypto
