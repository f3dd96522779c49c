// Fault tests (issue #8): SIGKILL of the sender and of the recipient at named
// points of a delivery (base/include/schakel/base/fault_point.h). After the crash the node
// is restarted without the fault and the delivery is left to finish; then
// the share must be delivered exactly once (or, killed before its commit,
// never have existed), the receipt held, the received copy readable, and
// both databases and audit chains intact. See docs/fault-tests.md.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/envelope.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/records.h"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CaseFixture;
using testing::CountEntries;
using testing::ExpectIntact;
using testing::Federation;
using testing::OpenNodeDb;
using testing::TempDir;

using testing::kSanneJongere;
using testing::kSanneOuder;

// A case as large as a case summary may be (256 KiB), for the mid-frame kill.
std::string LargeCase() {
  json c = json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  c["hulpvraag"]["question"] = std::string(200 * 1024, 'x');
  return c.dump();
}

struct KillCase {
  const char* point;   // SCHAKEL_FAULT_POINT of the node that dies
  const char* victim;  // "school" (sender) or "team" (recipient)
  bool large;          // share a ~200 KiB case
};

void PrintTo(const KillCase& k, std::ostream* os) { *os << k.victim << "@" << k.point; }

// "team_inbox_before_commit": the test's name for a case.
std::string KillCaseName(const ::testing::TestParamInfo<KillCase>& p) {
  std::string name = std::string(p.param.victim) + "_" + p.param.point;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class FaultKill : public ::testing::TestWithParam<KillCase> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam()); }

  // Waits for the victim to kill itself, then restarts it without the fault.
  void ExpectCrashAndRestart(const std::string& victim) {
    testing::Node& n = fed_[victim];
    ASSERT_TRUE(n.daemon);
    int code = n.daemon->Wait(20s);
    EXPECT_EQ(code, 128 + SIGKILL) << victim << " did not die at " << GetParam().point << ": "
                                   << testing::ReadAll(n.dir + "/daemon.log");
    if (code == -1) n.daemon->Signal(SIGKILL);
    n.daemon.reset();
    EXPECT_NE(testing::ReadAll(n.dir + "/daemon.log").find(std::string("fault point ") + GetParam().point),
              std::string::npos);
    fed_.StartNode(victim);
  }

  std::vector<json> Shares() {
    auto j = fed_.AsJson("school", "mentor", {"shares"});
    return j["shares"].get<std::vector<json>>();
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_P(FaultKill, ShareIsDeliveredExactlyOnceOrNotAtAll) {
  const KillCase& k = GetParam();
  const std::vector<std::string> fault_env{std::string("SCHAKEL_FAULT_POINT=") + k.point};
  fed_.StartNode("team", std::string(k.victim) == "team" ? fault_env : std::vector<std::string>{});
  fed_.StartNode("school", std::string(k.victim) == "school" ? fault_env : std::vector<std::string>{});

  std::string case_file = k.large ? fed_.WriteFile("large.json", LargeCase()) : CaseFixture("sanne.json");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", case_file}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kSanneOuder, kSanneJongere}));
  const std::vector<std::string> share_args = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                               "--purpose", "doorverwijzing",  "--allow-partial"};
  auto shared = fed_.As("school", "mentor", share_args);
  const bool dies_in_request = std::string(k.point).rfind("share.", 0) == 0;
  if (dies_in_request) {
    // The daemon died while answering: the CLI reports a failure, not a message id.
    EXPECT_EQ(shared.code, 1) << shared.out << shared.err;
  } else if (std::string(k.victim) == "school") {
    // The share is committed before the delivery worker wakes; the worker may
    // reach its crash point before the API's answer is written (seen under
    // ASan), so the CLI may see the connection drop. What counts is checked
    // below: exactly one share, delivered once.
    EXPECT_TRUE(shared.code == 0 || shared.code == 1) << shared.out << shared.err;
  } else {
    ASSERT_EQ(shared.code, 0) << shared.err;
  }

  ExpectCrashAndRestart(k.victim);

  std::vector<json> shares = Shares();
  if (std::string(k.point) == "share.before_commit") {
    // Killed inside the transaction: nothing of the share remains.
    EXPECT_TRUE(shares.empty()) << json(shares).dump();
    auto again = fed_.As("school", "mentor", share_args);
    ASSERT_EQ(again.code, 0) << again.err;
    shares = Shares();
  }
  ASSERT_EQ(shares.size(), 1u) << json(shares).dump();
  std::string msg = shares[0]["message_id"];
  if (!dies_in_request && shared.code == 0) {
    EXPECT_EQ(testing::LastLine(shared.out), msg);
  }
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", 30s));

  // Exactly one readable copy at the recipient.
  auto inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});
  ASSERT_EQ(inbox["inbox"].size(), 1u) << inbox.dump();
  EXPECT_EQ(inbox["inbox"][0]["message_id"], msg);
  auto shown = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(shown["summary"]["student_id"], "stu-1042");
  if (k.large) {
    EXPECT_EQ(shown["summary"]["hulpvraag"]["question"].get<std::string>().size(), 200u * 1024);
  }

  // Stop both cleanly and look at the databases themselves.
  fed_.StopNode("school");
  fed_.StopNode("team");
  auto school_db = OpenNodeDb(fed_["school"].dir);
  auto team_db = OpenNodeDb(fed_["team"].dir);
  ASSERT_TRUE(school_db && team_db);
  auto share = store::FindShare(*school_db, msg);
  ASSERT_TRUE(share.ok() && *share);
  EXPECT_EQ((*share)->state, store::ShareState::kDelivered);
  auto receipt = crypto::DecodeReceipt(std::string((*share)->receipt.begin(), (*share)->receipt.end()));
  EXPECT_TRUE(receipt.ok()) << "the sender holds no valid receipt: " << receipt.status().message();
  auto queued = store::CountOutgoing(*school_db);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 0) << "the delivered share is still in the outbox";
  auto received = store::ListInbox(*team_db);
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].message_id, msg);
  EXPECT_TRUE((*received)[0].summary.has_value());
  ExpectIntact(*school_db, "school-a");
  ExpectIntact(*team_db, "wijkteam-b");

  // Each side logged the event once, however many attempts it took.
  EXPECT_EQ(CountEntries(*school_db, "share.permitted", msg), 1);
  EXPECT_EQ(CountEntries(*school_db, "share.delivered", msg), 1);
  EXPECT_EQ(CountEntries(*team_db, "inbox.received", msg), 1);
}

