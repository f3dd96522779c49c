// Adoption notices (envelope.h): a recipient's signed "kept, adopted into
// the dossier" in answer to a revocation.
#include <sodium.h>

#include <algorithm>

#include "schakel/base/json.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/envelope.h"
#include "wire_internal.h"

namespace schakel::crypto {
namespace {

constexpr char kAdoptionNoticeLabel[] = "schakel/adoption-notice/v1";

std::string AdoptionMessage(const std::string& message_id, const std::string& sender_id,
                            const std::string& recipient_id, const std::string& adopted_at, const std::string& basis) {
  std::string fields;
  for (const std::string* part : {&message_id, &sender_id, &recipient_id, &adopted_at}) {
    fields += *part;
    fields.push_back('\0');
  }
  fields += basis;
  return wire::Labelled(kAdoptionNoticeLabel, sizeof kAdoptionNoticeLabel, fields);
}

}  // namespace

Status CheckAdoptionBasis(std::string_view basis) {
  if (basis.empty() || basis.size() > kMaxAdoptionBasisBytes || !IsPrintableUtf8(basis) ||
      basis.find_first_of("\t\r\n") != std::string_view::npos) {
    return Status::InvalidInput(
        "basis: the legal basis for keeping it, 1 to 200 printable characters on one line "
        "(e.g. \"Jeugdwet art. 7.3.8\")");
  }
  return Status::Ok();
}

std::string MakeAdoptionNotice(const std::string& message_id, const std::string& sender_id,
                               const std::string& recipient_id, Instant adopted_at, const std::string& basis,
                               const SigningKeyPair& recipient) {
  std::string at = FormatInstantMs(adopted_at);
  Signature sig = Sign(recipient, AdoptionMessage(message_id, sender_id, recipient_id, at, basis));
  Json j{{"adoption", kAdoptionNoticeVersion},
         {"message_id", message_id},
         {"sender_id", sender_id},
         {"recipient_id", recipient_id},
         {"adopted_at", at},
         {"basis", basis},
         {"sig", Base64Encode(sig)}};
  return j.dump();
}

bool IsAdoptionNotice(std::string_view answer) {
  if (answer.size() > 4096 || answer.empty() || answer.front() != '{') return false;
  auto j = ParseJsonLimited(answer, {4096, 4});
  return j.ok() && j->is_object() && j->contains("adoption");
}

Result<AdoptionNotice> VerifyAdoptionNotice(std::string_view notice, const std::string& message_id,
                                            const std::string& sender_id, const std::string& recipient_id,
                                            const PublicKey& recipient_sign_pk) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseJsonLimited(notice, {4096, 4}));
  if (!j.is_object()) return Status::InvalidInput("adoption notice: expected a JSON object");
  JsonFields f(j, "adoption notice");
  SCHAKEL_RETURN_IF_ERROR(
      f.OnlyKeys({"adoption", "message_id", "sender_id", "recipient_id", "adopted_at", "basis", "sig"}));
  SCHAKEL_ASSIGN_OR_RETURN(long long version, f.Integer("adoption", 0, 1000));
  if (version != kAdoptionNoticeVersion) {
    return Status::InvalidInput("adoption notice: version " + std::to_string(version) + " (this build knows 1)");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::string mid, f.String("message_id", 128));
  SCHAKEL_ASSIGN_OR_RETURN(std::string sid, f.String("sender_id", 64));
  SCHAKEL_ASSIGN_OR_RETURN(std::string rid, f.String("recipient_id", 64));
  if (mid != message_id || sid != sender_id || rid != recipient_id) {
    return Status::InvalidInput("adoption notice is for another message");
  }
  AdoptionNotice out;
  SCHAKEL_ASSIGN_OR_RETURN(out.adopted_at, f.String("adopted_at", 32));
  if (!ParseInstant(out.adopted_at).ok()) return Status::InvalidInput("adoption notice.adopted_at: not an instant");
  SCHAKEL_ASSIGN_OR_RETURN(out.basis, f.String("basis", kMaxAdoptionBasisBytes));
  SCHAKEL_RETURN_IF_ERROR(CheckAdoptionBasis(out.basis).WithContext("adoption notice"));
  SCHAKEL_ASSIGN_OR_RETURN(std::string sig_text, f.String("sig", 128));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<uint8_t> sig_bytes, Base64Decode(sig_text, 64));
  if (sig_bytes.size() != 64) return Status::InvalidInput("adoption notice: bad signature length");
  Signature sig{};
  std::copy(sig_bytes.begin(), sig_bytes.end(), sig.begin());
  if (!Verify(recipient_sign_pk, AdoptionMessage(message_id, sender_id, recipient_id, out.adopted_at, out.basis),
              sig)) {
    return Status::InvalidInput("adoption notice: signature does not verify");
  }
  return out;
}

}  // namespace schakel::crypto
