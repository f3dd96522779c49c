// mail::ParseReplyLine (one line of an SMTP server's reply) on arbitrary
// bytes: what parses has a code from 200 to 599, and its text is what
// followed the separator.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/mail/smtp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line = schakel::fuzz::AsText(data, size);
  auto r = schakel::mail::ParseReplyLine(line);
  if (!r.ok()) return 0;
  FUZZ_CHECK(r->code >= 200 && r->code <= 599);
  FUZZ_CHECK(line.size() == 3 || r->text == line.substr(4));
  FUZZ_CHECK(r->last == (line.size() == 3 || line[3] == ' '));
  return 0;
}
