// A small HTTPS/1.1 test client (Boost.Beast over OpenSSL) for the web server
// and link page tests: one request per connection, bounded by a deadline,
// trusting the server's self-signed certificate (no verification: the tests
// check the certificate elsewhere).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace schakel::testing {

struct WebReply {
  int status = 0;  // 0: no response (connection failed or closed)
  std::string error;
  std::multimap<std::string, std::string> headers;  // names as sent
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline WebReply WebRequestOnce(uint16_t port, const std::string& method, const std::string& target,
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               const std::string& body = "",
                               std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  WebReply out;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(deadline);
  beast::get_lowest_layer(stream).async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                                [&](beast::error_code e) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    out.error = "handshake: " + ec.message();
    return out;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.keep_alive(false);
  if (!body.empty() || method == "POST") req.prepare_payload();
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  io.restart();
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers.emplace(std::string(f.name_string()), std::string(f.value()));
  out.body = res.body();
  return out;
}

}  // namespace schakel::testing
