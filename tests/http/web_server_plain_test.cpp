// The HTTP core in plain-TCP mode (the local API's transport): the same
// limits, caps and overflow answer as over TLS, browser headers only when
// asked for, and the core's own error answers in the format the owner picks.
// Loopback only, ports picked by the server, every wait bounded.
#include "schakel/http/web_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "load_support.h"

namespace schakel::http {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 5s;

config::Address Loopback() { return config::Address{"127.0.0.1", 0}; }

WebResponse Hello(const WebRequest& r) {
  if (r.path == "/throw") throw std::runtime_error("boom");
  return WebResponse::Text(200, "hallo " + r.method + " " + r.target);
}

WebServerOptions Plain() {
  WebServerOptions o;
  o.name = "plain";
  o.browser_headers = false;
  o.serve_stylesheet = false;
  o.split_target = false;
  return o;
}

std::string Exchange(int port, const std::string& request) {
  int fd = testing::ConnectTcp(port);
  if (fd < 0) return "";
  std::string out;
  if (testing::SendAll(fd, request, kWait)) out = testing::ReadUntilClose(fd, kWait);
  ::close(fd);
  return out;
}

std::string Get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

// The value of a header in a raw response ("" when absent).
std::string Header(const std::string& raw, const std::string& name) {
  auto head = raw.substr(0, raw.find("\r\n\r\n"));
  auto at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return head.substr(at, head.find("\r\n", at) - at);
}

std::string Body(const std::string& raw) {
  auto at = raw.find("\r\n\r\n");
  return at == std::string::npos ? "" : raw.substr(at + 4);
}

TEST(PlainWebServer, ServesWithoutTlsAndWithoutBrowserHeaders) {
  WebServer server(Hello, Plain());
  ASSERT_TRUE(server.Start(Loopback()).ok());
  std::string raw = Exchange(server.port(), Get("/a%20b?x=1"));
  EXPECT_EQ(testing::HttpStatus(raw), 200) << raw;
  EXPECT_EQ(Body(raw), "hallo GET /a%20b?x=1");
  EXPECT_EQ(Header(raw, "Content-Length"), std::to_string(Body(raw).size()));
  EXPECT_EQ(Header(raw, "Cache-Control"), "no-store");
  EXPECT_EQ(Header(raw, "Content-Security-Policy"), "");
  EXPECT_EQ(Header(raw, "Strict-Transport-Security"), "");
}

TEST(PlainWebServer, BrowserHeadersWhenAskedFor) {
  WebServerOptions o = Plain();
  o.browser_headers = true;
  WebServer server(Hello, o);
  ASSERT_TRUE(server.Start(Loopback()).ok());
  std::string raw = Exchange(server.port(), Get("/x"));
  EXPECT_EQ(Header(raw, "Content-Security-Policy"), kDefaultCsp) << raw;
  EXPECT_EQ(Header(raw, "X-Frame-Options"), "DENY");
}

TEST(PlainWebServer, BusyAnswerHasTheRightContentLength) {
  WebServerOptions o = Plain();
  o.max_connections = 1;
  WebServer server(Hello, o);
  ASSERT_TRUE(server.Start(Loopback()).ok());
  // One connection, answered once and kept open, fills the cap.
  int held = testing::ConnectTcp(server.port());
  ASSERT_GE(held, 0);
  ASSERT_TRUE(testing::SendAll(held, "GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", kWait));
  std::string first;
  for (int i = 0; i < 50 && first.find("hallo GET /held") == std::string::npos; ++i) {
    first += testing::ReadUntilClose(held, 100ms, 4096);
  }
  ASSERT_NE(first.find("hallo GET /held"), std::string::npos) << first;

  std::string raw = Exchange(server.port(), Get("/x"));
  EXPECT_EQ(testing::HttpStatus(raw), 503) << raw;
  EXPECT_EQ(Header(raw, "Content-Length"), std::to_string(Body(raw).size())) << raw;
  EXPECT_EQ(Header(raw, "Retry-After"), "60");
  EXPECT_EQ(Header(raw, "Connection"), "close");
  EXPECT_EQ(Body(raw), "Te veel verbindingen tegelijk. Probeer het over een minuut opnieuw.");
  EXPECT_GE(server.refused_connections(), 1u);
  ::close(held);
}

TEST(PlainWebServer, TheOwnerChoosesTheFormatOfTheCoresOwnErrors) {
  WebServerOptions o = Plain();
  o.error_page = [](const CoreError& e) {
    WebResponse r;
    r.status = e.status;
    r.content_type = "application/json";
    r.body = "{\"status\":" + std::to_string(e.status) + ",\"reason\":\"" + e.reason + "\"}";
    return r;
  };
  WebServer server(Hello, o);
  ASSERT_TRUE(server.Start(Loopback()).ok());
  std::string big = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(16 * 1024, 'h') + "\r\n\r\n";
  std::string raw = Exchange(server.port(), big);
  EXPECT_EQ(testing::HttpStatus(raw), 431) << raw.substr(0, 200);
  EXPECT_EQ(Header(raw, "Content-Type"), "application/json");
  EXPECT_EQ(Body(raw).rfind("{\"status\":431,", 0), 0u) << Body(raw);
  EXPECT_EQ(Header(raw, "Content-Length"), std::to_string(Body(raw).size()));

  std::string thrown = Exchange(server.port(), Get("/throw"));
  EXPECT_EQ(testing::HttpStatus(thrown), 500) << thrown;
  EXPECT_EQ(Body(thrown), "{\"status\":500,\"reason\":\"internal error\"}");
}

TEST(PlainWebServer, DefaultErrorsStayText) {
  WebServer server(Hello, Plain());
  ASSERT_TRUE(server.Start(Loopback()).ok());
  std::string big = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(16 * 1024, 'h') + "\r\n\r\n";
  std::string raw = Exchange(server.port(), big);
  EXPECT_EQ(testing::HttpStatus(raw), 431) << raw.substr(0, 200);
  EXPECT_EQ(Header(raw, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Body(raw), "Kopregels te groot.");
}

// Handlers run on threads of their own (WebServerOptions::handler_threads):
// with two, a request whose handler blocks (a wait for the node lock,
// Argon2id) does not hold up another; with one, the blocked handler holds up
// the next handler but not the I/O: a request over the caps still gets its
// 503 at once. Not timed: the blocked handler is released only after the
// other answer arrived.
TEST(PlainWebServer, ABlockedHandlerHoldsUpNoOtherRequest) {
  for (int threads : {2, 1}) {
    std::promise<void> entered, release;
    std::shared_future<void> released = release.get_future().share();
    auto handler = [&](const WebRequest& r) {
      if (r.path == "/slow") {
        entered.set_value();
        released.wait();
      }
      return WebResponse::Text(200, "klaar " + r.path);
    };
    WebServerOptions o = Plain();
    o.handler_threads = threads;
    o.max_connections = 2;
    WebServer server(handler, o);
    ASSERT_TRUE(server.Start(Loopback()).ok());
    std::future<std::string> slow;
    // Destroyed first: the blocked handler is released however this
    // iteration ends, so neither `slow` nor the server's Stop waits forever.
    struct Releaser {
      std::promise<void>& p;
      bool done = false;
      void Now() {
        if (!done) p.set_value();
        done = true;
      }
      ~Releaser() { Now(); }
    } releaser{release};
    slow = std::async(std::launch::async, [&] { return Exchange(server.port(), Get("/slow")); });
    ASSERT_EQ(entered.get_future().wait_for(kWait), std::future_status::ready);
    if (threads == 2) {
      std::string fast = Exchange(server.port(), Get("/fast"));
      EXPECT_EQ(Body(fast), "klaar /fast") << fast;
      releaser.Now();
    } else {
      // One connection waits for the handler, a second fills the cap; a
      // third is answered 503 by the I/O thread while the handler blocks.
      int held = testing::ConnectTcp(server.port());
      ASSERT_GE(held, 0);
      ASSERT_TRUE(testing::SendAll(held, Get("/queued"), kWait));
      std::string over = Exchange(server.port(), Get("/over"));
      EXPECT_EQ(testing::HttpStatus(over), 503) << over;
      releaser.Now();
      EXPECT_NE(testing::ReadUntilClose(held, kWait).find("klaar /queued"), std::string::npos);
      ::close(held);
    }
    ASSERT_EQ(slow.wait_for(kWait), std::future_status::ready);
    EXPECT_EQ(Body(slow.get()), "klaar /slow");
  }
}

TEST(PlainWebServer, RefusesAHandlerThreadCountOutOfRange) {
  for (int threads : {0, 65}) {
    WebServerOptions o = Plain();
    o.handler_threads = threads;
    WebServer server(Hello, o);
    Status st = server.Start(Loopback());
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("handler_threads must be 1..64"), std::string::npos) << st.message();
  }
}

TEST(HttpStatusFor, OneMapForEveryHandler) {
  EXPECT_EQ(HttpStatusFor(Status::Ok()), 200);
  EXPECT_EQ(HttpStatusFor(Status::InvalidInput("x")), 400);
  EXPECT_EQ(HttpStatusFor(Status::Unauthenticated("x")), 401);
  EXPECT_EQ(HttpStatusFor(Status::Denied("x")), 403);
  EXPECT_EQ(HttpStatusFor(Status::NotFound("x")), 404);
  EXPECT_EQ(HttpStatusFor(Status::AlreadyExists("x")), 409);
  EXPECT_EQ(HttpStatusFor(Status::Unavailable("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::ResourceExhausted("x")), 507);
  EXPECT_EQ(HttpStatusFor(Status::Corruption("x")), 500);
}

}  // namespace
}  // namespace schakel::http
