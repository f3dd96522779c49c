// The generic HTTPS server: security headers, the stylesheet, the request the
// handler sees, size limits, deadlines (half-open handshake, slow drip),
// connection caps, TLS versions; and the web identity (generated, stored,
// configured).
#include "schakel/http/web_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "daemon/web_client.h"
#include "schakel/base/time.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "test_support.h"

namespace schakel::http {
namespace {

using schakel::testing::TempDir;
using schakel::testing::WebReply;
using schakel::testing::WebRequestOnce;

config::Address LoopbackAnyPort() { return config::Address{"127.0.0.1", 0}; }

crypto::TlsIdentity Identity() {
  auto id = crypto::GenerateWebTlsIdentity("test-node", {});
  EXPECT_TRUE(id.ok());
  return std::move(id).value();
}

struct Recorder {
  std::mutex mu;
  WebRequest last;
  int calls = 0;
  WebHandler Handler() {
    return [this](const WebRequest& r) {
      std::lock_guard<std::mutex> lock(mu);
      last = r;
      ++calls;
      if (r.path == "/tight") {
        WebResponse w = WebResponse::Html(200, "<p>x</p>");
        w.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
        return w;
      }
      if (r.path == "/cookie") {
        WebResponse w = WebResponse::Redirect("/next");
        w.headers.emplace_back("Set-Cookie", "a=1; Secure; HttpOnly");
        w.headers.emplace_back("Set-Cookie", "b=2; Secure; HttpOnly");
        return w;
      }
      if (r.path == "/throw") throw std::runtime_error("boom");
      if (r.path != "/hello") return WebResponse::Text(404, "Niet gevonden.");
      return WebResponse::Html(200, "<p>hallo " + r.method + "</p>");
    };
  }
};

void ExpectSecurityHeaders(const WebReply& r) {
  EXPECT_EQ(r.Header("Content-Security-Policy"), kDefaultCsp);
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.Header("Strict-Transport-Security"), "max-age=31536000");
}

TEST(WebServer, ServesHandlerWithSecurityHeadersOnEveryResponse) {
  Recorder rec;
  WebServer server(Identity(), rec.Handler());
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  auto r = WebRequestOnce(server.port(), "GET", "/hello?x=a%20b&y=2",
                          {{"Cookie", "sid=abc"}, {"Origin", "https://o.example"}, {"Sec-Fetch-Site", "same-origin"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "<p>hallo GET</p>");
  EXPECT_EQ(r.Header("Content-Type"), "text/html; charset=utf-8");
  ExpectSecurityHeaders(r);
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    EXPECT_EQ(rec.last.path, "/hello");
    EXPECT_EQ(rec.last.query.at("x"), "a b");
    EXPECT_EQ(rec.last.query.at("y"), "2");
    EXPECT_EQ(rec.last.cookie, "sid=abc");
    EXPECT_EQ(rec.last.origin, "https://o.example");
    EXPECT_EQ(rec.last.sec_fetch_site, "same-origin");
    EXPECT_EQ(rec.last.host, "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(rec.last.client_ip, "127.0.0.1");
  }
  auto post = WebRequestOnce(server.port(), "POST", "/hello", {{"Content-Type", "application/x-www-form-urlencoded"}},
                             "code=1");
  ASSERT_EQ(post.status, 200);
  {
    std::lock_guard<std::mutex> lock(rec.mu);
    EXPECT_EQ(rec.last.body, "code=1");
    EXPECT_EQ(rec.last.content_type, "application/x-www-form-urlencoded");
  }
  // Errors carry the headers too, and the handler's 404 is passed through.
  auto missing = WebRequestOnce(server.port(), "GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  ExpectSecurityHeaders(missing);
  auto thrown = WebRequestOnce(server.port(), "GET", "/throw");
  EXPECT_EQ(thrown.status, 500);
  ExpectSecurityHeaders(thrown);
  auto bad = WebRequestOnce(server.port(), "GET", "/a%2e%2e/b");
  EXPECT_EQ(bad.status, 400);
  ExpectSecurityHeaders(bad);
}

TEST(WebServer, HandlerMayTightenCspAndSetCookies) {
  Recorder rec;
  WebServer server(Identity(), rec.Handler());
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  auto tight = WebRequestOnce(server.port(), "GET", "/tight");
  EXPECT_EQ(tight.Header("Content-Security-Policy"), "default-src 'none'");
  EXPECT_EQ(tight.headers.count("Content-Security-Policy"), 1u);
  auto cookie = WebRequestOnce(server.port(), "GET", "/cookie");
  EXPECT_EQ(cookie.status, 303);
  EXPECT_EQ(cookie.Header("Location"), "/next");
  EXPECT_EQ(cookie.headers.count("Set-Cookie"), 2u);
}

TEST(WebServer, ServesTheStylesheet) {
  Recorder rec;
  WebServer server(Identity(), rec.Handler());
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  auto css = WebRequestOnce(server.port(), "GET", "/static/schakel.css");
  ASSERT_EQ(css.status, 200) << css.error;
  EXPECT_EQ(css.Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.body, SchakelCss());
  EXPECT_NE(css.body.find("@media print"), std::string::npos);
  EXPECT_NE(css.body.find(":focus-visible"), std::string::npos);
  ExpectSecurityHeaders(css);
  EXPECT_EQ(WebRequestOnce(server.port(), "POST", "/static/schakel.css").status, 405);
  std::lock_guard<std::mutex> lock(rec.mu);
  EXPECT_EQ(rec.calls, 0);  // the handler never saw these
}

TEST(WebServer, RefusesLargeBodiesAndHeaders) {
  Recorder rec;
  WebServer server(Identity(), rec.Handler());
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  auto big = WebRequestOnce(server.port(), "POST", "/hello", {}, std::string(65 * 1024, 'a'));
  EXPECT_EQ(big.status, 413) << big.error;
  ExpectSecurityHeaders(big);
  auto fat = WebRequestOnce(server.port(), "GET", "/hello", {{"X-Pad", std::string(9 * 1024, 'b')}});
  EXPECT_EQ(fat.status, 431) << fat.error;
  auto fine = WebRequestOnce(server.port(), "POST", "/hello", {}, std::string(60 * 1024, 'a'));
  EXPECT_EQ(fine.status, 200);
}

// A raw TCP connection to the server, for the deadline tests.
int ConnectRaw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

TEST(WebServer, HalfOpenHandshakeIsClosedAtTheDeadline) {
  Recorder rec;
  WebServerOptions o;
  o.handshake_timeout = std::chrono::milliseconds(300);
  WebServer server(Identity(), rec.Handler(), o);
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  int fd = ConnectRaw(server.port());
  auto start = std::chrono::steady_clock::now();
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);  // the server closes: 0 (EOF) or a reset
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_LE(n, 0);
  EXPECT_LT(waited, std::chrono::seconds(3));
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  ::close(fd);
}

TEST(WebServer, SlowDripRequestIsCutOffByTheRequestDeadline) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  Recorder rec;
  WebServerOptions o;
  o.read_timeout = std::chrono::milliseconds(500);
  WebServer server(Identity(), rec.Handler(), o);
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
  s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
  s.handshake(asio::ssl::stream_base::client);
  std::string head = "GET /hello HTTP/1.1\r\nHost: x\r\n";
  asio::write(s, asio::buffer(head));
  auto start = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  // One header byte every 100 ms: each read is quick, the whole is not.
  for (int i = 0; i < 40 && !ec; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    asio::write(s, asio::buffer("X-A: b\r\n", 8), ec);
  }
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec) << "the server kept reading a dripping request for 4 s";
  EXPECT_LT(waited, std::chrono::seconds(3));
  std::lock_guard<std::mutex> lock(rec.mu);
  EXPECT_EQ(rec.calls, 0);
}

TEST(WebServer, PerClientCapAnswers503) {
  namespace asio = boost::asio;
  Recorder rec;
  WebServerOptions o;
  o.max_connections_per_ip = 2;
  WebServer server(Identity(), rec.Handler(), o);
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  std::vector<std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>>> held;
  for (int i = 0; i < 2; ++i) {
    auto s = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io, ctx);
    s->next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
    s->handshake(asio::ssl::stream_base::client);
    held.push_back(std::move(s));
  }
  auto r = WebRequestOnce(server.port(), "GET", "/hello");
  EXPECT_EQ(r.status, 503) << r.error;
  EXPECT_EQ(r.Header("Retry-After"), "60");
  EXPECT_GE(server.refused_connections(), 1u);
  held.clear();  // closing frees the slots
  bool ok = false;
  for (int i = 0; i < 50 && !ok; ++i) {
    ok = WebRequestOnce(server.port(), "GET", "/hello").status == 200;
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(ok);
}

TEST(WebServer, GlobalCapAnswers503) {
  namespace asio = boost::asio;
  Recorder rec;
  WebServerOptions o;
  o.max_connections = 1;
  WebServer server(Identity(), rec.Handler(), o);
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
  s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
  s.handshake(asio::ssl::stream_base::client);
  EXPECT_EQ(WebRequestOnce(server.port(), "GET", "/hello").status, 503);
}

TEST(WebServer, RefusesTls11AndAcceptsTls12And13) {
  Recorder rec;
  WebServer server(Identity(), rec.Handler());
  ASSERT_TRUE(server.Start(LoopbackAnyPort()).ok());
  auto try_version = [&](int version) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), version);
    asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    return !ec;
  };
  EXPECT_FALSE(try_version(TLS1_1_VERSION));
  EXPECT_TRUE(try_version(TLS1_2_VERSION));
  EXPECT_TRUE(try_version(TLS1_3_VERSION));
}

