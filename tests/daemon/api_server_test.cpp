// The local API on the HTTP core (daemon/src/api_server.cpp): the answers
// the core gives by itself (503 beyond the caps, 431, 413) are the API's JSON
// errors, framed by Beast so that Content-Length is the body's length, and
// one client address cannot take every connection.
//
// No request here reaches the Service (none carries a bearer token), so an
// empty NodeCore stands behind it. Loopback only, ports picked by the
// server, every wait bounded.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api_server.h"
#include "load_support.h"
#include "service_names.h"

namespace schakel::daemon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace bhttp = boost::beast::http;

constexpr auto kWait = 5s;

// A request without a token: the API answers 401 JSON and keeps the
// connection open.
constexpr std::string_view kKeepAliveRequest = "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

struct Answer {
  int status = 0;
  std::string content_type;
  std::string content_length;  // the header as sent
  std::string retry_after;
  std::string body;
  size_t header_bytes = 0;  // up to and including the blank line
};

// Parses one response with Beast from what the server sent; nullopt unless
// it is exactly one complete message (nothing missing, nothing after it).
std::optional<Answer> Parse(const std::string& raw) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done() && used < raw.size()) {
    size_t n = parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (ec == bhttp::error::need_more) break;
    if (ec) return std::nullopt;
    if (n == 0) break;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return std::nullopt;
  }
  if (used != raw.size()) return std::nullopt;
  const auto& msg = parser.get();
  Answer a;
  a.status = static_cast<int>(msg.result_int());
  a.content_type = std::string(msg[bhttp::field::content_type]);
  a.content_length = std::string(msg[bhttp::field::content_length]);
  a.retry_after = std::string(msg[bhttp::field::retry_after]);
  a.body = msg.body();
  a.header_bytes = raw.find("\r\n\r\n") + 4;
  return a;
}

// Reads one response that the server follows with a close.
std::string ReadToClose(int fd) { return testing::ReadUntilClose(fd, kWait); }

// Reads one response on a kept-alive connection (headers plus a
// Content-Length body), bounded in time.
std::string ReadOneResponse(int fd) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto head = out.find("\r\n\r\n");
    auto cl = out.find("Content-Length: ");
    if (head != std::string::npos && cl != std::string::npos && cl < head &&
        out.size() >= head + 4 + std::stoul(out.substr(cl + 16))) {
      break;
    }
    out += testing::ReadUntilClose(fd, 100ms, 4096);
  }
  return out;
}

void ExpectJsonError(const Answer& a, int status, const std::string& code) {
  EXPECT_EQ(a.status, status);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.content_length, std::to_string(a.body.size()));
  json body = json::parse(a.body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << a.body;
  ASSERT_TRUE(body.contains("error")) << a.body;
  EXPECT_EQ(body["error"]["code"], code) << a.body;
  EXPECT_TRUE(body["error"]["message"].is_string()) << a.body;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void StartApi(ApiOptions options) {
    api_ = std::make_unique<ApiServer>(service_, options);
    Status st = api_->Start(config::Address{"127.0.0.1", 0}, Instant{});
    ASSERT_TRUE(st.ok()) << st.message();
    port_ = api_->port();
  }

  // A connection the server has accepted and answered once (401), kept open.
  int Hold(const std::string& source = "") {
    int fd = testing::ConnectTcp(port_, source);
    if (fd < 0) return -1;
    held_.push_back(fd);
    if (!testing::SendAll(fd, kKeepAliveRequest, kWait)) return -1;
    auto a = Parse(ReadOneResponse(fd));
    if (!a || a->status != 401) return -1;
    return fd;
  }

  // A fresh connection's one answer to a request with Connection: close.
  std::string Exchange(const std::string& request, const std::string& source = "") {
    int fd = testing::ConnectTcp(port_, source);
    if (fd < 0) return "";
    std::string out;
    if (testing::SendAll(fd, request, kWait)) out = ReadToClose(fd);
    ::close(fd);
    return out;
  }

  void TearDown() override {
    for (int fd : held_) ::close(fd);
    if (api_) api_->Stop();
  }

  NodeCore core_;
  Service service_{core_};
  std::unique_ptr<ApiServer> api_;
  int port_ = 0;
  std::vector<int> held_;
};

