// `schakel backup` and `schakel restore` against a running schakeld: the
// backup is taken while the daemon serves, restore is refused while it holds
// the database, and after a restore with the daemon stopped the daemon starts
// on the restored database, without what was added after the backup.
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
  auto exported = fed.As("school", "privacy", {"audit", "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_NE(exported.out.find("node.restore"), std::string::npos);
  std::string export_file = fed.WriteFile("audit.jsonl", exported.out);
  auto verified =
      RunSchakel({"audit", "verify", "--export", export_file, "--card", fed["school"].dir + "/node-card.json"});
  EXPECT_EQ(verified.code, 0) << verified.err << verified.out;
}

}  // namespace
}  // namespace schakel
