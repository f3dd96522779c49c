// The peer transport: frame codecs, TLS pinning, PeerServer and PeerClient
// over loopback, and what hostile or broken peers get (refusals, ERROR frames,
// timeouts, caps) while well-behaved peers keep being served.
//
// Every server binds 127.0.0.1:0; timeouts are short (hundreds of ms) and
// every wait is bounded in count and time.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "schakel/crypto/tls_identity.h"
#include "schakel/peer/peer_client.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/peer_server.h"
#include "schakel/peer/peer_tls.h"

namespace schakel::peer {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ErrorCode = boost::system::error_code;

// --- frame codecs ------------------------------------------------------------

TEST(PeerProtocolTest, FrameHeaderIsLengthThenType) {
  auto h = EncodeFrameHeader(FrameType::kDeliver, 0x01020304);
  EXPECT_EQ(h, (std::array<uint8_t, 5>{1, 2, 3, 4, 2}));
  FrameHeader d = DecodeFrameHeader(std::array<uint8_t, 5>{0xff, 0xff, 0xff, 0xff, 0x7f});
  EXPECT_EQ(d.payload_size, 0xffffffffu);
  EXPECT_EQ(d.type, 0x7f);
}

TEST(PeerProtocolTest, HelloRoundTripAndStrictChecks) {
  Hello h;
  h.node_id = "school-a";
  std::string bytes = EncodeHello(h);
  EXPECT_EQ(bytes, std::string("\x00\x01\x00\x01\x08school-a", 13));
  Result<Hello> back = DecodeHello(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->node_id, "school-a");
  EXPECT_EQ(back->min_version, 1);
  EXPECT_EQ(back->max_version, 1);
  // Later versions may append fields.
  EXPECT_TRUE(DecodeHello(bytes + "more").ok());

  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01", 4)).ok());               // short
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x09school-a", 13)).ok());  // runs past
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x08School-A", 13)).ok());  // charset
  EXPECT_FALSE(DecodeHello(std::string("\x00\x01\x00\x01\x02"
                                       "ab",
                                       7))
                   .ok());                                                          // too short id
  EXPECT_FALSE(DecodeHello(std::string("\x00\x00\x00\x01\x08school-a", 13)).ok());  // version 0
  EXPECT_FALSE(DecodeHello(std::string("\x00\x03\x00\x02\x08school-a", 13)).ok());  // min > max
}

TEST(PeerProtocolTest, VersionNegotiationPicksHighestCommon) {
  Hello a, b;
  a.min_version = 1;
  a.max_version = 3;
  b.min_version = 2;
  b.max_version = 5;
  EXPECT_EQ(NegotiateVersion(a, b), std::optional<uint16_t>(3));
  b.min_version = 4;
  EXPECT_EQ(NegotiateVersion(a, b), std::nullopt);
}

TEST(PeerProtocolTest, ErrorAndFailureFramesCarryCodesAndCleanMessages) {
  std::string e = EncodeError(PeerErrorCode::kFrameTooLarge, "too big\n\x01");
  Result<PeerError> pe = DecodeError(e);
  ASSERT_TRUE(pe.ok());
  EXPECT_EQ(pe->code, static_cast<uint16_t>(PeerErrorCode::kFrameTooLarge));
  EXPECT_EQ(pe->message, "too big??");
  EXPECT_FALSE(DecodeError("x").ok());
  EXPECT_EQ(PeerErrorCodeName(2), "frame_too_large");
  EXPECT_EQ(PeerErrorCodeName(999), "code 999");

  Status s = DecodeFailure(EncodeFailure(Status::NotFound("no such message")));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "no such message");
  EXPECT_EQ(DecodeFailure(std::string(1, '\x00')).code(), Code::kInternal);  // OK is no failure
  EXPECT_EQ(DecodeFailure(std::string(1, '\x63')).code(), Code::kInternal);  // unknown code
  EXPECT_EQ(DecodeFailure("").code(), Code::kInternal);
  EXPECT_EQ(DecodeFailure(EncodeFailure(Status::Denied(std::string(500, 'x')))).message().size(), kMaxPeerMessageBytes);
}

// --- fixtures ----------------------------------------------------------------

struct Node {
  std::string id;
  crypto::TlsIdentity tls;
};

Node MakeNode(const std::string& id) {
  Result<crypto::TlsIdentity> tls = crypto::GenerateTlsIdentity(id);
  EXPECT_TRUE(tls.ok()) << tls.status().message();
  return Node{id, std::move(tls).value()};
}

