// The recipient's gate (docs/consent.md "The recipient's gate"), end to end.
//
// A hostile partner: the test plays school-a itself, with school-a's own
// keys (the node is initialised and paired, its daemon never runs), sealing
// envelopes that its consent engine would never produce and delivering them
// to a running wijkteam-b over the peer protocol. Each one the gate refuses
// comes back as a signed refusal with its code (or, to a version-1 client, a
// FAILURE "refused: <code>"), leaves nothing in the inbox and is audited
// `inbox.refused`. Then two real nodes: a share the recipient refuses
// becomes `refused` at the sender, with the code and `share.refused`; and a
// partner whose refusal is not signed by its key gets the share again.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/audit/witness.h"
#include "schakel/crypto/directory.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/node_card.h"
#include "schakel/peer/card_announce.h"
#include "schakel/peer/directory_announce.h"
#include "schakel/peer/peer_client.h"
#include "schakel/peer/peer_server.h"
#include "schakel/peer/trace_context.h"
#include "schakel/store/directories.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

constexpr char kContentType[] = "application/vnd.schakel.case+json";
// A summary within the doorverwijzing flow (school -> wijkteam) of the
// built-in protocol; the marker lets the test look for its plaintext.
constexpr char kAllowedBody[] =
    R"({"case_id":"c-1","student_id":"stu-77","birth_date":"2012-05-01","hulpvraag":{"q":"MARKER-allowed"}})";
// The same with justitie, which that flow does not carry.
constexpr char kJustitieBody[] =
    R"({"case_id":"c-1","student_id":"stu-77","birth_date":"2012-05-01","hulpvraag":{"q":"MARKER-justitie"},)"
    R"("justitie":{"notes":"MARKER-justitie"}})";

class RecipientGateTest : public ::testing::Test {
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

