// Issue 22: a region of 8 nodes formed from one signed directory. The keeper
// checks each member's fingerprint once and each node checks the directory
// key's fingerprint once: 8 + 8 checks instead of 28 pairings with two calls
// each. Two members that never exchanged cards by hand then share a case
// through real daemons; a newer directory that drops a member stops traffic
// to it at once (the running daemon reads its partners from the database),
// and an older or forged directory is refused. `status` shows the region.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "federation_support.h"
#include "schakel/crypto/directory.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::Federation;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

struct Member {
  const char* name;
  const char* id;
  const char* type;
};

constexpr Member kRegion[] = {
    {"school", "school-a", "school"},  {"team", "wijkteam-b", "wijkteam"},
    {"school2", "school-c", "school"}, {"school3", "school-d", "school"},
    {"lvs", "lvs-e", "lvs"},           {"ggd", "ggd-f", "ggd"},
    {"rmc", "rmc-g", "rmc"},           {"swv", "swv-h", "swv"},
};
constexpr const char* kAllTypes = "school,wijkteam,lvs,ggd,rmc,swv";

class Region : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunSchakel({"directory", "init", "--file", dir_file_, "--key", key_file_, "--region", "swv-oost", "--name",
                         "Samenwerkingsverband Oost", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    keeper_fingerprint_ = nlohmann::json::parse(r.out)["fingerprint"];
  }

  // What a member receives: a copy of the keeper's file as it is now.
  std::string Handout() {
    std::string file = tmp_ / ("handout-" + std::to_string(++handouts_) + ".json");
    WriteAll(file, ReadAll(dir_file_));
    return file;
  }

  std::set<std::string> PartnersOf(const std::string& name) {
    auto r = RunSchakel({"partner", "list", "--dir", fed_[name].dir, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::set<std::string> out;
    nlohmann::json list = nlohmann::json::parse(r.out)["partners"];
    for (const auto& p : list) {
      EXPECT_EQ(p["source"], "directory:swv-oost") << name << ": " << p["node_id"];
      out.insert(p["node_id"].get<std::string>());
    }
    return out;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  std::string dir_file_ = tmp_ / "swv-oost.json";
  std::string key_file_ = tmp_ / "swv-oost.key";
  std::string keeper_fingerprint_;
  int handouts_ = 0;
};

TEST_F(Region, EightNodesFromOneDirectoryShareWithoutPairingAndARemovedMemberIsRefused) {
  for (const Member& m : kRegion) fed_.Add(m.name, m.id, m.type);

  // The keeper: one fingerprint check per member.
  int keeper_checks = 0;
  for (const Member& m : kRegion) {
    auto r = RunSchakel({"directory", "add", "--file", dir_file_, "--card", fed_[m.name].dir + "/node-card.json",
                         "--fingerprint", fed_.Fingerprint(m.name)});
    ASSERT_EQ(r.code, 0) << m.id << ": " << r.err;
    ++keeper_checks;
  }
  ASSERT_EQ(RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_}).code, 0);
  const std::string first = Handout();

  // Each member: one fingerprint check of the directory key.
  int member_checks = 0;
  for (const Member& m : kRegion) {
    auto r = RunSchakel({"directory", "trust", "--dir", fed_[m.name].dir, "--file", first, "--fingerprint",
                         keeper_fingerprint_, "--accept-types", kAllTypes, "--allow-local-address"});
    ASSERT_EQ(r.code, 0) << m.id << ": " << r.err;
    ++member_checks;
  }
  EXPECT_EQ(keeper_checks + member_checks, 16) << "instead of 28 pairings, each a call and two imports";
  for (const Member& m : kRegion) {
    std::set<std::string> partners = PartnersOf(m.name);
    EXPECT_EQ(partners.size(), 7u) << m.id;
    EXPECT_EQ(partners.count(m.id), 0u) << m.id << " is not its own partner";
  }

  // school-a and wijkteam-b never exchanged cards by hand; they share.
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed_.AddReader("team", "gezinswerker", "school"));
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
  const std::vector<std::string> share = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                          "--purpose", "doorverwijzing",  "--allow-partial"};
  auto shared = fed_.As("school", "mentor", share);
  ASSERT_EQ(shared.code, 0) << shared.err;
  const std::string id = testing::LastLine(shared.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", id, "delivered", std::chrono::seconds(30)));
  EXPECT_EQ(fed_.AsJson("team", "gezinswerker", {"inbox"})["inbox"].size(), 1u);

  // `status` shows the region: its serial and age, and a member whose last
  // delivery attempt failed.
  fed_.StopNode("team");
  auto queued = fed_.As("school", "mentor", share);
  ASSERT_EQ(queued.code, 0) << queued.err;
  nlohmann::json region;
  for (int i = 0; i < 200; ++i) {  // bounded: 20 s
    region = fed_.AsJson("school", "mentor", {"status"})["regions"][0];
    if (!region["unreachable"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(region["region"], "swv-oost");
  EXPECT_EQ(region["serial"], 1);
  EXPECT_EQ(region["age_days"], 0);
  EXPECT_FALSE(region["expired"].get<bool>());
  EXPECT_EQ(region["members"].size(), 7u);
  EXPECT_EQ(region["unreachable"], nlohmann::json::array({"wijkteam-b"}));
  auto text = fed_.As("school", "mentor", {"status"});
  EXPECT_NE(text.out.find("region swv-oost: directory serial 1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("unreachable: wijkteam-b"), std::string::npos) << text.out;

  // The keeper drops wijkteam-b; the school takes the new directory while
  // its daemon runs, and the next share to wijkteam-b is refused.
  ASSERT_EQ(RunSchakel({"directory", "remove", "--file", dir_file_, "--node-id", "wijkteam-b"}).code, 0);
  ASSERT_EQ(RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_}).code, 0);
  const std::string second = Handout();
  auto update = RunSchakel({"directory", "update", "--dir", fed_["school"].dir, "--file", second, "--json"});
  ASSERT_EQ(update.code, 0) << update.err;
  EXPECT_EQ(nlohmann::json::parse(update.out)["removed"], nlohmann::json::array({"wijkteam-b"}));
  auto refused = fed_.As("school", "mentor", share);
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("unknown partner wijkteam-b"), std::string::npos) << refused.err;
  EXPECT_EQ(PartnersOf("school").size(), 6u);

  // The first directory again (a rollback) and one signed by another key
  // are refused; nothing changes.
  auto older = RunSchakel({"directory", "update", "--dir", fed_["school"].dir, "--file", first});
  EXPECT_EQ(older.code, 3) << older.err;
  EXPECT_NE(older.err.find("older than serial 2"), std::string::npos) << older.err;
  auto forged = crypto::ParseDirectory(ReadAll(first));
  ASSERT_TRUE(forged.ok());
  forged->serial = 3;
  crypto::SignDirectory(*forged, crypto::GenerateSigningKeyPair());
  std::string forged_file = tmp_ / "forged.json";
  WriteAll(forged_file, crypto::DirectoryToJson(*forged));
  auto wrong_key = RunSchakel({"directory", "update", "--dir", fed_["school"].dir, "--file", forged_file});
  EXPECT_EQ(wrong_key.code, 3) << wrong_key.err;
  EXPECT_NE(wrong_key.err.find("signed by another key"), std::string::npos) << wrong_key.err;
  EXPECT_EQ(PartnersOf("school").count("wijkteam-b"), 0u);
  auto list = RunSchakel({"directory", "list", "--dir", fed_["school"].dir, "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out)["regions"][0]["serial"], 2);
}

// Passed along (peer protocol 7): the keeper's newer directory reaches one
// member as a file; that member's daemon passes it to the partners the
// region brought, and theirs pass it on, so every running member takes the
// new member without its administrator doing anything.
TEST_F(Region, ANewerDirectoryTakenAtOneMemberReachesTheOthersThroughThePeerChannel) {
  const Member running[] = {kRegion[0], kRegion[1], kRegion[4], kRegion[5]};
  const Member& newcomer = kRegion[6];
  for (const Member& m : running) fed_.Add(m.name, m.id, m.type);
  fed_.Add(newcomer.name, newcomer.id, newcomer.type);
  for (const Member& m : running) {
    ASSERT_EQ(RunSchakel({"directory", "add", "--file", dir_file_, "--card", fed_[m.name].dir + "/node-card.json",
                          "--fingerprint", fed_.Fingerprint(m.name)})
                  .code,
              0);
  }
  ASSERT_EQ(RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_}).code, 0);
  const std::string first = Handout();
  for (const Member& m : running) {
    auto r = RunSchakel({"directory", "trust", "--dir", fed_[m.name].dir, "--file", first, "--fingerprint",
                         keeper_fingerprint_, "--accept-types", kAllTypes, "--allow-local-address"});
    ASSERT_EQ(r.code, 0) << m.id << ": " << r.err;
  }
  for (const Member& m : running) fed_.StartNode(m.name);

  ASSERT_EQ(RunSchakel({"directory", "add", "--file", dir_file_, "--card", fed_[newcomer.name].dir + "/node-card.json",
                        "--fingerprint", fed_.Fingerprint(newcomer.name)})
                .code,
            0);
  ASSERT_EQ(RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_}).code, 0);
  auto update = RunSchakel({"directory", "update", "--dir", fed_["school"].dir, "--file", Handout(), "--json"});
  ASSERT_EQ(update.code, 0) << update.err;
  EXPECT_EQ(nlohmann::json::parse(update.out)["added"], nlohmann::json::array({newcomer.id}));

  auto serial_at = [&](const std::string& name) -> nlohmann::json {
    auto list = RunSchakel({"directory", "list", "--dir", fed_[name].dir, "--json"});
    EXPECT_EQ(list.code, 0) << list.err;
    return nlohmann::json::parse(list.out)["regions"][0];
  };
  auto started = std::chrono::steady_clock::now();
  for (const Member& m : running) {
    if (std::string(m.name) == "school") continue;
    nlohmann::json held;
    for (int i = 0; i < 300; ++i) {  // bounded: 30 s
      held = serial_at(m.name);
      if (held["serial"] == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(held["serial"], 2) << m.id << " did not take the directory passed along";
    EXPECT_EQ(held["source"].get<std::string>().rfind("partner ", 0), 0u) << m.id << ": " << held["source"];
    EXPECT_EQ(PartnersOf(m.name).count(newcomer.id), 1u) << m.id;
  }
  std::cout << "[ region ] passed along to 3 running members in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
            << " ms\n";

  // The partner that passed it is the actor of the audit entries.
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamaudit", "auditor"));
  auto actors = [&](const std::string& action, const std::string& object) {
    std::set<std::string> out;
    nlohmann::json entries = fed_.AsJson("team", "teamaudit", {"audit", "query", "--action", action})["entries"];
    for (const auto& e : entries) {
      if (object.empty() || e["object"] == object) out.insert(e["actor"]["role"].get<std::string>());
    }
    return out;
  };
  bool update_by_peer = actors("directory.update", "").count("peer") == 1;
  bool add_by_peer = actors("partner.add", newcomer.id).count("peer") == 1;
  EXPECT_TRUE(update_by_peer);
  EXPECT_TRUE(add_by_peer);
}

}  // namespace
}  // namespace schakel