// Answers "receipt:<peer>:<payload>"; "fail" gets a NotFound; "slow" sleeps.
class TestHandler : public PeerHandler {
 public:
  Result<std::string> OnDeliver(const std::string& peer_node_id, std::string_view payload) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      peers_.push_back(peer_node_id);
    }
    if (payload == "fail") return Status::NotFound("no such message");
    if (payload == "slow") std::this_thread::sleep_for(slow_);
    return "receipt:" + peer_node_id + ":" + std::string(payload);
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::string> peers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peers_;
  }
  void set_slow(milliseconds d) { slow_ = d; }

 private:
  mutable std::mutex mu_;
  int calls_ = 0;
  std::vector<std::string> peers_;
  milliseconds slow_{300};
};

// Waits (bounded) until `done` holds.
bool Eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(2000)) {
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

// A hand-driven client: raw TCP and TLS, frames written by hand, every
// operation bounded by a time limit (run_for), for the misbehaving peers.
class RawClient {
 public:
  // `tls` may be null for TCP-only use.
  explicit RawClient(asio::ssl::context* tls) {
    static asio::ssl::context unused(asio::ssl::context::tls_client);
    stream_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, tls ? *tls : unused);
  }

  ErrorCode ConnectTcp(uint16_t port, const std::string& from = "") {
    auto& s = stream_->lowest_layer();
    ErrorCode ec;
    s.open(tcp::v4(), ec);
    if (!ec && !from.empty()) s.bind(tcp::endpoint(asio::ip::make_address(from), 0), ec);
    if (ec) return ec;
    ec = RunFor(milliseconds(2000),
                [&](auto done) { s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), done); });
    if (!ec) s.set_option(tcp::no_delay(true), ec);
    return ec;
  }

  ErrorCode Handshake(PeerVerifier* verifier) {
    if (verifier != nullptr) {
      EXPECT_TRUE(verifier->Attach(stream_->native_handle()).ok());
    }
    return RunFor(milliseconds(2000),
                  [&](auto done) { stream_->async_handshake(asio::ssl::stream_base::client, done); });
  }

  ErrorCode WriteTcp(const std::string& bytes) {
    return RunFor(milliseconds(2000),
                  [&](auto done) { asio::async_write(stream_->next_layer(), asio::buffer(bytes), done); });
  }
  ErrorCode WriteTls(const std::string& bytes) {
    return RunFor(milliseconds(2000), [&](auto done) { asio::async_write(*stream_, asio::buffer(bytes), done); });
  }
  ErrorCode WriteFrame(FrameType type, const std::string& payload) {
    auto h = EncodeFrameHeader(type, static_cast<uint32_t>(payload.size()));
    return WriteTls(std::string(h.begin(), h.end()) + payload);
  }

  struct Frame {
    ErrorCode ec;
    uint8_t type = 0;
    std::string payload;
  };
  Frame ReadFrame(milliseconds limit = milliseconds(2000)) {
    Frame f;
    std::array<uint8_t, 5> h{};
    f.ec = RunFor(limit, [&](auto done) { asio::async_read(*stream_, asio::buffer(h), done); });
    if (f.ec) return f;
    FrameHeader fh = DecodeFrameHeader(h);
    f.type = fh.type;
    if (fh.payload_size > 1024 * 1024) {
      f.ec = asio::error::message_size;
      return f;
    }
    f.payload.resize(fh.payload_size);
    if (fh.payload_size > 0) {
      f.ec = RunFor(limit, [&](auto done) {
        asio::async_read(*stream_, asio::buffer(f.payload.data(), f.payload.size()), done);
      });
    }
    return f;
  }

  // Reads raw TCP until the server closes; true if it did within `limit`.
  bool TcpClosedWithin(milliseconds limit) {
    auto end = Clock::now() + limit;
    std::array<char, 4096> buf{};
    while (Clock::now() < end) {
      auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
      ErrorCode ec = RunFor(left, [&](auto done) { stream_->next_layer().async_read_some(asio::buffer(buf), done); });
      if (ec == asio::error::timed_out) return false;
      if (ec) return true;  // EOF or reset
    }
    return false;
  }

  // HELLO both ways as a well-behaved client would; returns the server's.
  Frame ExchangeHello(const std::string& my_id) {
    Hello h;
    h.node_id = my_id;
    EXPECT_FALSE(WriteFrame(FrameType::kHello, EncodeHello(h)));
    return ReadFrame();
  }

  asio::ssl::stream<tcp::socket>& stream() { return *stream_; }
  asio::io_context& io() { return io_; }

  // Runs one asynchronous operation for at most `limit`; timed_out if it
  // did not finish (it is then cancelled; the socket stays open).
  template <typename Start>
  ErrorCode RunFor(milliseconds limit, Start start) {
    bool finished = false;
    ErrorCode result;
    io_.restart();
    start([&](const ErrorCode& ec, auto&&...) {
      finished = true;
      result = ec;
    });
    io_.run_for(limit);
    if (!finished) {
      ErrorCode ignored;
      stream_->lowest_layer().cancel(ignored);
      io_.restart();
      io_.run_for(milliseconds(500));
      return asio::error::timed_out;
    }
    return result;
  }

 private:
  asio::io_context io_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> stream_;
};

class PeerTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    school_ = MakeNode("school-a");
    wijkteam_ = MakeNode("wijkteam-b");
    rmc_ = MakeNode("rmc-c");
    stranger_ = MakeNode("stranger-x");
  }
  void TearDown() override {
    clients_.clear();
    if (server_) server_->Stop();
  }

  // The school's partners: the wijkteam and the RMC, not the stranger.
  PinLookup Partners() const {
    std::map<SpkiPin, std::string> pins{{wijkteam_.tls.spki_sha256, wijkteam_.id}, {rmc_.tls.spki_sha256, rmc_.id}};
    return [pins](const SpkiPin& pin) -> std::optional<std::string> {
      auto it = pins.find(pin);
      if (it == pins.end()) return std::nullopt;
      return it->second;
    };
  }

  static PeerServerOptions TestServerOptions() {
    PeerServerOptions o;
    o.listen.host = "127.0.0.1";
    o.listen.port = 0;
    o.handshake_timeout = milliseconds(800);
    o.frame_timeout = milliseconds(500);
    o.idle_timeout = milliseconds(3000);
    o.shutdown_grace = milliseconds(1000);
    o.max_connections = 16;
    o.max_connections_per_address = 8;
    o.max_connections_per_peer = 4;
    o.io_threads = 2;
    return o;
  }

  void StartServer(const PeerServerOptions& options) {
    Result<std::unique_ptr<PeerServer>> s = PeerServer::Start(school_.id, school_.tls, Partners(), handler_, options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    ASSERT_NE(server_->local_address().port, 0);
  }

  PeerEndpoint SchoolEndpoint() const {
    return PeerEndpoint{school_.id, "127.0.0.1", server_->local_address().port, school_.tls.spki_sha256};
  }

  static PeerClientOptions TestClientOptions() {
    PeerClientOptions o;
    o.connect_timeout = milliseconds(2000);
    o.request_timeout = milliseconds(2000);
    return o;
  }

  PeerClient* NewClient(const Node& me, PeerEndpoint to, PeerClientOptions options = TestClientOptions()) {
    Result<std::unique_ptr<PeerClient>> c = PeerClient::Create(me.id, me.tls, std::move(to), options);
    EXPECT_TRUE(c.ok()) << c.status().message();
    if (!c.ok()) return nullptr;
    clients_.push_back(std::move(c).value());
    return clients_.back().get();
  }

  // A TLS context for hand-driven clients speaking as `me`.
  static asio::ssl::context ClientContext(const Node& me) {
    Result<asio::ssl::context> ctx = MakePeerTlsContext(PeerRole::kClient, me.tls);
    EXPECT_TRUE(ctx.ok()) << ctx.status().message();
    return std::move(ctx).value();
  }

  // A hand-driven client as the wijkteam, through TLS and HELLO.
  std::unique_ptr<RawClient> RawPartner(asio::ssl::context& ctx, PeerVerifier& verifier) {
    auto raw = std::make_unique<RawClient>(&ctx);
    EXPECT_FALSE(raw->ConnectTcp(server_->local_address().port));
    EXPECT_FALSE(raw->Handshake(&verifier));
    RawClient::Frame hello = raw->ExchangeHello(wijkteam_.id);
    EXPECT_FALSE(hello.ec) << hello.ec.message();
    EXPECT_EQ(hello.type, static_cast<uint8_t>(FrameType::kHello));
    return raw;
  }

  static uint16_t ErrorCodeOf(const RawClient::Frame& f) {
    if (f.ec || f.type != static_cast<uint8_t>(FrameType::kError)) return 0;
    Result<PeerError> e = DecodeError(f.payload);
    return e.ok() ? e->code : 0;
  }

  Node school_, wijkteam_, rmc_, stranger_;
  TestHandler handler_;
  std::unique_ptr<PeerServer> server_;
  std::vector<std::unique_ptr<PeerClient>> clients_;
};

// --- round trips -------------------------------------------------------------

TEST_F(PeerTransportTest, RequestResponseRoundTrip) {
  StartServer(TestServerOptions());
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver("sealed-envelope-bytes");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "receipt:wijkteam-b:sealed-envelope-bytes");
  EXPECT_EQ(handler_.peers(), std::vector<std::string>{"wijkteam-b"});
  EXPECT_TRUE(c->connected());

  // Binary payloads pass unchanged, the empty one too.
  std::string binary("\x00\xff\x01\n\r\x00", 6);
  r = c->Deliver(binary);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "receipt:wijkteam-b:" + binary);
  r = c->Deliver("");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "receipt:wijkteam-b:");

  // One-off helper.
  Result<std::string> once = DeliverOnce(rmc_.id, rmc_.tls, SchoolEndpoint(), "x", TestClientOptions());
  ASSERT_TRUE(once.ok()) << once.status().message();
  EXPECT_EQ(*once, "receipt:rmc-c:x");
}

