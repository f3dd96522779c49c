// Reads beside a writer (service/node_core.h, docs/performance.md "Locks"):
// while something holds the node lock, as a long write would, the reads that
// change nothing -- a token check, `schakel status`, GET /metrics -- still
// answer, from the reader connection. An audited read (the outbox list)
// waits: its audit entry is written under the node lock before it shows
// anything. Not timed: it asserts which answers arrive while the lock is
// held, with generous bounds so a slow machine cannot fail it.
//
// Shares are decided on the reader too (EgressGate::DecideReading) and
// stored by group commit (NodeCore::WriteGrouped): while the node lock is
// held, three shares are decided and sealed and wait together for it; once
// it is let go they are stored in two transactions, not three.
#include <cstdlib>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "load_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::HttpGet;
using testing::InProcessDaemon;
using testing::TempDir;

constexpr auto kBound = std::chrono::seconds(30);

TEST(Reader, StatusMetricsAndTokensAnswerWhileAWriterHoldsTheNodeLock) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  SystemClock clock;
  InProcessDaemon school(fed["school"].dir, clock);  // lvs stays down: the share stays queued
  ASSERT_TRUE(school.ok());
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  auto queued = fed.As("school", "mentor",
                       {"share", "casus-2026-0042", "--to", "lvs-b", "--purpose", "verzuimmelding", "--allow-partial"});
  ASSERT_EQ(queued.code, 0) << queued.err;
  const std::string message_id = testing::LastLine(queued.out);
  const int api = school->api_port();
  const std::string admin = fed["school"].tokens.at("beheer");
  const std::string mentor = fed["school"].tokens.at("mentor");

  std::future<std::string> list;
  school->WithNodeLockHeld([&] {
    auto status = std::async(std::launch::async, [&] { return fed.As("school", "beheer", {"status", "--json"}); });
    auto metrics = std::async(std::launch::async, [&] { return HttpGet(api, "/metrics", admin); });
    auto bad_token = std::async(std::launch::async, [&] { return HttpGet(api, "/metrics", "not-a-token-at-all"); });
    list = std::async(std::launch::async, [&] { return HttpGet(api, "/v1/shares", mentor); });

    ASSERT_EQ(status.wait_for(kBound), std::future_status::ready) << "status waited for the node lock";
    auto st = status.get();
    ASSERT_EQ(st.code, 0) << st.err;
    json s = json::parse(st.out, nullptr, false);
    ASSERT_TRUE(s.is_object()) << st.out;
    bool seen = false;
    for (const auto& p : s["partners"]) {
      if (p["node_id"] == "lvs-b") {
        EXPECT_EQ(p["queued_shares"], 1) << p.dump();
        seen = true;
      }
    }
    EXPECT_TRUE(seen) << st.out;

    ASSERT_EQ(metrics.wait_for(kBound), std::future_status::ready) << "/metrics waited for the node lock";
    EXPECT_NE(metrics.get().find("schakel_partner_outbox_depth{partner=\"lvs-b\"} 1"), std::string::npos);
    ASSERT_EQ(bad_token.wait_for(kBound), std::future_status::ready) << "a token check waited for the node lock";
    EXPECT_NE(bad_token.get().find("HTTP/1.1 401"), std::string::npos);

    // The list is read beside the writer too, but shown only once its
    // audit entry is written, which needs the node lock.
    EXPECT_EQ(list.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
        << "the outbox list answered before its audit entry could be written";
  });
  ASSERT_TRUE(list.valid());
  ASSERT_EQ(list.wait_for(kBound), std::future_status::ready);
  std::string answer = list.get();
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_NE(answer.find(message_id), std::string::npos) << answer;
}