const std::string kStatusRequest = testing::HttpRequest("GET", "/v1/status", "");

TEST_F(ApiServerTest, AnswersWithoutTokenAre401Json) {
  StartApi({});
  auto a = Parse(Exchange(kStatusRequest));
  ASSERT_TRUE(a);
  ExpectJsonError(*a, 401, "unauthenticated");
}

TEST_F(ApiServerTest, BusyAnswerAtTheConnectionCapIsJsonWithTheRightLength) {
  ApiOptions o;
  o.max_connections = 2;
  StartApi(o);
  ASSERT_GE(Hold(), 0);
  ASSERT_GE(Hold(), 0);
  std::string raw = Exchange(kStatusRequest);
  auto a = Parse(raw);
  ASSERT_TRUE(a) << "not one complete HTTP response: " << raw;
  ExpectJsonError(*a, 503, "unavailable");
  EXPECT_EQ(raw.size(), a->header_bytes + a->body.size()) << raw;
  EXPECT_EQ(a->retry_after, "60");
  EXPECT_EQ(json::parse(a->body)["error"]["message"], "too many open connections");

  // A slot given back is served again (the release is asynchronous).
  ::close(held_.back());
  held_.pop_back();
  int status = 0;
  for (int i = 0; i < 50 && status != 401; ++i) {
    auto again = Parse(Exchange(kStatusRequest));
    status = again ? again->status : 0;
    if (status != 401) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 401);
}

TEST_F(ApiServerTest, OneAddressCannotTakeEveryConnection) {
  ApiOptions o;
  o.max_connections_per_address = 2;
  StartApi(o);
  ASSERT_GE(Hold("127.0.0.1"), 0);
  ASSERT_GE(Hold("127.0.0.1"), 0);
  auto refused = Parse(Exchange(kStatusRequest, "127.0.0.1"));
  ASSERT_TRUE(refused);
  ExpectJsonError(*refused, 503, "unavailable");
  // Another client address is still served.
  auto other = Parse(Exchange(kStatusRequest, "127.0.0.2"));
  ASSERT_TRUE(other);
  ExpectJsonError(*other, 401, "unauthenticated");
}

TEST_F(ApiServerTest, TheDefaultPerAddressCapIs16) {
  EXPECT_EQ(ApiOptions{}.max_connections_per_address, 16);
  StartApi({});
  for (int i = 0; i < 16; ++i) ASSERT_GE(Hold(), 0) << i;
  auto refused = Parse(Exchange(kStatusRequest));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
}

TEST_F(ApiServerTest, OversizeHeaderGets431Json) {
  StartApi({});
  std::string big = "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(16 * 1024, 'h') +
                    "\r\nConnection: close\r\n\r\n";
  std::string raw = Exchange(big);
  auto a = Parse(raw);
  ASSERT_TRUE(a) << raw.substr(0, 300);
  ExpectJsonError(*a, 431, "invalid_input");
}

TEST_F(ApiServerTest, OversizeBodyGets413Json) {
  ApiOptions o;
  o.body_limit = 1024;
  StartApi(o);
  std::string raw = Exchange(testing::HttpRequest("POST", "/v1/cases", "", std::string(4096, '{')));
  auto a = Parse(raw);
  ASSERT_TRUE(a) << raw.substr(0, 300);
  ExpectJsonError(*a, 413, "invalid_input");
}

TEST_F(ApiServerTest, MalformedRequestGets400Json) {
  StartApi({});
  auto a = Parse(Exchange("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"));
  ASSERT_TRUE(a);
  ExpectJsonError(*a, 400, "invalid_input");
}

TEST_F(ApiServerTest, NoBrowserHeadersOnTheApi) {
  StartApi({});
  std::string raw = Exchange(kStatusRequest);
  EXPECT_EQ(raw.find("Content-Security-Policy"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("Strict-Transport-Security"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Cache-Control: no-store"), std::string::npos) << raw;
}

}  // namespace
}  // namespace schakel::daemon
