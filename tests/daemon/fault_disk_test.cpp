// Fault tests (issue #8): a full disk while writing. The node's data folder
// is a small tmpfs mounted by the test (it runs as root, as `./dev test`
// does); a filler file takes the last byte. The daemon must refuse new work
// with a clear error (HTTP 507, CLI exit 1 naming the full disk), keep
// running and serving reads, and once space returns take new work again,
// with an intact database and audit chain. See docs/fault-tests.md.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "load_support.h"
#include "schakel/audit/audit_log.h"
#include "schakel/config/node_config.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/records.h"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::OpenNodeDb;
using testing::TempDir;

using testing::kSanneJongere;
using testing::kSanneOuder;

// Moves DIR/data onto a tmpfs of `bytes`, keeping its files; unmounts (lazily)
// at destruction, the files with it.
class SmallDisk {
 public:
  SmallDisk(const std::string& data_dir, size_t bytes) : dir_(data_dir) {
    std::string keep = data_dir + ".keep";
    std::filesystem::rename(data_dir, keep);
    std::filesystem::create_directory(data_dir);
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", data_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
      error_ = std::string("mount -t tmpfs on ") + data_dir + ": " + std::strerror(errno) +
               " (the disk-full tests need root or CAP_SYS_ADMIN, as `./dev test` has)";
      std::filesystem::remove(data_dir);
      std::filesystem::rename(keep, data_dir);
      return;
    }
    mounted_ = true;
    for (const auto& e : std::filesystem::directory_iterator(keep)) {
      std::filesystem::copy(e.path(), data_dir + "/" + e.path().filename().string());
    }
    std::filesystem::remove_all(keep);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  const std::string& error() const { return error_; }

  // Writes a filler file until the disk is full; returns the bytes written.
  size_t Fill() {
    int fd = ::open((dir_ + "/filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    std::vector<char> block(4096, 'F');
    size_t total = 0;
    for (int i = 0; i < 1 << 20; ++i) {  // bounded: 4 GiB at most
      ssize_t n = ::write(fd, block.data(), block.size());
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
    ::close(fd);
    return total;
  }
  void Free() { std::filesystem::remove(dir_ + "/filler"); }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
};

// The stopped node in `dir` opens, and its database and audit chain are intact.
void ExpectIntact(const std::string& dir, const std::string& node_id) {
  auto db = OpenNodeDb(dir);
  ASSERT_TRUE(db);
  testing::ExpectIntact(*db, node_id);
}

// A ~100 KiB case: a few of them outgrow whatever the WAL file has spare.
std::string BigCase(int i) {
  json c = json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  c["case_id"] = "casus-full-" + std::to_string(i);
  c["hulpvraag"]["question"] = std::string(100 * 1024, static_cast<char>('a' + i % 26));
  return c.dump();
}

class FaultDisk : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam()); }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(FaultDisk, SenderRefusesNewWorkWhileFullAndRecovers) {
  SmallDisk disk(fed_["school"].dir + "/data", 2 * 1024 * 1024);
  ASSERT_EQ(disk.error(), "");
  fed_.StartNode("team");
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kSanneOuder, kSanneJongere}));

  ASSERT_GT(disk.Fill(), 0u);
  // Writes until one is refused (the WAL may have room for the first few).
  std::vector<std::string> stored;
  std::string refusal;
  for (int i = 0; i < 40 && refusal.empty(); ++i) {
    auto r = fed_.As("school", "mentor", {"case", "add", "--file", fed_.WriteFile("big.json", BigCase(i))});
    if (r.code == 0) {
      stored.push_back("casus-full-" + std::to_string(i));
      continue;
    }
    EXPECT_EQ(r.code, 1) << r.err;
    refusal = r.err;
  }
  ASSERT_FALSE(refusal.empty()) << "no write was refused on a full disk";
  EXPECT_NE(refusal.find("disk full"), std::string::npos) << refusal;
  EXPECT_EQ(refusal.find('\n'), refusal.size() - 1) << refusal;

  // The API answers 507 Insufficient Storage.
  auto http = testing::HttpExchange(
      fed_["school"].port + 1,
      testing::HttpRequest("POST", "/v1/cases", fed_["school"].tokens.at("mentor"), BigCase(99)), 10s);
  EXPECT_EQ(testing::HttpStatus(http), 507) << http.substr(0, 300);
  EXPECT_NE(http.find("disk full"), std::string::npos) << http.substr(0, 300);

  // A share is refused the same way, or, if it still fitted, is whole.
  std::vector<std::string> share_args = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                         "--purpose", "doorverwijzing",  "--allow-partial"};
  auto share = fed_.As("school", "mentor", share_args);
  if (share.code != 0) {
    EXPECT_EQ(share.code, 1) << share.err;
    EXPECT_NE(share.err.find("disk full"), std::string::npos) << share.err;
  }

  // Still running, still serving reads.
  EXPECT_EQ(fed_["school"].daemon->Wait(10ms), -1) << "schakeld exited on a full disk";
  EXPECT_EQ(fed_.As("school", "mentor", {"status"}).code, 0);
  // A list shows personal data, so it is audited first: while the log cannot
  // be written it is refused, saying why (docs/audit.md).
  auto listed = fed_.As("school", "mentor", {"case", "list", "--json"});
  if (listed.code != 0) {
    EXPECT_EQ(listed.code, 1);
    EXPECT_NE(listed.err.find("disk full"), std::string::npos) << listed.err;
  }

  // Space returns: new work is taken again.
  disk.Free();
  auto cases = fed_.AsJson("school", "mentor", {"case", "list"});
  EXPECT_EQ(cases["cases"].size(), 1 + stored.size()) << cases.dump().substr(0, 300);
  auto again = fed_.As("school", "mentor", {"case", "add", "--file", fed_.WriteFile("big.json", BigCase(100))});
  EXPECT_EQ(again.code, 0) << again.err;
  auto shared = fed_.As("school", "mentor", share_args);
  ASSERT_EQ(shared.code, 0) << shared.err;
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", testing::LastLine(shared.out), "delivered"));
  const json outbox = fed_.AsJson("school", "mentor", {"shares"});  // the loop below must not outlive it
  for (const auto& s : outbox["shares"]) {
    EXPECT_TRUE(fed_.WaitShareState("school", "mentor", s["message_id"], "delivered"));
  }

  fed_.StopNode("school");
  fed_.StopNode("team");
  ExpectIntact(fed_["school"].dir, "school-a");
  auto db = OpenNodeDb(fed_["school"].dir);
  ASSERT_TRUE(db);
  for (const auto& id : stored) {
    auto q = db->Prepare("SELECT count(*) FROM cases WHERE case_id = ?1;");
    ASSERT_TRUE(q.ok()) << q.status().message();
    q->Bind(1, id);
    auto row = q->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(q->Int(0), 1) << id << " was acknowledged but is not stored";
  }
}

