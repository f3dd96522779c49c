// The sender's trace context on peer protocol 5 (docs/envelope.md "Trace
// context"), end to end against a running wijkteam-b: the test plays
// school-a with school-a's own keys (as RecipientGateTest does), delivering
// wrapped and bare envelopes at protocol versions 5 and 4.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/node_card.h"
#include "schakel/peer/peer_client.h"
#include "schakel/peer/trace_context.h"
#include "schakel/store/records.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::Federation;
using testing::TempDir;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

constexpr char kContentType[] = "application/vnd.schakel.case+json";
constexpr char kAllowedBody[] =
    R"({"case_id":"c-1","student_id":"stu-77","birth_date":"2012-05-01","hulpvraag":{"q":"MARKER-allowed"}})";

class TraceContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("team", "wijkteam-b", "wijkteam");
    ASSERT_NO_FATAL_FAILURE(fed_.Pair("school", "team"));
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "auditor", "auditor"));
    // school-a's keys, as its daemon would hold them.
    auto db = testing::OpenNodeDb(fed_["school"].dir);
    ASSERT_NE(db, nullptr);
    auto identity = store::LoadIdentity(*db);
    ASSERT_TRUE(identity.ok()) << identity.status().message();
    school_identity_ = std::move(identity).value();
    auto tls = store::LoadCurrentTls(*db);
    ASSERT_TRUE(tls.ok()) << tls.status().message();
    school_tls_ = std::move(tls).value();
    auto card = crypto::ParseNodeCard(testing::ReadAll(fed_["team"].dir + "/node-card.json"));
    ASSERT_TRUE(card.ok()) << card.status().message();
    team_card_ = *card;
  }

  std::string Seal(const std::string& message_id, const std::string& body,
                   const std::string& purpose = "doorverwijzing",
                   std::chrono::hours keep = std::chrono::hours(24 * 30)) {
    crypto::EnvelopeHeader h;
    h.message_id = message_id;
    h.sender_id = "school-a";
    h.recipient_id = "wijkteam-b";
    h.created = SystemClock().Now();
    h.retain_until = h.created + keep;
    h.purpose = purpose;
    h.content_type = kContentType;
    auto sealed = crypto::Seal(h, body, school_identity_, team_card_.enc_pk);
    EXPECT_TRUE(sealed.ok()) << sealed.status().message();
    return sealed.ok() ? *sealed : std::string();
  }

  // One DELIVER as school-a, offering protocol versions up to max_version.
  Result<std::string> Deliver(const std::string& payload, uint16_t max_version = peer::kPeerProtocolMaxVersion) {
    auto addr = config::ParseAddress(team_card_.address);
    if (!addr.ok()) return addr.status();
    peer::PeerEndpoint ep{team_card_.node_id, addr->host, addr->port, team_card_.tls_spki_sha256, std::nullopt};
    peer::PeerClientOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.request_timeout = std::chrono::seconds(10);
    options.max_version = max_version;
    return peer::DeliverOnce("school-a", school_tls_, ep, payload, options);
  }

  bool IsReceiptFor(const Result<std::string>& answer, const std::string& message_id) {
    if (!answer.ok()) return false;
    auto receipt = crypto::DecodeReceipt(*answer);
    return receipt.ok() && receipt->message_id == message_id;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  crypto::SigningKeyPair school_identity_;
  crypto::TlsIdentity school_tls_;
  crypto::NodeCard team_card_;
};

// The sender's trace context (peer protocol 5): the recipient records it
// in inbox.received's reason, so its LDV record names the sender's
// operation. A partner one version behind sends a bare envelope and is
// received as before, without a foreign operation; a trace context on an
// older connection, or a malformed one, is refused.
TEST_F(TraceContextTest, FromAVersionFiveSenderAndNoneFromOneVersionBehind) {
  fed_.StartNode("team");
  audit::TraceContext tc = audit::ShareTraceContext("school-a", "msg-traced");
  auto traced = Deliver(peer::WrapTraced(tc, Seal("msg-traced", kAllowedBody)));
  EXPECT_TRUE(IsReceiptFor(traced, "msg-traced")) << (traced.ok() ? "not a receipt" : traced.status().message());
  auto old = Deliver(Seal("msg-v4", kAllowedBody), 4);
  EXPECT_TRUE(IsReceiptFor(old, "msg-v4")) << (old.ok() ? "not a receipt" : old.status().message());
  auto wrong_version = Deliver(peer::WrapTraced(tc, Seal("msg-wrapped-v4", kAllowedBody)), 4);
  ASSERT_FALSE(wrong_version.ok());
  EXPECT_NE(wrong_version.status().message().find("peer protocol 5"), std::string::npos)
      << wrong_version.status().message();
  std::string bad = peer::WrapTraced(tc, Seal("msg-bad-trace", kAllowedBody));
  bad[6] = 'X';  // the traceparent's version digits
  auto malformed = Deliver(bad);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("traceparent"), std::string::npos) << malformed.status().message();

  auto log = fed_.AsJson("team", "auditor", {"audit", "query", "--action", "inbox.received"});
  std::map<std::string, std::string> reasons;
  for (const auto& e : log["entries"]) reasons[e["object"].get<std::string>()] = e["reason"].get<std::string>();
  EXPECT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons["msg-traced"], "traceparent=" + audit::FormatTraceparent(tc));
  EXPECT_EQ(reasons["msg-v4"], "");

  auto ldv = fed_.As("team", "auditor", {"audit", "export", "--format", "ldv"});
  ASSERT_EQ(ldv.code, 0) << ldv.err;
  std::map<std::string, json> received;
  for (const std::string& line : Lines(ldv.out)) {
    json rec = json::parse(line);
    if (rec["name"] == "inbox.received") received[rec["attributes"]["schakel.message_id"].get<std::string>()] = rec;
  }
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received["msg-traced"]["foreign_operation"]["operation_id"], ToHex(tc.operation_id));
  EXPECT_EQ(received["msg-traced"]["foreign_operation"]["entity_id"], "urn:schakel:node:school-a");
  EXPECT_EQ(received["msg-traced"]["trace_id"], ToHex(tc.trace_id));
  EXPECT_FALSE(received["msg-v4"].contains("foreign_operation"));
  EXPECT_EQ(received["msg-v4"]["trace_id"], ToHex(audit::ShareTraceId("school-a", "msg-v4")));
  EXPECT_EQ(ldv.out.find("stu-77"), std::string::npos);  // the student only as a pseudonym
}

}  // namespace
}  // namespace schakel