  // Sets TABLE.KEY in the team's schakel.toml (before it starts), in the
  // table `schakel init` wrote or a new one.
  void SetTeamConfig(const std::string& table, const std::string& key, const std::string& value) {
    std::string path = fed_["team"].dir + "/schakel.toml";
    std::string cfg = testing::ReadAll(path);
    std::string line = key + " = " + value;
    size_t head = cfg.find("[" + table + "]");
    if (head == std::string::npos) {
      cfg += "\n[" + table + "]\n" + line + "\n";
    } else {
      size_t end = cfg.find("\n[", head + 1);
      size_t at = cfg.find("\n" + key + " = ", head);
      if (at != std::string::npos && (end == std::string::npos || at < end)) {
        cfg.replace(at + 1, cfg.find('\n', at + 1) - at - 1, line);
      } else {
        cfg.insert(cfg.find('\n', head) + 1, line + "\n");
      }
    }
    testing::WriteAll(path, cfg);
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

  // Where the team listens, pinned to its card; and a client's limits.
  Result<peer::PeerEndpoint> TeamEndpoint() {
    auto addr = config::ParseAddress(team_card_.address);
    if (!addr.ok()) return addr.status();
    return peer::PeerEndpoint{team_card_.node_id, addr->host, addr->port, team_card_.tls_spki_sha256, std::nullopt};
  }
  static peer::PeerClientOptions ClientOptions(uint16_t max_version = peer::kPeerProtocolMaxVersion) {
    peer::PeerClientOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.request_timeout = std::chrono::seconds(10);
    options.max_version = max_version;
    return options;
  }

  // One DELIVER as school-a, offering protocol versions up to max_version.
  Result<std::string> Deliver(const std::string& payload, uint16_t max_version = peer::kPeerProtocolMaxVersion) {
    auto ep = TeamEndpoint();
    if (!ep.ok()) return ep.status();
    return peer::DeliverOnce("school-a", school_tls_, *ep, payload, ClientOptions(max_version));
  }

  // One batch (DeliverBatch) to team over a connection of its own; every
  // answer fails when the client cannot be made.
  std::vector<Result<std::string>> DeliverBatch(const std::vector<std::string>& payloads) {
    auto ep = TeamEndpoint();
    auto client = ep.ok() ? peer::PeerClient::Create("school-a", school_tls_, *ep, ClientOptions())
                          : Result<std::unique_ptr<peer::PeerClient>>(ep.status());
    if (!client.ok()) return std::vector<Result<std::string>>(payloads.size(), client.status());
    std::vector<std::string_view> views(payloads.begin(), payloads.end());
    auto answers = (*client)->DeliverBatch(views);
    (*client)->Close();
    return answers;
  }

  // The refusal's code, after checking it is team's signature over this message.
  std::string RefusalCode(const Result<std::string>& answer, const std::string& message_id) {
    if (!answer.ok()) return "error: " + answer.status().message();
    if (!crypto::IsRefusal(*answer)) return "not a refusal";
    auto refusal = crypto::DecodeRefusal(*answer);
    if (!refusal.ok()) return "undecodable: " + refusal.status().message();
    Status ok = crypto::VerifyRefusal(*refusal, team_card_.sign_pk, message_id, "school-a", "wijkteam-b");
    if (!ok.ok()) return "unverified: " + ok.message();
    return std::string(crypto::RefusalCodeName(refusal->code));
  }

  bool IsReceiptFor(const Result<std::string>& answer, const std::string& message_id) {
    if (!answer.ok()) return false;
    auto receipt = crypto::DecodeReceipt(*answer);
    return receipt.ok() && receipt->message_id == message_id;
  }

  // The team's `inbox.refused` entries: message id -> reason.
  std::map<std::string, std::string> RefusedAtTeam() {
    auto log = fed_.AsJson("team", "auditor", {"audit", "query", "--action", "inbox.refused"});
    std::map<std::string, std::string> out;
    for (const auto& e : log["entries"]) {
      out[e["object"].get<std::string>()] = e["reason"].get<std::string>();
      EXPECT_EQ(e["outcome"], "deny");
    }
    return out;
  }

  // With the team stopped: the message ids in its inbox, and that no refused
  // plaintext is anywhere in it.
  std::set<std::string> TeamInbox() {
    fed_.StopNode("team");
    auto db = testing::OpenNodeDb(fed_["team"].dir);
    std::set<std::string> ids;
    if (db == nullptr) return ids;
    auto inbox = store::ListInbox(*db);
    EXPECT_TRUE(inbox.ok()) << inbox.status().message();
    if (!inbox.ok()) return ids;
    for (const auto& r : *inbox) {
      ids.insert(r.message_id);
      EXPECT_EQ(r.summary.value_or("").find("MARKER-justitie"), std::string::npos);
    }
    return ids;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  crypto::SigningKeyPair school_identity_;
  crypto::TlsIdentity school_tls_;
  crypto::NodeCard team_card_;
};

TEST_F(RecipientGateTest, SharesOutsideTheRecipientsProtocolAreRefusedSignedAndNotStored) {
  fed_.StartNode("team");
  // Within the flow: a receipt.
  auto ok = Deliver(Seal("msg-ok", kAllowedBody));
  EXPECT_TRUE(IsReceiptFor(ok, "msg-ok")) << (ok.ok() ? "not a receipt" : ok.status().message());
  // A purpose the team's protocol has no flow for, and one it has but not
  // from a school to a wijkteam.
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-purpose", kAllowedBody, "marketing")), "msg-purpose"), "unknown_purpose");
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-rmc", kAllowedBody, "overdracht_rmc")), "msg-rmc"), "unknown_purpose");
  // A special category the flow does not carry.
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-justitie", kJustitieBody)), "msg-justitie"), "category_not_allowed");
  // Ten years' retention where the team keeps 180 days (its default; the
  // flow sets none).
  EXPECT_EQ(
      RefusalCode(Deliver(Seal("msg-10y", kAllowedBody, "doorverwijzing", std::chrono::hours(24 * 3650))), "msg-10y"),
      "retention_too_long");
  // 180 days and a few hours is within the day's slack for clocks; 182 days is not.
  auto slack = Deliver(Seal("msg-slack", kAllowedBody, "doorverwijzing", std::chrono::hours(24 * 180 + 12)));
  EXPECT_TRUE(IsReceiptFor(slack, "msg-slack"));
  EXPECT_EQ(
      RefusalCode(Deliver(Seal("msg-182", kAllowedBody, "doorverwijzing", std::chrono::hours(24 * 182))), "msg-182"),
      "retention_too_long");
  // Refused again when sent again (nothing was remembered of it).
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-purpose", kAllowedBody, "marketing")), "msg-purpose"), "unknown_purpose");

  auto refused = RefusedAtTeam();
  EXPECT_EQ(refused["msg-purpose"], "unknown_purpose");
  EXPECT_EQ(refused["msg-rmc"], "unknown_purpose");
  EXPECT_EQ(refused["msg-justitie"], "category_not_allowed");
  EXPECT_EQ(refused["msg-10y"], "retention_too_long");
  EXPECT_EQ(refused["msg-182"], "retention_too_long");
  EXPECT_EQ(refused.count("msg-ok"), 0u);
  auto log = fed_.AsJson("team", "auditor", {"audit", "query", "--action", "inbox.refused"});
  for (const auto& e : log["entries"]) EXPECT_EQ(e["subject"], "stu-77");
  EXPECT_EQ(log.dump().find("MARKER"), std::string::npos);

  EXPECT_EQ(TeamInbox(), (std::set<std::string>{"msg-ok", "msg-slack"}));
}

// The team's own protocol file, not the school's built-in one, decides: a
// flow naming the team by node id counts, one naming another node does not,
// a purpose only the school knows is unknown here, and the flow's own
// retention_days is the limit.
TEST_F(RecipientGateTest, TheRecipientsOwnProtocolFileDecides) {
  testing::WriteAll(fed_["team"].dir + "/team-policy.toml", R"([[flow]]
purpose = "pilot"
from = ["school"]
to = []
to_orgs = ["wijkteam-b"]
legal_basis = "consent"
categories = ["hulpvraag"]
retention_days = 14

[[flow]]
purpose = "elders"
from = ["school"]
to = []
to_orgs = ["wijkteam-z"]
legal_basis = "consent"
categories = ["hulpvraag"]
)");
  SetTeamConfig("policy", "file", "\"team-policy.toml\"");
  fed_.StartNode("team");
  constexpr auto kDays = [](int n) { return std::chrono::hours(24 * n); };
  EXPECT_TRUE(IsReceiptFor(Deliver(Seal("msg-pilot", kAllowedBody, "pilot", kDays(14))), "msg-pilot"));
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-pilot-30", kAllowedBody, "pilot", kDays(30))), "msg-pilot-30"),
            "retention_too_long");
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-elders", kAllowedBody, "elders", kDays(14))), "msg-elders"),
            "unknown_purpose");
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-default", kAllowedBody, "doorverwijzing", kDays(14))), "msg-default"),
            "unknown_purpose");
  EXPECT_EQ(TeamInbox(), (std::set<std::string>{"msg-pilot"}));
}

