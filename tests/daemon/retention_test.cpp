// Retention: a recipient purges a share on its retain-until date without
// anyone asking. The recipient runs in-process on a clock the test moves.
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
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddReader("lvs", "lpa", "school"));
  fed.StartNode("school");

  ManualClock clock(NowUtc());
  testing::InProcessDaemon d(fed["lvs"].dir, clock);
  ASSERT_TRUE(d.ok());
  ASSERT_NO_FATAL_FAILURE(fed.ApplyRoutes("lvs"));

  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  auto r = fed.As("school", "mentor",
                  {"share", "casus-2026-0155", "--to", "lvs-b", "--purpose", "verzuimmelding", "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string msg = testing::LastLine(r.out);
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", msg, "delivered"));

  // The default retention is 180 days: a day before it, nothing happens.
  clock.Advance(std::chrono::days(179));
  d->RunMaintenanceNow();
  auto kept = fed.AsJson("lvs", "lpa", {"inbox", "show", msg});
  EXPECT_EQ(kept["state"], "received");
  EXPECT_FALSE(kept["summary"].is_null());

  clock.Advance(std::chrono::days(2));
  d->RunMaintenanceNow();
  auto purged = fed.AsJson("lvs", "lpa", {"inbox", "show", msg});
  EXPECT_EQ(purged["state"], "purged");
  EXPECT_EQ(purged["purge_reason"], "retention");
  EXPECT_TRUE(purged["summary"].is_null());
}

}  // namespace
}  // namespace schakel