TEST(WebServer, RefusesAnEd25519IdentityAtStart) {
  auto peer = crypto::GenerateTlsIdentity("test-node");
  ASSERT_TRUE(peer.ok());
  Recorder rec;
  WebServer server(*peer, rec.Handler());
  auto st = server.Start(LoopbackAnyPort());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Ed25519"), std::string::npos) << st.message();
}

TEST(WebIdentity, GeneratedOnceStoredAndRenewedForANewHost) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = store::Database::Open(dir / "node.db", key, store::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  auto a = LoadOrCreateWebIdentity(**db, dir.path(), {}, "node-a", {"127.0.0.1"}, "2026-11-23T10:00:00Z");
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = LoadOrCreateWebIdentity(**db, dir.path(), {}, "node-a", {"127.0.0.1"}, "2026-11-23T10:00:00Z");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->certificate_pem, b->certificate_pem);  // stored, not regenerated
  auto c = LoadOrCreateWebIdentity(**db, dir.path(), {}, "node-a", {"links.example.nl"}, "2026-11-24T10:00:00Z");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->certificate_pem, a->certificate_pem);
  // Renewed 30 days before it ends (the certificate was made now, for 397 days).
  auto valid = crypto::ValidityOf(c->certificate_pem);
  ASSERT_TRUE(valid.ok());
  auto late = [&](int64_t days_before_end) {
    return FormatInstant(Instant(std::chrono::seconds(valid->not_after - days_before_end * 24 * 3600)));
  };
  auto d = LoadOrCreateWebIdentity(**db, dir.path(), {}, "node-a", {"links.example.nl"}, late(31));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->certificate_pem, c->certificate_pem) << "31 days before its end it is kept";
  auto e = LoadOrCreateWebIdentity(**db, dir.path(), {}, "node-a", {"links.example.nl"}, late(29));
  ASSERT_TRUE(e.ok());
  EXPECT_NE(e->certificate_pem, c->certificate_pem) << "29 days before its end it is renewed";
  auto stored = store::LoadWebTls(**db);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->certificate_pem, e->certificate_pem) << "and the renewed one is kept";
}

