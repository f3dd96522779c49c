#include "schakel/audit/verify.h"

#include <algorithm>
#include <cstring>
#include <istream>
#include <vector>

#include "schakel/crypto/identity.h"

namespace schakel::audit {
namespace {

// Every field an export line may hold. The parser records which it saw and
// a view of each value; the verifier then checks the set against the line's
// type.
enum Slot : uint8_t {
  kSlotType,
  kSlotSeq,
  kSlotTs,
  kSlotActor,
  kSlotAction,
  kSlotSubject,
  kSlotObject,
  kSlotPurpose,
  kSlotLegalBasis,
  kSlotOutcome,
  kSlotReason,
  kSlotSource,
  kSlotPrevHash,
  kSlotHash,
  kSlotNodeId,
  kSlotSig,
  kSlotUser,
  kSlotRole,
  kSlotOrg,
  kSlotCount
};

struct KeyName {
  std::string_view name;
  Slot slot;
};

constexpr KeyName kTopKeys[] = {{"type", kSlotType},
                                {"seq", kSlotSeq},
                                {"ts", kSlotTs},
                                {"actor", kSlotActor},
                                {"action", kSlotAction},
                                {"subject", kSlotSubject},
                                {"object", kSlotObject},
                                {"purpose", kSlotPurpose},
                                {"legal_basis", kSlotLegalBasis},
                                {"outcome", kSlotOutcome},
                                {"reason", kSlotReason},
                                {"source", kSlotSource},
                                {"prev_hash", kSlotPrevHash},
                                {"hash", kSlotHash},
                                {"node_id", kSlotNodeId},
                                {"sig", kSlotSig}};
constexpr KeyName kActorKeys[] = {{"user", kSlotUser}, {"role", kSlotRole}, {"org", kSlotOrg}};

constexpr uint32_t Bit(Slot s) { return uint32_t{1} << s; }

constexpr uint32_t kEntrySlots = Bit(kSlotType) | Bit(kSlotSeq) | Bit(kSlotTs) | Bit(kSlotActor) | Bit(kSlotAction) |
                                 Bit(kSlotSubject) | Bit(kSlotObject) | Bit(kSlotPurpose) | Bit(kSlotLegalBasis) |
                                 Bit(kSlotOutcome) | Bit(kSlotReason) | Bit(kSlotSource) | Bit(kSlotPrevHash) |
                                 Bit(kSlotHash) | Bit(kSlotUser) | Bit(kSlotRole) | Bit(kSlotOrg);
constexpr uint32_t kCheckpointSlots =
    Bit(kSlotType) | Bit(kSlotNodeId) | Bit(kSlotSeq) | Bit(kSlotTs) | Bit(kSlotHash) | Bit(kSlotSig);

// The slot of each text field of an entry, in hash order (TextField).
constexpr Slot kTextSlots[kTextFieldCount] = {kSlotTs,         kSlotUser,    kSlotRole,   kSlotOrg,
                                              kSlotAction,     kSlotSubject, kSlotObject, kSlotPurpose,
                                              kSlotLegalBasis, kSlotOutcome, kSlotReason, kSlotSource};

std::string_view SlotName(Slot s) {
  if (s == kSlotUser) return "actor.user";
  if (s == kSlotRole) return "actor.role";
  if (s == kSlotOrg) return "actor.org";
  for (const auto& k : kTopKeys) {
    if (k.slot == s) return k.name;
  }
  return "?";
}

// A strict parser for the one shape of an export line: a JSON object of
// strings and one integer, with one nested object (actor) of strings.
// Values are views into the line, or into per-slot scratch strings when
// they hold escapes; scratch keeps its capacity, so steady-state parsing
// allocates nothing.
class LineParser {
 public:
  // Returns false with error() set when the line is not such an object.
  bool Parse(std::string_view line) {
    s_ = line;
    i_ = 0;
    seen_ = 0;
    seq_ = 0;
    error_.clear();
    SkipWs();
    if (!ParseObject(true)) return false;
    SkipWs();
    if (i_ != s_.size()) return Fail("text after the end of the object");
    return true;
  }

  uint32_t seen() const { return seen_; }
  std::string_view value(Slot s) const { return values_[s]; }
  int64_t seq() const { return seq_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
    return false;
  }
  void SkipWs() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Expect(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return Fail(std::string("expected '") + c + "' at column " + std::to_string(i_ + 1));
  }

