// Tunables of the daemon's API server and delivery worker, with their
// defaults. Values are plain data; tests shorten the time-outs.
#pragma once

#include <chrono>
#include <cstddef>

#include "schakel/peer/delivery.h"

namespace schakel::daemon {

struct ApiOptions {
  // Default: 8 KiB. Larger request headers get 431.
  size_t header_limit = 8 * 1024;
  // Default: 1 MiB. Larger bodies get 413.
  size_t body_limit = 1024 * 1024;
  // Default: 10 s to read one request once it has started.
  std::chrono::milliseconds read_timeout{10000};
  // Default: 30 s between requests on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{30000};
  // Default: 64 open connections; more are answered 503 and closed.
  int max_connections = 64;
  // Default: 16 open connections from one client address, so that one
  // client cannot take all 64; more are answered 503 and closed.
  int max_connections_per_address = 16;
  // Default: 16 connections at a time get the 503 answer beyond the caps;
  // more are closed at once.
  int max_overflow = 16;
};

// The delivery worker's tunables (schakel/peer/delivery.h).
using peer::DeliveryOptions;

}  // namespace schakel::daemon
