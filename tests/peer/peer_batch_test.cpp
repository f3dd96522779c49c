// Batches (peer protocol version 3): several requests in flight on one
// connection, handed to the handler together and answered in order; one at
// a time to a partner one version behind; batches sent before the answers
// of earlier ones are read (pipelining); the limits a server holds a batch
// to. The set-up is peer_transport_support.h.
#include "peer_transport_support.h"  // includes <utility> before Asio

#include <sys/eventfd.h>
#include <unistd.h>

#include <set>

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
  // A server that takes 600 ms over a "slow" request, and a client that
  // waits 150 ms for an answer.
  PeerClient* ImpatientClientOfASlowServer() {
    StartBatchServer();
    batch_.set_slow(milliseconds(600));
    PeerClientOptions impatient = TestClientOptions();
    impatient.request_timeout = milliseconds(150);
    return NewClient(wijkteam_, SchoolEndpoint(), impatient);
  }
  // A server that takes `slow` over a "slow" request, and a client
  // connected to it (nullptr when it could not connect).
  PeerClient* ConnectedToASlowServer(milliseconds slow) {
    StartBatchServer();
    batch_.set_slow(slow);
    PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
    return c != nullptr && c->Connect().ok() ? c : nullptr;
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
  PeerClient* c = ImpatientClientOfASlowServer();
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

// --- pipelining: Send and Collect ---------------------------------------------

TEST_F(PeerBatchTest, SentBatchesAreAnsweredInOrderWhileMoreGoOut) {
  StartBatchServer();
  PeerClientOptions small = TestClientOptions();
  small.max_frame_payload_bytes = 4096;
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), small);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  ASSERT_TRUE(c->CanPipeline());
  const std::vector<std::string> first = {"a", "fail", "b"};
  const std::vector<std::string> second = {"c", std::string(5000, 'x')};  // the second over our frame limit
  PeerClient::Sent one = c->Send(Views(first));
  PeerClient::Sent two = c->Send(Views(second));
  EXPECT_EQ(one.sent, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(two.sent, std::vector<size_t>{0});
  EXPECT_EQ(two.answers[1].status().code(), Code::kInvalidInput);  // refused unsent, at once
  EXPECT_EQ(c->awaiting(), 2u);

  // Meanwhile nothing that would read an answer of its own runs, and the
  // connection is kept (the answers make it readable; it is not stale).
  EXPECT_EQ(c->Deliver("d").status().code(), Code::kInternal);
  std::vector<Result<std::string>> refused = c->DeliverBatch(Views(first));
  ASSERT_EQ(refused.size(), 3u);
  for (const auto& r : refused) EXPECT_EQ(r.status().code(), Code::kInternal);
  ASSERT_TRUE(c->Connect().ok());
  EXPECT_TRUE(c->connected());
  // Out of order: refused, and nothing is read.
  c->Collect(two);
  EXPECT_EQ(two.answers[0].status().code(), Code::kInternal);
  EXPECT_EQ(c->awaiting(), 2u);

  c->Collect(one);
  ASSERT_TRUE(one.answers[0].ok()) << one.answers[0].status().message();
  EXPECT_EQ(*one.answers[0], "receipt:wijkteam-b:a");
  EXPECT_EQ(one.answers[1].status().code(), Code::kNotFound);
  ASSERT_TRUE(one.answers[2].ok());
  EXPECT_EQ(*one.answers[2], "receipt:wijkteam-b:b");
  c->Collect(two);
  ASSERT_TRUE(two.answers[0].ok()) << two.answers[0].status().message();
  EXPECT_EQ(*two.answers[0], "receipt:wijkteam-b:c");
  EXPECT_EQ(two.answers[1].status().code(), Code::kInvalidInput);
  EXPECT_EQ(c->awaiting(), 0u);
  // One batch of three, and "c" alone (OnDeliver) unless it was there when
  // the three were read, then joined to them; the large one never went.
  EXPECT_TRUE(batch_.sizes() == std::vector<size_t>{3} || batch_.sizes() == std::vector<size_t>{4})
      << ::testing::PrintToString(batch_.sizes());
  EXPECT_EQ(server_->stats().requests, 4u);
  // The connection goes on as before.
  auto after = c->Deliver("d");
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(*after, "receipt:wijkteam-b:d");
}

