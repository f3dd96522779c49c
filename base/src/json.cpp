#include "schakel/base/json.h"

#include <set>

#include "schakel/base/strings.h"

namespace schakel {
namespace {

// Walks the text once, outside strings, to bound nesting before parsing.
Status CheckDepth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
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

}  // namespace

Result<Json> ParseJsonLimited(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidInput("JSON input is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  SCHAKEL_RETURN_IF_ERROR(CheckDepth(text, limits.max_depth));
  // nlohmann keeps the last of duplicate keys silently, which would let
  // "categories" appear twice with different values; a parser callback sees
  // every key as it is parsed, and we refuse duplicates per open object.
  std::vector<std::set<std::string>> keys_stack;
  std::string duplicate;
  auto callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) -> bool {
    switch (event) {
      case Json::parse_event_t::object_start:
        keys_stack.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys_stack.empty()) keys_stack.pop_back();
        break;
      case Json::parse_event_t::key: {
        if (keys_stack.empty()) break;
        const auto& k = parsed.get_ref<const std::string&>();
        if (!keys_stack.back().insert(k).second && duplicate.empty()) duplicate = k;
        break;
      }
      default:
        break;
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                    /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    // e.byte is the position; the message of nlohmann names the token.
    return Status::InvalidInput("malformed JSON at byte " + std::to_string(e.byte));
  } catch (const std::exception&) {
    return Status::InvalidInput("malformed JSON");
  }
  if (!duplicate.empty()) {
    if (duplicate.size() > 64 || !IsPrintableUtf8(duplicate)) duplicate = "?";
    return Status::InvalidInput("duplicate key \"" + duplicate + "\"");
  }
  return j;
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
