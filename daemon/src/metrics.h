// Private to daemon/: GET /metrics on the API listener, Prometheus text
// format (version 0.0.4), for the admin role only. Labels carry vocabulary
// (share state, purpose, gate outcome) and never personal data: see
// store/include/schakel/store/metrics.h.
//
// Thread-safety: the route takes core.mu around its database reads.
#pragma once

#include <string>

#include "api_server.h"
#include "schakel/store/metrics.h"
#include "service_names.h"

namespace schakel::daemon {

// The exposition text for the counts, families in a fixed order.
std::string FormatPrometheus(const std::string& node_version, const store::NodeMetrics& m);

// An ExtraRoute for ApiServer::AddRoute. `core` must outlive the server.
ExtraRoute MetricsRoute(NodeCore& core);

}  // namespace schakel::daemon