// A change committed by the writer is what the next read sees: a token
// disabled while the node runs stops working at once, though tokens are now
// checked on the reader connection.
TEST(Reader, ATokenDisabledWhileRunningStopsAtOnce) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  SystemClock clock;
  InProcessDaemon school(fed["school"].dir, clock);
  ASSERT_TRUE(school.ok());
  const int api = school->api_port();
  const std::string mentor = fed["school"].tokens.at("mentor");
  ASSERT_NE(HttpGet(api, "/v1/status", mentor).find("HTTP/1.1 200"), std::string::npos);
  auto off = testing::RunSchakel({"user", "disable", "mentor", "--dir", fed["school"].dir});
  ASSERT_EQ(off.code, 0) << off.err;
  std::string after = HttpGet(api, "/v1/status", mentor);
  EXPECT_NE(after.find("HTTP/1.1 401"), std::string::npos) << after;
}

// The value of a metric line "NAME VALUE" in an exposition text; -1 if absent.
int64_t Metric(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + name.size() + 2);
}

TEST(Reader, SharesAreDecidedBesideAWriterAndStoredTogetherOnceItLetsGo) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  SystemClock clock;
  InProcessDaemon school(fed["school"].dir, clock);  // lvs stays down: the shares stay queued
  ASSERT_TRUE(school.ok());
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  const int api = school->api_port();
  const std::string admin = fed["school"].tokens.at("beheer");
  const std::string mentor = fed["school"].tokens.at("mentor");
  const std::string body = json{
      {"case_id", "casus-2026-0042"},
      {"to", "lvs-b"},
      {"purpose", "verzuimmelding"},
      {"allow_partial", true}}.dump();
  std::string before = HttpGet(api, "/metrics", admin);
  ASSERT_GE(Metric(before, "schakel_write_groups_total"), 0) << before;

  // Three: the API runs four handlers at a time, and one must stay free for
  // /metrics while the shares wait.
  constexpr int kShares = 3;
  std::vector<std::future<std::string>> shares;
  school->WithNodeLockHeld([&] {
    for (int i = 0; i < kShares; ++i) {
      shares.push_back(std::async(std::launch::async, [&] {
        return testing::HttpExchange(api, testing::HttpRequest("POST", "/v1/shares", mentor, body),
                                     std::chrono::milliseconds(60000));
      }));
    }
    // All three decided and sealed while the lock is held: they wait for
    // their commit (/metrics is read beside the writer too).
    int64_t pending = 0;
    auto deadline = std::chrono::steady_clock::now() + kBound;
    while (pending < kShares && std::chrono::steady_clock::now() < deadline) {
      pending = Metric(HttpGet(api, "/metrics", admin), "schakel_grouped_writes_pending");
      if (pending < kShares) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(pending, kShares) << "the shares did not all reach their commit while the node lock was held";
    for (auto& f : shares) EXPECT_EQ(f.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  });
  std::set<std::string> ids;
  for (auto& f : shares) {
    ASSERT_EQ(f.wait_for(kBound), std::future_status::ready);
    std::string answer = f.get();
    ASSERT_EQ(testing::HttpStatus(answer), 200) << answer;
    json j = json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
    ASSERT_TRUE(j.is_object()) << answer;
    ids.insert(j.value("message_id", ""));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kShares));
  std::string after = HttpGet(api, "/metrics", admin);
  EXPECT_EQ(Metric(after, "schakel_grouped_writes_total") - Metric(before, "schakel_grouped_writes_total"), kShares);
  // The first to arrive led alone; the two that waited behind it shared
  // one transaction.
  EXPECT_EQ(Metric(after, "schakel_write_groups_total") - Metric(before, "schakel_write_groups_total"), 2);
  EXPECT_EQ(Metric(after, "schakel_grouped_writes_pending"), 0);
  auto outbox = fed.As("school", "beheer", {"status", "--json"});
  ASSERT_EQ(outbox.code, 0) << outbox.err;
  json st = json::parse(outbox.out, nullptr, false);
  for (const auto& p : st["partners"]) {
    if (p["node_id"] == "lvs-b") {
      EXPECT_EQ(p["queued_shares"], kShares) << p.dump();
    }
  }
}

}  // namespace
}  // namespace schakel