TEST_F(PeerBatchTest, ManySentBeforeAnyIsCollectedKeepTheirBatchesAndOrder) {
  StartBatchServer();
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  // Three rounds of 40 (32 + 8 each) written before any answer is read: the
  // answers (small, as receipts are) wait in the socket meanwhile.
  std::vector<std::vector<std::string>> rounds(3);
  std::vector<PeerClient::Sent> sent;
  for (size_t r = 0; r < rounds.size(); ++r) {
    for (int i = 0; i < 40; ++i)
      rounds[r].push_back(std::to_string(r) + "-" + std::to_string(i) + std::string(100, 'p'));
    sent.push_back(c->Send(Views(rounds[r])));
    ASSERT_EQ(sent.back().sent.size(), 40u);
  }
  for (size_t r = 0; r < rounds.size(); ++r) {
    c->Collect(sent[r]);
    for (size_t i = 0; i < rounds[r].size(); ++i) {
      ASSERT_TRUE(sent[r].answers[i].ok()) << r << "/" << i << ": " << sent[r].answers[i].status().message();
      EXPECT_EQ(*sent[r].answers[i], "receipt:wijkteam-b:" + rounds[r][i]);
    }
  }
  // Sent as batches of 32 and 8; the server may join a batch with those
  // already there when it reads it (BatchesThatArriveMeanwhileAreHandledTogether),
  // never splitting one, to at most 63 requests.
  std::set<size_t> sent_ends = {32, 40, 72, 80, 112, 120};
  size_t handed = 0;
  for (size_t size : batch_.sizes()) {
    EXPECT_LE(size, 2 * kMaxBatchEnvelopes - 1);
    handed += size;
    EXPECT_EQ(sent_ends.count(handed), 1u) << "a sent batch was split at " << handed;
  }
  EXPECT_EQ(handed, 120u);
}

