// The peer transport over loopback: PeerServer and PeerClient round trips,
// TLS pinning, and what hostile bytes get (refusals, ERROR frames) while
// well-behaved peers keep being served. Timeouts, caps and shutdown are in
// peer_transport_limits_test.cpp; the set-up is peer_transport_support.h.
#include "peer_transport_support.h"  // includes <utility> before Asio

namespace schakel::peer {
namespace {

// --- where a client dials (issue #25 (6); docs/node-card.md) ------------------

// [peer] allowed_networks holds at dial time too: an address outside them
// is not dialed, and nothing reaches the server.
TEST_F(PeerTransportTest, AnAddressOutsideTheAllowedNetworksIsNotDialed) {
  StartServer(TestServerOptions());
  PeerClientOptions options = TestClientOptions();
  auto ten = config::ParseIpNetwork("10.0.0.0/8");
  ASSERT_TRUE(ten.ok());
  options.allowed_networks = {*ten};
  Result<std::string> r = DeliverOnce(wijkteam_.id, wijkteam_.tls, SchoolEndpoint(), "x", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDenied) << r.status().message();
  EXPECT_NE(r.status().message().find("127.0.0.1 is outside [peer] allowed_networks"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(handler_.peers().empty());
  // Inside them, it is.
  auto loopback = config::ParseIpNetwork("127.0.0.0/8");
  ASSERT_TRUE(loopback.ok());
  options.allowed_networks = {*ten, *loopback};
  EXPECT_TRUE(DeliverOnce(wijkteam_.id, wijkteam_.tls, SchoolEndpoint(), "x", options).ok());
}

// A partner named by a host name that resolves to a loopback address (DNS
// pointed at this machine after the card was imported) is not dialed; the
// literal 127.0.0.1 of a test card is.
TEST_F(PeerTransportTest, ANameThatResolvesToLoopbackIsNotDialed) {
  StartServer(TestServerOptions());
  PeerEndpoint by_name = SchoolEndpoint();
  by_name.host = "localhost";
  Result<std::string> r = DeliverOnce(wijkteam_.id, wijkteam_.tls, by_name, "x", TestClientOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDenied) << r.status().message();
  EXPECT_NE(r.status().message().find("a loopback address"), std::string::npos) << r.status().message();
  EXPECT_TRUE(handler_.peers().empty());
  EXPECT_TRUE(DeliverOnce(wijkteam_.id, wijkteam_.tls, SchoolEndpoint(), "x", TestClientOptions()).ok());
}

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

TEST_F(PeerTransportTest, HandlerLearnsTheNegotiatedVersion) {
  StartServer(TestServerOptions());
  PeerClient* now = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(now, nullptr);
  ASSERT_TRUE(now->Deliver("a").ok());
  // A client of an older release offers only version 1.
  PeerClientOptions old_options = TestClientOptions();
  old_options.max_version = 1;
  PeerClient* old = NewClient(rmc_, SchoolEndpoint(), old_options);
  ASSERT_NE(old, nullptr);
  ASSERT_TRUE(old->Deliver("b").ok());
  EXPECT_EQ(handler_.versions(), (std::vector<uint16_t>{kPeerProtocolMaxVersion, 1}));
  // A version this build does not speak is refused before anything is sent.
  PeerClientOptions future = TestClientOptions();
  future.max_version = kPeerProtocolMaxVersion + 1;
  EXPECT_FALSE(PeerClient::Create(rmc_.id, rmc_.tls, SchoolEndpoint(), future).ok());
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

// The handler hears of each partner that connects once it is identified
// (the delivery then sends what waits for it); a stranger is never heard of.
TEST_F(PeerTransportTest, TheHandlerHearsOfEachIdentifiedPartnerOnce) {
  StartServer(TestServerOptions());
  PeerClient* stranger = NewClient(stranger_, SchoolEndpoint());
  ASSERT_NE(stranger, nullptr);
  EXPECT_FALSE(stranger->Connect().ok());
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  EXPECT_TRUE(Eventually([&] { return handler_.identified().size() == 1; }));
  // Requests on the open connection do not count again.
  ASSERT_TRUE(c->Deliver("a").ok());
  ASSERT_TRUE(c->Deliver("b").ok());
  ASSERT_TRUE(DeliverOnce(rmc_.id, rmc_.tls, SchoolEndpoint(), "x", TestClientOptions()).ok());
  EXPECT_TRUE(Eventually([&] { return handler_.identified().size() == 2; }));
  EXPECT_EQ(handler_.identified(), (std::vector<std::string>{"wijkteam-b", "rmc-c"}));
  EXPECT_TRUE(Eventually([&] { return server_->stats().refused_pin == 1; }));
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
  wrong_versions.min_version = 8;
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
}  // namespace
}  // namespace schakel::peer
