#include "api_client.h"

#include <cctype>
#include <cstdlib>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "schakel/base/file.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/formats/json.h"

namespace schakel::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = beast::http;

constexpr size_t kMaxAnswerBytes = size_t{8} * 1024 * 1024;

}  // namespace

Result<crypto::SecureBuffer> LoadToken(const Context& ctx) {
  std::string token;
  if (!ctx.globals.token_file.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(token, ReadFileLimited(ctx.globals.token_file, 1024));
  } else if (const char* env = std::getenv("SCHAKEL_TOKEN"); env != nullptr && *env != '\0') {
    token = env;
  } else {
    return Status::Unauthenticated("no token: set SCHAKEL_TOKEN or pass --token-file F");
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  auto out = crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(token.data()), token.size()});
  crypto::Wipe(token.data(), token.size());
  if (out.empty()) return Status::Unauthenticated("the token is empty");
  return out;
}

namespace {

// One request; the raw answer body and its HTTP status.
struct RawAnswer {
  unsigned status = 0;
  std::string body;
};

Result<RawAnswer> Send(const Context& ctx, const std::string& method, const std::string& target,
                       const std::string& body) {
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, config::LoadNodeConfig(ctx.globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer token, LoadToken(ctx));
  const config::Address& addr = cfg.api_listen;
  std::string host = addr.host == "0.0.0.0" ? "127.0.0.1" : addr.host == "::" ? "::1" : addr.host;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(addr.port), ec);
    if (ec) return Status::Unavailable("cannot resolve the API address " + addr.ToString());
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(endpoints, ec);
    if (ec) {
      return Status::Unavailable("the daemon does not answer on " + addr.ToString() + " (is schakeld running for " +
                                 ctx.globals.dir + "?)");
    }
    beast_http::request<beast_http::string_body> req;
    req.method(beast_http::string_to_verb(method));
    req.target(target);
    req.version(11);
    req.set(beast_http::field::host, host);
    req.set(beast_http::field::content_type, "application/json");
    std::string auth = "Bearer ";
    auth.append(reinterpret_cast<const char*>(token.data()), token.size());
    req.set(beast_http::field::authorization, auth);
    crypto::Wipe(auth.data(), auth.size());
    req.body() = body;
    req.prepare_payload();
    stream.expires_after(std::chrono::seconds(120));
    beast_http::write(stream, req, ec);
    if (ec) return Status::Unavailable("cannot send the request: " + ec.message());
    beast::flat_buffer buffer;
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    beast_http::read(stream, buffer, parser, ec);
    if (ec) return Status::Unavailable("no answer from the daemon: " + ec.message());
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    auto& res = parser.get();
    return RawAnswer{res.result_int(), std::move(res.body())};
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("API call failed: ") + e.what());
  }
}

// Turns an error answer into the Status it stands for; the rest of the
// error body goes to *details.
Status ErrorFrom(const RawAnswer& raw, nlohmann::json* details) {
  std::string code = "internal", message = "HTTP " + std::to_string(raw.status);
  auto parsed = formats::ParseJsonLimited(raw.body, {kMaxAnswerBytes, 64});
  if (parsed.ok() && parsed->is_object() && parsed->contains("error") && (*parsed)["error"].is_object()) {
    const auto& e = (*parsed)["error"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) message = e["message"].get<std::string>();
    parsed->erase("error");
    if (details != nullptr) *details = *parsed;
  }
  return Status::FromCodeName(code, message);
}

}  // namespace

std::string QueryValue(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    auto ch = static_cast<unsigned char>(c);
    if (std::isalnum(ch) || c == '-' || c == '_' || c == '.') {
      out.push_back(c);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

Result<nlohmann::json> CallApi(const Context& ctx, const std::string& method, const std::string& target,
                               const std::string& body, nlohmann::json* details) {
  SCHAKEL_ASSIGN_OR_RETURN(RawAnswer raw, Send(ctx, method, target, body));
  if (raw.status < 200 || raw.status >= 300) return ErrorFrom(raw, details);
  auto parsed = formats::ParseJsonLimited(raw.body, {kMaxAnswerBytes, 64});
  if (!parsed.ok()) return Status::Internal("the daemon's answer is not JSON");
  return std::move(parsed).value();
}

Result<std::string> CallApiRaw(const Context& ctx, const std::string& method, const std::string& target) {
  SCHAKEL_ASSIGN_OR_RETURN(RawAnswer raw, Send(ctx, method, target, ""));
  if (raw.status < 200 || raw.status >= 300) return ErrorFrom(raw, nullptr);
  return std::move(raw.body);
}

}  // namespace schakel::cli