TEST_F(RecipientGateTest, AFloodBeyondThePartnersQuotaIsRefused) {
  SetTeamConfig("limits", "inbound_shares_per_minute", "3");
  fed_.StartNode("team");
  for (int i = 0; i < 3; ++i) {
    std::string id = "msg-flood-" + std::to_string(i);
    EXPECT_TRUE(IsReceiptFor(Deliver(Seal(id, kAllowedBody)), id)) << id;
  }
  for (int i = 3; i < 6; ++i) {
    std::string id = "msg-flood-" + std::to_string(i);
    EXPECT_EQ(RefusalCode(Deliver(Seal(id, kAllowedBody)), id), "quota") << id;
  }
  // A message stored before is still answered with its receipt.
  EXPECT_TRUE(IsReceiptFor(Deliver(Seal("msg-flood-0", kAllowedBody)), "msg-flood-0"));
  auto refused = RefusedAtTeam();
  EXPECT_EQ(refused["msg-flood-3"], "quota");
  EXPECT_EQ(refused["msg-flood-5"], "quota");
  // Counted from the inbox: a restart does not reset the minute.
  fed_.StopNode("team");
  fed_.StartNode("team");
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-flood-6", kAllowedBody)), "msg-flood-6"), "quota");
  EXPECT_EQ(TeamInbox(), (std::set<std::string>{"msg-flood-0", "msg-flood-1", "msg-flood-2"}));
}

TEST_F(RecipientGateTest, AByteQuotaCountsTheSummariesOfTheDay) {
  SetTeamConfig("limits", "inbound_bytes_per_day", "1024");
  fed_.StartNode("team");
  std::string big = std::string(R"({"case_id":"c-1","student_id":"stu-77","birth_date":"2012-05-01","hulpvraag":")") +
                    std::string(600, 'x') + "\"}";
  EXPECT_TRUE(IsReceiptFor(Deliver(Seal("msg-big-1", big)), "msg-big-1"));
  EXPECT_EQ(RefusalCode(Deliver(Seal("msg-big-2", big)), "msg-big-2"), "quota");
  EXPECT_TRUE(IsReceiptFor(Deliver(Seal("msg-small", kAllowedBody)), "msg-small"));
  EXPECT_EQ(TeamInbox(), (std::set<std::string>{"msg-big-1", "msg-small"}));
}

TEST_F(RecipientGateTest, AVersionOneSenderGetsReceiptsAndAFailureForARefusal) {
  fed_.StartNode("team");
  auto ok = Deliver(Seal("msg-v1-ok", kAllowedBody), 1);
  EXPECT_TRUE(IsReceiptFor(ok, "msg-v1-ok")) << (ok.ok() ? "not a receipt" : ok.status().message());
  auto refused = Deliver(Seal("msg-v1-no", kJustitieBody), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kDenied);
  EXPECT_NE(refused.status().message().find("refused: category_not_allowed"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(RefusedAtTeam()["msg-v1-no"], "category_not_allowed");
  EXPECT_EQ(TeamInbox(), (std::set<std::string>{"msg-v1-ok"}));
  // A revocation over a version-1 session is confirmed in version 1 (which
  // such a sender can read); over version 2 in version 2, saying whether the
  // message was held.
  fed_.StartNode("team");  // TeamInbox() stopped it
  auto revoke = [&](const std::string& message_id) {
    auto rev = crypto::MakeRevocation(message_id, "school-a", "wijkteam-b", "sent_in_error",
                                      ParseInstant("2026-11-30T12:00:00Z").value(), school_identity_);
    EXPECT_TRUE(rev.ok()) << rev.status().message();
    return crypto::EncodeRevocation(*rev);
  };
  auto v1 = Deliver(revoke("msg-v1-ok"), 1);
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  auto v1_confirmation =
      crypto::VerifyPurgeConfirmation(*v1, "msg-v1-ok", "school-a", "wijkteam-b", team_card_.sign_pk);
  ASSERT_TRUE(v1_confirmation.ok()) << v1_confirmation.status().message();
  EXPECT_EQ(v1_confirmation->version, 1);
  auto v2 = Deliver(revoke("msg-never-sent"));
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  auto v2_confirmation =
      crypto::VerifyPurgeConfirmation(*v2, "msg-never-sent", "school-a", "wijkteam-b", team_card_.sign_pk);
  ASSERT_TRUE(v2_confirmation.ok()) << v2_confirmation.status().message();
  EXPECT_EQ(v2_confirmation->version, 2);
  EXPECT_EQ(v2_confirmation->held, false);
}

// A share adopted into the team's dossier is not purged by a revocation:
// a sender on protocol 4 gets the signed adoption notice; one on protocol 3,
// which could not record it, a failure that says why (its revocation stays
// queued). The copy is kept either way.
TEST_F(RecipientGateTest, AnAdoptedShareIsKeptAndAnOlderSenderIsToldWhy) {
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamcoord", "coordinator"));
  fed_.StartNode("team");
  ASSERT_TRUE(IsReceiptFor(Deliver(Seal("msg-adopt", kAllowedBody)), "msg-adopt"));
  auto adopted = fed_.As("team", "teamcoord", {"inbox", "adopt", "msg-adopt", "--basis", "Jeugdwet art. 7.3.8"});
  ASSERT_EQ(adopted.code, 0) << adopted.err;
  auto rev = crypto::MakeRevocation("msg-adopt", "school-a", "wijkteam-b", "consent_withdrawn",
                                    ParseInstant("2026-11-30T12:00:00Z").value(), school_identity_);
  ASSERT_TRUE(rev.ok()) << rev.status().message();
  const std::string revocation = crypto::EncodeRevocation(*rev);

  auto older = Deliver(revocation, peer::kPeerProtocolAdoptVersion - 1);
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.status().message().find("adopted into dossier (Jeugdwet art. 7.3.8)"), std::string::npos)
      << older.status().message();
  auto current = Deliver(revocation);
  ASSERT_TRUE(current.ok()) << current.status().message();
  EXPECT_FALSE(
      crypto::VerifyPurgeConfirmation(*current, "msg-adopt", "school-a", "wijkteam-b", team_card_.sign_pk).ok());
  auto notice = crypto::VerifyAdoptionNotice(*current, "msg-adopt", "school-a", "wijkteam-b", team_card_.sign_pk);
  ASSERT_TRUE(notice.ok()) << notice.status().message();
  EXPECT_EQ(notice->basis, "Jeugdwet art. 7.3.8");

  auto kept = fed_.AsJson("team", "auditor", {"audit", "query", "--action", "inbox.revocation_kept"});
  EXPECT_EQ(kept["entries"].size(), 2u);  // each answer audited
  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  auto row = store::FindInbox(*db, "school-a", "msg-adopt");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->state, "received");
  EXPECT_NE((*row)->summary.value_or("").find("MARKER-allowed"), std::string::npos);
  EXPECT_EQ((*row)->adopted_basis, "Jeugdwet art. 7.3.8");
  // Retention does not purge it either.
  auto expired = store::ExpiredInbox(*db, "2099-01-01T00:00:00.000Z");
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty());
}

