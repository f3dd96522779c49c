// The peer transport's limits over loopback: timeouts (slow and idle peers,
// silent servers), the connection caps, shutdown with open connections, and
// bad options. The set-up is peer_transport_support.h.
#include "peer_transport_support.h"  // includes <utility> before Asio

namespace schakel::peer {
namespace {

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
  PeerEndpoint to{school_.id, "127.0.0.1", silent.local_endpoint().port(), school_.tls.spki_sha256, std::nullopt};
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

// Issue #25 (1): 300 strangers from 20 networks hold half-open handshakes
// (TCP, never a TLS byte). They get at most max_stranger_connections slots;
// once they have had stranger_grace, a partner's connection takes the place
// of the oldest, and five deliveries in a row go through. The refusals are
// logged at most once a minute per network.
TEST_F(PeerTransportTest, PartnersDeliverWhileThreeHundredStrangersHoldHalfOpenHandshakes) {
  PeerServerOptions o = TestServerOptions();
  o.handshake_timeout = milliseconds(30000);  // the strangers stay put
  o.stranger_grace = milliseconds(1500);
  o.max_connections = 256;  // the defaults
  o.max_stranger_connections = 192;
  o.max_connections_per_address = 16;
  StartServer(o);
  uint16_t port = server_->local_address().port;
  std::vector<std::unique_ptr<RawClient>> strangers;
  for (int net = 0; net < 20; ++net) {
    for (int host = 1; host <= 15; ++host) {
      auto c = std::make_unique<RawClient>(nullptr);
      const std::string from = "127." + std::to_string(10 + net) + ".0." + std::to_string(host);
      ASSERT_FALSE(c->ConnectTcp(port, from)) << from;
      strangers.push_back(std::move(c));
    }
  }
  ASSERT_TRUE(Eventually([&] {
    PeerServerStats s = server_->stats();
    return s.accepted + s.refused_capacity >= 300;
  }));
  PeerServerStats flooded = server_->stats();
  EXPECT_LE(flooded.active, o.max_stranger_connections);
  EXPECT_GE(flooded.refused_capacity, 300u - o.max_stranger_connections - flooded.evicted_strangers);

  std::this_thread::sleep_for(o.stranger_grace + milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    Result<std::string> r = DeliverOnce(wijkteam_.id, wijkteam_.tls, SchoolEndpoint(), "delivery " + std::to_string(i),
                                        TestClientOptions());
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().message();
    EXPECT_EQ(*r, "receipt:wijkteam-b:delivery " + std::to_string(i));
  }
  // The first took a stranger's place; once identified it held a
  // partner's slot, so the next ones found room.
  PeerServerStats after = server_->stats();
  EXPECT_GE(after.evicted_strangers, 1u);
  EXPECT_LE(after.refusal_log_lines, 20u) << after.refused_capacity << " refusals";
}

// A stranger that is still within its grace is not pushed out: at the cap
// the new connection is refused instead, and the refusals from one network
// make one log line.
TEST_F(PeerTransportTest, AtTheStrangersCapAFreshStrangerStaysAndTheNewOneIsRefused) {
  PeerServerOptions o = TestServerOptions();
  o.handshake_timeout = milliseconds(30000);
  o.max_stranger_connections = 4;
  o.stranger_grace = milliseconds(30000);
  StartServer(o);
  uint16_t port = server_->local_address().port;
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 1; i <= 4; ++i) {
    held.push_back(std::make_unique<RawClient>(nullptr));
    ASSERT_FALSE(held.back()->ConnectTcp(port, "127.0.0." + std::to_string(i)));
  }
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 4; }));
  for (int i = 0; i < 10; ++i) {
    RawClient extra(nullptr);
    ASSERT_FALSE(extra.ConnectTcp(port, "127.0.0.9"));
    EXPECT_TRUE(extra.TcpClosedWithin(milliseconds(1000))) << i;
  }
  PeerServerStats s = server_->stats();
  EXPECT_EQ(s.refused_capacity, 10u);
  EXPECT_EQ(s.evicted_strangers, 0u);
  EXPECT_EQ(s.refusal_log_lines, 1u);
  EXPECT_EQ(s.active, 4u);
}