// The same crash points with a batch in flight (peer protocol version 3):
// shares queued while the team is down go to it together once it is up,
// are stored there in one transaction and recorded here in one. After the
// crash and a restart each is delivered exactly once.
class FaultKillBatch : public FaultKill {
 protected:
  // `shares` queued for the team while it is down, then the crash and the
  // restart; `school_log_says`: what the school's (debug) log must hold
  // ("": nothing in particular).
  void QueueCrashAndCheck(size_t shares, const std::string& school_log_says);
};

void FaultKillBatch::QueueCrashAndCheck(size_t shares, const std::string& school_log_says) {
  const KillCase& k = GetParam();
  const std::vector<std::string> fault_env{std::string("SCHAKEL_FAULT_POINT=") + k.point};
  const bool team_dies = std::string(k.victim) == "team";
  // Debug logging shows the batches.
  for (const char* name : {"school", "team"}) {
    std::string cfg_path = fed_[name].dir + "/schakel.toml";
    std::string cfg = testing::ReadAll(cfg_path);
    size_t at = cfg.find("[log]\nlevel = 'info'");
    ASSERT_NE(at, std::string::npos) << cfg;
    cfg.replace(at, 20, "[log]\nlevel = 'debug'");
    testing::WriteAll(cfg_path, cfg);
  }
  fed_.StartNode("school", team_dies ? std::vector<std::string>{} : fault_env);
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kSanneOuder, kSanneJongere}));
  std::vector<std::string> ids;
  for (size_t i = 0; i < shares; ++i) {
    auto shared =
        fed_.As("school", "mentor",
                {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
    ASSERT_EQ(shared.code, 0) << shared.err;
    ids.push_back(testing::LastLine(shared.out));
  }
  // Only now does the team come up: the shares wait for it together. A team
  // that is to die takes the batch at once, perhaps before it logs " ready"
  // (seen under ASan) or its routes could be set: those wait for its restart
  // (the inbox is checked in the database).
  if (team_dies) {
    fed_.StartNode("team", fault_env, /*to_die=*/true);
  } else {
    fed_.StartNode("team");
  }
  ExpectCrashAndRestart(k.victim);
  for (const std::string& id : ids) ASSERT_TRUE(fed_.WaitShareState("school", "mentor", id, "delivered", 30s));

  // The victim met its crash point in the batch path.
  const std::string victim_log = testing::ReadAll(fed_[k.victim].dir + "/daemon.log");
  EXPECT_NE(victim_log.find(team_dies ? "shares from school-a in one transaction"
                                      : "answers from wijkteam-b in one transaction"),
            std::string::npos)
      << victim_log;
  if (!school_log_says.empty()) {
    const std::string school_log = testing::ReadAll(fed_["school"].dir + "/daemon.log");
    EXPECT_NE(school_log.find(school_log_says), std::string::npos) << school_log;
  }

  fed_.StopNode("school");
  fed_.StopNode("team");
  auto school_db = OpenNodeDb(fed_["school"].dir);
  auto team_db = OpenNodeDb(fed_["team"].dir);
  ASSERT_TRUE(school_db && team_db);
  auto received = store::ListInbox(*team_db);
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->size(), shares);
  auto queued = store::CountOutgoing(*school_db);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 0);
  for (const std::string& id : ids) {
    auto share = store::FindShare(*school_db, id);
    ASSERT_TRUE(share.ok() && *share);
    EXPECT_EQ((*share)->state, store::ShareState::kDelivered) << id;
    EXPECT_TRUE(crypto::DecodeReceipt(std::string((*share)->receipt.begin(), (*share)->receipt.end())).ok()) << id;
    EXPECT_EQ(CountEntries(*school_db, "share.delivered", id), 1) << id;
    EXPECT_EQ(CountEntries(*team_db, "inbox.received", id), 1) << id;
  }
  ExpectIntact(*school_db, "school-a");
  ExpectIntact(*team_db, "wijkteam-b");
}