TEST(WebIdentity, ConfiguredFilesAreUsedAndChecked) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = store::Database::Open(dir / "node.db", key, store::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  auto mine = crypto::GenerateWebTlsIdentity("links.example.nl", {"links.example.nl"});
  ASSERT_TRUE(mine.ok());
  schakel::testing::WriteAll(dir / "web.crt", mine->certificate_pem);
  schakel::testing::WriteAll(dir / "web.key", std::string(reinterpret_cast<const char*>(mine->private_key_pem.data()),
                                                          mine->private_key_pem.size()));
  config::WebCertFiles files{"web.crt", "web.key"};
  auto got = LoadOrCreateWebIdentity(**db, dir.path(), files, "node-a", {}, "2026-11-23T10:00:00Z");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->certificate_pem, mine->certificate_pem);
  auto none = store::LoadWebTls(**db);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // nothing generated

  auto other = crypto::GenerateWebTlsIdentity("x", {});
  ASSERT_TRUE(other.ok());
  schakel::testing::WriteAll(dir / "other.crt", other->certificate_pem);
  config::WebCertFiles mismatched{"other.crt", "web.key"};
  auto bad = LoadOrCreateWebIdentity(**db, dir.path(), mismatched, "node-a", {}, "2026-11-23T10:00:00Z");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("other.crt"), std::string::npos) << bad.status().message();
  config::WebCertFiles missing{"absent.crt", "web.key"};
  EXPECT_FALSE(LoadOrCreateWebIdentity(**db, dir.path(), missing, "node-a", {}, "t").ok());
}

}  // namespace
}  // namespace schakel::http
