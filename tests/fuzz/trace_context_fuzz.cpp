// peer::UnwrapTraced (the "SCHT" trace-context wrapper of a share's DELIVER
// payload, peer protocol 5) and audit::ParseTraceparent on arbitrary bytes.
// Round trip: a wrapper that reads wraps back to the same bytes (one
// encoding per value: lower-case hex only), and so does a traceparent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/audit/ldv.h"
#include "schakel/peer/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = schakel::fuzz::AsText(data, size);
  auto tc = schakel::audit::ParseTraceparent(bytes);
  if (tc.ok()) FUZZ_CHECK(schakel::audit::FormatTraceparent(*tc) == bytes);
  auto traced = schakel::peer::UnwrapTraced(bytes);
  if (!traced.ok()) return 0;
  FUZZ_CHECK(traced->envelope.substr(0, 4) == "SCHK");
  FUZZ_CHECK(schakel::peer::WrapTraced(traced->trace, traced->envelope) == bytes);
  return 0;
}
