// GET /metrics on a running schakeld: Prometheus text for the admin role
// only, counts that follow what the node did, no personal data in labels.

#include <regex>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/histogram.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::HttpGet;
using testing::TempDir;

TEST(Metrics, AdminReadsCountsWithoutPersonalData) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  fed.StartNode("school");  // lvs stays down: the share stays queued
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  auto permitted =
      fed.As("school", "mentor",
             {"share", "casus-2026-0042", "--to", "lvs-b", "--purpose", "verzuimmelding", "--allow-partial"});
  ASSERT_EQ(permitted.code, 0) << permitted.err;
  auto denied =
      fed.As("school", "mentor", {"share", "casus-2026-0042", "--to", "lvs-b", "--purpose", "doorverwijzing"});
  ASSERT_EQ(denied.code, 3) << denied.err;

  int api = fed["school"].port + 1;
  std::string res = HttpGet(api, "/metrics", fed["school"].tokens.at("beheer"));
  ASSERT_NE(res.find("HTTP/1.1 200"), std::string::npos) << res;
  EXPECT_NE(res.find("text/plain; version=0.0.4"), std::string::npos) << res;
  std::string body = res.substr(res.find("\r\n\r\n") + 4);
  EXPECT_NE(body.find("# TYPE schakel_shares gauge\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_shares{state=\"queued\",purpose=\"verzuimmelding\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_outbox_depth 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("# TYPE schakel_write_groups_total counter\n"), std::string::npos) << body;
  EXPECT_NE(body.find("# TYPE schakel_grouped_writes_total counter\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_grouped_writes_pending 0\n"), std::string::npos) << body;
  // The node lock: the share and the refusal above were written under it,
  // so it was taken and held for some time (waits may be zero).
  std::smatch lock;
  ASSERT_TRUE(std::regex_search(body, lock, std::regex("\nschakel_node_lock_acquisitions_total ([0-9]+)\n"))) << body;
  EXPECT_GE(std::stoll(lock[1]), 2);
  ASSERT_TRUE(std::regex_search(body, lock, std::regex("\nschakel_node_lock_held_seconds_total ([0-9]+\\.[0-9]{6})\n")))
      << body;
  const double held = std::stod(lock[1]);
  EXPECT_GT(held, 0.0);
  EXPECT_TRUE(std::regex_search(body, lock, std::regex("\nschakel_node_lock_wait_seconds_total [0-9]+\\.[0-9]{6}\n")))
      << body;
  EXPECT_NE(body.find("# TYPE schakel_node_lock_held_seconds_total counter\n"), std::string::npos) << body;
  // Of the time held, some on a CPU (the statements ran), never more.
  ASSERT_TRUE(
      std::regex_search(body, lock, std::regex("\nschakel_node_lock_held_cpu_seconds_total ([0-9]+\\.[0-9]{6})\n")))
      << body;
  EXPECT_GT(std::stod(lock[1]), 0.0);
  EXPECT_LE(std::stod(lock[1]), held + 0.000002);
  EXPECT_NE(body.find("# TYPE schakel_node_lock_held_cpu_seconds_total counter\n"), std::string::npos) << body;
  // The writer's pages: the share and the refusal's entry were committed,
  // a page each at the least (the share, its queue row, its payload, their
  // indexes and its entry are more).
  ASSERT_TRUE(std::regex_search(body, lock, std::regex("\nschakel_db_pages_written_total ([0-9]+)\n"))) << body;
  EXPECT_GE(std::stoll(lock[1]), 2);
  EXPECT_NE(body.find("# TYPE schakel_db_pages_written_total counter\n"), std::string::npos) << body;
  // Those commits were flushed after the node lock was let go: one flush at
  // the least.
  ASSERT_TRUE(std::regex_search(body, lock, std::regex("\nschakel_db_log_flushes_total ([0-9]+)\n"))) << body;
  EXPECT_GE(std::stoll(lock[1]), 1);
  EXPECT_NE(body.find("# TYPE schakel_db_log_flushes_total counter\n"), std::string::npos) << body;
  // Spawned from build/, the daemon found the schakel-kdf beside it; nothing
  // derived yet, nothing fell back to a thread.
  EXPECT_NE(body.find("# TYPE schakel_kdf_helper_failures_total counter\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_kdf_helper_failures_total 0\n"), std::string::npos) << body;
  EXPECT_NE(
      testing::ReadAll(fed["school"].dir + "/daemon.log").find("key derivations (link codes, passwords) run in /"),
      std::string::npos);
  EXPECT_NE(body.find("\nschakel_gate_decisions_total{outcome=\"permit\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_gate_decisions_total{outcome=\"deny\"} 1\n"), std::string::npos) << body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(body, m, std::regex("\nschakel_audit_entries ([0-9]+)\n"))) << body;
  EXPECT_GE(std::stoi(m[1]), 4);  // node.start, case, two decisions (and the offline ones)
  // The partner's lane: its queue and since when (an organisation's node id
  // is the one id a label carries).
  EXPECT_NE(body.find("\nschakel_partner_outbox_depth{partner=\"lvs-b\"} 1\n"), std::string::npos) << body;
  ASSERT_TRUE(std::regex_search(
      body, m, std::regex("\nschakel_partner_outbox_oldest_timestamp_seconds\\{partner=\"lvs-b\"\\} ([0-9]+)\n")))
      << body;
  EXPECT_GT(std::stoll(m[1]), 1700000000LL);
  // Every sample line is name{labels} value (a number; seconds have a
  // fraction), and no label carries a person's or a case's id, nor this
  // node's.
  for (const char* personal : {"stu-", "casus-", "school-a", "mentor", "Sanne"}) {
    EXPECT_EQ(body.find(personal), std::string::npos) << personal << " in\n" << body;
  }
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(std::regex_match(
        line, std::regex("schakel_[a-z_]+(\\{[a-z_]+=\"[a-z0-9_.-]*\"(,[a-z_]+=\"([a-z0-9_.-]*|\\+Inf)\")*\\})? "
                         "[0-9]+(\\.[0-9]+)?")))
        << line;
  }

  // Prometheus's own linter (Debian's prometheus package; ./dev setup
  // installs it) reads the text as Prometheus would and finds nothing to
  // say: names, types, HELP, units and the _total of counters.
  const std::string text_file = tmp.path() + "/metrics.txt";
  testing::WriteAll(text_file, body);
  ASSERT_NE(testing::RunCommand("command -v promtool"), "")
      << "promtool not found: install Debian's prometheus package (./dev setup does)";
  EXPECT_EQ(testing::RunCommand("promtool check metrics < '" + text_file + "' 2>&1; echo \"exit $?\""), "exit 0");

  // Nothing delivered yet: every stage of the delivery histogram is empty.
  EXPECT_NE(body.find("# TYPE schakel_delivery_stage_seconds histogram\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\nschakel_delivery_stage_seconds_count{stage=\"total\"} 0\n"), std::string::npos) << body;

  // Another role, or no token: refused.
  EXPECT_NE(HttpGet(api, "/metrics", fed["school"].tokens.at("mentor")).find("HTTP/1.1 403"), std::string::npos);
  EXPECT_NE(HttpGet(api, "/metrics", "").find("HTTP/1.1 401"), std::string::npos);
}

