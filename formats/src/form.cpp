#include "schakel/formats/form.h"

#include <algorithm>

#include "schakel/base/strings.h"

namespace schakel::formats {
namespace {

// A field name for messages: printable names as they are, others elided.
std::string Named(std::string_view name) {
  if (name.size() <= 64 && IsPrintableUtf8(name)) return "\"" + std::string(name) + "\"";
  return "(unprintable name)";
}

bool IsCookieNameChar(char c) {
  // RFC 6265 cookie-name = token (RFC 2616): no separators or controls.
  if (c <= 0x20 || c >= 0x7f) return false;
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

bool IsCookieValueChar(char c) {
  // cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) || (u >= 0x3C && u <= 0x5B) ||
         (u >= 0x5D && u <= 0x7E);
}

}  // namespace

namespace {

// %XX and '+' decoded; nullopt for a bad escape. No check of what it gives.
std::optional<std::string> DecodeBytes(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      auto hex = FromHex(in.substr(i + 1, 2));
      if (!hex || hex->size() != 1) return std::nullopt;
      out.push_back(static_cast<char>((*hex)[0]));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A textarea's value: CR LF and a lone CR become LF; otherwise as
// PercentDecode (printable UTF-8 only).
std::optional<std::string> PercentDecodeLines(std::string_view in) {
  auto raw = DecodeBytes(in);
  if (!raw) return std::nullopt;
  std::string out;
  out.reserve(raw->size());
  for (size_t i = 0; i < raw->size(); ++i) {
    char c = (*raw)[i];
    if (c == '\r') {
      if (i + 1 < raw->size() && (*raw)[i + 1] == '\n') continue;
      c = '\n';
    }
    out.push_back(c);
  }
  std::string check = out;
  std::replace(check.begin(), check.end(), '\n', ' ');
  if (!IsPrintableUtf8(check)) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view in) {
  auto out = DecodeBytes(in);
  if (!out || !IsPrintableUtf8(*out)) return std::nullopt;
  return out;
}

Result<std::map<std::string, std::string>> ParseForm(std::string_view body, const FormLimits& limits) {
  std::map<std::string, std::string> out;
  if (body.size() > limits.max_body) {
    return Status::InvalidInput("form: larger than " + std::to_string(limits.max_body) + " bytes");
  }
  if (body.empty()) return out;
  size_t pos = 0;
  while (true) {
    size_t amp = body.find('&', pos);
    std::string_view pair = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (pair.empty()) return Status::InvalidInput("form: empty field (\"&&\" or a trailing \"&\")");
    if (out.size() >= limits.max_fields) {
      return Status::InvalidInput("form: more than " + std::to_string(limits.max_fields) + " fields");
    }
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = PercentDecode(raw_name);
    if (!name) return Status::InvalidInput("form: a field name is badly encoded or not printable text");
    if (name->empty()) return Status::InvalidInput("form: a field has no name");
    if (name->size() > limits.max_name) {
      return Status::InvalidInput("form: a field name is longer than " + std::to_string(limits.max_name) + " bytes");
    }
    // Cheap bound before decoding: a decoded value is at most as long.
    if (raw_value.size() > 3 * limits.max_value) {
      return Status::InvalidInput("form: " + Named(*name) + ": longer than " + std::to_string(limits.max_value) +
                                  " bytes");
    }
    const bool lines = std::find(limits.multiline.begin(), limits.multiline.end(), *name) != limits.multiline.end();
    auto value = lines ? PercentDecodeLines(raw_value) : PercentDecode(raw_value);
    if (!value) {
      return Status::InvalidInput("form: " + Named(*name) + ": badly encoded or not printable text");
    }
    if (value->size() > limits.max_value) {
      return Status::InvalidInput("form: " + Named(*name) + ": longer than " + std::to_string(limits.max_value) +
                                  " bytes");
    }
    if (!out.emplace(*name, std::move(*value)).second) {
      return Status::InvalidInput("form: " + Named(*name) + ": given more than once");
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseCookieHeader(std::string_view header, const CookieLimits& limits) {
  std::map<std::string, std::string> out;
  if (header.size() > limits.max_header) {
    return Status::InvalidInput("Cookie: header longer than " + std::to_string(limits.max_header) + " bytes");
  }
  size_t pos = 0;
  size_t count = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    std::string_view pair = header.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos);
    pos = semi == std::string_view::npos ? header.size() : semi + 1;
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    if (pair.empty()) continue;  // "a=1; " from lenient clients
    if (++count > limits.max_cookies) {
      return Status::InvalidInput("Cookie: more than " + std::to_string(limits.max_cookies) + " cookies");
    }
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return Status::InvalidInput("Cookie: a pair without a name");
    std::string_view name = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    if (name.size() > limits.max_name) {
      return Status::InvalidInput("Cookie: a name longer than " + std::to_string(limits.max_name) + " bytes");
    }
    for (char c : name) {
      if (!IsCookieNameChar(c)) return Status::InvalidInput("Cookie: a name with a forbidden character");
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (value.size() > limits.max_value) {
      return Status::InvalidInput("Cookie: " + Named(name) + ": value longer than " + std::to_string(limits.max_value) +
                                  " bytes");
    }
    for (char c : value) {
      if (!IsCookieValueChar(c)) return Status::InvalidInput("Cookie: " + Named(name) + ": forbidden character");
    }
    out.emplace(std::string(name), std::string(value));  // first one wins
  }
  return out;
}

}  // namespace schakel::formats
