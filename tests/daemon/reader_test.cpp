// Reads beside a writer (service/node_core.h, docs/performance.md "Locks"):
// while something holds the node lock, as a long write would, the reads that
// change nothing -- a token check, `schakel status`, GET /metrics -- still
// answer, from the reader connection. An audited read (the outbox list)
// waits: its audit entry is written under the node lock before it shows
// anything. Not timed: it asserts which answers arrive while the lock is
// held, with generous bounds so a slow machine cannot fail it.
#include <future>

#include <gtest/gtest.h>

#include "federation_support.h"

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

}  // namespace
}  // namespace schakel
