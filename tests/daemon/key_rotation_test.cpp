// Key rotation while a node runs: shares sealed to the new key open without a
// restart, shares sealed to the old key still open during the grace period,
// and the old key's secret is wiped when the grace period ends.
#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/clock.h"
#include "schakel/crypto/envelope.h"
#include "schakel/daemon/daemon.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

TEST(KeyRotation, QueuedSharesToTheOldKeyStillOpenAndTheOldKeyIsWipedAfterItsGrace) {
  TempDir tmp;
  Federation fed(tmp);
  ASSERT_NO_FATAL_FAILURE(fed.AddSchoolAndLvs());
  ASSERT_NO_FATAL_FAILURE(fed.AddReader("lvs", "lpa", "school"));
  fed.StartNode("school");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  auto share = [&] {
    auto r = fed.As("school", "mentor",
                    {"share", "casus-2026-0155", "--to", "lvs-b", "--purpose", "verzuimmelding", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    return testing::LastLine(r.out);
  };

  // Leerplicht is down; the school queues a share sealed to its current key.
  std::string queued = share();
  // Leerplicht rotates its keys and sends the new card; the school imports it
  // (same identity, so it is an update, not a new partner).
  auto rot = testing::RunSchakel({"node", "rotate-keys", "--dir", fed["lvs"].dir});
  ASSERT_EQ(rot.code, 0) << rot.err;
  auto imp = testing::RunSchakel({"partner", "add", "--allow-local-address", "--dir", fed["school"].dir, "--card",
                                  fed["lvs"].dir + "/node-card.json", "--fingerprint", fed.Fingerprint("lvs")});
  ASSERT_EQ(imp.code, 0) << imp.err;

  // Leerplicht comes back with the new keys, on a clock the test moves.
  ManualClock clock(NowUtc());
  testing::InProcessDaemon d(fed["lvs"].dir, clock);
  ASSERT_TRUE(d.ok());

  // The share sealed to the old key opens with the retained key.
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", queued, "delivered"));
  // It arrived before any route: a coordinator assigns it.
  ASSERT_EQ(fed.As("lvs", "routing-co", {"inbox", "assign", queued, "--user", "lpa"}).code, 0);
  EXPECT_EQ(fed.AsJson("lvs", "lpa", {"inbox", "show", queued})["state"], "received");
  // New shares use the new key.
  std::string fresh = share();
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", fresh, "delivered"));

  // Within the grace period (default 90 days) the old key is kept...
  clock.Advance(std::chrono::days(89));
  d->RunMaintenanceNow();
  // ...after it, its secret is wiped and the wipe is audited.
  clock.Advance(std::chrono::days(2));
  d->RunMaintenanceNow();
  d.Stop();
  store::NodePaths paths(fed["lvs"].dir);
  auto db = store::OpenNodeDatabase(paths, {paths.key_file, "", {}});
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto id = store::LoadIdentity(**db);
  ASSERT_TRUE(id.ok());
  auto keys = store::LoadUsableEncKeys(**db, *id);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u);  // only the new key keeps its secret
  auto wiped = (*db)->Prepare("SELECT count(*) FROM enc_keys WHERE secret_key IS NULL AND wiped_at IS NOT NULL;");
  ASSERT_TRUE(wiped.ok());
  ASSERT_TRUE(wiped->Step().value());
  EXPECT_EQ(wiped->Int(0), 1);
  auto audited = (*db)->Prepare("SELECT count(*) FROM audit_log WHERE action = 'key.wiped';");
  ASSERT_TRUE(audited.ok());
  ASSERT_TRUE(audited->Step().value());
  EXPECT_EQ(audited->Int(0), 1);
}

}  // namespace
}  // namespace schakel