// Two real nodes: the team keeps at most 30 days, the school's share asks
// for its default 180.
TEST_F(RecipientGateTest, TheSendersShareBecomesRefusedWithTheCode) {
  SetTeamConfig("retention", "default_days", "30");
  SetTeamConfig("retention", "max_days", "30");
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "auditor", "auditor"));
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
  auto r =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string msg = testing::LastLine(r.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "refused"));
  const json shares = fed_.AsJson("school", "mentor", {"shares"});  // the loop must not outlive it
  for (const auto& s : shares["shares"]) {
    if (s["message_id"] == msg) {
      EXPECT_EQ(s["state_reason"], "retention_too_long");
    }
  }
  auto school_log = fed_.AsJson("school", "auditor", {"audit", "query", "--action", "share.refused"});
  ASSERT_EQ(school_log["entries"].size(), 1u);
  EXPECT_EQ(school_log["entries"][0]["object"], msg);
  EXPECT_EQ(school_log["entries"][0]["reason"], "retention_too_long");
  EXPECT_EQ(school_log["entries"][0]["subject"], "stu-1042");
  EXPECT_EQ(RefusedAtTeam()[msg], "retention_too_long");
  EXPECT_TRUE(TeamInbox().empty());
  // Nothing is left to send.
  fed_.StopNode("school");
  auto db = testing::OpenNodeDb(fed_["school"].dir);
  ASSERT_NE(db, nullptr);
  auto queued = store::CountOutgoing(*db);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 0);
}

// Plays wijkteam-b (its TLS key, its address) but answers every share with
// a refusal signed by a key that is not the team's.
class ForgedRefusals : public peer::PeerHandler {
 public:
  Result<std::string> OnDeliver(const std::string& peer_node_id, uint16_t protocol_version,
                                std::string_view payload) override {
    // The school's card (peer protocol 6) is not a share: held, not counted.
    if (peer::IsCardAnnouncement(payload)) return peer::EncodeCardAnswer(peer::kCardHeld);
    // Nor is a witness request (the school greets its partners as it
    // starts, and then asks them to witness): failed, not counted.
    if (audit::IsWitnessRequest(payload)) return Status::Unavailable("not witnessing here");
    calls++;
    versions.store(protocol_version);
    // A share comes with the school's trace context (protocol 5).
    std::string_view envelope = payload;
    if (peer::IsTraced(payload)) {
      auto traced = peer::UnwrapTraced(payload);
      if (!traced.ok()) return traced.status();
      envelope = traced->envelope;
    }
    auto h = crypto::PeekHeader(envelope);
    if (!h.ok()) return h.status();
    auto refusal = crypto::MakeRefusal(h->message_id, peer_node_id, h->recipient_id, crypto::RefusalCode::kQuota,
                                       SystemClock().Now(), forger_);
    if (!refusal.ok()) return refusal.status();
    return crypto::EncodeRefusal(*refusal);
  }
  std::atomic<int> calls{0};
  std::atomic<uint16_t> versions{0};

 private:
  crypto::SigningKeyPair forger_ = crypto::GenerateSigningKeyPair();
};

TEST_F(RecipientGateTest, ARefusalThatDoesNotVerifyIsAFailedDelivery) {
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "auditor", "auditor"));
  crypto::TlsIdentity team_tls;
  {
    auto db = testing::OpenNodeDb(fed_["team"].dir);
    ASSERT_NE(db, nullptr);
    auto tls = store::LoadCurrentTls(*db);
    ASSERT_TRUE(tls.ok()) << tls.status().message();
    team_tls = std::move(tls).value();
  }
  auto addr = config::ParseAddress(team_card_.address);
  ASSERT_TRUE(addr.ok());
  peer::PeerServerOptions options;
  options.listen = *addr;
  crypto::SpkiPin school_pin = school_tls_.spki_sha256;
  ForgedRefusals handler;
  auto server = peer::PeerServer::Start(
      "wijkteam-b", team_tls,
      [school_pin](const crypto::SpkiPin& pin) -> std::optional<std::string> {
        if (pin == school_pin) return std::string("school-a");
        return std::nullopt;
      },
      handler, options);
  ASSERT_TRUE(server.ok()) << server.status().message();

  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
  auto r =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string msg = testing::LastLine(r.out);
  // Sent, refused falsely, and sent again after its backoff.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (handler.calls.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(handler.calls.load(), 2);
  EXPECT_EQ(handler.versions.load(), peer::kPeerProtocolMaxVersion);
  const json shares = fed_.AsJson("school", "mentor", {"shares"});  // the loop must not outlive it
  for (const auto& s : shares["shares"]) {
    // Not refused: a failed delivery. Its bytes went out, so it is `sending`.
    if (s["message_id"] == msg) {
      EXPECT_EQ(s["state"], "sending");
    }
  }
  auto school_log = fed_.AsJson("school", "auditor", {"audit", "query", "--action", "share.refused"});
  EXPECT_TRUE(school_log["entries"].empty());
  fed_.StopNode("school");
  (*server)->Stop();
}