TEST_P(FaultKillBatch, EveryShareOfABatchIsDeliveredExactlyOnce) {
  QueueCrashAndCheck(5, "answers from wijkteam-b in one transaction");
}

// Two rounds pipelined (docs/performance.md "Pipelining"): 40 shares make a
// round of 32 and one of 8, and the second is sent while the first awaits
// its answers. The school dies recording the first round's answers, with
// the second on its way (always so: the second goes before the first's
// answers are read); the team dies once it has stored the first round,
// with the second sent or not (the school's timing decides).
using FaultKillPipelined = FaultKillBatch;

TEST_P(FaultKillPipelined, EveryShareOfPipelinedRoundsIsDeliveredExactlyOnce) {
  const bool school_dies = std::string(GetParam().victim) == "school";
  QueueCrashAndCheck(40,
                     school_dies ? "8 sent to wijkteam-b while 32 sent before await their answers (pipelined)" : "");
}

INSTANTIATE_TEST_SUITE_P(Points, FaultKillBatch,
                         ::testing::Values(KillCase{"delivery.after_receipt", "school", false},
                                           KillCase{"delivery.before_receipt_commit", "school", false},
                                           KillCase{"inbox.before_commit", "team", false},
                                           KillCase{"inbox.after_commit", "team", false}),
                         KillCaseName);

INSTANTIATE_TEST_SUITE_P(Points, FaultKillPipelined,
                         ::testing::Values(KillCase{"delivery.after_receipt", "school", false},
                                           KillCase{"inbox.after_commit", "team", false}),
                         KillCaseName);

INSTANTIATE_TEST_SUITE_P(Points, FaultKill,
                         ::testing::Values(KillCase{"share.before_commit", "school", false},
                                           KillCase{"share.after_commit", "school", false},
                                           KillCase{"delivery.before_send", "school", false},
                                           KillCase{"peer_client.mid_frame", "school", true},
                                           KillCase{"delivery.after_receipt", "school", false},
                                           KillCase{"delivery.before_receipt_commit", "school", false},
                                           KillCase{"peer_server.after_read", "team", false},
                                           KillCase{"inbox.before_commit", "team", false},
                                           KillCase{"inbox.after_commit", "team", false}),
                         KillCaseName);

}  // namespace
}  // namespace schakel
