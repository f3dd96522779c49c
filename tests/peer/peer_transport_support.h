// Shared by the peer transport tests (peer_transport_test.cpp,
// peer_transport_limits_test.cpp): test nodes with TLS identities, a handler
// that answers receipts, a bounded wait, a hand-driven raw client for the
// misbehaving peers, and the PeerTransportTest fixture (a school's server
// with its partners and clients).
//
// Every server binds 127.0.0.1:0; timeouts are short (hundreds of ms) and
// every wait is bounded in count and time.
#pragma once

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

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ErrorCode = boost::system::error_code;

struct Node {
  std::string id;
  crypto::TlsIdentity tls;
};

inline Node MakeNode(const std::string& id) {
  Result<crypto::TlsIdentity> tls = crypto::GenerateTlsIdentity(id);
  EXPECT_TRUE(tls.ok()) << tls.status().message();
  return Node{id, std::move(tls).value()};
}

// Answers "receipt:<peer>:<payload>"; "fail" gets a NotFound; "slow" sleeps.
class TestHandler : public PeerHandler {
 public:
  Result<std::string> OnDeliver(const std::string& peer_node_id, uint16_t protocol_version,
                                std::string_view payload) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      peers_.push_back(peer_node_id);
      versions_.push_back(protocol_version);
    }
    if (payload == "fail") return Status::NotFound("no such message");
    if (payload == "slow") std::this_thread::sleep_for(slow_);
    return "receipt:" + peer_node_id + ":" + std::string(payload);
  }
  void OnIdentified(const std::string& peer_node_id) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    identified_.push_back(peer_node_id);
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // The partners that identified themselves, one entry per connection.
  std::vector<std::string> identified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return identified_;
  }
  std::vector<std::string> peers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peers_;
  }
  // The negotiated protocol version of each call's connection.
  std::vector<uint16_t> versions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return versions_;
  }
  void set_slow(milliseconds d) { slow_ = d; }

 private:
  mutable std::mutex mu_;
  int calls_ = 0;
  std::vector<std::string> peers_;
  std::vector<uint16_t> versions_;
  std::vector<std::string> identified_;
  milliseconds slow_{300};
};

// Waits (bounded) until `done` holds.
inline bool Eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(2000)) {
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
  ErrorCode WriteTls(const std::string& bytes, milliseconds limit = milliseconds(2000)) {
    return RunFor(limit, [&](auto done) { asio::async_write(*stream_, asio::buffer(bytes), done); });
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
    return PeerEndpoint{school_.id, "127.0.0.1", server_->local_address().port, school_.tls.spki_sha256, std::nullopt};
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

}  // namespace schakel::peer