TEST_F(PeerTransportTest, ManySequentialRequestsOnOneConnection) {
  StartServer(TestServerOptions());
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  const std::vector<size_t> sizes = {0, 1, 100, 16 * 1024, 16 * 1024 + 1, 70000};
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    std::string payload(sizes[static_cast<size_t>(i) % sizes.size()], static_cast<char>('a' + i % 26));
    Result<std::string> r = c->Deliver(payload);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().message();
    ASSERT_EQ(*r, "receipt:wijkteam-b:" + payload) << i;
  }
  // A large one, near the envelope limit's order of magnitude.
  std::string big(4 * 1024 * 1024, 'z');
  Result<std::string> r = c->Deliver(big);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->size(), big.size() + std::string("receipt:wijkteam-b:").size());

  PeerServerStats s = server_->stats();
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.requests, static_cast<uint64_t>(kRequests + 1));
  EXPECT_EQ(s.protocol_errors, 0u);
}

TEST_F(PeerTransportTest, HandlerFailureComesBackAsStatusAndConnectionStays) {
  StartServer(TestServerOptions());
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver("fail");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "peer school-a: no such message");
  EXPECT_TRUE(c->connected());
  r = c->Deliver("after");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(server_->stats().accepted, 1u);
  EXPECT_EQ(server_->stats().handler_failures, 1u);
}

TEST_F(PeerTransportTest, PayloadOverOwnLimitIsNotSent) {
  StartServer(TestServerOptions());
  PeerClientOptions o = TestClientOptions();
  o.max_frame_payload_bytes = 1024;
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), o);
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver(std::string(1025, 'x'));
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  EXPECT_EQ(handler_.calls(), 0);
  EXPECT_EQ(server_->stats().accepted, 0u);
}

TEST_F(PeerTransportTest, PayloadOverServerLimitGetsFrameTooLarge) {
  PeerServerOptions o = TestServerOptions();
  o.max_frame_payload_bytes = 4096;
  StartServer(o);
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver(std::string(5000, 'x'));
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().message();
  EXPECT_NE(r.status().message().find("frame_too_large"), std::string::npos);
  EXPECT_EQ(handler_.calls(), 0);
  // The next request reconnects and works.
  r = c->Deliver("small");
  EXPECT_TRUE(r.ok()) << r.status().message();
}

// --- trust -------------------------------------------------------------------

TEST_F(PeerTransportTest, ClientWithUnpinnedKeyIsRefused) {
  StartServer(TestServerOptions());
  // The stranger knows the school's pin, but the school does not know its key.
  PeerClient* c = NewClient(stranger_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver("hello?");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDenied) << r.status().message();
  EXPECT_TRUE(Eventually([&] { return server_->stats().refused_pin == 1; }));
  EXPECT_EQ(handler_.calls(), 0);
  EXPECT_EQ(server_->stats().requests, 0u);
}

