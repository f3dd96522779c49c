// Issue 22 (1): after `schakel node rotate-keys` the node's new card travels
// to its partners by itself, over the peer channel (protocol 6). The school
// rotates while shares flow both ways with two wijkteams and one way to the
// leerplicht office; no administrator at any partner does anything. Every
// partner then holds the school's new card (and its new TLS pin), the school
// serves its new TLS key without a restart once all three do, and every
// share, sent before, during and after the rotation, after the switch and
// after a restart, arrives exactly once.
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "federation_support.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/peer/peer_client.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/partners.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::ReadAll;
using testing::TempDir;

// The school's card as `node` holds it now (read beside its running daemon).
std::optional<store::Partner> SchoolAt(Federation& fed, const std::string& node) {
  std::string key_bytes = ReadAll(fed[node].dir + "/secrets/db.key");
  auto key = crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(key_bytes.data()), key_bytes.size()});
  auto db = store::Database::Open(fed[node].dir + "/data/node.db", key, store::OpenMode::kExisting);
  if (!db.ok()) return std::nullopt;
  auto p = store::FindPartner(**db, "school-a");
  if (!p.ok() || !*p) return std::nullopt;
  return **p;
}

class CardPush : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("team", "wijkteam-b", "wijkteam");
    fed_.Add("team2", "wijkteam-c", "wijkteam");
    fed_.Add("lvs", "lvs-d", "lvs");
    for (const char* p : {"team", "team2", "lvs"}) ASSERT_NO_FATAL_FAILURE(fed_.Pair("school", p));
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "zorgco", "coordinator"));
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "mentor", "staff"));
    for (const char* t : {"team", "team2"}) {
      ASSERT_NO_FATAL_FAILURE(fed_.AddUser(t, "teamcoord", "coordinator"));
      ASSERT_NO_FATAL_FAILURE(fed_.AddReader(t, "gezinswerker", "school"));
    }
    ASSERT_NO_FATAL_FAILURE(fed_.AddReader("lvs", "lpa", "school"));
    for (const char* n : {"school", "team", "team2", "lvs"}) fed_.StartNode(n);

    ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
    std::string jongere_c = testing::kSanneJongere;
    jongere_c.replace(jongere_c.find("wijkteam-b"), 10, "wijkteam-c");
    ASSERT_NO_FATAL_FAILURE(
        fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere, jongere_c.c_str()}));
    for (const char* t : {"team", "team2"}) {
      ASSERT_EQ(fed_.As(t, "gezinswerker", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
      for (const char* role : {"ouder", "jongere"}) {
        std::string c =
            std::string(R"({"subject_id": "stu-1042", "grantor_role": ")") + role +
            R"(", "purposes": ["terugkoppeling"], "recipients": ["school"], "categories": ["identificatie", "afspraken"], "valid_from": "2026-01-01"})";
        ASSERT_EQ(fed_.As(t, "teamcoord", {"consent", "add", "--file", fed_.WriteFile("fb.json", c)}).code, 0);
      }
    }
  }

  // One share each way: the school to each partner, each team to the school.
  void ShareRound() {
    for (const char* to : {"wijkteam-b", "wijkteam-c"}) {
      auto r = fed_.As("school", "mentor",
                       {"share", "casus-2026-0042", "--to", to, "--purpose", "doorverwijzing", "--allow-partial"});
      ASSERT_EQ(r.code, 0) << r.err;
      sent_.push_back({"school", "mentor", testing::LastLine(r.out)});
    }
    auto r = fed_.As("school", "mentor",
                     {"share", "casus-2026-0042", "--to", "lvs-d", "--purpose", "verzuimmelding", "--allow-partial"});
    ASSERT_EQ(r.code, 0) << r.err;
    sent_.push_back({"school", "mentor", testing::LastLine(r.out)});
    for (const char* t : {"team", "team2"}) {
      auto fb = fed_.As(t, "gezinswerker",
                        {"share", "casus-2026-0042", "--to", "school-a", "--purpose", "terugkoppeling", "--category",
                         "identificatie", "--category", "afspraken"});
      ASSERT_EQ(fb.code, 0) << fb.err;
      sent_.push_back({t, "gezinswerker", testing::LastLine(fb.out)});
    }
  }

  void AllDelivered() {
    for (const auto& s : sent_) {
      EXPECT_TRUE(fed_.WaitShareState(s.node, s.user, s.id, "delivered", std::chrono::seconds(30))) << s.id;
    }
  }

  // The message ids in `node`'s inbox as `user` sees it, each counted.
  std::multiset<std::string> Inbox(const std::string& node, const std::string& user) {
    std::multiset<std::string> ids;
    nlohmann::json listed = fed_.AsJson(node, user, {"inbox"});  // kept: the loop reads into it
    for (const auto& item : listed["inbox"]) {
      ids.insert(item["message_id"].get<std::string>());
    }
    return ids;
  }

  struct Sent {
    std::string node, user, id;
  };
  TempDir tmp_;
  Federation fed_{tmp_};
  std::vector<Sent> sent_;
};

