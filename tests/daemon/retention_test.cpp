// Retention: a recipient purges a share on its retain-until date without
// anyone asking. The recipient runs in-process on a clock the test moves.
#include <future>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/clock.h"
#include "schakel/daemon/daemon.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

TEST(Retention, RecipientPurgesOnRetainUntil) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.Add("lvs", "lvs-b", "lvs");
  fed.Pair("school", "lvs");
  fed.AddUser("school", "mentor", "staff");
  fed.AddUser("lvs", "lpa", "staff");
  fed.StartNode("school");

  ManualClock clock(NowUtc());
  daemon::DaemonOptions options;
  options.dir = fed["lvs"].dir;
  options.clock = &clock;
  options.maintenance_interval = std::chrono::hours(1);  // the test runs it
  std::promise<void> ready;
  options.on_ready = [&](daemon::Daemon&) { ready.set_value(); };
  auto d = daemon::Daemon::Create(options);
  ASSERT_TRUE(d.ok()) << d.status().message();
  std::thread runner([&] { (void)d.value()->Run(); });
  ASSERT_EQ(ready.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);

  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  auto r = fed.As("school", "mentor", {"share", "casus-2026-0155", "--to", "lvs-b", "--purpose", "verzuimmelding",
                                       "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string msg = testing::LastLine(r.out);
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", msg, "delivered"));

  // The default retention is 180 days: a day before it, nothing happens.
  clock.Advance(std::chrono::days(179));
  d.value()->RunMaintenanceNow();
  auto kept = fed.AsJson("lvs", "lpa", {"inbox", "show", msg});
  EXPECT_EQ(kept["state"], "received");
  EXPECT_FALSE(kept["summary"].is_null());

  clock.Advance(std::chrono::days(2));
  d.value()->RunMaintenanceNow();
  auto purged = fed.AsJson("lvs", "lpa", {"inbox", "show", msg});
  EXPECT_EQ(purged["state"], "purged");
  EXPECT_EQ(purged["purge_reason"], "retention");
  EXPECT_TRUE(purged["summary"].is_null());

  d.value()->Stop();
  runner.join();
}

}  // namespace
}  // namespace schakel