TEST_F(PeerTransportTest, ServerWithWrongPinIsRefusedByClient) {
  StartServer(TestServerOptions());
  PeerEndpoint to = SchoolEndpoint();
  to.pin = rmc_.tls.spki_sha256;  // what we hold on file is not the school's key
  PeerClient* c = NewClient(wijkteam_, to);
  ASSERT_NE(c, nullptr);
  Result<std::string> r = c->Deliver("secret envelope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDenied);
  EXPECT_NE(r.status().message().find(PinHex(school_.tls.spki_sha256)), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(PinHex(rmc_.tls.spki_sha256)), std::string::npos);
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(PeerTransportTest, HelloMustNameThePinnedNode) {
  StartServer(TestServerOptions());
  // The wijkteam's key, but claiming to be the RMC.
  Result<std::unique_ptr<PeerClient>> c =
      PeerClient::Create(rmc_.id, wijkteam_.tls, SchoolEndpoint(), TestClientOptions());
  ASSERT_TRUE(c.ok());
  Result<std::string> r = (*c)->Deliver("x");
  EXPECT_EQ(r.status().code(), Code::kDenied) << r.status().message();
  EXPECT_NE(r.status().message().find("identity_mismatch"), std::string::npos);
  EXPECT_EQ(handler_.calls(), 0);

  // And the client checks the server's HELLO the same way: the school's key
  // pinned under another name.
  PeerEndpoint to = SchoolEndpoint();
  to.node_id = "school-z";
  PeerClient* d = NewClient(wijkteam_, to);
  ASSERT_NE(d, nullptr);
  r = d->Deliver("x");
  EXPECT_EQ(r.status().code(), Code::kDenied) << r.status().message();
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(PeerTransportTest, Tls12ClientIsRefused) {
  StartServer(TestServerOptions());
  asio::ssl::context ctx = ClientContext(wijkteam_);  // a pinned key: only the version is wrong
  ASSERT_EQ(SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION), 1);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  RawClient raw(&ctx);
  ASSERT_FALSE(raw.ConnectTcp(server_->local_address().port));
  ErrorCode ec = raw.Handshake(&verifier);
  EXPECT_TRUE(ec) << "a TLS 1.2 handshake succeeded";
  EXPECT_NE(ec, asio::error::timed_out);
  EXPECT_TRUE(Eventually([&] { return server_->stats().handshake_failures == 1; }));
  EXPECT_EQ(handler_.calls(), 0);
}

// --- hostile bytes -------------------------------------------------------------

TEST_F(PeerTransportTest, GarbageInsteadOfTlsIsClosedAndOthersServed) {
  StartServer(TestServerOptions());
  RawClient raw(nullptr);
  ASSERT_FALSE(raw.ConnectTcp(server_->local_address().port));
  std::string garbage = "GET / HTTP/1.1\r\nHost: school\r\n\r\n";
  for (int i = 0; i < 200; ++i) garbage.push_back(static_cast<char>((i * 37) & 0xff));
  ASSERT_FALSE(raw.WriteTcp(garbage));
  // Refused at once, well before the handshake timeout.
  EXPECT_TRUE(raw.TcpClosedWithin(milliseconds(600)));
  EXPECT_TRUE(Eventually([&] { return server_->stats().handshake_failures == 1; }));

  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Deliver("still here").ok());
}

TEST_F(PeerTransportTest, OversizeFrameHeaderGetsErrorWithoutPayload) {
  StartServer(TestServerOptions());
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);

  // A DELIVER header announcing 1 GiB, and not one payload byte after it.
  auto header = EncodeFrameHeader(FrameType::kDeliver, 1u << 30);
  auto start = Clock::now();
  ASSERT_FALSE(raw->WriteTls(std::string(header.begin(), header.end())));
  RawClient::Frame f = raw->ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kFrameTooLarge))
      << f.ec.message() << " type " << int{f.type};
  // The answer came from the header alone (the server did not wait for, or
  // make room for, the announced gigabyte; the frame timeout is 500 ms).
  EXPECT_LT(Clock::now() - start, milliseconds(450));
  RawClient::Frame after = raw->ReadFrame(milliseconds(1000));
  EXPECT_TRUE(after.ec) << "connection still open after ERROR";
  EXPECT_EQ(server_->stats().protocol_errors, 1u);
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(PeerTransportTest, OversizeFrameBeforeHelloGetsError) {
  StartServer(TestServerOptions());
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  RawClient raw(&ctx);
  ASSERT_FALSE(raw.ConnectTcp(server_->local_address().port));
  ASSERT_FALSE(raw.Handshake(&verifier));
  auto header = EncodeFrameHeader(FrameType::kHello, 1u << 30);
  ASSERT_FALSE(raw.WriteTls(std::string(header.begin(), header.end())));
  RawClient::Frame f = raw.ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kFrameTooLarge));
}

TEST_F(PeerTransportTest, MalformedFramesGetProtocolErrors) {
  StartServer(TestServerOptions());
  asio::ssl::context ctx = ClientContext(wijkteam_);
  const uint16_t kViolation = static_cast<uint16_t>(PeerErrorCode::kProtocolViolation);

  struct Case {
    const char* what;
    bool after_hello;
    FrameType type;
    std::string payload;
    uint16_t expected;
  };
  Hello wrong_versions;
  wrong_versions.min_version = 7;
  wrong_versions.max_version = 9;
  wrong_versions.node_id = wijkteam_.id;
  const std::vector<Case> cases = {
      {"DELIVER before HELLO", false, FrameType::kDeliver, "x", kViolation},
      {"broken HELLO", false, FrameType::kHello, std::string("\x00\x01", 2), kViolation},
      {"HELLO with no common version", false, FrameType::kHello, EncodeHello(wrong_versions),
       static_cast<uint16_t>(PeerErrorCode::kUnsupportedVersion)},
      {"RESPONSE from the client", true, FrameType::kResponse, "x", kViolation},
      {"second HELLO", true, FrameType::kHello, EncodeHello(wrong_versions), kViolation},
      {"unknown frame type", true, static_cast<FrameType>(0x7f), "x", kViolation},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
    std::unique_ptr<RawClient> raw;
    if (c.after_hello) {
      raw = RawPartner(ctx, verifier);
    } else {
      raw = std::make_unique<RawClient>(&ctx);
      ASSERT_FALSE(raw->ConnectTcp(server_->local_address().port));
      ASSERT_FALSE(raw->Handshake(&verifier));
    }
    ASSERT_FALSE(raw->WriteFrame(c.type, c.payload));
    RawClient::Frame f = raw->ReadFrame(milliseconds(1000));
    EXPECT_EQ(ErrorCodeOf(f), c.expected) << f.ec.message() << " type " << int{f.type};
  }
  EXPECT_EQ(server_->stats().protocol_errors, cases.size());
  EXPECT_EQ(handler_.calls(), 0);

  PeerClient* ok = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(ok, nullptr);
  EXPECT_TRUE(ok->Deliver("fine").ok());
}

