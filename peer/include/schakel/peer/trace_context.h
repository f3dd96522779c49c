// The sender's trace context beside a share's envelope (docs/peer-protocol.md
// "Versions", version 5; docs/envelope.md "Trace context"): so that the
// recipient's inbox.received names the sender's operation as its foreign
// operation in a Logboek Dataverwerkingen export (audit/ldv.h).
//
//   payload = "SCHT" || u8(1) || u8(55) || traceparent (55 bytes, W3C
//             version 00: "00-<trace 32 hex>-<operation 16 hex>-<flags>")
//             || envelope ("SCHK" ...)
//
// It travels outside the sealed envelope: the envelope is sealed when the
// share is made, before any connection says which version the partner
// speaks, and a version-1 envelope reader refuses any byte it does not
// know in the header. A sender wraps an envelope only on a connection of
// peer protocol 5 or later, so a partner one version behind gets the bare
// envelope as before; a recipient refuses the wrapper on an older
// connection. The trace context is not signed: it is logging metadata from
// the pinned partner over mutual TLS, never used for any decision.
//
// Errors: UnwrapTraced returns kInvalidInput naming what is wrong (never
// echoing bytes). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "schakel/audit/ldv.h"
#include "schakel/base/status.h"

namespace schakel::peer {

inline constexpr std::string_view kTracedMagic = "SCHT";
inline constexpr uint8_t kTracedVersion = 1;

struct Traced {
  audit::TraceContext trace;
  std::string_view envelope;  // a view into the payload
};

// True when the payload starts with the wrapper's magic.
bool IsTraced(std::string_view payload);
// The wrapper around `envelope`.
std::string WrapTraced(const audit::TraceContext& trace, std::string_view envelope);
// Reads the wrapper: magic, version 1, length 55, a strict traceparent, then
// an envelope (which must start with "SCHK"; the envelope is checked by its
// own reader afterwards).
Result<Traced> UnwrapTraced(std::string_view payload);

}  // namespace schakel::peer
