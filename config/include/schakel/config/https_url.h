// An https:// URL as an administrator configures it: where a regional
// directory is fetched from (`schakel directory trust --url`,
// docs/region.md "Fetched over HTTPS"). Literal text only; nothing here
// resolves or dials.
//
// Accepted: "https://" HOST [":" PORT] [PATH ["?" QUERY]], at most
// kMaxUrlBytes; HOST a DNS name, an IPv4 address or a bracketed IPv6
// address (as ParseAddress reads it), PORT 1..65535 (default 443), PATH
// starting with "/" (default "/"), path and query printable ASCII without
// spaces. Refused, with a message naming why: another scheme (http:// too:
// the directory is signed, but who fetches it when is not for the network
// to see), user info ("user@host"), a fragment ("#..."), anything else.
//
// Thread-safety: pure. Errors: kInvalidInput.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::config {

inline constexpr size_t kMaxUrlBytes = 2048;

struct HttpsUrl {
  std::string host;  // without brackets for IPv6
  uint16_t port = 443;
  std::string target;  // path and query, starting with "/"
  std::string ToString() const;
};

Result<HttpsUrl> ParseHttpsUrl(std::string_view text);

}  // namespace schakel::config
