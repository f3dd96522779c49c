// formats::ParseForm, PercentDecode and ParseCookieHeader on arbitrary bytes.
// Round trips: a parsed form, encoded again, parses to the same fields; a
// parsed cookie header, written again, parses to the same cookies.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_support.h"
#include "schakel/formats/form.h"

namespace {

std::string Encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schakel::formats;
  const std::string_view text = schakel::fuzz::AsText(data, size);

  auto decoded = PercentDecode(text);
  if (decoded) FUZZ_CHECK(decoded->size() <= text.size());

  FormLimits small;
  small.max_body = 512;
  small.max_fields = 4;
  small.max_name = 8;
  small.max_value = 16;
  auto form_small = ParseForm(text, small);
  auto form = ParseForm(text);
  if (form_small.ok()) FUZZ_CHECK(form.ok() && *form_small == *form);
  if (form.ok()) {
    FUZZ_CHECK(form->size() <= FormLimits{}.max_fields);
    std::string again;
    for (const auto& [k, v] : *form) {
      if (!again.empty()) again += "&";
      again += Encode(k) + "=" + Encode(v);
    }
    FormLimits roomy;
    roomy.max_body = again.size() + 1;
    auto reparsed = ParseForm(again, roomy);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(*reparsed == *form);
  }

  auto cookies = ParseCookieHeader(text);
  if (cookies.ok()) {
    FUZZ_CHECK(cookies->size() <= CookieLimits{}.max_cookies);
    std::string again;
    for (const auto& [k, v] : *cookies) {
      if (!again.empty()) again += "; ";
      again += k + "=" + v;
    }
    CookieLimits roomy;
    roomy.max_header = again.size() + 1;
    auto reparsed = ParseCookieHeader(again, roomy);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(*reparsed == *cookies);
  }
  return 0;
}
