// One line of an audit export: the strict parser and its helpers
// (export_line.h).
#include "export_line.h"

#include <algorithm>

namespace schakel::audit::internal {
namespace {

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
                                {"sig", kSlotSig},
                                {"format", kSlotFormat},
                                {"recipient", kSlotRecipient},
                                {"categories", kSlotCategories},
                                {"consents", kSlotConsents},
                                {"witness", kSlotWitness}};
constexpr KeyName kActorKeys[] = {{"user", kSlotUser}, {"role", kSlotRole}, {"org", kSlotOrg}};

}  // namespace

std::string_view SlotName(Slot s) {
  if (s == kSlotUser) return "actor.user";
  if (s == kSlotRole) return "actor.role";
  if (s == kSlotOrg) return "actor.org";
  for (const auto& k : kTopKeys) {
    if (k.slot == s) return k.name;
  }
  return "?";
}

bool LineParser::Parse(std::string_view line) {
  s_ = line;
  i_ = 0;
  seen_ = 0;
  seq_ = 0;
  format_ = 0;
  error_.clear();
  SkipWs();
  if (!ParseObject(true)) return false;
  SkipWs();
  if (i_ != s_.size()) return Fail("text after the end of the object");
  return true;
}

bool LineParser::Fail(std::string what) {
  if (error_.empty()) error_ = std::move(what);
  return false;
}

void LineParser::SkipWs() {
  while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
}

bool LineParser::Expect(char c) {
  if (i_ < s_.size() && s_[i_] == c) {
    ++i_;
    return true;
  }
  return Fail(std::string("expected '") + c + "' at column " + std::to_string(i_ + 1));
}

bool LineParser::ParseObject(bool top) {
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
      if (!ParseCount("seq", &seq_)) return false;
    } else if (slot == kSlotFormat) {
      if (!ParseCount("format", &format_)) return false;
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

bool LineParser::ParseCount(std::string_view name, int64_t* out) {
  size_t start = i_;
  while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
  size_t digits = i_ - start;
  bool more = i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E');
  if (digits == 0 || digits > 18 || s_[start] == '0' || more) {
    return Fail(std::string(name) + ": expected a positive integer without sign, fraction or leading zero");
  }
  int64_t v = 0;
  for (size_t k = start; k < i_; ++k) v = v * 10 + (s_[k] - '0');
  *out = v;
  return true;
}

bool LineParser::Hex4(uint32_t* out) {
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

void LineParser::PutUtf8(uint32_t cp, std::string* out) {
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

bool LineParser::ParseString(std::string* scratch, std::string_view* out) {
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
}  // namespace schakel::audit::internal
