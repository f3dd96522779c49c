// config::ParseHttpsUrl (`directory trust --url`, read again by the daemon
// before each fetch) on arbitrary bytes. Round trip: what parses, written
// with ToString, parses again to the same host, port and target; the
// target starts with "/" and nothing parsed is longer than the limit.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/config/https_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::config::ParseHttpsUrl;
  std::string_view text = schakel::fuzz::AsText(data, size);
  auto url = ParseHttpsUrl(text);
  if (url.ok()) {
    FUZZ_CHECK(text.size() <= schakel::config::kMaxUrlBytes);
    FUZZ_CHECK(!url->host.empty() && url->port != 0);
    FUZZ_CHECK(!url->target.empty() && url->target.front() == '/');
    auto again = ParseHttpsUrl(url->ToString());
    FUZZ_CHECK(again.ok() && again->host == url->host && again->port == url->port && again->target == url->target);
  }
  return 0;
}
