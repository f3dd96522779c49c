#include "schakel/audit/format.h"

#include <sodium.h>

#include <cstring>

#include "export_line.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::audit {

using internal::AppendJsonString;

namespace {

constexpr std::array<std::string_view, kTextFieldCount> kFieldNames = {
    "ts",          "actor_user", "actor_role", "actor_org", "action",    "subject",    "object",  "purpose",
    "legal_basis", "outcome",    "reason",     "source",    "recipient", "categories", "consents"};

// Feeds SHA-256 through a stack buffer, so the dozens of small pieces of an
// entry cost one or two compression calls' worth of bookkeeping, not one
// library call each, and nothing is allocated.
class Sha256Writer {
 public:
  // buf_ is left uninitialised on purpose: only its first used_ bytes are
  // ever read, and zeroing 2 KiB per audit entry would be wasted work.
  // cppcheck-suppress uninitMemberVar
  Sha256Writer() {
    crypto::EnsureInitialised();
    crypto_hash_sha256_init(&state_);
  }
  void Put(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    if (used_ + n > sizeof buf_) {
      Flush();
      if (n > sizeof buf_) {
        crypto_hash_sha256_update(&state_, p, n);
        return;
      }
    }
    std::memcpy(buf_ + used_, p, n);
    used_ += n;
  }
  void PutU16(size_t v) {
    uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    Put(b, 2);
  }
  void PutU64(uint64_t v) {
    uint8_t b[8];
    for (int i = 7; i >= 0; --i) {
      b[i] = static_cast<uint8_t>(v);
      v >>= 8;
    }
    Put(b, 8);
  }
  Hash Finish() {
    Flush();
    Hash out{};
    crypto_hash_sha256_final(&state_, out.data());
    return out;
  }

 private:
  void Flush() {
    if (used_ > 0) crypto_hash_sha256_update(&state_, buf_, used_);
    used_ = 0;
  }
  crypto_hash_sha256_state state_;
  uint8_t buf_[2048];
  size_t used_ = 0;
};

void AppendU16(std::string* out, size_t v) {
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > kMaxTokenBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendHex(const Hash& h, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (uint8_t b : h) {
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 0x0f]);
  }
  out->push_back('"');
}

}  // namespace

std::string_view TextFieldName(TextField f) { return kFieldNames[static_cast<size_t>(f)]; }

size_t MaxFieldBytes(TextField f) {
  switch (f) {
    case TextField::kTs:
      return kTimestampBytes;
    case TextField::kAction:
    case TextField::kOutcome:
      return kMaxTokenBytes;
    case TextField::kSubject:
      return kMaxSubjectBytes;
    case TextField::kReason:
    case TextField::kConsents:
      return kMaxReasonBytes;
    default:
      return kMaxFieldBytes;
  }
}

size_t TextFieldCount(int format) { return format == kEntryFormat1 ? 12 : kTextFieldCount; }

EntryText TextOf(const AuditEvent& e, std::string_view ts) {
  return {ts,        e.actor_user, e.actor_role, e.actor_org,   e.action,
          e.subject, e.object,     e.purpose,    e.legal_basis, e.outcome,
          e.reason,  e.source,     e.recipient,  e.categories,  e.consents};
}

std::string CheckEntryFields(const EntryText& text) {
  for (size_t i = 1; i < kTextFieldCount; ++i) {
    auto field = static_cast<TextField>(i);
    std::string_view v = text[i];
    std::string name(TextFieldName(field));
    if (v.size() > MaxFieldBytes(field)) {
      return name + ": longer than " + std::to_string(MaxFieldBytes(field)) + " bytes";
    }
    // IsPrintableUtf8 lets a tab through; an audit field keeps to one
    // printable line without it, so that text reports cannot be forged.
    if (!IsPrintableUtf8(v) || v.find('\t') != std::string_view::npos) {
      return name + ": must be printable UTF-8 on one line (no control characters)";
    }
  }
  if (!IsToken(text[static_cast<size_t>(TextField::kAction)])) return "action: expected a token [a-z0-9._:-]{1,64}";
  if (!IsToken(text[static_cast<size_t>(TextField::kOutcome)])) {
    return "outcome: expected a token [a-z0-9._:-]{1,64}";
  }
  std::string_view subject = text[static_cast<size_t>(TextField::kSubject)];
  if (!subject.empty() && !IsValidObjectId(subject)) {
    return "subject: expected a student reference [A-Za-z0-9._-]{1,128}, never a name";
  }
  if (text[static_cast<size_t>(TextField::kSource)].empty()) return "source: must not be empty";
  return {};
}

Status ValidateEvent(const AuditEvent& event) {
  std::string problem = CheckEntryFields(TextOf(event, {}));
  if (problem.empty()) return Status::Ok();
  return Status::InvalidInput("audit entry: " + problem);
}