// Peer protocol 5 (docs/audit.md "Witnessing"): the team witnesses
// school-a's audit checkpoint -- verified under school-a's pinned card,
// recorded in the team's log, answered with the team's countersignature. On
// protocol 4 the request is refused; a checkpoint at the same seq with
// another hash is refused as a rewrite; a forged one as unauthenticated.
TEST_F(RecipientGateTest, APartnerWitnessesACheckpointOnProtocolFive) {
  fed_.StartNode("team");
  audit::WitnessRequest req;
  req.node_id = "school-a";
  req.seq = 7;
  req.hash.fill(0x5a);
  req.ts = "2026-11-30T12:00:00.000Z";
  req.sig = crypto::Sign(school_identity_, audit::CheckpointMessage(req.node_id, req.seq, req.hash, req.ts));

  auto old = Deliver(audit::EncodeWitnessRequest(req), peer::kPeerProtocolAdoptVersion);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Code::kInvalidInput) << old.status().message();

  auto answer = Deliver(audit::EncodeWitnessRequest(req));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  auto cs = audit::ParseCountersignature(*answer);
  ASSERT_TRUE(cs.ok()) << cs.status().message();
  EXPECT_EQ(cs->witness_id, "wijkteam-b");
  EXPECT_EQ(cs->seq, 7);
  EXPECT_TRUE(crypto::Verify(team_card_.sign_pk, audit::WitnessMessage("wijkteam-b", "school-a", 7, req.hash, req.ts),
                             cs->sig));

  audit::WitnessRequest rewritten = req;
  rewritten.hash[0] ^= 1;
  rewritten.sig =
      crypto::Sign(school_identity_, audit::CheckpointMessage(req.node_id, req.seq, rewritten.hash, req.ts));
  auto refused = Deliver(audit::EncodeWitnessRequest(rewritten));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kCorruption) << refused.status().message();

  audit::WitnessRequest forged = req;
  forged.seq = 8;
  auto unsigned_ = Deliver(audit::EncodeWitnessRequest(forged));
  ASSERT_FALSE(unsigned_.ok());
  EXPECT_EQ(unsigned_.status().code(), Code::kUnauthenticated) << unsigned_.status().message();

  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(testing::CountEntries(*db, "audit.witnessed", "checkpoint:7"), 1);
  EXPECT_EQ(testing::CountEntries(*db, "audit.witness_contradicted", "checkpoint:7"), 1);
  auto latest = audit::LatestWitnessed(*db, "wijkteam-b", "school-a");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->hash, req.hash);
}

// Issue 22 (1): a partner's own newer card over the peer channel (protocol
// 6). The team takes school-a's rotated card when its identity key is the
// pinned one and it is newer, keeps the old TLS pin accepted for a while,
// and refuses a card that changes the org type or the address, one with
// another identity key, an older one, and one on an older protocol.
TEST_F(RecipientGateTest, APartnersNewerCardIsTakenOverThePeerChannelWithinItsLimits) {
  fed_.StartNode("team");
  auto held = crypto::ParseNodeCard(testing::ReadAll(fed_["school"].dir + "/node-card.json"));
  ASSERT_TRUE(held.ok()) << held.status().message();
  auto card_like = [&](const std::function<void(crypto::NodeCard&)>& change,
                       const crypto::SigningKeyPair& by) -> std::string {
    crypto::NodeCard c = *held;
    crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(by);
    c.enc_pk = enc.public_key;
    c.enc_pk_sig = enc.signature;
    c.tls_spki_sha256.fill(0x77);
    c.created = "2099-01-01T00:00:00Z";
    change(c);
    crypto::SignNodeCard(c, by);
    return peer::EncodeCardAnnouncement(crypto::NodeCardToJson(c));
  };
  auto keep = [](crypto::NodeCard&) {};
  auto refused = [&](const std::string& payload, uint16_t version = peer::kPeerProtocolMaxVersion) {
    auto r = Deliver(payload, version);
    return r.ok() ? std::string("taken: ") + *r : r.status().message();
  };

  EXPECT_NE(refused(card_like(keep, school_identity_), peer::kPeerProtocolTraceVersion).find("needs peer protocol 6"),
            std::string::npos);
  EXPECT_NE(refused(card_like([](crypto::NodeCard& c) { c.org_type = "ggd"; }, school_identity_))
                .find("org type school -> ggd"),
            std::string::npos);
  EXPECT_NE(
      refused(card_like([](crypto::NodeCard& c) { c.address = "192.0.2.9:7401"; }, school_identity_)).find("address"),
      std::string::npos);
  EXPECT_NE(refused(card_like(keep, crypto::GenerateSigningKeyPair())).find("another identity key"), std::string::npos);
  EXPECT_NE(refused(card_like([](crypto::NodeCard& c) { c.created = "2020-01-01T00:00:00Z"; }, school_identity_))
                .find("not newer"),
            std::string::npos);
  EXPECT_NE(refused(card_like([](crypto::NodeCard& c) { c.node_id = "ggd-x"; }, school_identity_))
                .find("announced by the connected partner school-a"),
            std::string::npos);
  EXPECT_FALSE(Deliver(peer::EncodeCardAnnouncement("{not a card")).ok());

  std::string newer = card_like(keep, school_identity_);
  auto taken = Deliver(newer);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(*peer::ParseCardAnswer(*taken), peer::kCardTaken);
  auto again = Deliver(newer);  // the old TLS key still gets in
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*peer::ParseCardAnswer(*again), peer::kCardHeld);

  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  auto school = store::FindPartner(*db, "school-a");
  ASSERT_TRUE(school.ok() && school->has_value());
  EXPECT_EQ((*school)->card.created, "2099-01-01T00:00:00Z");
  EXPECT_EQ((*school)->card.tls_spki_sha256[0], 0x77);
  ASSERT_TRUE((*school)->previous_tls_spki.has_value());
  EXPECT_EQ(*(*school)->previous_tls_spki, held->tls_spki_sha256);
  EXPECT_EQ((*school)->source, "");
  EXPECT_EQ(testing::CountEntries(*db, "partner.update", "school-a"), 1);
}

