// A lane per partner (peer/delivery.h, docs/performance.md "Lanes"): one
// frozen partner (SIGSTOP: its port still accepts, its TLS never answers,
// so every attempt waits out the 10 s connect timeout) does not hold up the
// shares to the others. Not timed: it asserts completion and order -- the
// other partners have everything while the frozen one's shares still wait --
// and that the frozen one gets each of its shares exactly once after SIGCONT.
#include <csignal>
#include <set>

#include <gtest/gtest.h>

#include "federation_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

// Sanne's consents for every wijkteam (by org type).
constexpr const char* kOuderAllTeams = R"({"subject_id": "stu-1042", "grantor_role": "ouder",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";
constexpr const char* kJongereAllTeams = R"({"subject_id": "stu-1042", "grantor_role": "jongere",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";

TEST(Lanes, AFrozenPartnerHoldsUpOnlyItsOwnShares) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  const char* teams[] = {"b", "c", "d"};
  for (const char* t : teams) {
    fed.Add(t, std::string("wijkteam-") + t, "wijkteam");
    ASSERT_NO_FATAL_FAILURE(fed.Pair("school", t));
    ASSERT_NO_FATAL_FAILURE(fed.AddReader(t, "gezinswerker", "school"));
  }
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  fed.StartNode("school");
  for (const char* t : teams) fed.StartNode(t);
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {kOuderAllTeams, kJongereAllTeams}));
  auto share = [&](const std::string& to) {
    auto r = fed.As("school", "mentor",
                    {"share", "casus-2026-0042", "--to", to, "--purpose", "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    return testing::LastLine(r.out);
  };

  // wijkteam-d freezes; its shares go into the queue first, so a single
  // worker would meet them first and wait on each.
  fed.SignalNode("d", SIGSTOP);
  std::vector<std::string> to_d, to_others;
  for (int i = 0; i < 4; ++i) to_d.push_back(share("wijkteam-d"));
  for (int i = 0; i < 3; ++i) {
    to_others.push_back(share("wijkteam-b"));
    to_others.push_back(share("wijkteam-c"));
  }
  // Every share to the others arrives while wijkteam-d is still frozen...
  for (const auto& id : to_others) EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered")) << id;
  // ... and none of wijkteam-d's has.
  auto outbox = fed.AsJson("school", "mentor", {"shares"});
  std::set<std::string> d_ids(to_d.begin(), to_d.end());
  for (const auto& s : outbox["shares"]) {
    if (d_ids.count(s["message_id"].get<std::string>())) {
      EXPECT_NE(s["state"], "delivered") << s.dump();
    }
  }
  for (const char* t : {"b", "c"}) {
    EXPECT_EQ(fed.AsJson(t, "gezinswerker", {"inbox"})["inbox"].size(), 3u) << t;
  }
  // `status` shows whose queue waits, and since when.
  auto status = fed.AsJson("school", "beheer", {"status"});
  for (const auto& p : status["partners"]) {
    if (p["node_id"] == "wijkteam-d") {
      EXPECT_EQ(p["queued_shares"], 4) << p.dump();
      EXPECT_TRUE(p["oldest_queued"].is_string()) << p.dump();
    } else {
      EXPECT_EQ(p["queued_shares"], 0) << p.dump();
      EXPECT_TRUE(p["oldest_queued"].is_null()) << p.dump();
    }
  }

  // Thawed, wijkteam-d gets each of its shares, once.
  fed.SignalNode("d", SIGCONT);
  for (const auto& id : to_d) {
    EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(60))) << id;
  }
  auto inbox = fed.AsJson("d", "gezinswerker", {"inbox"})["inbox"];
  std::multiset<std::string> got;
  for (const auto& item : inbox) got.insert(item["message_id"].get<std::string>());
  EXPECT_EQ(got.size(), to_d.size()) << inbox.dump();
  for (const auto& id : to_d) EXPECT_EQ(got.count(id), 1u) << id;
}

// The school and wijkteam-b, paired; the school's first retry comes after
// 16..24 s. Nothing is started yet.
void AddSchoolWithSlowRetries(Federation& fed) {
  fed.Add("school", "school-a", "school", "retry_base_ms = 20000\nretry_max_ms = 60000\n");
  fed.Add("b", "wijkteam-b", "wijkteam");
  ASSERT_NO_FATAL_FAILURE(fed.Pair("school", "b"));
  ASSERT_NO_FATAL_FAILURE(fed.AddReader("b", "gezinswerker", "school"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "mentor", "staff"));
}

// Once the school runs: Sanne's case and her consents for every wijkteam.
void AddSanneAtSchool(Federation& fed) {
  auto added = fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")});
  ASSERT_EQ(added.code, 0) << added.err;
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {kOuderAllTeams, kJongereAllTeams}));
}

// The school and wijkteam-b running, Sanne's case and consents at the school.
void StartSchoolAndBWithSanne(Federation& fed) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolWithSlowRetries(fed));
  fed.StartNode("school");
  fed.StartNode("b");
  ASSERT_NO_FATAL_FAILURE(AddSanneAtSchool(fed));
}

