// Private to daemon/: GET /metrics on the API listener, Prometheus text
// format (version 0.0.4), for the admin role only. Labels carry vocabulary
// (share state, purpose, gate outcome) and never personal data: see
// store/include/schakel/store/metrics.h.
//
// Thread-safety: PrometheusText takes the node lock around its database reads.
#pragma once

#include <string>

#include "schakel/base/status.h"
#include "schakel/store/metrics.h"
#include "service_names.h"

namespace schakel::daemon {

// The exposition text for the counts, families in a fixed order.
std::string FormatPrometheus(const std::string& node_version, const store::NodeMetrics& m);

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// The exposition text for this node now (FormatPrometheus over
// store::CollectMetrics, read under the node lock). Served by the API's
// GET /metrics row (api_server.cpp).
Result<std::string> PrometheusText(NodeCore& core);

}  // namespace schakel::daemon
