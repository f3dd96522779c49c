// One HTTPS GET, for a regional directory fetched from the URL its region
// was trusted with (docs/region.md "Fetched over HTTPS").
//
// FetchHttps never fetches in the clear and never follows a redirect: the
// server's certificate must verify against the trusted CAs (the system's,
// or `ca_file`) and name the URL's host (a name or an address); TLS below
// 1.2 is refused. Only a 200 answer counts. Limits: the whole exchange has
// one deadline (`timeout`), the header at most 16 KiB, the body at most
// `max_bytes` (refused when larger, before more is read).
//
// Thread-safety: may run on any thread; it uses its own io_context.
// Errors: kInvalidInput (the CA file cannot be read), kUnavailable naming
// the step (resolve, connect, TLS handshake, the answer) and the URL.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "schakel/base/status.h"
#include "schakel/config/https_url.h"

namespace schakel::http {

struct FetchOptions {
  std::string ca_file;  // PEM CAs to trust; empty: the system's
  size_t max_bytes = size_t{1} << 20;
  std::chrono::milliseconds timeout{30000};
};

Result<std::string> FetchHttps(const config::HttpsUrl& url, const FetchOptions& options);

}  // namespace schakel::http
