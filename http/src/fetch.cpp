#include "schakel/http/fetch.h"

#include <utility>  // before Asio (Boost 1.74 with GCC 12)

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "schakel/base/strings.h"
#include "schakel/crypto/tls_context.h"

namespace schakel::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

std::string_view View(beast::string_view v) { return {v.data(), v.size()}; }

constexpr uint32_t kMaxHeaderBytes = 16 * 1024;

class Exchange {
 public:
  Exchange(const config::HttpsUrl& url, const FetchOptions& options)
      : url_(url), options_(options), deadline_(SteadyClock::now() + options.timeout) {}

  Result<std::string> Run() {
    SCHAKEL_ASSIGN_OR_RETURN(crypto::SslCtxPtr ctx, crypto::MakeVerifyingClientSslCtx(options_.ca_file));
    ssl::context tls(ctx.release());  // Asio takes the SSL_CTX over

    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    SCHAKEL_RETURN_IF_ERROR(Step("resolve", [&](auto done) {
      resolver.async_resolve(url_.host, std::to_string(url_.port),
                             [&endpoints, done](const boost::system::error_code& e, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               done(e);
                             });
    }));
    beast::ssl_stream<beast::tcp_stream> stream(io_, tls);
    SCHAKEL_RETURN_IF_ERROR(Step("connect", [&](auto done) {
      beast::get_lowest_layer(stream).async_connect(
          endpoints, [done](const boost::system::error_code& e, const tcp::endpoint&) { done(e); });
    }));
    // The certificate must name the host of the URL (a name or an address).
    SCHAKEL_RETURN_IF_ERROR(crypto::ExpectServerName(stream.native_handle(), url_.host));
    SCHAKEL_RETURN_IF_ERROR(Step("the TLS handshake", [&](auto done) {
      stream.async_handshake(ssl::stream_base::client, [done](const boost::system::error_code& e) { done(e); });
    }));

    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, url_.target, 11};
    std::string host = url_.host.find(':') == std::string::npos ? url_.host : "[" + url_.host + "]";
    if (url_.port != 443) host += ":" + std::to_string(url_.port);
    req.set(bhttp::field::host, host);
    req.set(bhttp::field::user_agent, "schakel");
    req.set(bhttp::field::accept, "application/json");
    req.set(bhttp::field::connection, "close");
    SCHAKEL_RETURN_IF_ERROR(Step("sending the request", [&](auto done) {
      bhttp::async_write(stream, req, [done](const boost::system::error_code& e, size_t) { done(e); });
    }));

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(options_.max_bytes);
    boost::system::error_code read_error;
    Status read = Step("reading the answer", [&](auto done) {
      bhttp::async_read(stream, buffer, parser, [&read_error, done](const boost::system::error_code& e, size_t) {
        read_error = e;
        done(e == bhttp::error::body_limit ? boost::system::error_code() : e);
      });
    });
    if (read_error == bhttp::error::body_limit) {
      return Status::Unavailable(Where() + "the answer is larger than " + std::to_string(options_.max_bytes) +
                                 " bytes; not read further");
    }
    // A server that closes without close_notify after the whole body: what
    // was read is complete when the parser says so.
    if (!read.ok() && !parser.is_done()) return read;
    const auto& res = parser.get();
    unsigned status = res.result_int();
    if (status >= 300 && status < 400) {
      auto location = res.find(bhttp::field::location);
      return Status::Unavailable(Where() + "the server redirects (" + std::to_string(status) + ")" +
                                 (location == res.end() ? "" : " to " + ShownAscii(View(location->value()))) +
                                 "; redirects are not followed: trust the region with the URL it moved to");
    }
    if (status != 200) {
      return Status::Unavailable(Where() + "the server answered " + std::to_string(status) + " " +
                                 ShownAscii(View(res.reason()), 100));
    }
    return res.body();
  }

 private:
  std::string Where() const { return url_.ToString() + ": "; }

  template <typename Start>
  Status Step(const char* step, Start start) {
    std::optional<boost::system::error_code> result;
    start([&result](const boost::system::error_code& ec) { result = ec; });
    io_.restart();
    while (!result && SteadyClock::now() < deadline_) io_.run_one_until(deadline_);
    if (!result) {
      io_.stop();
      return Status::Unavailable(Where() + step + ": no answer within " +
                                 std::to_string(options_.timeout.count() / 1000) + " s");
    }
    if (*result) return Status::Unavailable(Where() + step + ": " + result->message());
    return Status::Ok();
  }

  const config::HttpsUrl& url_;
  const FetchOptions& options_;
  SteadyClock::time_point deadline_;
  asio::io_context io_;
};

}  // namespace

Result<std::string> FetchHttps(const config::HttpsUrl& url, const FetchOptions& options) {
  try {
    return Exchange(url, options).Run();
  } catch (const std::exception& e) {
    return Status::Unavailable(url.ToString() + ": " + e.what());
  }
}

}  // namespace schakel::http