bool IsCanonicalTimestamp(std::string_view ts) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (ts.size() != kShape.size()) return false;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (kShape[i] == 'd') {
      if (ts[i] < '0' || ts[i] > '9') return false;
    } else if (ts[i] != kShape[i]) {
      return false;
    }
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (ts[i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  // No leap second: the node's clock (FormatInstantMs) never writes :60.
  return day <= days && num(11, 2) < 24 && num(14, 2) < 60 && num(17, 2) < 60;
}

Hash ComputeEntryHash(int format, int64_t seq, const EntryText& text, const Hash& prev_hash) {
  Sha256Writer w;
  std::string_view label = format == kEntryFormat1 ? kEntryLabel : kEntryLabelV2;
  w.Put(label.data(), label.size());
  w.Put("", 1);  // the label's NUL
  w.PutU64(static_cast<uint64_t>(seq));
  size_t count = TextFieldCount(format);
  for (size_t i = 0; i < count; ++i) {
    w.PutU16(text[i].size());
    w.Put(text[i].data(), text[i].size());
  }
  w.Put(prev_hash.data(), prev_hash.size());
  return w.Finish();
}

std::string CheckpointMessage(std::string_view node_id, int64_t seq, const Hash& hash, std::string_view ts) {
  std::string m;
  m.reserve(kCheckpointLabel.size() + 1 + 2 + node_id.size() + 8 + 32 + 2 + ts.size());
  m.append(kCheckpointLabel);
  m.push_back('\0');
  AppendU16(&m, node_id.size());
  m.append(node_id);
  AppendU64(&m, static_cast<uint64_t>(seq));
  m.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  AppendU16(&m, ts.size());
  m.append(ts);
  return m;
}

std::string WitnessMessage(std::string_view witness_id, std::string_view node_id, int64_t seq, const Hash& hash,
                           std::string_view ts) {
  std::string m;
  m.reserve(kWitnessLabel.size() + 1 + 2 + witness_id.size() + 2 + node_id.size() + 8 + 32 + 2 + ts.size());
  m.append(kWitnessLabel);
  m.push_back('\0');
  AppendU16(&m, witness_id.size());
  m.append(witness_id);
  AppendU16(&m, node_id.size());
  m.append(node_id);
  AppendU64(&m, static_cast<uint64_t>(seq));
  m.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  AppendU16(&m, ts.size());
  m.append(ts);
  return m;
}

void AppendEntryLine(int format, int64_t seq, const EntryText& text, const Hash& prev_hash, const Hash& hash,
                     std::string* out) {
  auto field = [&](TextField f) { return text[static_cast<size_t>(f)]; };
  out->append(format == kEntryFormat1 ? "{\"type\":\"entry\",\"seq\":" : "{\"type\":\"entry\",\"format\":2,\"seq\":");
  out->append(std::to_string(seq));
  out->append(",\"ts\":");
  AppendJsonString(field(TextField::kTs), out);
  out->append(",\"actor\":{\"user\":");
  AppendJsonString(field(TextField::kActorUser), out);
  out->append(",\"role\":");
  AppendJsonString(field(TextField::kActorRole), out);
  out->append(",\"org\":");
  AppendJsonString(field(TextField::kActorOrg), out);
  out->append("},\"action\":");
  AppendJsonString(field(TextField::kAction), out);
  out->append(",\"subject\":");
  AppendJsonString(field(TextField::kSubject), out);
  out->append(",\"object\":");
  AppendJsonString(field(TextField::kObject), out);
  out->append(",\"purpose\":");
  AppendJsonString(field(TextField::kPurpose), out);
  out->append(",\"legal_basis\":");
  AppendJsonString(field(TextField::kLegalBasis), out);
  out->append(",\"outcome\":");
  AppendJsonString(field(TextField::kOutcome), out);
  out->append(",\"reason\":");
  AppendJsonString(field(TextField::kReason), out);
  out->append(",\"source\":");
  AppendJsonString(field(TextField::kSource), out);
  if (format != kEntryFormat1) {
    out->append(",\"recipient\":");
    AppendJsonString(field(TextField::kRecipient), out);
    out->append(",\"categories\":");
    AppendJsonString(field(TextField::kCategories), out);
    out->append(",\"consents\":");
    AppendJsonString(field(TextField::kConsents), out);
  }
  out->append(",\"prev_hash\":");
  AppendHex(prev_hash, out);
  out->append(",\"hash\":");
  AppendHex(hash, out);
  out->append("}\n");
}

void AppendCheckpointLine(std::string_view node_id, int64_t seq, std::string_view ts, const Hash& hash,
                          const crypto::Signature& sig, std::string* out) {
  out->append("{\"type\":\"checkpoint\",\"node_id\":");
  AppendJsonString(node_id, out);
  out->append(",\"seq\":");
  out->append(std::to_string(seq));
  out->append(",\"ts\":");
  AppendJsonString(ts, out);
  out->append(",\"hash\":");
  AppendHex(hash, out);
  out->append(",\"sig\":\"");
  out->append(crypto::Base64Encode(sig));
  out->append("\"}\n");
}

void AppendWitnessLine(std::string_view node_id, int64_t seq, std::string_view ts, const Hash& hash,
                       std::string_view witness_id, const crypto::Signature& sig, std::string* out) {
  out->append("{\"type\":\"witness\",\"node_id\":");
  AppendJsonString(node_id, out);
  out->append(",\"seq\":");
  out->append(std::to_string(seq));
  out->append(",\"ts\":");
  AppendJsonString(ts, out);
  out->append(",\"hash\":");
  AppendHex(hash, out);
  out->append(",\"witness\":");
  AppendJsonString(witness_id, out);
  out->append(",\"sig\":\"");
  out->append(crypto::Base64Encode(sig));
  out->append("\"}\n");
}

namespace internal {

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + start, i - start);
    start = i + 1;
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0x0f]);
    }
  }
  out->append(s.data() + start, s.size() - start);
  out->push_back('"');
}

}  // namespace internal

}  // namespace schakel::audit