// Issue 22 (peer protocol 7): a regional directory passed along by a
// partner is looked at by region and serial first (unknown region, one held,
// an older one: answered without a signature check), then verified and taken
// as from a file with the partner as actor; a refused one is audited once.
TEST_F(RecipientGateTest, ADirectoryPassedAlongIsTakenOnlyWhenItIsANewerSignedOneOfATrustedRegion) {
  fed_.Add("ggd", "ggd-f", "ggd");
  fed_.Add("rmc", "rmc-g", "rmc");
  crypto::SigningKeyPair keeper = crypto::GenerateSigningKeyPair();
  auto card_of = [&](const std::string& name) {
    auto c = crypto::ParseNodeCard(testing::ReadAll(fed_[name].dir + "/node-card.json"));
    EXPECT_TRUE(c.ok()) << c.status().message();
    return *c;
  };
  auto signed_directory = [&](const std::string& region, int64_t serial, std::vector<crypto::NodeCard> members,
                              const crypto::SigningKeyPair& by) {
    crypto::Directory d;
    d.region = region;
    d.name = "Samenwerkingsverband Oost";
    d.serial = serial;
    Instant now = SystemClock().Now();
    d.issued = FormatInstant(now - std::chrono::minutes(serial));
    d.expires = FormatInstant(now + std::chrono::hours(24 * 30));
    d.members = std::move(members);
    crypto::SignDirectory(d, by);
    return crypto::DirectoryToJson(d);
  };
  const std::string first = signed_directory("swv-oost", 1, {card_of("ggd")}, keeper);
  std::string first_file = fed_["team"].dir + "/../swv-oost-1.json";
  testing::WriteAll(first_file, first);
  auto trust = testing::RunSchakel({"directory", "trust", "--dir", fed_["team"].dir, "--file", first_file,
                                    "--fingerprint", crypto::Fingerprint(keeper.public_key), "--accept-types",
                                    "ggd,rmc", "--allow-local-address"});
  ASSERT_EQ(trust.code, 0) << trust.err;
  fed_.StartNode("team");

  auto answer = [&](const std::string& json_text, uint16_t version = peer::kPeerProtocolMaxVersion) {
    auto r = Deliver(peer::EncodeDirectoryAnnouncement(json_text), version);
    if (!r.ok()) return "refused: " + r.status().message();
    auto word = peer::ParseDirectoryAnswer(*r);
    return word.ok() ? std::string(*word) : "bad answer: " + word.status().message();
  };
  const std::string second = signed_directory("swv-oost", 2, {card_of("ggd"), card_of("rmc")}, keeper);
  EXPECT_NE(answer(second, peer::kPeerProtocolCardVersion).find("needs peer protocol 7"), std::string::npos);
  EXPECT_EQ(answer(signed_directory("swv-west", 5, {card_of("rmc")}, crypto::GenerateSigningKeyPair())), "unknown");
  EXPECT_EQ(answer(first), "held");
  EXPECT_NE(answer("{not a directory").find("directory: malformed JSON"), std::string::npos);
  const std::string forged = signed_directory("swv-oost", 3, {card_of("rmc")}, crypto::GenerateSigningKeyPair());
  EXPECT_NE(answer(forged).find("signed by another key"), std::string::npos);
  EXPECT_NE(answer(forged).find("refused already"), std::string::npos);
  std::string tampered = second;
  tampered.replace(tampered.find("Oost"), 4, "West");  // the signature no longer covers it
  EXPECT_NE(answer(tampered).find("signature does not verify"), std::string::npos);
  EXPECT_NE(answer(tampered).find("refused already"), std::string::npos);  // no second check

  EXPECT_EQ(answer(second), "taken");
  EXPECT_EQ(answer(second), "held");
  EXPECT_EQ(answer(first), "held");  // older: never taken back, nothing audited

  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  auto rmc = store::FindPartner(*db, "rmc-g");
  ASSERT_TRUE(rmc.ok() && rmc->has_value());
  EXPECT_EQ((*rmc)->source, "directory:swv-oost");
  auto held = store::FindRegionDirectory(*db, "swv-oost");
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_EQ((*held)->serial, 2);
  EXPECT_EQ((*held)->source, "partner school-a");
  EXPECT_TRUE((*held)->allow_local_address);
  EXPECT_EQ(testing::CountEntries(*db, "directory.refused", "swv-oost"), 1);
  EXPECT_EQ(testing::CountEntries(*db, "directory.update", "swv-oost"), 1);
  EXPECT_EQ(testing::CountEntries(*db, "partner.add", "rmc-g"), 1);
}

