// Batches (peer protocol version 3): several requests in flight on one
// connection, handed to the handler together and answered in order; one at
// a time to a partner one version behind; the limits a server holds a
// batch to. The set-up is peer_transport_support.h.
#include "peer_transport_support.h"  // includes <utility> before Asio

namespace schakel::peer {
namespace {

// Records the size of every batch it is handed, then answers as TestHandler.
class BatchHandler : public TestHandler {
 public:
  std::vector<Result<std::string>> OnDeliverBatch(const std::string& peer_node_id, uint16_t protocol_version,
                                                  const std::vector<std::string>& payloads) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sizes_.push_back(payloads.size());
    }
    return PeerHandler::OnDeliverBatch(peer_node_id, protocol_version, payloads);
  }
  std::vector<size_t> sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sizes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<size_t> sizes_;
};

class PeerBatchTest : public PeerTransportTest {
 protected:
  void StartBatchServer(const PeerServerOptions& options = TestServerOptions()) {
    Result<std::unique_ptr<PeerServer>> s = PeerServer::Start(school_.id, school_.tls, Partners(), batch_, options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
  }
  static std::vector<std::string_view> Views(const std::vector<std::string>& payloads) {
    return std::vector<std::string_view>(payloads.begin(), payloads.end());
  }
  BatchHandler batch_;
};

TEST_F(PeerBatchTest, ABatchIsHandledTogetherAndAnsweredInOrder) {
  StartBatchServer();
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  const std::vector<std::string> payloads = {"a", "fail", "b", std::string(5000, 'c')};
  std::vector<Result<std::string>> answers = c->DeliverBatch(Views(payloads));
  ASSERT_EQ(answers.size(), 4u);
  ASSERT_TRUE(answers[0].ok()) << answers[0].status().message();
  EXPECT_EQ(*answers[0], "receipt:wijkteam-b:a");
  // A FAILURE answers its own request only.
  EXPECT_EQ(answers[1].status().code(), Code::kNotFound);
  ASSERT_TRUE(answers[2].ok());
  EXPECT_EQ(*answers[2], "receipt:wijkteam-b:b");
  ASSERT_TRUE(answers[3].ok());
  EXPECT_EQ(*answers[3], "receipt:wijkteam-b:" + payloads[3]);
  EXPECT_TRUE(c->connected());
  EXPECT_EQ(c->protocol_version(), kPeerProtocolMaxVersion);  // batches from version 3 on
  EXPECT_EQ(batch_.sizes(), std::vector<size_t>{4});
  EXPECT_EQ(server_->stats().requests, 4u);
  EXPECT_EQ(server_->stats().batches, 1u);
  // The connection goes on: a single request, then an empty batch.
  ASSERT_TRUE(c->Deliver("d").ok());
  EXPECT_TRUE(c->DeliverBatch({}).empty());
  EXPECT_EQ(batch_.sizes(), std::vector<size_t>{4});
}

TEST_F(PeerBatchTest, APartnerOneVersionBehindGetsOneRequestAtATime) {
  StartBatchServer();
  PeerClientOptions older = TestClientOptions();
  older.max_version = kPeerProtocolBatchVersion - 1;
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), older);
  ASSERT_NE(c, nullptr);
  const std::vector<std::string> payloads = {"a", "fail", "b"};
  std::vector<Result<std::string>> answers = c->DeliverBatch(Views(payloads));
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(answers[0].ok() && answers[2].ok());
  EXPECT_EQ(answers[1].status().code(), Code::kNotFound);
  EXPECT_EQ(c->protocol_version(), kPeerProtocolBatchVersion - 1);
  EXPECT_TRUE(batch_.sizes().empty());
  EXPECT_EQ(server_->stats().batches, 0u);
  EXPECT_EQ(batch_.calls(), 3);
}

TEST_F(PeerBatchTest, BatchesKeepToTheirLimitsAndALargeRequestGoesAlone) {
  StartBatchServer();
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  std::vector<std::string> payloads;
  payloads.reserve(44);
  for (int i = 0; i < 40; ++i) payloads.push_back("m" + std::to_string(i));
  payloads.emplace_back(kMaxBatchBytes + 1, 'L');  // alone
  payloads.emplace_back("after");
  payloads.emplace_back(kMaxBatchBytes / 2, 'h');
  payloads.emplace_back(kMaxBatchBytes / 2, 'i');  // does not fit beside the one before
  std::vector<Result<std::string>> answers = c->DeliverBatch(Views(payloads));
  ASSERT_EQ(answers.size(), payloads.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status().message();
    EXPECT_EQ(*answers[i], "receipt:wijkteam-b:" + payloads[i]) << i;
  }
  // 32 + 8; the large one by itself (OnDeliver); "after" with the first half; the second half.
  EXPECT_EQ(batch_.sizes(), (std::vector<size_t>{kMaxBatchEnvelopes, 8, 2}));
  EXPECT_EQ(server_->stats().requests, payloads.size());
}