// --- timeouts ----------------------------------------------------------------

TEST_F(PeerTransportTest, SlowDripClientIsCutWhileOthersAreServed) {
  StartServer(TestServerOptions());  // frame_timeout 500 ms
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);

  // Meanwhile, the RMC delivers normally.
  std::atomic<int> served{0};
  std::thread other([&] {
    Result<std::unique_ptr<PeerClient>> c =
        PeerClient::Create(rmc_.id, rmc_.tls, SchoolEndpoint(), TestClientOptions());
    if (!c.ok()) return;
    for (int i = 0; i < 10; ++i) {
      if ((*c)->Deliver("meanwhile").ok()) ++served;
      std::this_thread::sleep_for(milliseconds(50));
    }
  });

  // One byte of a DELIVER frame every 200 ms, while reading for the answer.
  auto header = EncodeFrameHeader(FrameType::kDeliver, 20);
  std::string drip = std::string(header.begin(), header.end()) + std::string(20, 'd');
  size_t sent = 0;
  bool answered = false;
  ErrorCode read_ec;
  std::array<uint8_t, 5> answer{};
  asio::steady_timer timer(raw->io());
  std::function<void()> next = [&] {
    if (answered || sent == drip.size()) return;
    asio::async_write(raw->stream(), asio::buffer(&drip[sent], 1), [&](const ErrorCode& ec, size_t) {
      if (ec) return;
      ++sent;
      timer.expires_after(milliseconds(200));
      timer.async_wait([&](const ErrorCode& e) {
        if (!e) next();
      });
    });
  };
  auto start = Clock::now();
  raw->io().restart();
  asio::async_read(raw->stream(), asio::buffer(answer), [&](const ErrorCode& ec, size_t) {
    answered = true;
    read_ec = ec;
    timer.cancel();
  });
  next();
  raw->io().run_for(milliseconds(3000));
  auto took = Clock::now() - start;
  other.join();

  ASSERT_TRUE(answered);
  ASSERT_FALSE(read_ec) << read_ec.message();
  FrameHeader h = DecodeFrameHeader(answer);
  EXPECT_EQ(h.type, static_cast<uint8_t>(FrameType::kError));
  EXPECT_LT(sent, drip.size());  // cut before the frame was complete
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(server_->stats().timeouts, 1u);
  EXPECT_EQ(served.load(), 10);
  EXPECT_EQ(handler_.peers(), std::vector<std::string>(10, "rmc-c"));
}

TEST_F(PeerTransportTest, SlowDripHandshakeIsCut) {
  StartServer(TestServerOptions());  // handshake_timeout 800 ms
  RawClient raw(nullptr);
  ASSERT_FALSE(raw.ConnectTcp(server_->local_address().port));
  // The first bytes of a TLS ClientHello record, one at a time.
  const std::string hello_start("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  auto start = Clock::now();
  bool closed = false;
  for (size_t i = 0; i < hello_start.size() && !closed; ++i) {
    if (raw.WriteTcp(hello_start.substr(i, 1))) {
      closed = true;
      break;
    }
    closed = raw.TcpClosedWithin(milliseconds(200));
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, milliseconds(1800));
  EXPECT_TRUE(Eventually([&] { return server_->stats().timeouts == 1; }));
}

TEST_F(PeerTransportTest, IdleConnectionIsClosedAndClientReconnects) {
  PeerServerOptions o = TestServerOptions();
  o.idle_timeout = milliseconds(300);
  StartServer(o);

  // The server says why it closes.
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);
  RawClient::Frame f = raw->ReadFrame(milliseconds(1500));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kIdleTimeout));

  // A PeerClient notices the ended connection before reusing it.
  PeerClient* c = NewClient(rmc_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Deliver("one").ok());
  std::this_thread::sleep_for(milliseconds(600));
  Result<std::string> r = c->Deliver("two");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "receipt:rmc-c:two");
  EXPECT_EQ(server_->stats().accepted, 3u);
}