// Issue #25 (5): a received share is (sender, message id). Two partners
// that pick the same message id both land in the inbox, each whole; a
// lookup by the id alone is refused naming both senders (never one picked);
// --from (the API's ?from=, the console's ?van=) reads, assigns and adopts
// the one named, and only that one.
// One batch of many (InboxHandler::OnDeliverBatch): each share of it is
// answered as it would be alone and in its place -- a receipt, a signed
// refusal, an error for an envelope that does not open --, a share sent
// twice in one batch is stored once and both get its receipt, and only the
// accepted ones are stored, each audited once.
TEST_F(RecipientGateTest, EachShareOfABatchIsAnsweredAsAloneAndInItsPlace) {
  fed_.StartNode("team");
  std::vector<std::string> payloads;
  std::vector<std::string> expect;  // "receipt", a refusal code, or "error"
  std::vector<std::string> ids;
  std::set<std::string> accepted;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "msg-batch-" + std::to_string(i);
    ids.push_back(id);
    switch (i % 5) {
      case 0:
      case 1:
        payloads.push_back(Seal(id, kAllowedBody));
        expect.push_back("receipt");
        accepted.insert(id);
        break;
      case 2:
        payloads.push_back(Seal(id, kAllowedBody, "marketing"));
        expect.push_back("unknown_purpose");
        break;
      case 3:
        payloads.push_back(Seal(id, kJustitieBody));
        expect.push_back("category_not_allowed");
        break;
      default: {
        std::string broken = Seal(id, kAllowedBody);
        broken[broken.size() / 2] = static_cast<char>(broken[broken.size() / 2] ^ 0x55);
        payloads.push_back(std::move(broken));
        expect.push_back("error");
        break;
      }
    }
  }
  // The first share again, at the end of the same batch.
  payloads.push_back(payloads[0]);
  expect.push_back("receipt");
  ids.push_back(ids[0]);

  auto answers = DeliverBatch(payloads);
  ASSERT_EQ(answers.size(), payloads.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    SCOPED_TRACE("payload " + std::to_string(i) + " (" + ids[i] + ")");
    if (expect[i] == "receipt") {
      EXPECT_TRUE(IsReceiptFor(answers[i], ids[i]))
          << (answers[i].ok() ? "not its receipt" : answers[i].status().message());
    } else if (expect[i] == "error") {
      EXPECT_FALSE(answers[i].ok()) << "a tampered envelope was answered";
    } else {
      EXPECT_EQ(RefusalCode(answers[i], ids[i]), expect[i]);
    }
  }
  ASSERT_TRUE(answers.front().ok() && answers.back().ok());
  EXPECT_EQ(*answers.front(), *answers.back()) << "the share sent twice got two receipts";

  auto received = fed_.AsJson("team", "auditor", {"audit", "query", "--action", "inbox.received"});
  std::map<std::string, int> audited;
  for (const auto& e : received["entries"]) ++audited[e["object"].get<std::string>()];
  for (const auto& id : accepted) EXPECT_EQ(audited[id], 1) << id;
  EXPECT_EQ(audited.size(), accepted.size());
  auto refused = RefusedAtTeam();
  EXPECT_EQ(refused.size(), 12u);
  EXPECT_EQ(TeamInbox(), accepted);
}

// A revocation in a batch after the share it revokes (the recipient joins
// batches that arrive while it stores one: peer_session.cpp) is carried out
// in its turn: the share is stored first, then purged, and the purge
// confirmation says it was held.
TEST_F(RecipientGateTest, ARevocationAfterItsShareInOneBatchFindsTheShare) {
  fed_.StartNode("team");
  auto rev = crypto::MakeRevocation("msg-order-a", "school-a", "wijkteam-b", "sent_in_error",
                                    ParseInstant("2026-11-30T12:00:00Z").value(), school_identity_);
  ASSERT_TRUE(rev.ok()) << rev.status().message();
  const std::vector<std::string> payloads = {Seal("msg-order-a", kAllowedBody), crypto::EncodeRevocation(*rev),
                                             Seal("msg-order-b", kAllowedBody)};
  auto answers = DeliverBatch(payloads);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(IsReceiptFor(answers[0], "msg-order-a")) << (answers[0].ok() ? "" : answers[0].status().message());
  ASSERT_TRUE(answers[1].ok()) << answers[1].status().message();
  auto confirmation =
      crypto::VerifyPurgeConfirmation(*answers[1], "msg-order-a", "school-a", "wijkteam-b", team_card_.sign_pk);
  ASSERT_TRUE(confirmation.ok()) << confirmation.status().message();
  EXPECT_EQ(confirmation->held, true) << "the revocation was carried out before the share it follows was stored";
  EXPECT_TRUE(IsReceiptFor(answers[2], "msg-order-b")) << (answers[2].ok() ? "" : answers[2].status().message());
  // Stored, then purged (a tombstone kept); the share after it stays.
  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  auto inbox = store::ListInbox(*db);
  ASSERT_TRUE(inbox.ok()) << inbox.status().message();
  std::map<std::string, std::string> states;
  for (const auto& r : *inbox) states[r.message_id] = r.state;
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"msg-order-a", "purged"}, {"msg-order-b", "received"}}));
}