// Once the queued share is delivered, each stage of the delivery histogram
// holds it once: buckets cumulative up to +Inf, the stages adding up to the
// total, and the text still what promtool accepts.
TEST(Metrics, DeliveryStagesCountWhatWasDelivered) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "beheer", "admin"));
  fed.StartNode("school");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  auto shared =
      fed.AsJson("school", "mentor",
                 {"share", "casus-2026-0042", "--to", "lvs-b", "--purpose", "verzuimmelding", "--allow-partial"});
  ASSERT_TRUE(shared.is_object() && shared.contains("message_id")) << shared.dump();
  fed.StartNode("lvs");
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", shared["message_id"].get<std::string>(), "delivered",
                                 std::chrono::seconds(30)));

  std::string res = HttpGet(fed["school"].port + 1, "/metrics", fed["school"].tokens.at("beheer"));
  ASSERT_NE(res.find("HTTP/1.1 200"), std::string::npos) << res;
  std::string body = res.substr(res.find("\r\n\r\n") + 4);
  double total = 0, parts = 0;
  for (const char* stage : {"queued", "plan", "connect_mark", "send", "answer", "record", "total"}) {
    const std::string label = std::string("{stage=\"") + stage + "\"";
    EXPECT_NE(body.find("\nschakel_delivery_stage_seconds_count" + label + "} 1\n"), std::string::npos) << stage << "\n"
                                                                                                        << body;
    EXPECT_NE(body.find("\nschakel_delivery_stage_seconds_bucket" + label + ",le=\"+Inf\"} 1\n"), std::string::npos)
        << stage;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        body, m, std::regex("\nschakel_delivery_stage_seconds_sum\\" + label + "\\} ([0-9]+\\.[0-9]{6})\n")))
        << stage;
    const double seconds = std::stod(m[1]);
    if (std::string(stage) == "total") {
      total = seconds;
    } else {
      EXPECT_LE(seconds, 30.0) << stage;
      parts += seconds;
    }
    // Cumulative: no bucket holds more than the one after it, the last
    // bound no more than +Inf (one); every bound is there.
    std::regex bucket("\nschakel_delivery_stage_seconds_bucket\\" + label + ",le=\"[0-9.e+-]+\"\\} ([0-9]+)");
    int64_t last = 0;
    size_t bounds = 0;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), bucket); it != std::sregex_iterator(); ++it) {
      const int64_t count = std::stoll((*it)[1]);
      EXPECT_GE(count, last) << stage;
      last = count;
      ++bounds;
    }
    EXPECT_EQ(bounds, DurationHistogram::kBounds.size()) << stage;
    EXPECT_LE(last, 1) << stage;
  }
  // Queued until a lane read it, then the lane's steps: one after the
  // other, so together the total (each sum is kept to the microsecond).
  EXPECT_GT(total, 0.0);
  EXPECT_NEAR(parts, total, 0.00001);
  const std::string text_file = tmp.path() + "/metrics.txt";
  testing::WriteAll(text_file, body);
  EXPECT_EQ(testing::RunCommand("promtool check metrics < '" + text_file + "' 2>&1; echo \"exit $?\""), "exit 0");
}

}  // namespace
}  // namespace schakel
