// `schakel backup` and `schakel restore` against a running schakeld: the
// backup is taken while the daemon serves, restore is refused while it holds
// the database, and after a restore with the daemon stopped the daemon starts
// on the restored database, without what was added after the backup.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "federation_support.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::RunSchakel;
using testing::TempDir;

std::vector<std::string> CaseIds(Federation& fed) {
  std::vector<std::string> ids;
  auto list = fed.AsJson("school", "mentor", {"case", "list"});
  for (const auto& c : list["cases"]) ids.push_back(c["case_id"].get<std::string>());
  return ids;
}

bool Has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(BackupDaemon, BackupWhileRunningRestoreOnlyWhenStopped) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.AddUser("school", "mentor", "staff");
  fed.AddUser("school", "privacy", "auditor");
  fed.StartNode("school");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);

  std::string backup = tmp / "school.backup";
  auto b = RunSchakel({"backup", "--dir", fed["school"].dir, "--to", backup});
  ASSERT_EQ(b.code, 0) << b.err;

  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  auto refused = RunSchakel({"restore", "--dir", fed["school"].dir, "--from", backup});
  EXPECT_EQ(refused.code, 1) << refused.err;
  EXPECT_NE(refused.err.find("open in another process"), std::string::npos) << refused.err;
  auto ids = CaseIds(fed);
  EXPECT_TRUE(Has(ids, "casus-2026-0042"));
  EXPECT_TRUE(Has(ids, "casus-2026-0155"));

  fed.StopNode("school");
  auto restored = RunSchakel({"restore", "--dir", fed["school"].dir, "--from", backup});
  ASSERT_EQ(restored.code, 0) << restored.err;
  fed.StartNode("school");
  ids = CaseIds(fed);
  EXPECT_TRUE(Has(ids, "casus-2026-0042"));
  EXPECT_FALSE(Has(ids, "casus-2026-0155"));

  // The audit log the daemon continues is whole: export and verify offline.
  // What was logged after the backup (Noor's case added, the refused
  // restore) is still there, although the case itself went back.
  auto exported = fed.As("school", "privacy", {"audit", "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("node.restore"), std::string::npos);
  EXPECT_NE(exported.out.find("casus-2026-0155"), std::string::npos);
  EXPECT_NE(exported.out.find("restore: carried entries"), std::string::npos);
  std::string export_file = fed.WriteFile("audit.jsonl", exported.out);
  auto verified =
      RunSchakel({"audit", "verify", "--export", export_file, "--card", fed["school"].dir + "/node-card.json"});
  EXPECT_EQ(verified.code, 0) << verified.err << verified.out;
}

// Disaster recovery (README "A lost machine"): the school's machine dies
// with a share still queued for a partner that was down. On a new machine
// the config, the key file and the node card are put in an empty folder,
// the backup restored there, the daemon started: it serves, and the queued
// share reaches the partner once it is up.
TEST(BackupDaemon, ARestoreOntoAnEmptyDirectoryServesAndDeliversTheQueuedShare) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.Add("b", "wijkteam-b", "wijkteam");
  ASSERT_NO_FATAL_FAILURE(fed.Pair("school", "b"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("b", "teamco", "coordinator"));
  fed.StartNode("school");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
  auto shared =
      fed.As("school", "mentor",
             {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  const std::string id = testing::LastLine(shared.out);
  std::string backup = tmp / "school.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", fed["school"].dir, "--to", backup}).code, 0);
  fed.StopNode("school", /*kill=*/true);  // the machine dies

  const std::string old_dir = fed["school"].dir;
  const std::string fresh = tmp / "school-new";
  std::filesystem::create_directories(fresh + "/secrets");
  std::filesystem::permissions(fresh + "/secrets", std::filesystem::perms::owner_all);
  for (const char* f : {"schakel.toml", "secrets/db.key", "node-card.json"}) {
    std::filesystem::copy_file(old_dir + "/" + f, fresh + "/" + f);
  }
  std::filesystem::remove_all(old_dir);
  auto restored = RunSchakel({"restore", "--dir", fresh, "--from", backup});
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_NE(restored.out.find("into a directory without a database"), std::string::npos) << restored.out;
  fed["school"].dir = fresh;
  fed.StartNode("school");
  EXPECT_EQ(fed.AsJson("school", "mentor", {"case", "list"})["cases"].size(), 1u);
  // The lost machine may have sent it after the backup: it is taken as sent
  // (a withdrawal would revoke it), and is delivered all the same.
  EXPECT_TRUE(fed.WaitLog("school", "1 queued share(s) may have reached their partner", std::chrono::seconds(5)));
  EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "sending", std::chrono::seconds(5)));
  fed.StartNode("b");
  EXPECT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(30)));
  EXPECT_EQ(fed.AsJson("b", "teamco", {"inbox"})["inbox"].size(), 1u);
}

}  // namespace
}  // namespace schakel