TEST_F(FaultDisk, RecipientWithAFullDiskRefusesTheShareUntilSpaceReturns) {
  SmallDisk disk(fed_["team"].dir + "/data", 2 * 1024 * 1024);
  ASSERT_EQ(disk.error(), "");
  fed_.StartNode("team");
  fed_.StartNode("school");
  // A case near the summary limit: receiving it needs more room than the WAL has spare.
  json c = json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  c["hulpvraag"]["question"] = std::string(200 * 1024, 'q');
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", fed_.WriteFile("c.json", c.dump())}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kSanneOuder, kSanneJongere}));

  ASSERT_GT(disk.Fill(), 0u);
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  std::string msg = testing::LastLine(shared.out);

  // The recipient refuses (and says why in its log); the sender keeps it in its queue.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline &&
         testing::ReadAll(fed_["school"].dir + "/daemon.log").find("disk is full") == std::string::npos) {
    std::this_thread::sleep_for(50ms);
  }
  std::string school_log = testing::ReadAll(fed_["school"].dir + "/daemon.log");
  EXPECT_NE(school_log.find("the receiving node's disk is full"), std::string::npos) << school_log;
  // The partner learns that the disk is full, not the recipient's paths or
  // SQLite's words; the recipient's own log has those.
  EXPECT_EQ(school_log.find(fed_["team"].dir), std::string::npos) << school_log;
  std::string team_log = testing::ReadAll(fed_["team"].dir + "/daemon.log");
  EXPECT_NE(team_log.find(fed_["team"].dir + "/data/node.db: disk full"), std::string::npos) << team_log;
  // Its bytes went out, so the sender counts it as possibly there: it stays
  // `sending` in the queue (a withdrawal now would send a revocation).
  const json queued = fed_.AsJson("school", "mentor", {"shares"});  // the loop below must not outlive it
  for (const auto& s : queued["shares"]) EXPECT_EQ(s["state"], "sending");
  EXPECT_EQ(fed_.AsJson("school", "mentor", {"status"})["outbox_depth"], 1);
  EXPECT_EQ(fed_["team"].daemon->Wait(10ms), -1) << "the recipient exited on a full disk";
  // Nothing was stored; the list (audited first) is empty or refused as disk full.
  auto during = fed_.As("team", "gezinswerker", {"inbox", "--json"});
  if (during.code == 0) {
    EXPECT_TRUE(nlohmann::json::parse(during.out)["inbox"].empty()) << during.out;
  } else {
    EXPECT_NE(during.err.find("disk full"), std::string::npos) << during.err;
  }

  disk.Free();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", 30s));
  auto inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});
  ASSERT_EQ(inbox["inbox"].size(), 1u);
  auto shown = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(shown["summary"]["hulpvraag"]["question"].get<std::string>().size(), 200u * 1024);

  fed_.StopNode("school");
  fed_.StopNode("team");
  ExpectIntact(fed_["school"].dir, "school-a");
  ExpectIntact(fed_["team"].dir, "wijkteam-b");
}

}  // namespace
}  // namespace schakel
