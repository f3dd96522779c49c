// Private to cli/: a small blocking HTTP/1.1 client for the node's local API,
// used by the online commands. It reads the API address from the node's
// config and the bearer token from --token-file or $SCHAKEL_TOKEN, sends one
// JSON request and turns an error answer back into the Status it stands for
// (so exit codes survive the trip: 2 bad input, 3 refused, 1 failed).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::cli {

struct ApiAnswer {
  nlohmann::json body;
};

// method "GET", "POST", "PUT"; target "/v1/cases"; body sent as is (JSON).
// On an error answer the Status carries the server's code and message, and
// *details (if given) the rest of the error body (a gate decision).
Result<nlohmann::json> CallApi(const Context& ctx, const std::string& method, const std::string& target,
                               const std::string& body = "", nlohmann::json* details = nullptr);

// The caller's bearer token from --token-file or $SCHAKEL_TOKEN.
Result<crypto::SecureBuffer> LoadToken(const Context& ctx);

// Percent-encodes a query-string value.
std::string QueryValue(const std::string& value);

// The same for answers that are not JSON (exports, reports): the body as is.
Result<std::string> CallApiRaw(const Context& ctx, const std::string& method, const std::string& target);

}  // namespace schakel::cli