TEST_F(PeerTransportTest, ClientTimesOutOnSilentServerAndUnreachablePort) {
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // The kernel completes TCP handshakes into the backlog; nobody ever answers.
  PeerEndpoint to{school_.id, "127.0.0.1", silent.local_endpoint().port(), school_.tls.spki_sha256};
  PeerClientOptions o = TestClientOptions();
  o.connect_timeout = milliseconds(400);
  PeerClient* c = NewClient(wijkteam_, to, o);
  ASSERT_NE(c, nullptr);
  auto start = Clock::now();
  Result<std::string> r = c->Deliver("x");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_LT(Clock::now() - start, milliseconds(1500));

  uint16_t closed_port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  to.port = closed_port;
  PeerClient* d = NewClient(wijkteam_, to, o);
  ASSERT_NE(d, nullptr);
  r = d->Deliver("x");
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().message();
}

TEST_F(PeerTransportTest, ClientTimesOutOnSlowHandlerAndInterruptWorks) {
  StartServer(TestServerOptions());
  handler_.set_slow(milliseconds(700));
  PeerClientOptions o = TestClientOptions();
  o.request_timeout = milliseconds(300);
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), o);
  ASSERT_NE(c, nullptr);
  auto start = Clock::now();
  Result<std::string> r = c->Deliver("slow");
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().message();
  EXPECT_LT(Clock::now() - start, milliseconds(650));
  EXPECT_FALSE(c->connected());

  // Interrupt from another thread ends a call in progress promptly.
  PeerClient* d = NewClient(rmc_, SchoolEndpoint());  // request timeout 2 s
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(d->Connect().ok());
  std::thread interrupter([d] {
    std::this_thread::sleep_for(milliseconds(100));
    d->Interrupt();
  });
  start = Clock::now();
  r = d->Deliver("slow");
  interrupter.join();
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("interrupted"), std::string::npos) << r.status().message();
  EXPECT_LT(Clock::now() - start, milliseconds(600));
  EXPECT_EQ(d->Deliver("x").status().code(), Code::kUnavailable);  // stays interrupted
}

// --- caps --------------------------------------------------------------------

TEST_F(PeerTransportTest, ConnectionCapRefusesTheExtraOneAndServesOthers) {
  PeerServerOptions o = TestServerOptions();
  o.max_connections = 3;
  StartServer(o);
  std::vector<PeerClient*> open;
  for (int i = 0; i < 3; ++i) {
    PeerClient* c = NewClient(i % 2 == 0 ? wijkteam_ : rmc_, SchoolEndpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Deliver("hi").ok());
    open.push_back(c);
  }
  PeerClient* extra = NewClient(rmc_, SchoolEndpoint());
  ASSERT_NE(extra, nullptr);
  Status refused = extra->Connect();
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.message();
  EXPECT_EQ(server_->stats().refused_capacity, 1u);

  for (PeerClient* c : open) EXPECT_TRUE(c->Deliver("still served").ok());

  open[0]->Close();
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 2; }));
  Result<std::string> r = extra->Deliver("my turn");
  EXPECT_TRUE(r.ok()) << r.status().message();
}

TEST_F(PeerTransportTest, PerAddressCapAppliesUntilPeersIdentifyThemselves) {
  PeerServerOptions o = TestServerOptions();
  o.max_connections_per_address = 2;
  o.handshake_timeout = milliseconds(3000);  // the half-open ones stay put
  StartServer(o);
  uint16_t port = server_->local_address().port;

  // Two connections from 127.0.0.1 that never start TLS.
  RawClient idle1(nullptr), idle2(nullptr), third(nullptr);
  ASSERT_FALSE(idle1.ConnectTcp(port));
  ASSERT_FALSE(idle2.ConnectTcp(port));
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 2; }));
  ASSERT_FALSE(third.ConnectTcp(port));
  EXPECT_TRUE(third.TcpClosedWithin(milliseconds(500)));
  EXPECT_EQ(server_->stats().refused_capacity, 1u);

  // Another address is served meanwhile.
  PeerClientOptions from2 = TestClientOptions();
  from2.local_host = "127.0.0.2";
  PeerClient* other = NewClient(rmc_, SchoolEndpoint(), from2);
  ASSERT_NE(other, nullptr);
  Result<std::string> r = other->Deliver("from elsewhere");
  EXPECT_TRUE(r.ok()) << r.status().message();

  // Identified connections do not count against their address: three open
  // at once from 127.0.0.2, over its cap of two half-open ones.
  PeerClient* second = NewClient(wijkteam_, SchoolEndpoint(), from2);
  PeerClient* third_from2 = NewClient(wijkteam_, SchoolEndpoint(), from2);
  ASSERT_TRUE(second && third_from2);
  EXPECT_TRUE(second->Deliver("and again").ok());
  EXPECT_TRUE(third_from2->Deliver("and once more").ok());
  EXPECT_TRUE(other->connected());
  EXPECT_EQ(server_->stats().refused_capacity, 1u);
}

