// Shares on the wire (service/on_the_wire.h, docs/consent.md "On the
// wire"): a lane puts a share on the wire in memory, not with a durable
// `queued -> sending`. These tests show that what depends on "may it be
// with the partner?" holds all the same: while it is on the wire, after a
// SIGKILL of the sender while it was, and that a clean stop leaves nothing
// behind that would turn a share that never left into one that may have.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/records.h"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::OpenNodeDb;

using testing::kSanneJongere;
using testing::kSanneOuder;

class OnTheWire : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam()); }

  // The case and both consents; returns the parent's consent id.
  std::string AddCaseAndConsents() {
    auto added = fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")});
    EXPECT_EQ(added.code, 0) << added.err;
    std::string ouder = fed_.AddConsent("school", "zorgco", kSanneOuder);
    fed_.AddConsent("school", "zorgco", kSanneJongere);
    return ouder;
  }

  std::string ShareSanne() {
    auto r =
        fed_.As("school", "mentor",
                {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    return testing::LastLine(r.out);
  }

  // The share's row and the marker as the school's database holds them (the
  // school stopped).
  struct Kept {
    std::string state;
    std::string marker;
  };
  Kept ReadSchool(const std::string& msg) {
    Kept out;
    auto db = OpenNodeDb(fed_["school"].dir);
    EXPECT_TRUE(db);
    if (!db) return out;
    auto share = store::FindShare(*db, msg);
    EXPECT_TRUE(share.ok() && *share);
    if (share.ok() && *share) out.state = std::string(store::ShareStateName((*share)->state));
    auto marker = store::GetMeta(*db, "shares_on_the_wire");
    EXPECT_TRUE(marker.ok());
    if (marker.ok()) out.marker = marker->value_or("(none)");
    return out;
  }

  testing::TempDir tmp_;
  Federation fed_{tmp_};
};

// The sender dies while a share is on the wire: its row still says
// `queued`, but the next start takes it as possibly sent, so that a
// withdrawal revokes it (the partner is told to purge) instead of cancelling
// it. The partner, resumed, gets the revocation and purges.
TEST_F(OnTheWire, AShareOnTheWireWhenTheSenderDiesIsRevokedNotCancelledAfterTheRestart) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  std::string ouder = AddCaseAndConsents();
  const std::vector<std::string> before = fed_.DeliverTwoInTurn("school", "mentor", [this] { return ShareSanne(); });
  ASSERT_EQ(before.size(), 2u);

  fed_.SignalNode("team", SIGSTOP);
  std::string msg = ShareSanne();
  // On the wire: shown `sending` while the school waits for the answer.
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "sending"));
  fed_.StopNode("school", /*kill=*/true);

  // What the crash left: no durable `sending`, and the marker.
  Kept killed = ReadSchool(msg);
  EXPECT_EQ(killed.state, "queued");
  EXPECT_EQ(killed.marker, "1");

  // The team is still frozen: the restarted school cannot deliver it.
  fed_.StartNode("school");
  EXPECT_TRUE(fed_.WaitLog("school", "1 queued share(s) may have reached their partner", 5s));
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "sending", 5s));
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["cancelled"], json::array());
  EXPECT_EQ(w["revoked"], json::array({before[0], before[1], msg}));
  fed_.SignalNode("team", SIGCONT);

  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged", 30s));
  for (const std::string& id : before) ASSERT_TRUE(fed_.WaitShareState("school", "mentor", id, "purged", 30s));
  // Whatever reached the team of it is gone there.
  const json team_inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});  // kept: the loop reads into it
  for (const auto& m : team_inbox["inbox"]) {
    if (m["message_id"] == msg) {
      EXPECT_EQ(m["state"], "purged") << m.dump();
    }
  }
  fed_.StopNode("school");
  fed_.StopNode("team");
  EXPECT_EQ(ReadSchool(msg).marker, "0") << "the start that settled the shares cleared it";
}

// A recall while the share is on the wire (its row still `queued`) revokes
// it: it may be with the partner.
TEST_F(OnTheWire, ARecallWhileOnTheWireRevokes) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  AddCaseAndConsents();
  ASSERT_EQ(fed_.DeliverTwoInTurn("school", "mentor", [this] { return ShareSanne(); }).size(), 2u);
  fed_.SignalNode("team", SIGSTOP);
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "sending"));
  auto r = fed_.AsJson("school", "mentor", {"recall", msg, "--reason", "sent_in_error"});
  EXPECT_EQ(r["state"], "revoked");
  fed_.SignalNode("team", SIGCONT);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged", 30s));
}

// A clean stop lands every round first and clears the marker: a share
// queued for a partner that is down (it never went on the wire) is still
// `queued` after a restart, and a recall cancels it. Nothing reaches the
// partner when it comes back.
TEST_F(OnTheWire, ACleanRestartKeepsAShareThatNeverLeftQueued) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  AddCaseAndConsents();
  std::string first = ShareSanne();  // something went on the wire in this run
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", first, "delivered"));
  fed_.StopNode("team");
  std::string msg = ShareSanne();
  // Tried at least once while the team is down (refused at connect).
  EXPECT_TRUE(fed_.WaitLog("school", "delivery of share " + msg, 10s));
  fed_.StopNode("school");
  Kept stopped = ReadSchool(msg);
  EXPECT_EQ(stopped.state, "queued");
  EXPECT_EQ(stopped.marker, "0");

  fed_.StartNode("school");
  auto r = fed_.AsJson("school", "zorgco", {"recall", msg, "--reason", "wrong_recipient"});
  EXPECT_EQ(r["state"], "cancelled");
  fed_.StartNode("team");
  std::this_thread::sleep_for(1500ms);  // as RecallOfAQueuedShareCancelsIt: time to deliver, were it queued
  const json team_inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});  // kept: the loop reads into it
  for (const auto& m : team_inbox["inbox"]) {
    EXPECT_NE(m["message_id"], msg) << "a cancelled share reached the partner";
  }
}

}  // namespace
}  // namespace schakel
