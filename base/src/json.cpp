#include "schakel/base/json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "schakel/base/strings.h"

namespace schakel {
namespace {

// Walks the text once, outside strings, to bound nesting before parsing.
// A string is skipped to its closing quote: the next quote not escaped, that
// is not preceded by an odd run of backslashes (memchr finds the quotes).
Status CheckDepth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    const char c = *p++;
    if (c == '"') {
      const char* const open = p;
      for (;;) {
        const void* found = std::memchr(p, '"', static_cast<size_t>(end - p));
        if (found == nullptr) return Status::Ok();  // unterminated: the parser refuses it
        const char* quote = static_cast<const char*>(found);
        size_t backslashes = 0;
        for (const char* b = quote; b != open && b[-1] == '\\'; --b) ++backslashes;
        p = quote + 1;
        if (backslashes % 2 == 0) break;
      }
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return Status::InvalidInput("JSON nested deeper than " + std::to_string(max_depth) + " levels");
      }
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    }
  }
  return Status::Ok();
}

// RFC 8259 JSON into a Json value, accepting exactly what nlohmann::json's
// own parser accepts (an optional UTF-8 byte order mark, any value at the
// top, strings of valid UTF-8 without control characters, \u escapes with
// paired surrogates, numbers as nlohmann reads them) and refusing a key that
// appears twice in one object, which nlohmann would keep the last of
// silently. Two differences on purpose: nlohmann takes a NUL byte for the
// end of the input and ignores what follows, and the empty key twice got
// past the duplicate check; both are refused here. nlohmann's lexer reads a
// string one byte at a time into two buffers (most of a 64 KB case
// summary's parse); this one copies each run of plain bytes at once. The
// json fuzz target compares the two on every input
// (tests/fuzz/json_fuzz.cpp).
class JsonParser {
 public:
  JsonParser(std::string_view text, size_t max_depth)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  Result<Json> Parse() {
    // A byte order mark is skipped; a partial one is an error (as nlohmann).
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB || static_cast<unsigned char>(p_[2]) != 0xBF) {
        return Malformed();
      }
      p_ += 3;
    }
    Json value;
    if (!Value(value, 0)) return Failure();
    SkipSpace();
    if (p_ != end_) return Malformed();
    if (has_duplicate_) {
      if (duplicate_.size() > 64 || !IsPrintableUtf8(duplicate_)) duplicate_ = "?";
      return Status::InvalidInput("duplicate key \"" + duplicate_ + "\"");
    }
    return value;
  }

 private:
  Status Malformed() const { return Status::InvalidInput("malformed JSON at byte " + std::to_string(p_ - begin_ + 1)); }
  Status Failure() const { return failure_.ok() ? Malformed() : failure_; }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Value(Json& out, size_t depth) {
    SkipSpace();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return Object(out, depth + 1);
      case '[':
        return Array(out, depth + 1);
      case '"': {
        std::string s;
        if (!String(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return Literal("true", Json(true), out);
      case 'f':
        return Literal("false", Json(false), out);
      case 'n':
        return Literal("null", Json(nullptr), out);
      default:
        return Number(out);
    }
  }

  bool Literal(std::string_view word, Json value, Json& out) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    out = std::move(value);
    return true;
  }

  bool Deeper(size_t depth) {
    if (depth <= max_depth_) return true;
    failure_ = Status::InvalidInput("JSON nested deeper than " + std::to_string(max_depth_) + " levels");
    return false;
  }

  bool Object(Json& out, size_t depth) {
    if (!Deeper(depth)) return false;
    ++p_;  // {
    out = Json::object();
    auto& members = out.get_ref<Json::object_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!String(key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      Json value;
      if (!Value(value, depth)) return false;
      auto [at, added] = members.emplace(std::move(key), Json());
      if (!added && !has_duplicate_) {
        has_duplicate_ = true;  // "" too: the empty key twice is a duplicate
        duplicate_ = at->first;
      }
      at->second = std::move(value);  // the last one, as nlohmann keeps it
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return true;
    }
  }

  bool Array(Json& out, size_t depth) {
    if (!Deeper(depth)) return false;
    ++p_;  // [
    out = Json::array();
    auto& items = out.get_ref<Json::array_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      items.emplace_back();
      if (!Value(items.back(), depth)) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return true;
    }
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Four hex digits after "\\u"; -1 when they are not.
  int32_t Code() {
    if (end_ - p_ < 4) return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = Hex(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  static void AppendUtf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool Escape(std::string& s) {
    if (p_ == end_) return false;
    const char c = *p_++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        s.push_back(c);
        return true;
      case 'b':
        s.push_back('\b');
        return true;
      case 'f':
        s.push_back('\f');
        return true;
      case 'n':
        s.push_back('\n');
        return true;
      case 'r':
        s.push_back('\r');
        return true;
      case 't':
        s.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    const int32_t high = Code();
    if (high < 0) return false;
    if (high >= 0xDC00 && high <= 0xDFFF) return false;  // a low surrogate alone
    if (high < 0xD800 || high > 0xDBFF) {
      AppendUtf8(s, static_cast<uint32_t>(high));
      return true;
    }
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
    p_ += 2;
    const int32_t low = Code();
    if (low < 0xDC00 || low > 0xDFFF) return false;
    AppendUtf8(s, 0x10000u + ((static_cast<uint32_t>(high) - 0xD800u) << 10) + (static_cast<uint32_t>(low) - 0xDC00u));
    return true;
  }

  // One UTF-8 sequence of two to four bytes (RFC 3629, as nlohmann checks).
  bool Utf8(std::string& s) {
    const auto at = [this](ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    const unsigned char b = at(0);
    int more = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      more = 1;
    } else if (b == 0xE0) {
      more = 2;
      lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      more = 2;
    } else if (b == 0xED) {
      more = 2;
      hi = 0x9F;
    } else if (b == 0xF0) {
      more = 3;
      lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      more = 3;
    } else if (b == 0xF4) {
      more = 3;
      hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ <= more) return false;
    if (at(1) < lo || at(1) > hi) return false;
    for (int i = 2; i <= more; ++i) {
      if (at(i) < 0x80 || at(i) > 0xBF) return false;
    }
    s.append(p_, static_cast<size_t>(more) + 1);
    p_ += more + 1;
    return true;
  }

  bool String(std::string& s) {
    ++p_;  // "
    for (;;) {
      const char* run = p_;
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++p_;
      }
      s.append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        ++p_;
        if (!Escape(s)) return false;
      } else if (c < 0x20) {
        return false;
      } else if (!Utf8(s)) {
        return false;
      }
    }
  }

  static bool Digit(char c) { return c >= '0' && c <= '9'; }

  bool Number(Json& out) {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ == end_ || !Digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && Digit(*p_)) ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !Digit(*p_)) return false;
      while (p_ != end_ && Digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !Digit(*p_)) return false;
      while (p_ != end_ && Digit(*p_)) ++p_;
    }
    // As nlohmann: an integer that fits 64 bits is kept as one (unsigned
    // unless negative); any other number is a double, and one too large for
    // a double is refused.
    if (integer) {
      if (*start == '-') {
        int64_t v = 0;
        auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) {
          out = v;
          return true;
        }
      } else {
        uint64_t v = 0;
        auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) {
          out = v;
          return true;
        }
      }
    }
    // strtod rounds as nlohmann's reading does, and gives the smallest
    // values as zero or subnormal where from_chars reports them out of range.
    const std::string token(start, p_);
    char* stop = nullptr;
    const double d = std::strtod(token.c_str(), &stop);
    if (stop != token.c_str() + token.size() || !std::isfinite(d)) {
      failure_ = Status::InvalidInput("malformed JSON: number out of range");
      return false;
    }
    out = d;
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t max_depth_;
  bool has_duplicate_ = false;
  std::string duplicate_;  // the first key seen twice
  Status failure_ = Status::Ok();
};

}  // namespace

