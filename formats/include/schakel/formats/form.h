// HTML form bodies (application/x-www-form-urlencoded), URL query strings and
// Cookie headers from browsers, parsed with limits.
//
// Everything here is outside input: sizes, field counts and value lengths are
// bounded, duplicate names are refused (a second "code" must not override the
// first), and decoded text must be printable UTF-8 (no control characters,
// no NUL). Errors are kInvalidInput with a message naming the field, in
// English (the web pages show their own Dutch text). Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"

namespace schakel::formats {

// "%3A" -> ":", "+" -> " "; nullopt for a malformed escape or when the
// result is not printable UTF-8.
std::optional<std::string> PercentDecode(std::string_view in);

struct FormLimits {
  size_t max_body = 16 * 1024;  // bytes of the encoded body
  size_t max_fields = 32;
  size_t max_name = 64;     // bytes of a decoded field name
  size_t max_value = 4096;  // bytes of a decoded value
  // Fields whose values may hold line breaks (a textarea's): CR LF and a
  // lone CR become LF; other control characters are still refused.
  std::vector<std::string_view> multiline;
};

// name -> value of an urlencoded body or query string. An empty body gives an
// empty map; "a" (no '=') is a field with an empty value; empty names,
// duplicate names and empty pairs ("a=1&&b=2") are refused.
Result<std::map<std::string, std::string>> ParseForm(std::string_view body, const FormLimits& limits = {});

struct CookieLimits {
  size_t max_header = 4096;
  size_t max_cookies = 32;
  size_t max_name = 64;
  size_t max_value = 1024;
};

// "a=1; b=2" -> {a: 1, b: 2} (RFC 6265 cookie-string; values taken as they
// are, surrounding double quotes removed, no percent-decoding). A cookie
// name seen twice keeps the first value (browsers send the most specific
// path first). Malformed pairs are refused.
Result<std::map<std::string, std::string>> ParseCookieHeader(std::string_view header, const CookieLimits& limits = {});

}  // namespace schakel::formats