  bool ParseObject(bool top) {
    if (!Expect('{')) return false;
    SkipWs();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    while (true) {
      SkipWs();
      std::string_view key;
      if (i_ >= s_.size() || s_[i_] != '"') return Fail("expected a field name at column " + std::to_string(i_ + 1));
      if (!ParseString(&key_scratch_, &key)) return false;
      SkipWs();
      if (!Expect(':')) return false;
      SkipWs();
      Slot slot = kSlotCount;
      if (top) {
        for (const auto& k : kTopKeys) {
          if (k.name == key) slot = k.slot;
        }
      } else {
        for (const auto& k : kActorKeys) {
          if (k.name == key) slot = k.slot;
        }
      }
      if (slot == kSlotCount) {
        bool plain = !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
        });
        return Fail(plain ? "unknown field \"" + std::string(key) + "\"" : "unknown field");
      }
      if (seen_ & Bit(slot)) return Fail("field " + std::string(SlotName(slot)) + " appears twice");
      seen_ |= Bit(slot);
      if (slot == kSlotActor) {
        if (i_ >= s_.size() || s_[i_] != '{') return Fail("actor: expected an object");
        if (!ParseObject(false)) return false;
      } else if (slot == kSlotSeq) {
        if (!ParseSeq()) return false;
      } else {
        if (i_ >= s_.size() || s_[i_] != '"') {
          return Fail(std::string(SlotName(slot)) + ": expected a string");
        }
        if (!ParseString(&scratch_[slot], &values_[slot])) return false;
      }
      SkipWs();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      return Expect('}');
    }
  }

  bool ParseSeq() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    size_t digits = i_ - start;
    bool more = i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E');
    if (digits == 0 || digits > 18 || s_[start] == '0' || more) {
      return Fail("seq: expected a positive integer without sign, fraction or leading zero");
    }
    int64_t v = 0;
    for (size_t k = start; k < i_; ++k) v = v * 10 + (s_[k] - '0');
    seq_ = v;
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      v = v << 4 | d;
    }
    *out = v;
    return true;
  }

  static void PutUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // At the opening quote. Sets *out to the unescaped value: a view of the
  // line when it holds no escape, else of *scratch.
  bool ParseString(std::string* scratch, std::string_view* out) {
    ++i_;
    size_t start = i_;
    while (i_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        *out = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) return Fail("control character in a string at column " + std::to_string(i_ + 1));
      ++i_;
    }
    scratch->assign(s_.data() + start, i_ - start);
    while (i_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        *out = *scratch;
        return true;
      }
      if (c < 0x20) return Fail("control character in a string at column " + std::to_string(i_ + 1));
      if (c != '\\') {
        scratch->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch->push_back(e);
          break;
        case 'b':
          scratch->push_back('\b');
          break;
        case 'f':
          scratch->push_back('\f');
          break;
        case 'n':
          scratch->push_back('\n');
          break;
        case 'r':
          scratch->push_back('\r');
          break;
        case 't':
          scratch->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Fail("bad \\u escape at column " + std::to_string(i_));
          if (cp >= 0xdc00 && cp <= 0xdfff) return Fail("lone low surrogate in a \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo = 0;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') {
              return Fail("lone high surrogate in a \\u escape");
            }
            i_ += 2;
            if (!Hex4(&lo) || lo < 0xdc00 || lo > 0xdfff) {
              return Fail("bad surrogate pair in a \\u escape");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          PutUtf8(cp, scratch);
          break;
        }
        default:
          return Fail("bad escape at column " + std::to_string(i_));
      }
    }
    return Fail("unterminated string");
  }

  std::string_view s_;
  size_t i_ = 0;
  uint32_t seen_ = 0;
  int64_t seq_ = 0;
  std::array<std::string_view, kSlotCount> values_{};
  std::array<std::string, kSlotCount> scratch_;
  std::string key_scratch_;
  std::string error_;
};

// Lower-case hex digit values; -1 for every other byte (upper case too: one
// spelling per hash). int16_t, not int8_t: the values widen to int in
// DecodeHash, which is exact for both, but a signed char widening is a
// classic sign bug that clang-tidy rightly flags.
constexpr std::array<int16_t, 256> kHexValue = [] {
  std::array<int16_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int16_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int16_t>(c - 'a' + 10);
  return t;
}();

