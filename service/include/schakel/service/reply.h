// A JSON-shaped answer: what the dossier-link operations (link_service.h)
// still return until they get typed results like Service's (results.h).
// Service itself no longer uses it.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "schakel/base/status.h"

namespace schakel::service {

using Json = nlohmann::json;

struct Reply {
  Status status;
  Json body = Json::object();
  // When set, sent as is with this content type instead of `body`.
  std::optional<std::string> raw;
  std::string content_type = "application/json";

  static Reply Ok(Json body) {
    Reply r;
    r.body = std::move(body);
    return r;
  }
  static Reply Error(Status status, Json body = Json::object()) {
    Reply r;
    r.status = std::move(status);
    r.body = std::move(body);
    return r;
  }
};

}  // namespace schakel::service