Result<Json> ParseJsonLimited(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidInput("JSON input is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  SCHAKEL_RETURN_IF_ERROR(CheckDepth(text, limits.max_depth));
  return JsonParser(text, limits.max_depth).Parse();
}

std::string JsonFields::PathOf(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

Status JsonFields::OnlyKeys(std::initializer_list<std::string_view> allowed) const {
  if (!obj_.is_object()) return Status::InvalidInput((path_.empty() ? "input" : path_) + ": expected an object");
  for (const auto& item : obj_.items()) {
    bool known = false;
    for (auto a : allowed) {
      if (item.key() == a) known = true;
    }
    if (!known) {
      std::string k = item.key();
      if (k.size() > 64 || !IsPrintableUtf8(k)) k = "?";
      return Status::InvalidInput(PathOf(k) + ": unknown field");
    }
  }
  return Status::Ok();
}

Result<const Json*> JsonFields::Get(std::string_view key) const {
  if (!obj_.is_object()) {
    return Status::InvalidInput((path_.empty() ? "input" : path_) + ": expected an object");
  }
  auto it = obj_.find(std::string(key));
  if (it == obj_.end()) return Status::InvalidInput(PathOf(key) + ": missing");
  return &*it;
}

Result<std::string> JsonFields::String(std::string_view key, size_t max_len) const {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* v, Get(key));
  if (!v->is_string()) return Status::InvalidInput(PathOf(key) + ": expected a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Status::InvalidInput(PathOf(key) + ": longer than " + std::to_string(max_len) + " bytes");
  }
  return s;
}

Result<std::optional<std::string>> JsonFields::OptString(std::string_view key, size_t max_len) const {
  if (!obj_.is_object()) return Status::InvalidInput(path_ + ": expected an object");
  auto it = obj_.find(std::string(key));
  if (it == obj_.end() || it->is_null()) return std::optional<std::string>();
  SCHAKEL_ASSIGN_OR_RETURN(std::string s, String(key, max_len));
  return std::optional<std::string>(std::move(s));
}

Result<Date> JsonFields::DateField(std::string_view key) const {
  SCHAKEL_ASSIGN_OR_RETURN(std::string s, String(key, 64));
  auto d = ParseDate(s);
  if (!d.ok()) return d.status().WithContext(PathOf(key));
  return d.value();
}

Result<std::optional<Date>> JsonFields::OptDate(std::string_view key) const {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(key, 64));
  if (!s) return std::optional<Date>();
  auto d = ParseDate(*s);
  if (!d.ok()) return d.status().WithContext(PathOf(key));
  return std::optional<Date>(d.value());
}