TEST_F(PeerBatchTest, ALostConnectionFailsEveryRequestNotAnswered) {
  StartBatchServer();
  batch_.set_slow(milliseconds(600));
  PeerClientOptions impatient = TestClientOptions();
  impatient.request_timeout = milliseconds(150);
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), impatient);
  ASSERT_NE(c, nullptr);
  const std::vector<std::string> payloads = {"a", "slow", "b"};
  std::vector<Result<std::string>> answers = c->DeliverBatch(Views(payloads));
  ASSERT_EQ(answers.size(), 3u);
  // The batch is answered only once all of it is handled: nothing came back.
  for (const Result<std::string>& a : answers) EXPECT_EQ(a.status().code(), Code::kUnavailable);
  EXPECT_FALSE(c->connected());
  // The next call reconnects.
  batch_.set_slow(milliseconds(1));
  const std::vector<std::string> again = {"c", "d"};
  answers = c->DeliverBatch(Views(again));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].ok() && answers[1].ok());
}

// --- what a server refuses ----------------------------------------------------

TEST_F(PeerBatchTest, ABatchOfTooManyRequestsIsAProtocolViolation) {
  StartBatchServer();
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);
  for (size_t i = 0; i < kMaxBatchEnvelopes; ++i) {
    ASSERT_FALSE(raw->WriteFrame(FrameType::kDeliverMore, "x"));
  }
  RawClient::Frame f = raw->ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kProtocolViolation)) << f.payload;
  EXPECT_EQ(batch_.calls(), 0);
  EXPECT_EQ(server_->stats().protocol_errors, 1u);
}

TEST_F(PeerBatchTest, ABatchOverItsByteLimitIsRefusedBeforeItIsRead) {
  StartBatchServer();
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw = RawPartner(ctx, verifier);
  ASSERT_FALSE(raw->WriteFrame(FrameType::kDeliverMore, std::string(kMaxBatchBytes - 10, 'x')));
  // The next one's header alone is over what is left.
  auto header = EncodeFrameHeader(FrameType::kDeliver, 11);
  ASSERT_FALSE(raw->WriteTls(std::string(header.begin(), header.end())));
  RawClient::Frame f = raw->ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kFrameTooLarge)) << f.payload;
  EXPECT_EQ(batch_.calls(), 0);

  // A DELIVER_MORE larger than a batch may be is refused too.
  PeerVerifier verifier2(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  std::unique_ptr<RawClient> raw2 = RawPartner(ctx, verifier2);
  ASSERT_FALSE(raw2->WriteFrame(FrameType::kDeliverMore, std::string(kMaxBatchBytes + 1, 'x')));
  f = raw2->ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kProtocolViolation)) << f.payload;
  EXPECT_EQ(batch_.calls(), 0);
}

TEST_F(PeerBatchTest, DeliverMoreOnAVersion2ConnectionIsAProtocolViolation) {
  StartBatchServer();
  asio::ssl::context ctx = ClientContext(wijkteam_);
  PeerVerifier verifier(ExpectOnePin(school_.tls.spki_sha256, school_.id));
  RawClient raw(&ctx);
  ASSERT_FALSE(raw.ConnectTcp(server_->local_address().port));
  ASSERT_FALSE(raw.Handshake(&verifier));
  Hello h;
  h.node_id = wijkteam_.id;
  h.max_version = kPeerProtocolBatchVersion - 1;
  ASSERT_FALSE(raw.WriteFrame(FrameType::kHello, EncodeHello(h)));
  RawClient::Frame hello = raw.ReadFrame();
  ASSERT_EQ(hello.type, static_cast<uint8_t>(FrameType::kHello));
  ASSERT_FALSE(raw.WriteFrame(FrameType::kDeliverMore, "x"));
  RawClient::Frame f = raw.ReadFrame(milliseconds(1000));
  EXPECT_EQ(ErrorCodeOf(f), static_cast<uint16_t>(PeerErrorCode::kProtocolViolation)) << f.payload;
  EXPECT_EQ(batch_.calls(), 0);
}

}  // namespace
}  // namespace schakel::peer