// The server joins batches that arrived while it handled the one before
// (group commit at the recipient): the handler gets them together, and the
// answers still come one per request, in the order sent.
TEST_F(PeerBatchTest, BatchesThatArriveMeanwhileAreHandledTogether) {
  PeerClient* c = ConnectedToASlowServer(milliseconds(300));
  ASSERT_NE(c, nullptr);
  const std::vector<std::string> first = {"slow", "a"}, second = {"b", "fail"}, third = {"c"};
  PeerClient::Sent one = c->Send(Views(first));
  // The first is read and handled (it counts once its handling begins)
  // before the others are written.
  ASSERT_TRUE(Eventually([&] { return server_->stats().requests >= 2; }, milliseconds(5000)));
  PeerClient::Sent two = c->Send(Views(second));
  PeerClient::Sent three = c->Send(Views(third));
  ASSERT_EQ(c->awaiting(), 3u);
  c->Collect(one);
  c->Collect(two);
  c->Collect(three);
  ASSERT_TRUE(one.answers[0].ok() && one.answers[1].ok());
  EXPECT_EQ(*one.answers[0], "receipt:wijkteam-b:slow");
  EXPECT_EQ(*one.answers[1], "receipt:wijkteam-b:a");
  ASSERT_TRUE(two.answers[0].ok());
  EXPECT_EQ(*two.answers[0], "receipt:wijkteam-b:b");
  EXPECT_EQ(two.answers[1].status().code(), Code::kNotFound);
  ASSERT_TRUE(three.answers[0].ok());
  EXPECT_EQ(*three.answers[0], "receipt:wijkteam-b:c");
  // The second and third were written long before the first's 300 ms ended.
  EXPECT_EQ(batch_.sizes(), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(server_->stats().batches, 2u);
  EXPECT_EQ(server_->stats().requests, 5u);
}

// A full batch is not joined: what the handler gets stays bounded.
TEST_F(PeerBatchTest, AFullBatchIsHandledAlone) {
  PeerClient* c = ConnectedToASlowServer(milliseconds(200));
  ASSERT_NE(c, nullptr);
  std::vector<std::string> full = {"slow"};
  while (full.size() < kMaxBatchEnvelopes) full.push_back("f" + std::to_string(full.size()));
  const std::vector<std::string> small = {"x", "y"};
  PeerClient::Sent one = c->Send(Views(full));
  PeerClient::Sent two = c->Send(Views(small));
  c->Collect(one);
  c->Collect(two);
  for (const auto& a : one.answers) EXPECT_TRUE(a.ok()) << a.status().message();
  for (const auto& a : two.answers) EXPECT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(batch_.sizes(), (std::vector<size_t>{kMaxBatchEnvelopes, 2}));
}

// AwaitAnswers (the lane's wait, delivery_lanes.cpp): a wake-up, a timeout
// and answers that are here, told apart; answers OpenSSL took in with the
// ones before count as here although the socket is quiet.
TEST_F(PeerBatchTest, AwaitAnswersTellsAnswersFromAWakeUpAndATimeout) {
  PeerClient* c = ConnectedToASlowServer(milliseconds(400));
  ASSERT_NE(c, nullptr);
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  EXPECT_EQ(c->AwaitAnswers(wake, milliseconds(0)), PeerClient::Ready::kAnswers);  // nothing awaited
  const std::vector<std::string> slow = {"slow"}, quick = {"q"};
  PeerClient::Sent one = c->Send(Views(slow));
  EXPECT_EQ(c->AwaitAnswers(wake, milliseconds(50)), PeerClient::Ready::kTimedOut);
  uint64_t poke = 1;
  ASSERT_EQ(::write(wake, &poke, sizeof poke), static_cast<ssize_t>(sizeof poke));
  EXPECT_EQ(c->AwaitAnswers(wake, milliseconds(5000)), PeerClient::Ready::kWoken);
  // The poke was taken: the next wait is not woken by it.
  EXPECT_EQ(c->AwaitAnswers(wake, milliseconds(0)), PeerClient::Ready::kTimedOut);
  PeerClient::Sent two = c->Send(Views(quick));
  EXPECT_EQ(c->AwaitAnswers(-1, milliseconds(5000)), PeerClient::Ready::kAnswers);
  // Once the second is answered too, reading the first takes in the
  // second with it (or, should TCP have split them, the socket has it).
  ASSERT_TRUE(Eventually([&] { return server_->stats().requests >= 2; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(50));
  c->Collect(one);
  ASSERT_TRUE(one.answers[0].ok()) << one.answers[0].status().message();
  EXPECT_EQ(c->AwaitAnswers(-1, milliseconds(0)), PeerClient::Ready::kAnswers);
  c->Collect(two);
  ASSERT_TRUE(two.answers[0].ok()) << two.answers[0].status().message();
  EXPECT_EQ(*two.answers[0], "receipt:wijkteam-b:q");
  ::close(wake);
}

TEST_F(PeerBatchTest, ALostConnectionFailsEveryAnswerStillAwaited) {
  PeerClient* c = ImpatientClientOfASlowServer();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  const std::vector<std::string> first = {"slow", "a"}, second = {"b", "c"};
  PeerClient::Sent one = c->Send(Views(first));
  PeerClient::Sent two = c->Send(Views(second));
  ASSERT_EQ(c->awaiting(), 2u);
  c->Collect(one);  // the deadline passes while the first is handled
  for (const auto& a : one.answers) EXPECT_EQ(a.status().code(), Code::kUnavailable) << a.status().message();
  EXPECT_FALSE(c->connected());
  c->Collect(two);
  for (const auto& a : two.answers) {
    EXPECT_EQ(a.status().code(), Code::kUnavailable);
    EXPECT_NE(a.status().message().find("the connection ended before the answers came"), std::string::npos)
        << a.status().message();
  }
  EXPECT_EQ(c->awaiting(), 0u);
  // Nothing is sent on a closed connection; the next plain call reconnects.
  PeerClient::Sent none = c->Send(Views(second));
  EXPECT_TRUE(none.sent.empty());
  EXPECT_EQ(none.answers[0].status().code(), Code::kUnavailable);
  batch_.set_slow(milliseconds(1));
  std::vector<Result<std::string>> answers = c->DeliverBatch(Views(second));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].ok() && answers[1].ok());
}

TEST_F(PeerBatchTest, AnInterruptedClientReadsNoMoreAnswers) {
  StartBatchServer();
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  const std::vector<std::string> first = {"a", "b"}, second = {"c", "d"};
  PeerClient::Sent one = c->Send(Views(first));
  PeerClient::Sent two = c->Send(Views(second));
  ASSERT_EQ(c->awaiting(), 2u);
  c->Interrupt();  // the node stops
  c->Collect(one);
  c->Collect(two);
  for (const PeerClient::Sent* s : {&one, &two}) {
    for (const auto& a : s->answers) {
      EXPECT_EQ(a.status().code(), Code::kUnavailable);
      EXPECT_NE(a.status().message().find("interrupted"), std::string::npos) << a.status().message();
    }
  }
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(c->awaiting(), 0u);
  EXPECT_EQ(c->DeliverBatch(Views(first))[0].status().code(), Code::kUnavailable);
}

TEST_F(PeerBatchTest, APartnerOneVersionBehindIsNotPipelined) {
  StartBatchServer();
  PeerClientOptions older = TestClientOptions();
  older.max_version = kPeerProtocolBatchVersion - 1;
  PeerClient* c = NewClient(wijkteam_, SchoolEndpoint(), older);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Connect().ok());
  EXPECT_FALSE(c->CanPipeline());
  const std::vector<std::string> payloads = {"a", "b"};
  PeerClient::Sent s = c->Send(Views(payloads));
  EXPECT_TRUE(s.sent.empty());
  EXPECT_EQ(s.answers[0].status().code(), Code::kUnavailable);
  EXPECT_EQ(c->awaiting(), 0u);
  EXPECT_EQ(batch_.calls(), 0);
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