TEST_F(RecipientGateTest, TwoPartnersWithTheSameMessageIdAreTwoShares) {
  fed_.Add("other", "school-c", "school");
  ASSERT_NO_FATAL_FAILURE(fed_.Pair("other", "team"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamleider", "coordinator"));
  crypto::SigningKeyPair other_identity;
  crypto::TlsIdentity other_tls;
  {
    auto db = testing::OpenNodeDb(fed_["other"].dir);
    ASSERT_NE(db, nullptr);
    auto identity = store::LoadIdentity(*db);
    auto tls = store::LoadCurrentTls(*db);
    ASSERT_TRUE(identity.ok() && tls.ok());
    other_identity = std::move(identity).value();
    other_tls = std::move(tls).value();
  }
  fed_.StartNode("team");

  const std::string id = "msg-same-id";
  auto from_a = Deliver(Seal(id, R"({"case_id":"c-1","student_id":"stu-77","birth_date":"2012-05-01",)"
                                 R"("hulpvraag":{"q":"MARKER-from-a"}})"));
  ASSERT_TRUE(IsReceiptFor(from_a, id)) << (from_a.ok() ? "not a receipt" : from_a.status().message());
  {
    crypto::EnvelopeHeader h;
    h.message_id = id;
    h.sender_id = "school-c";
    h.recipient_id = "wijkteam-b";
    h.created = SystemClock().Now();
    h.retain_until = h.created + std::chrono::hours(24 * 30);
    h.purpose = "doorverwijzing";
    h.content_type = kContentType;
    auto sealed = crypto::Seal(h,
                               R"({"case_id":"c-9","student_id":"stu-88","birth_date":"2011-03-02",)"
                               R"("hulpvraag":{"q":"MARKER-from-c"}})",
                               other_identity, team_card_.enc_pk);
    ASSERT_TRUE(sealed.ok()) << sealed.status().message();
    auto ep = TeamEndpoint();
    ASSERT_TRUE(ep.ok()) << ep.status().message();
    auto from_c = peer::DeliverOnce("school-c", other_tls, *ep, *sealed, ClientOptions());
    ASSERT_TRUE(IsReceiptFor(from_c, id)) << (from_c.ok() ? "not a receipt" : from_c.status().message());
  }

  // Both are in the inbox, each from its sender.
  auto listed = fed_.AsJson("team", "teamleider", {"inbox"});
  std::set<std::string> senders;
  for (const auto& item : listed["inbox"]) {
    if (item["message_id"] == id) senders.insert(item["from"].get<std::string>());
  }
  EXPECT_EQ(senders, (std::set<std::string>{"school-a", "school-c"})) << listed.dump();

  // The id alone names two shares: refused, both senders named, nothing shown.
  auto ambiguous = fed_.As("team", "teamleider", {"inbox", "show", id});
  EXPECT_EQ(ambiguous.code, 2) << ambiguous.out << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("--from"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("school-a"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("school-c"), std::string::npos) << ambiguous.err;
  EXPECT_EQ(ambiguous.out.find("MARKER"), std::string::npos);

  // Named, each is its own.
  auto shown_c = fed_.AsJson("team", "teamleider", {"inbox", "show", id, "--from", "school-c"});
  EXPECT_EQ(shown_c["summary"]["student_id"], "stu-88") << shown_c.dump();
  auto shown_a = fed_.AsJson("team", "teamleider", {"inbox", "show", id, "--from", "school-a"});
  EXPECT_EQ(shown_a["summary"]["student_id"], "stu-77") << shown_a.dump();
  auto none = fed_.As("team", "teamleider", {"inbox", "show", id, "--from", "rmc-x"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("from rmc-x"), std::string::npos) << none.err;
  auto bad = fed_.As("team", "teamleider", {"inbox", "show", id, "--from", "School A"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--from"), std::string::npos) << bad.err;

  // Assigning and adopting touch the named one only; without --from, refused.
  EXPECT_EQ(fed_.As("team", "teamleider", {"inbox", "assign", id, "--user", "teamleider"}).code, 2);
  auto assigned = fed_.As("team", "teamleider", {"inbox", "assign", id, "--user", "teamleider", "--from", "school-c"});
  EXPECT_EQ(assigned.code, 0) << assigned.err;
  EXPECT_EQ(fed_.As("team", "teamleider", {"inbox", "adopt", id, "--basis", "Jeugdwet art. 7.3.8"}).code, 2);
  auto adopted =
      fed_.As("team", "teamleider", {"inbox", "adopt", id, "--basis", "Jeugdwet art. 7.3.8", "--from", "school-a"});
  EXPECT_EQ(adopted.code, 0) << adopted.err;

  fed_.StopNode("team");
  auto db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(db, nullptr);
  auto a = store::FindInbox(*db, "school-a", id);
  auto c = store::FindInbox(*db, "school-c", id);
  ASSERT_TRUE(a.ok() && *a && c.ok() && *c);
  EXPECT_NE((*a)->summary.value_or("").find("MARKER-from-a"), std::string::npos);
  EXPECT_NE((*c)->summary.value_or("").find("MARKER-from-c"), std::string::npos);
  EXPECT_FALSE((*a)->assigned_to.has_value());
  EXPECT_TRUE((*c)->assigned_to.has_value());
  EXPECT_TRUE((*a)->adopted_at.has_value());
  EXPECT_FALSE((*c)->adopted_at.has_value());
}

}  // namespace
}  // namespace schakel
