// `schakel status` against real daemons: partners' reachability (one
// reachable, one whose card points at a port nobody listens on), the outbox
// and its oldest queued share, pending revocations, the next audit
// checkpoint and the database size.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/clock.h"
#include "schakel/base/time.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

using testing::kSanneJongere;
using testing::kSanneOuder;

const json& PartnerIn(const json& status, const std::string& id) {
  static const json kNone = json::object();
  for (const auto& p : status["partners"]) {
    if (p["node_id"] == id) return p;
  }
  ADD_FAILURE() << "no partner " << id << " in " << status.dump();
  return kNone;
}

Instant At(const json& v) {
  EXPECT_TRUE(v.is_string()) << v.dump();
  if (!v.is_string()) return Instant{};
  auto t = ParseInstant(v.get<std::string>());
  EXPECT_TRUE(t.ok()) << v.dump();
  return t.ok() ? *t : Instant{};
}

class StatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("team", "wijkteam-b", "wijkteam");
    // Paired but never started: its card names a loopback port nobody listens on.
    fed_.Add("rmc", "rmc-c", "rmc");
    fed_.Pair("school", "team");
    fed_.Pair("school", "rmc");
    fed_.AddUser("school", "mentor", "staff");
    fed_.AddUser("school", "zorgco", "coordinator");
    fed_.AddUser("school", "admin", "admin");
  }

  std::string AddConsent(const std::string& json_text) { return fed_.AddConsent("school", "zorgco", json_text); }

  std::string Share(const std::string& to, const std::string& purpose) {
    auto r =
        fed_.As("school", "mentor", {"share", "casus-2026-0042", "--to", to, "--purpose", purpose, "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    return testing::LastLine(r.out);
  }

  json Status() { return fed_.AsJson("school", "admin", {"status"}); }

  // Polls the status (bounded) until `done` holds for it; returns the last one.
  template <typename Pred>
  json WaitStatus(Pred done, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    json s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = Status();
      if (done(s)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "status never showed " << what << ": " << s.dump();
    return s;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(StatusTest, FreshNodeShowsIdentityPartnersUnknownEmptyOutboxAndItsSize) {
  fed_.StartNode("school");
  json s = Status();
  EXPECT_EQ(s["node_id"], "school-a");
  EXPECT_EQ(s["org_type"], "school");
  EXPECT_EQ(s["version"], "0.1.0");
  EXPECT_GE(s["uptime_seconds"].get<int64_t>(), 0);
  EXPECT_LE(At(s["started"]), At(s["now"]));
  ASSERT_EQ(s["partners"].size(), 2u);
  for (const char* id : {"wijkteam-b", "rmc-c"}) {
    const json& p = PartnerIn(s, id);
    EXPECT_TRUE(p["reachable"].is_null()) << p.dump();  // nothing sent yet
    EXPECT_TRUE(p["last_success"].is_null());
    EXPECT_TRUE(p["last_error"].is_null());
    EXPECT_EQ(p["queued_shares"], 0);
    EXPECT_EQ(p["pending_revocations"], 0);
  }
  EXPECT_EQ(s["outbox_depth"], 0);
  EXPECT_EQ(s["queued_shares"], 0);
  EXPECT_TRUE(s["oldest_queued"].is_null());
  EXPECT_EQ(s["pending_revocations"], 0);
  // The database is encrypted but not empty; the size counts node.db and its WAL.
  const json& db = s["database"];
  EXPECT_GT(db["db_bytes"].get<int64_t>(), 0);
  EXPECT_GE(db["wal_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(db["total_bytes"].get<int64_t>(), db["db_bytes"].get<int64_t>() + db["wal_bytes"].get<int64_t>());
  EXPECT_EQ(db["file"], fed_["school"].dir + "/data/node.db");
  // node.start is not yet covered by a checkpoint: one is due within the
  // default 300 s plus one 30 s maintenance period.
  EXPECT_GT(s["audit"]["last_seq"].get<int64_t>(), s["audit"]["checkpointed_seq"].get<int64_t>());
  Instant next = At(s["audit"]["next_checkpoint"]);
  EXPECT_GT(next, At(s["now"]));
  EXPECT_LE(next, At(s["started"]) + std::chrono::seconds(300 + 30) + std::chrono::seconds(1));

  auto human = fed_.As("school", "admin", {"status"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("node school-a (school), version 0.1.0"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("partner rmc-c (rmc)"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("not contacted since the daemon started"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("database: "), std::string::npos) << human.out;
  fed_.StopNode("school");
}

TEST_F(StatusTest, ReachableAndUnreachablePartnersQueueAndPendingRevocation) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  std::string ouder = AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);

  // To the wijkteam: delivered, so reachable.
  std::string to_team = Share("wijkteam-b", "doorverwijzing");
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", to_team, "delivered"));
  // To the RMC (a legal obligation, no consent needed): nobody listens there.
  Instant before_rmc = NowUtc() - std::chrono::seconds(1);
  std::string to_rmc = Share("rmc-c", "vsv_melding");
  json s = WaitStatus([](const json& st) { return PartnerIn(st, "rmc-c")["reachable"] == false; }, "rmc-c unreachable");
  const json& team = PartnerIn(s, "wijkteam-b");
  EXPECT_EQ(team["reachable"], true) << team.dump();
  EXPECT_FALSE(team["last_success"].is_null());
  EXPECT_TRUE(team["last_error"].is_null());
  EXPECT_EQ(team["queued_shares"], 0);
  const json& rmc = PartnerIn(s, "rmc-c");
  EXPECT_TRUE(rmc["last_success"].is_null()) << rmc.dump();
  ASSERT_TRUE(rmc["last_error"].is_string()) << rmc.dump();
  EXPECT_FALSE(rmc["last_error"].get<std::string>().empty());
  EXPECT_FALSE(rmc["last_error_at"].is_null());
  EXPECT_EQ(rmc["queued_shares"], 1);
  // No personal data in what status tells about a partner.
  EXPECT_EQ(s.dump().find("stu-1042"), std::string::npos);
  EXPECT_EQ(s.dump().find("Sanne"), std::string::npos);

  EXPECT_EQ(s["outbox_depth"], 1);
  EXPECT_EQ(s["queued_shares"], 1);
  Instant oldest = At(s["oldest_queued"]);
  EXPECT_GE(oldest, before_rmc);
  EXPECT_LE(oldest, At(s["now"]));
  EXPECT_EQ(s["pending_revocations"], 0);

  auto human = fed_.As("school", "admin", {"status"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("partner wijkteam-b (wijkteam) at " + team["address"].get<std::string>() +
                           ": reachable, last success"),
            std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("partner rmc-c (rmc) at " + rmc["address"].get<std::string>() + ": UNREACHABLE since"),
            std::string::npos)
      << human.out;

  // The wijkteam goes down; withdrawing the consent revokes its delivered
  // share, and the revocation waits in the queue.
  fed_.StopNode("team");
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["revoked"], json::array({to_team}));
  s = WaitStatus([](const json& st) { return PartnerIn(st, "wijkteam-b")["reachable"] == false; },
                 "wijkteam-b unreachable");
  EXPECT_EQ(s["pending_revocations"], 1);
  EXPECT_FALSE(s["oldest_pending_revocation"].is_null());
  EXPECT_EQ(PartnerIn(s, "wijkteam-b")["pending_revocations"], 1);
  EXPECT_FALSE(PartnerIn(s, "wijkteam-b")["last_success"].is_null());  // kept from before
  EXPECT_EQ(s["outbox_depth"], 2);
  EXPECT_EQ(s["queued_shares"], 1);

  // Back up: the revocation goes through and the partner is reachable again.
  fed_.StartNode("team");
  s = WaitStatus([](const json& st) { return st["pending_revocations"] == 0; }, "no pending revocation");
  EXPECT_EQ(PartnerIn(s, "wijkteam-b")["reachable"], true);
  EXPECT_EQ(PartnerIn(s, "wijkteam-b")["pending_revocations"], 0);
  EXPECT_EQ(s["outbox_depth"], 1);
  EXPECT_EQ(PartnerIn(s, "rmc-c")["reachable"], false);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", to_team, "purged"));
  fed_.StopNode("team");
  fed_.StopNode("school");
}

TEST_F(StatusTest, InboundDeliveryCountsAsContactButNotAsReachability) {
  fed_.AddUser("team", "teamcoord", "coordinator");
  fed_.AddUser("team", "admin", "admin");
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::string msg = Share("wijkteam-b", "doorverwijzing");
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  // At the wijkteam, the school delivered to it but it never sent anything.
  json s = fed_.AsJson("team", "admin", {"status"});
  const json& school = PartnerIn(s, "school-a");
  EXPECT_TRUE(school["reachable"].is_null()) << school.dump();
  EXPECT_FALSE(school["last_inbound"].is_null());
  EXPECT_EQ(school["last_success"], school["last_inbound"]);
  auto human = fed_.As("team", "admin", {"status"});
  EXPECT_NE(human.out.find("not contacted since the daemon started, last heard from"), std::string::npos) << human.out;
  fed_.StopNode("team");
  fed_.StopNode("school");
}

// The next checkpoint is the first maintenance run at or after the time it
// is due; after that run everything is covered and none is scheduled.
TEST_F(StatusTest, NextCheckpointFollowsTheMaintenanceSchedule) {
  ManualClock clock(NowUtc());
  Instant t0 = clock.Now();
  testing::InProcessDaemon d(fed_["school"].dir, clock);  // maintenance every hour
  ASSERT_TRUE(d.ok());
  json s = Status();
  EXPECT_EQ(At(s["started"]), t0);
  // node.start at t0 is due at t0 + 300 s; the timer fires at t0 + 1 h.
  EXPECT_EQ(At(s["audit"]["next_checkpoint"]), t0 + std::chrono::hours(1)) << s.dump();
  EXPECT_LT(s["audit"]["checkpointed_seq"].get<int64_t>(), s["audit"]["last_seq"].get<int64_t>());

  clock.Advance(std::chrono::hours(1));
  d->RunMaintenanceNow();
  s = Status();
  EXPECT_EQ(s["audit"]["checkpointed_seq"], s["audit"]["last_seq"]) << s.dump();
  EXPECT_TRUE(s["audit"]["next_checkpoint"].is_null()) << s.dump();
  EXPECT_EQ(s["uptime_seconds"], 3600);
  auto human = fed_.As("school", "admin", {"status"});
  EXPECT_NE(human.out.find("next checkpoint when new entries are written"), std::string::npos) << human.out;
  d.Stop();
}

}  // namespace
}  // namespace schakel