Result<Instant> JsonFields::InstantField(std::string_view key) const {
  SCHAKEL_ASSIGN_OR_RETURN(std::string s, String(key, 64));
  auto t = ParseInstant(s);
  if (!t.ok()) return t.status().WithContext(PathOf(key));
  return t.value();
}

Result<std::optional<Instant>> JsonFields::OptInstant(std::string_view key) const {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(key, 64));
  if (!s) return std::optional<Instant>();
  auto t = ParseInstant(*s);
  if (!t.ok()) return t.status().WithContext(PathOf(key));
  return std::optional<Instant>(t.value());
}

Result<std::vector<std::string>> JsonFields::StringList(std::string_view key, size_t max_items, size_t max_len) const {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* arr, Array(key, max_items));
  std::vector<std::string> out;
  out.reserve(arr->size());
  size_t i = 0;
  for (const auto& item : *arr) {
    std::string where = PathOf(key) + "[" + std::to_string(i++) + "]";
    if (!item.is_string()) return Status::InvalidInput(where + ": expected a string");
    const auto& s = item.get_ref<const std::string&>();
    if (s.size() > max_len) return Status::InvalidInput(where + ": too long");
    out.push_back(s);
  }
  return out;
}

Result<const Json*> JsonFields::Object(std::string_view key) const {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* v, Get(key));
  if (!v->is_object()) return Status::InvalidInput(PathOf(key) + ": expected an object");
  return v;
}

Result<const Json*> JsonFields::OptObject(std::string_view key) const {
  if (!obj_.is_object()) return Status::InvalidInput(path_ + ": expected an object");
  auto it = obj_.find(std::string(key));
  if (it == obj_.end() || it->is_null()) return static_cast<const Json*>(nullptr);
  if (!it->is_object()) return Status::InvalidInput(PathOf(key) + ": expected an object or null");
  return &*it;
}

Result<const Json*> JsonFields::Array(std::string_view key, size_t max_items) const {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* v, Get(key));
  if (!v->is_array()) return Status::InvalidInput(PathOf(key) + ": expected an array");
  if (v->size() > max_items) {
    return Status::InvalidInput(PathOf(key) + ": more than " + std::to_string(max_items) + " items");
  }
  return v;
}

Result<long long> JsonFields::Integer(std::string_view key, long long min, long long max) const {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* v, Get(key));
  if (!v->is_number_integer()) return Status::InvalidInput(PathOf(key) + ": expected an integer");
  long long n = v->get<long long>();
  if (n < min || n > max) {
    return Status::InvalidInput(PathOf(key) + ": out of range " + std::to_string(min) + ".." + std::to_string(max));
  }
  return n;
}

}  // namespace schakel