// Sanne's case shared with wijkteam-b; its message id ("" after a failure).
std::string ShareSanneWithB(Federation& fed) {
  auto r = fed.As("school", "mentor",
                  {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? testing::LastLine(r.out) : "";
}

// A lane does not wait for its partner's answer before it sends what became
// due meanwhile (peer/delivery.h Drain): with wijkteam-b frozen after a first
// delivery, on the connection that delivery left open, the next share goes
// out and waits for its answer, and the one after it goes out too (both
// `sending`, none delivered). Thawed, wijkteam-b answers both, and holds each
// once. Not timed: a share is created only after the one before is on the wire.
TEST(Lanes, AShareGoesOutWhileTheOneBeforeAwaitsItsAnswer) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(StartSchoolAndBWithSanne(fed));
  const std::string first = ShareSanneWithB(fed);
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", first, "delivered"));
  fed.SignalNode("b", SIGSTOP);
  const std::string second = ShareSanneWithB(fed);
  ASSERT_FALSE(second.empty());
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", second, "sending"));
  const std::string third = ShareSanneWithB(fed);
  ASSERT_FALSE(third.empty());
  EXPECT_TRUE(fed.WaitShareState("school", "mentor", third, "sending"))
      << "the lane waited for wijkteam-b's answer before it sent the next share";
  fed.SignalNode("b", SIGCONT);
  for (const std::string& id : {second, third}) {
    EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(30))) << id;
  }
  auto inbox = fed.AsJson("b", "routing-co", {"inbox"})["inbox"];
  std::multiset<std::string> got;
  for (const auto& item : inbox) got.insert(item["message_id"].get<std::string>());
  EXPECT_EQ(got, (std::multiset<std::string>{first, second, third})) << inbox.dump();
}

// A partner whose node was down (its port refused) is probed while its
// share waits out a long backoff: once it is up the share goes, long before
// the backoff would have let it (found by the probe, or told by its greeting).
TEST(Lanes, APartnerBackFromDownGetsItsQueueBeforeTheBackoffEnds) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(AddSchoolWithSlowRetries(fed));
  fed.StartNode("school");
  ASSERT_NO_FATAL_FAILURE(AddSanneAtSchool(fed));
  const std::string id = ShareSanneWithB(fed);
  ASSERT_FALSE(id.empty());
  // The first attempt met a closed port.
  ASSERT_TRUE(fed.WaitLog("school", "to wijkteam-b failed (attempt 1", std::chrono::seconds(10)));
  fed.StartNode("b");
  EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(10)));
  // Found by the school's probe, or greeted by wijkteam-b as it starts
  // (usually first; a partner on an older release does not greet).
  std::string text = testing::ReadAll(fed["school"].dir + "/daemon.log");
  EXPECT_TRUE(text.find("wijkteam-b answers again") != std::string::npos ||
              text.find("wijkteam-b connected to this node; its queue goes now") != std::string::npos)
      << text;
  // Asked of a coordinator, who sees every received share: the share may
  // arrive before StartNode has confirmed the reader's routes, and then waits
  // unassigned.
  EXPECT_EQ(fed.AsJson("b", "routing-co", {"inbox"})["inbox"].size(), 1u);
}

// A partner that made us wait (frozen: no answer, so it is not probed)
// keeps to its backoff -- until its node comes back and connects to us:
// a node that starts greets each partner, and a partner that connects is
// up, so what waits for it goes then, long before the backoff would let it.
TEST(Lanes, APartnerThatConnectsGetsItsQueueBeforeTheBackoffEnds) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(StartSchoolAndBWithSanne(fed));
  // The school may hold a connection to wijkteam-b from the start (a
  // witness request, its greeting): a share on it to a frozen node would
  // wait out the 120 s request timeout. Restarted, wijkteam-b ends it, and
  // nothing has the school connect again before the share: its attempt then
  // waits out the 10 s connect timeout.
  fed.StopNode("b");
  fed.StartNode("b");
  fed.SignalNode("b", SIGSTOP);
  const std::string id = ShareSanneWithB(fed);
  ASSERT_FALSE(id.empty());
  // The first attempt waits out its timeout on the frozen node (bounded
  // past the request timeout, should a connection have been opened anyway).
  ASSERT_TRUE(fed.WaitLog("school", "to wijkteam-b failed (attempt 1", std::chrono::seconds(130)));
  // Its node is restarted, and greets the school on its way up.
  fed.StopNode("b", /*kill=*/true);
  fed.StartNode("b");
  EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(10)));
  EXPECT_NE(
      testing::ReadAll(fed["school"].dir + "/daemon.log").find("wijkteam-b connected to this node; its queue goes now"),
      std::string::npos)
      << testing::ReadAll(fed["school"].dir + "/daemon.log");
  EXPECT_EQ(fed.AsJson("b", "routing-co", {"inbox"})["inbox"].size(), 1u);
}

}  // namespace
}  // namespace schakel
