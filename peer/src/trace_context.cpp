// The trace-context wrapper of a share's DELIVER payload (trace_context.h).
#include "schakel/peer/trace_context.h"

namespace schakel::peer {

bool IsTraced(std::string_view payload) { return payload.substr(0, kTracedMagic.size()) == kTracedMagic; }

std::string WrapTraced(const audit::TraceContext& trace, std::string_view envelope) {
  std::string out(kTracedMagic);
  out.push_back(static_cast<char>(kTracedVersion));
  out.push_back(static_cast<char>(audit::kTraceparentBytes));
  out += audit::FormatTraceparent(trace);
  out.append(envelope);
  return out;
}

Result<Traced> UnwrapTraced(std::string_view payload) {
  constexpr size_t kFixed = 4 + 1 + 1;
  if (!IsTraced(payload)) return Status::InvalidInput("trace context: bad magic");
  if (payload.size() < kFixed) return Status::InvalidInput("trace context: truncated");
  auto version = static_cast<uint8_t>(payload[4]);
  if (version != kTracedVersion) {
    return Status::InvalidInput("trace context: unknown version " + std::to_string(version) + " (this node reads " +
                                std::to_string(kTracedVersion) + ")");
  }
  auto length = static_cast<uint8_t>(payload[5]);
  if (length != audit::kTraceparentBytes) {
    return Status::InvalidInput("trace context: traceparent length " + std::to_string(length) + ", expected " +
                                std::to_string(audit::kTraceparentBytes));
  }
  if (payload.size() < kFixed + length) return Status::InvalidInput("trace context: truncated");
  auto tc = audit::ParseTraceparent(payload.substr(kFixed, length));
  if (!tc.ok()) return tc.status().WithContext("trace context");
  std::string_view envelope = payload.substr(kFixed + length);
  if (envelope.substr(0, 4) != "SCHK") return Status::InvalidInput("trace context: not followed by an envelope");
  return Traced{*tc, envelope};
}

}  // namespace schakel::peer
