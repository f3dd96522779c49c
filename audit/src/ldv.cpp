// Logboek Dataverwerkingen records from the audit log (ldv.h).
#include "schakel/audit/ldv.h"

#include <sodium.h>

#include <map>
#include <string>

#include "export_line.h"
#include "schakel/audit/format.h"
#include "schakel/base/strings.h"

namespace schakel::audit {

using internal::AppendJsonString;

namespace {

constexpr std::string_view kTraceLabel = "schakel/ldv/trace/v1";
constexpr std::string_view kShareOperationLabel = "schakel/ldv/share-operation/v1";
constexpr std::string_view kEntryTraceLabel = "schakel/ldv/entry-trace/v1";
constexpr std::string_view kSubjectKeyLabel = "schakel/ldv/subject-key/v1";
constexpr size_t kMaxLineBytes = 64 * 1024;

void PutStr(crypto_hash_sha256_state* st, std::string_view s) {
  uint8_t len[2] = {static_cast<uint8_t>(s.size() >> 8), static_cast<uint8_t>(s.size() & 0xff)};
  crypto_hash_sha256_update(st, len, 2);
  crypto_hash_sha256_update(st, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// SHA-256(label 0x00 || str(a) || str(b)).
std::array<uint8_t, 32> Derive(std::string_view label, std::string_view a, std::string_view b) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  const uint8_t nul = 0;
  crypto_hash_sha256_update(&st, &nul, 1);
  PutStr(&st, a);
  PutStr(&st, b);
  std::array<uint8_t, 32> out{};
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

template <size_t N>
std::array<uint8_t, N> Prefix(const std::array<uint8_t, 32>& h) {
  std::array<uint8_t, N> out{};
  std::copy(h.begin(), h.begin() + N, out.begin());
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a) {
    if (b != 0) return false;
  }
  return true;
}

void Field(std::string_view key, std::string_view value, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

// ERROR for outcomes that say the action did not happen as asked.
std::string_view StatusCodeOf(std::string_view outcome) {
  if (outcome == "deny" || outcome == "error" || outcome == "refused" || outcome.rfind("fail", 0) == 0) {
    return "ERROR";
  }
  return "OK";
}

// RFC 3339 in UTC with milliseconds: the entry's ts is already that form.
bool IsShareTraced(std::string_view action, std::string_view object) {
  if (object.empty() || action.rfind("share.", 0) != 0) return false;
  // The gate's refusals and dry runs name the case, not a message.
  return action != "share.denied" && action != "share.evaluated";
}

struct Root {
  TraceId trace{};
  OperationId op{};
};

}  // namespace

std::string FormatTraceparent(const TraceContext& tc) {
  std::string out = "00-" + ToHex(tc.trace_id) + "-" + ToHex(tc.operation_id) + "-";
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back(kHex[tc.flags >> 4]);
  out.push_back(kHex[tc.flags & 0x0f]);
  return out;
}

Result<TraceContext> ParseTraceparent(std::string_view text) {
  if (text.size() != kTraceparentBytes) {
    return Status::InvalidInput("traceparent: expected 55 bytes (00-<32 hex>-<16 hex>-<2 hex>), got " +
                                std::to_string(text.size()));
  }
  if (text.substr(0, 3) != "00-" || text[35] != '-' || text[52] != '-') {
    return Status::InvalidInput("traceparent: not version 00 in the form 00-<32 hex>-<16 hex>-<2 hex>");
  }
  std::string_view trace = text.substr(3, 32), op = text.substr(36, 16), flags = text.substr(53, 2);
  if (!IsLowerHex(trace) || !IsLowerHex(op) || !IsLowerHex(flags)) {
    return Status::InvalidInput("traceparent: ids and flags must be lower-case hex digits");
  }
  TraceContext tc;
  auto t = FromHex(trace), o = FromHex(op), f = FromHex(flags);
  if (!t || !o || !f || t->size() != 16 || o->size() != 8 || f->size() != 1) {
    return Status::InvalidInput("traceparent: ids and flags must be lower-case hex digits");
  }
  std::copy(t->begin(), t->end(), tc.trace_id.begin());
  std::copy(o->begin(), o->end(), tc.operation_id.begin());
  tc.flags = (*f)[0];
  if (AllZero(tc.trace_id)) return Status::InvalidInput("traceparent: the trace id is all zero");
  if (AllZero(tc.operation_id)) return Status::InvalidInput("traceparent: the parent operation id is all zero");
  return tc;
}

TraceId ShareTraceId(std::string_view sender_id, std::string_view message_id) {
  return Prefix<16>(Derive(kTraceLabel, sender_id, message_id));
}

OperationId ShareOperationId(std::string_view sender_id, std::string_view message_id) {
  return Prefix<8>(Derive(kShareOperationLabel, sender_id, message_id));
}

TraceContext ShareTraceContext(std::string_view sender_id, std::string_view message_id) {
  TraceContext tc;
  tc.trace_id = ShareTraceId(sender_id, message_id);
  tc.operation_id = ShareOperationId(sender_id, message_id);
  return tc;
}

std::optional<TraceContext> TraceFromReason(std::string_view reason) {
  if (reason.rfind(kTraceReasonPrefix, 0) != 0) return std::nullopt;
  auto tc = ParseTraceparent(reason.substr(kTraceReasonPrefix.size(), kTraceparentBytes));
  if (!tc.ok()) return std::nullopt;
  return *tc;
}

crypto::SecureBuffer LdvSubjectKey(const crypto::SigningKeyPair& identity) {
  std::string message(kSubjectKeyLabel);
  message.push_back('\0');
  crypto::Signature sig = crypto::Sign(identity, message);
  crypto::SecureBuffer key(32);
  crypto_generichash(key.data(), key.size(), sig.data(), sig.size(), nullptr, 0);
  sodium_memzero(sig.data(), sig.size());
  return key;
}

std::string PseudonymOf(std::string_view subject, std::span<const uint8_t> key) {
  std::array<uint8_t, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(subject.data()), subject.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  sodium_memzero(&st, sizeof st);
  return "urn:schakel:pseudonym:" + ToHex(std::span<const uint8_t>(mac.data(), 16));
}

std::string ProcessingActivityId(std::string_view purpose) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "urn:schakel:purpose:";
  for (char ch : purpose) {
    auto c = static_cast<unsigned char>(ch);
    bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (plain) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string NodeEntityId(std::string_view node_id) { return "urn:schakel:node:" + std::string(node_id); }

Status ExportLdv(std::istream& plain_export, const LdvOptions& options, std::ostream& out) {
  if (options.subject_key.size() != 32) return Status::InvalidInput("ldv export: the subject key must be 32 bytes");
  internal::LineParser parser;
  std::map<std::string, Root, std::less<>> shares;   // message id -> the share's trace and root operation
  std::map<std::string, Root, std::less<>> inboxes;  // message id -> its inbox.received record
  std::string line, record;
  int64_t line_no = 0;
  while (std::getline(plain_export, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto bad = [&](const std::string& what) {
      return Status::InvalidInput("ldv export: line " + std::to_string(line_no) + ": " + what);
    };
    if (line.size() > kMaxLineBytes) return bad("longer than 64 KiB");
    if (!parser.Parse(line)) return bad(parser.error());
    using internal::kSlotType;
    // Checkpoints and partners' countersignatures are about the chain, not
    // processing actions: LDV has no record for them.
    if (parser.value(kSlotType) == "checkpoint" || parser.value(kSlotType) == "witness") continue;
    if (parser.value(kSlotType) != "entry") return bad("unknown line type");
    Hash hash{};
    if (!internal::DecodeHash(parser.value(internal::kSlotHash), &hash)) return bad("hash is not 64 hex digits");
    std::string_view action = parser.value(internal::kSlotAction);
    std::string_view object = parser.value(internal::kSlotObject);
    std::string_view subject = parser.value(internal::kSlotSubject);
    std::string_view purpose = parser.value(internal::kSlotPurpose);
    std::string_view outcome = parser.value(internal::kSlotOutcome);
    std::string_view ts = parser.value(internal::kSlotTs);
    if (!IsCanonicalTimestamp(ts)) return bad("ts is not YYYY-MM-DDTHH:MM:SS.mmmZ");

    TraceId trace = Prefix<16>(Derive(kEntryTraceLabel, options.node_id,
                                      std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size())));
    OperationId op = Prefix<8>(hash);
    std::optional<OperationId> parent;
    std::optional<TraceContext> foreign;
    std::string foreign_entity;
    bool traced_object = false;
    if (IsShareTraced(action, object)) {
      traced_object = true;
      auto it = shares.find(object);
      if (it == shares.end()) {
        Root root{ShareTraceId(options.node_id, object), ShareOperationId(options.node_id, object)};
        it = shares.emplace(std::string(object), root).first;
        trace = root.trace;
        op = root.op;
      } else {
        trace = it->second.trace;
        parent = it->second.op;
      }
    } else if (action.rfind("inbox.", 0) == 0 && !object.empty()) {
      traced_object = true;
      if (action == "inbox.received") {
        std::string_view sender = parser.value(internal::kSlotOrg);
        foreign = TraceFromReason(parser.value(internal::kSlotReason));
        trace = foreign ? foreign->trace_id : ShareTraceId(sender, object);
        if (foreign) foreign_entity = NodeEntityId(sender);
        inboxes.insert_or_assign(std::string(object), Root{trace, op});
      } else if (auto it = inboxes.find(object); it != inboxes.end()) {
        trace = it->second.trace;
        parent = it->second.op;
      }
    }

    record.clear();
    record.push_back('{');
    Field("trace_id", ToHex(trace), &record);
    Field("operation_id", ToHex(op), &record);
    if (parent) Field("parent_operation_id", ToHex(*parent), &record);
    Field("status_code", StatusCodeOf(outcome), &record);
    Field("name", action, &record);
    Field("start_time", ts, &record);
    Field("end_time", ts, &record);
    if (foreign) {
      record.append(",\"foreign_operation\":{");
      Field("trace_id", ToHex(foreign->trace_id), &record);
      Field("operation_id", ToHex(foreign->operation_id), &record);
      Field("entity_id", foreign_entity, &record);
      record.push_back('}');
    }
    record.append(",\"resource\":{");
    Field("entity_id", NodeEntityId(options.node_id), &record);
    record.push_back('}');
    record.append(",\"attributes\":{");
    if (!purpose.empty()) Field("dpl.core.processing_activity_id", ProcessingActivityId(purpose), &record);
    if (!subject.empty()) Field("dpl.core.data_subject_id", PseudonymOf(subject, options.subject_key), &record);
    if (!subject.empty()) Field("dpl.core.data_subject_id_type", "pseudonym", &record);
    Field("schakel.node_id", options.node_id, &record);
    record.append(",\"schakel.seq\":" + std::to_string(parser.seq()));
    Field("schakel.entry_hash", ToHex(hash), &record);
    Field("schakel.outcome", outcome, &record);
    if (std::string_view basis = parser.value(internal::kSlotLegalBasis); !basis.empty()) {
      Field("schakel.legal_basis", basis, &record);
    }
    if (traced_object) Field("schakel.message_id", object, &record);
    record.append("}}\n");
    out << record;
  }
  if (plain_export.bad()) return Status::Internal("ldv export: reading the export failed");
  if (!out) return Status::Internal("ldv export: writing failed");
  return Status::Ok();
}

}  // namespace schakel::audit