TEST_F(PeerTransportTest, PerPartnerCapRefusesOnlyThatPartner) {
  PeerServerOptions o = TestServerOptions();
  o.max_connections_per_peer = 2;
  StartServer(o);
  PeerClient* a = NewClient(wijkteam_, SchoolEndpoint());
  PeerClient* b = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Connect().ok());
  ASSERT_TRUE(b->Connect().ok());
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  Status refused = c->Connect();
  EXPECT_EQ(refused.code(), Code::kResourceExhausted) << refused.message();
  EXPECT_NE(refused.message().find("too_many_connections"), std::string::npos);
  EXPECT_EQ(server_->stats().refused_peer_limit, 1u);

  PeerClient* other = NewClient(rmc_, SchoolEndpoint());
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Deliver("rmc is fine").ok());
  EXPECT_TRUE(a->Deliver("a still").ok());
  EXPECT_TRUE(b->Deliver("b still").ok());
}

// --- shutdown ----------------------------------------------------------------

TEST_F(PeerTransportTest, StopWithOpenConnectionsReturnsPromptly) {
  StartServer(TestServerOptions());
  std::vector<PeerClient*> open;
  for (int i = 0; i < 3; ++i) {
    PeerClient* c = NewClient(i % 2 == 0 ? wijkteam_ : rmc_, SchoolEndpoint());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Deliver("hi").ok());
    open.push_back(c);
  }
  RawClient half_open(nullptr);
  ASSERT_FALSE(half_open.ConnectTcp(server_->local_address().port));
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 5; }));

  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(500));
  EXPECT_EQ(server_->stats().active, 0u);

  // Identified peers were told why.
  RawClient::Frame f = raw->ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kShuttingDown));
  EXPECT_TRUE(half_open.TcpClosedWithin(milliseconds(500)));
  for (PeerClient* c : open) {
    Result<std::string> r = c->Deliver("after stop");
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().message();
  }
  server_->Stop();  // idempotent
}

TEST_F(PeerTransportTest, StopLetsTheAnswerInProgressGoOut) {
  StartServer(TestServerOptions());
  handler_.set_slow(milliseconds(300));
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  Result<std::string> r = Status::Internal("not run");
  std::thread worker([&] { r = c->Deliver("slow"); });
  ASSERT_TRUE(Eventually([&] { return handler_.calls() == 1; }));
  auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(900));
  worker.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "receipt:wijkteam-b:slow");
}

TEST_F(PeerTransportTest, BadOptionsAndAddressesAreReported) {
  PeerServerOptions o = TestServerOptions();
  o.max_connections = 0;
  EXPECT_EQ(PeerServer::Start(school_.id, school_.tls, Partners(), handler_, o).status().code(), Code::kInvalidInput);
  o = TestServerOptions();
  o.max_frame_payload_bytes = 10;
  EXPECT_EQ(PeerServer::Start(school_.id, school_.tls, Partners(), handler_, o).status().code(), Code::kInvalidInput);

  // A port in use.
  StartServer(TestServerOptions());
  o = TestServerOptions();
  o.listen.port = server_->local_address().port;
  Result<std::unique_ptr<PeerServer>> clash = PeerServer::Start(school_.id, school_.tls, Partners(), handler_, o);
  EXPECT_EQ(clash.status().code(), Code::kUnavailable) << clash.status().message();

  // A damaged identity: key of another node.
  crypto::TlsIdentity mixed;
  mixed.certificate_pem = school_.tls.certificate_pem;
  mixed.private_key_pem = wijkteam_.tls.private_key_pem.Clone();
  mixed.spki_sha256 = school_.tls.spki_sha256;
  EXPECT_FALSE(MakePeerTlsContext(PeerRole::kServer, mixed).ok());
}

TEST(PeerVerifierTest, LookupDecidesAndThrowingLookupRefuses) {
  SpkiPin a{};
  a[0] = 1;
  SpkiPin b{};
  b[0] = 2;
  PeerVerifier one(ExpectOnePin(a, "school-a"));
  EXPECT_FALSE(one.CheckPin(b));
  EXPECT_TRUE(one.saw_certificate());
  EXPECT_FALSE(one.accepted());
  EXPECT_TRUE(one.CheckPin(a));
  EXPECT_EQ(one.node_id(), "school-a");

  PeerVerifier throwing([](const SpkiPin&) -> std::optional<std::string> { throw std::runtime_error("store locked"); });
  EXPECT_FALSE(throwing.CheckPin(a));
  EXPECT_FALSE(throwing.accepted());
  EXPECT_EQ(PinHex(a).size(), 64u);
  EXPECT_EQ(PinHex(a).substr(0, 4), "0100");
}

}  // namespace
}  // namespace schakel::peer