bool DecodeHash(std::string_view hex, Hash* out) {
  if (hex.size() != 64) return false;
  int bad = 0;
  for (size_t i = 0; i < 32; ++i) {
    int hi = kHexValue[static_cast<unsigned char>(hex[2 * i])];
    int lo = kHexValue[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= hi | lo;  // negative when either is -1
    (*out)[i] = static_cast<uint8_t>((hi << 4) | (lo & 0x0f));
  }
  return bad >= 0;
}

// libsodium 1.0.18's decoder reads every byte >= 0x80 as '/', so a
// signature would have many spellings; allow only the standard alphabet.
bool IsBase64Alphabet(std::string_view text) {
  for (char c : text) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

class Verifier {
 public:
  Verifier(const crypto::NodeCard& card, const VerifyOptions& options) : card_(card), options_(options) {}

  // Checks one line (without its newline). Returns false once a problem
  // was found; the report is then final.
  bool Line(std::string_view line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options_.max_line_bytes) {
      return Malformed("line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
    }
    if (line.empty()) return Malformed("empty line");
    if (!parser_.Parse(line)) return Malformed(parser_.error());
    std::string_view type = parser_.value(kSlotType);
    if (!(parser_.seen() & Bit(kSlotType))) return Malformed("no type field");
    if (type == "entry") return Entry();
    if (type == "checkpoint") return Checkpoint();
    return Malformed("type: expected \"entry\" or \"checkpoint\"");
  }

  // A line longer than the limit that the reader could not even buffer.
  bool TooLong() {
    ++line_no_;
    return Malformed("line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
  }

  VerifyReport Finish() {
    if (failed_) return std::move(report_);
    if (options_.anchor && options_.anchor->seq > report_.last_seq) {
      Fail(VerifyProblem::kTruncatedBeforeAnchor, report_.last_seq + 1, 0,
           "the export ends at seq " + std::to_string(report_.last_seq) + ", before the anchor's seq " +
               std::to_string(options_.anchor->seq) + ": entries were cut off");
      return std::move(report_);
    }
    if (report_.last_seq > report_.last_checkpoint_seq) {
      Fail(VerifyProblem::kNotCovered, report_.last_checkpoint_seq + 1, 0,
           "entries " + std::to_string(report_.last_checkpoint_seq + 1) + " to " + std::to_string(report_.last_seq) +
               " are not covered by a checkpoint: they are unverified (added or altered "
               "without the node's key, or the export was cut after them)");
      return std::move(report_);
    }
    report_.ok = true;
    return std::move(report_);
  }

 private:
  bool Fail(VerifyProblem problem, int64_t seq, uint64_t line, std::string detail) {
    failed_ = true;
    report_.ok = false;
    report_.problem = problem;
    report_.bad_seq = seq;
    report_.bad_line = line;
    report_.detail = std::move(detail);
    return false;
  }
  bool Malformed(const std::string& what) {
    return Fail(VerifyProblem::kMalformedLine, expect_seq_, line_no_, "malformed line: " + what);
  }

  // Checks the fields present against the type's set.
  bool Shape(uint32_t wanted) {
    uint32_t seen = parser_.seen();
    for (uint8_t s = 0; s < kSlotCount; ++s) {
      auto slot = static_cast<Slot>(s);
      if ((wanted & Bit(slot)) && !(seen & Bit(slot))) {
        return Malformed("missing field " + std::string(SlotName(slot)));
      }
      if (!(wanted & Bit(slot)) && (seen & Bit(slot))) {
        return Malformed("field " + std::string(SlotName(slot)) + " does not belong in this line");
      }
    }
    return true;
  }

  bool Entry() {
    if (!Shape(kEntrySlots)) return false;
    int64_t seq = parser_.seq();
    EntryText text;
    for (size_t f = 0; f < kTextFieldCount; ++f) {
      text[f] = parser_.value(kTextSlots[f]);
      if (text[f].size() > MaxFieldBytes(static_cast<TextField>(f))) {
        return Malformed(std::string(SlotName(kTextSlots[f])) + ": longer than " +
                         std::to_string(MaxFieldBytes(static_cast<TextField>(f))) + " bytes");
      }
    }
    if (!IsCanonicalTimestamp(text[0])) {
      return Malformed("ts: expected YYYY-MM-DDTHH:MM:SS.mmmZ");
    }
    Hash prev, hash;
    if (!DecodeHash(parser_.value(kSlotPrevHash), &prev)) {
      return Malformed("prev_hash: expected 64 lower-case hex digits");
    }
    if (!DecodeHash(parser_.value(kSlotHash), &hash)) {
      return Malformed("hash: expected 64 lower-case hex digits");
    }
    if (seq != expect_seq_) {
      return Fail(VerifyProblem::kSeqOutOfOrder, std::min(seq, expect_seq_), line_no_,
                  "expected seq " + std::to_string(expect_seq_) + ", found seq " + std::to_string(seq) +
                      ": an entry is missing, repeated or out of order");
    }
    if (prev != last_hash_) {
      return Fail(VerifyProblem::kBrokenChain, seq, line_no_,
                  seq == 1 ? std::string("prev_hash of the first entry is not 32 zero bytes")
                           : "prev_hash is not the hash of seq " + std::to_string(seq - 1));
    }
    if (ComputeEntryHash(seq, text, prev) != hash) {
      return Fail(VerifyProblem::kHashMismatch, seq, line_no_,
                  "hash does not match the entry's fields: the entry was altered");
    }
    if (options_.anchor && options_.anchor->seq == seq && options_.anchor->hash != hash) {
      return Fail(VerifyProblem::kAnchorMismatch, seq, line_no_,
                  "the entry's hash differs from the anchor's: the log was rewritten up to here");
    }
    last_hash_ = hash;
    report_.last_seq = seq;
    ++report_.entries;
    ++expect_seq_;
    return true;
  }

  bool Checkpoint() {
    if (!Shape(kCheckpointSlots)) return false;
    int64_t seq = parser_.seq();
    std::string_view node_id = parser_.value(kSlotNodeId);
    std::string_view ts = parser_.value(kSlotTs);
    if (!IsCanonicalTimestamp(ts)) return Malformed("ts: expected YYYY-MM-DDTHH:MM:SS.mmmZ");
    Hash hash;
    if (!DecodeHash(parser_.value(kSlotHash), &hash)) {
      return Malformed("hash: expected 64 lower-case hex digits");
    }
    std::string_view sig_text = parser_.value(kSlotSig);
    auto sig_bytes = crypto::Base64Decode(sig_text, 64);
    if (!IsBase64Alphabet(sig_text) || !sig_bytes.ok() || sig_bytes->size() != 64) {
      return Malformed("sig: expected the base64 of a 64-byte signature");
    }
    if (node_id != card_.node_id) {
      return Fail(VerifyProblem::kCheckpointWrongNode, seq, line_no_,
                  "checkpoint names another node than the card's " + card_.node_id);
    }
    if (seq <= report_.last_checkpoint_seq) {
      return Fail(VerifyProblem::kCheckpointMisplaced, seq, line_no_,
                  "checkpoint for seq " + std::to_string(seq) + " after the checkpoint for seq " +
                      std::to_string(report_.last_checkpoint_seq));
    }
    if (seq != report_.last_seq) {
      return Fail(VerifyProblem::kCheckpointMisplaced, seq, line_no_,
                  "checkpoint for seq " + std::to_string(seq) + " follows the entry with seq " +
                      std::to_string(report_.last_seq) +
                      " (a checkpoint follows its own entry; an entry is missing or moved)");
    }
    crypto::Signature sig;
    std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
    if (!crypto::Verify(card_.sign_pk, CheckpointMessage(node_id, seq, hash, ts), sig)) {
      return Fail(VerifyProblem::kBadCheckpointSignature, seq, line_no_,
                  "checkpoint signature does not verify under the card's identity key");
    }
    if (hash != last_hash_) {
      return Fail(VerifyProblem::kCheckpointHashMismatch, seq, line_no_,
                  "the signed hash differs from the entry's hash: entries after seq " +
                      std::to_string(report_.last_checkpoint_seq) + " up to " + std::to_string(seq) +
                      " were rewritten");
    }
    report_.last_checkpoint_seq = seq;
    report_.last_checkpoint_hash = hash;
    report_.last_checkpoint_ts = std::string(ts);
    ++report_.checkpoints;
    return true;
  }

  const crypto::NodeCard& card_;
  const VerifyOptions& options_;
  LineParser parser_;
  VerifyReport report_;
  Hash last_hash_{};  // the zero hash before seq 1
  int64_t expect_seq_ = 1;
  uint64_t line_no_ = 0;
  bool failed_ = false;
};

Status CheckOptions(const VerifyOptions& options) {
  if (options.anchor && options.anchor->seq < 1) {
    return Status::InvalidInput("anchor: seq must be at least 1");
  }
  if (options.max_line_bytes == 0) return Status::InvalidInput("max_line_bytes must be positive");
  return Status::Ok();
}

}  // namespace

std::string_view VerifyProblemName(VerifyProblem p) {
  switch (p) {
    case VerifyProblem::kNone:
      return "none";
    case VerifyProblem::kMalformedLine:
      return "malformed_line";
    case VerifyProblem::kSeqOutOfOrder:
      return "seq_out_of_order";
    case VerifyProblem::kBrokenChain:
      return "broken_chain";
    case VerifyProblem::kHashMismatch:
      return "hash_mismatch";
    case VerifyProblem::kCheckpointMisplaced:
      return "checkpoint_misplaced";
    case VerifyProblem::kCheckpointWrongNode:
      return "checkpoint_wrong_node";
    case VerifyProblem::kBadCheckpointSignature:
      return "bad_checkpoint_signature";
    case VerifyProblem::kCheckpointHashMismatch:
      return "checkpoint_hash_mismatch";
    case VerifyProblem::kNotCovered:
      return "not_covered";
    case VerifyProblem::kAnchorMismatch:
      return "anchor_mismatch";
    case VerifyProblem::kTruncatedBeforeAnchor:
      return "truncated_before_anchor";
  }
  return "unknown";
}

std::string VerifyReport::Describe() const {
  if (ok) {
    return "verified " + std::to_string(entries) + " entries, " + std::to_string(checkpoints) +
           " checkpoints, last seq " + std::to_string(last_seq);
  }
  std::string where = "seq " + std::to_string(bad_seq);
  if (bad_line > 0) where += " (line " + std::to_string(bad_line) + ")";
  return where + ": " + std::string(VerifyProblemName(problem)) + ": " + detail;
}

Result<VerifyReport> VerifyExport(std::string_view jsonl, const crypto::NodeCard& card, const VerifyOptions& options) {
  SCHAKEL_RETURN_IF_ERROR(CheckOptions(options));
  if (jsonl.size() > options.max_total_bytes) {
    return Status::InvalidInput("export larger than " + std::to_string(options.max_total_bytes) + " bytes");
  }
  Verifier v(card, options);
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t nl = jsonl.find('\n', pos);
    size_t end = nl == std::string_view::npos ? jsonl.size() : nl;
    if (!v.Line(jsonl.substr(pos, end - pos))) break;
    pos = end + 1;
  }
  return v.Finish();
}

Result<VerifyReport> VerifyExport(std::istream& in, const crypto::NodeCard& card, const VerifyOptions& options) {
  SCHAKEL_RETURN_IF_ERROR(CheckOptions(options));
  Verifier v(card, options);
  // A window over the stream: whole lines are handed out as views of it;
  // the unfinished tail moves to the front before the next read.
  std::vector<char> buf(std::max<size_t>(size_t{1} << 20, options.max_line_bytes + 2));
  size_t begin = 0, end = 0;
  uint64_t total = 0;
  bool eof = false;
  while (true) {
    const void* found = std::memchr(buf.data() + begin, '\n', end - begin);
    if (found != nullptr) {
      size_t nl = static_cast<size_t>(static_cast<const char*>(found) - buf.data());
      if (!v.Line(std::string_view(buf.data() + begin, nl - begin))) return v.Finish();
      begin = nl + 1;
      continue;
    }
    if (end - begin > options.max_line_bytes + 1) {
      v.TooLong();
      return v.Finish();
    }
    if (eof) {
      if (end > begin) v.Line(std::string_view(buf.data() + begin, end - begin));
      return v.Finish();
    }
    std::memmove(buf.data(), buf.data() + begin, end - begin);
    end -= begin;
    begin = 0;
    in.read(buf.data() + end, static_cast<std::streamsize>(buf.size() - end));
    auto got = static_cast<size_t>(in.gcount());
    if (in.bad()) return Status::IoError("cannot read the export");
    if (got == 0 || in.eof()) eof = true;
    total += got;
    if (total > options.max_total_bytes) {
      return Status::InvalidInput("export larger than " + std::to_string(options.max_total_bytes) + " bytes");
    }
    end += got;
  }
}

}  // namespace schakel::audit