// Many addresses of one /24 count as one source.
TEST_F(PeerTransportTest, PerNetworkCapCountsTheAddressesOfOneNetworkTogether) {
  PeerServerOptions o = TestServerOptions();
  o.handshake_timeout = milliseconds(30000);
  o.max_connections_per_prefix = 3;
  StartServer(o);
  uint16_t port = server_->local_address().port;
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 1; i <= 3; ++i) {
    held.push_back(std::make_unique<RawClient>(nullptr));
    ASSERT_FALSE(held.back()->ConnectTcp(port, "127.0.0." + std::to_string(i)));
  }
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 3; }));
  RawClient fourth(nullptr);
  ASSERT_FALSE(fourth.ConnectTcp(port, "127.0.0.4"));
  EXPECT_TRUE(fourth.TcpClosedWithin(milliseconds(1000)));
  EXPECT_EQ(server_->stats().refused_capacity, 1u);
  // Another network is let in.
  RawClient elsewhere(nullptr);
  ASSERT_FALSE(elsewhere.ConnectTcp(port, "127.0.1.1"));
  ASSERT_TRUE(Eventually([&] { return server_->stats().active == 4; }));
  EXPECT_EQ(server_->stats().refused_capacity, 1u);
}

// Issue #25 (3): a partner announces eight large frames on eight
// connections and sends only part of each. Nothing is allocated ahead of
// the bytes, the node holds at most the partner's half of the budget, the
// frames that do not fit wait (their sender is slowed), another partner is
// served meanwhile, and once the bytes come every frame is answered.
TEST_F(PeerTransportTest, MemoryFollowsTheBytesWithinTheBudgetWhileAPartnerDripsEightLargeFrames) {
  PeerServerOptions o = TestServerOptions();
  o.max_frame_payload_bytes = size_t{1} << 20;
  o.max_buffered_bytes = size_t{4} << 20;  // a partner: 2 MiB
  o.max_connections_per_peer = 8;
  o.handshake_timeout = milliseconds(5000);
  o.frame_timeout = milliseconds(30000);
  o.idle_timeout = milliseconds(30000);
  StartServer(o);
  asio::ssl::context ctx = ClientContext(wijkteam_);
  const size_t frame = (size_t{1} << 20) - 32;  // its receipt still fits a frame
  const size_t first = 600 * 1024;
  std::vector<std::unique_ptr<PeerVerifier>> verifiers;
  std::vector<std::unique_ptr<RawClient>> drips;
  for (int i = 0; i < 8; ++i) {
    verifiers.push_back(std::make_unique<PeerVerifier>(ExpectOnePin(school_.tls.spki_sha256, school_.id)));
    drips.push_back(RawPartner(ctx, *verifiers.back()));
    ASSERT_TRUE(drips.back());
  }
  auto header = EncodeFrameHeader(FrameType::kDeliver, static_cast<uint32_t>(frame));
  for (auto& d : drips) {
    // Loopback buffers take it whether or not the server reads.
    EXPECT_FALSE(d->WriteTls(std::string(header.begin(), header.end()) + std::string(first, 'd')));
  }
  std::this_thread::sleep_for(milliseconds(500));
  PeerServerStats held = server_->stats();
  EXPECT_GT(held.buffered_bytes, 0u);
  EXPECT_LE(held.buffered_peak, o.max_buffered_bytes / 2) << "over the partner's share";

  // Another partner is not held up.
  Result<std::string> other = DeliverOnce(rmc_.id, rmc_.tls, SchoolEndpoint(), "meanwhile", TestClientOptions());
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(*other, "receipt:rmc-c:meanwhile");

  std::vector<std::thread> rest;
  std::atomic<int> answered{0};
  for (auto& d : drips) {
    rest.emplace_back([&, raw = d.get()] {
      if (raw->WriteTls(std::string(frame - first, 'd'), milliseconds(20000))) return;
      RawClient::Frame f = raw->ReadFrame(milliseconds(20000));
      if (!f.ec && f.type == static_cast<uint8_t>(FrameType::kResponse) && f.payload.size() == frame + 19) ++answered;
    });
  }
  for (auto& t : rest) t.join();
  EXPECT_EQ(answered.load(), 8);
  PeerServerStats after = server_->stats();
  EXPECT_LE(after.buffered_peak, o.max_buffered_bytes / 2);
  EXPECT_TRUE(Eventually([&] { return server_->stats().buffered_bytes == 0; }));
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
}  // namespace
}  // namespace schakel::peer