TEST_F(CardPush, ARotatedCardReachesEveryPartnerWithoutAnyoneThereAndEveryShareArrivesOnce) {
  ASSERT_NO_FATAL_FAILURE(ShareRound());
  const std::string old_card = ReadAll(fed_["school"].dir + "/node-card.json");

  // The school rotates while its daemon runs and shares are on their way.
  ASSERT_NO_FATAL_FAILURE(ShareRound());
  auto rot = testing::RunSchakel({"node", "rotate-keys", "--dir", fed_["school"].dir});
  ASSERT_EQ(rot.code, 0) << rot.err;
  auto card = crypto::ParseNodeCard(ReadAll(fed_["school"].dir + "/node-card.json"));
  ASSERT_TRUE(card.ok()) << card.status().message();
  auto before = crypto::ParseNodeCard(old_card);
  ASSERT_TRUE(before.ok());
  ASSERT_NE(card->tls_spki_sha256, before->tls_spki_sha256);
  ASSERT_NO_FATAL_FAILURE(ShareRound());
  AllDelivered();

  // Every partner holds the new card, took it from the school itself, and
  // still lets the old TLS key in (the school serves it until it restarts).
  for (const char* p : {"team", "team2", "lvs"}) {
    std::optional<store::Partner> school;
    for (int i = 0; i < 300; ++i) {  // bounded: 30 s
      school = SchoolAt(fed_, p);
      if (school && school->card.created == card->created) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(school.has_value()) << p;
    EXPECT_EQ(school->card.created, card->created) << p;
    EXPECT_EQ(school->card.tls_spki_sha256, card->tls_spki_sha256) << p;
    ASSERT_TRUE(school->previous_tls_spki.has_value()) << p;
    EXPECT_EQ(*school->previous_tls_spki, before->tls_spki_sha256) << p;
  }

  // Once all three hold the card, the school serves its new TLS key without
  // a restart: a connection that accepts only the new pin gets in.
  auto serves_only_new = [&] {
    auto team_db = testing::OpenNodeDb(fed_["team"].dir);
    if (team_db == nullptr) return false;
    auto team_tls = store::LoadCurrentTls(*team_db);
    if (!team_tls.ok()) return false;
    auto addr = config::ParseAddress(card->address);
    if (!addr.ok()) return false;
    peer::PeerEndpoint ep{"school-a", addr->host, addr->port, card->tls_spki_sha256, std::nullopt};
    peer::PeerClientOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    auto client = peer::PeerClient::Create("wijkteam-b", *team_tls, ep, options);
    return client.ok() && (*client)->Connect().ok();
  };
  bool switched = false;
  for (int i = 0; i < 300 && !switched; ++i) {  // bounded: 30 s
    switched = serves_only_new();
    if (!switched) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(switched) << "the school still serves its old TLS key";
  ASSERT_NO_FATAL_FAILURE(ShareRound());
  AllDelivered();

  // And after a restart, on the same new key, shares go on both ways.
  fed_.StopNode("school");
  fed_.StartNode("school");
  ASSERT_NO_FATAL_FAILURE(ShareRound());
  AllDelivered();

  // Exactly once: each share is in its recipient's inbox once, nothing else.
  std::multiset<std::string> expected_school, expected_team, expected_team2, expected_lvs;
  size_t i = 0;
  for (const auto& s : sent_) {
    // ShareRound's order: wijkteam-b, wijkteam-c, lvs-d, then the two answers.
    switch (i++ % 5) {
      case 0:
        expected_team.insert(s.id);
        break;
      case 1:
        expected_team2.insert(s.id);
        break;
      case 2:
        expected_lvs.insert(s.id);
        break;
      default:
        expected_school.insert(s.id);
    }
  }
  EXPECT_EQ(Inbox("team", "gezinswerker"), expected_team);
  EXPECT_EQ(Inbox("team2", "gezinswerker"), expected_team2);
  EXPECT_EQ(Inbox("lvs", "lpa"), expected_lvs);
  EXPECT_EQ(Inbox("school", "zorgco"), expected_school);
  EXPECT_EQ(sent_.size(), 25u);
}

}  // namespace
}  // namespace schakel
