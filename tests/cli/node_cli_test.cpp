// End-to-end tests of the offline node commands: init, node, partner, user.
#include <sys/stat.h>

#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/base/version.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "test_support.h"

namespace schakel {
namespace {

using testing::InitNode;
using testing::LastLine;
using testing::NodeFingerprint;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class NodeCli : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(NodeCli, InitCreatesTheNodeDirectory) {
  std::string dir = tmp_ / "school";
  auto r = RunSchakel({"init", "--dir", dir, "--name", "Trajectum College", "--org-id", "school-trajectum",
                       "--org-type", "school", "--listen", "127.0.0.1:17401"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ModeOf(dir + "/secrets/db.key"), 0600u);
  EXPECT_EQ(ReadAll(dir + "/secrets/db.key").size(), 32u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/node.db"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/schakel.toml"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/node-card.json"));
  // The fingerprint printed by init is the one `node fingerprint` prints alone.
  std::string fp = NodeFingerprint(dir);
  EXPECT_TRUE(std::regex_match(fp, std::regex("([0-9]{5} ){11}[0-9]{5}"))) << fp;
  EXPECT_EQ(LastLine(r.out), fp);
  // The card on disk verifies and carries the peer address and org type.
  auto card = crypto::ParseNodeCard(ReadAll(dir + "/node-card.json"));
  ASSERT_TRUE(card.ok()) << card.status().message();
  EXPECT_EQ(card->node_id, "school-trajectum");
  EXPECT_EQ(card->org_type, "school");
  EXPECT_EQ(card->address, "127.0.0.1:17401");
  EXPECT_EQ(crypto::Fingerprint(card->sign_pk), fp);
  // `node card` prints the same card.
  auto printed = RunSchakel({"node", "card", "--dir", dir});
  ASSERT_EQ(printed.code, 0);
  EXPECT_TRUE(crypto::ParseNodeCard(printed.out).ok());
  // No secret or plain SQL header in the database file.
  std::string db = ReadAll(dir + "/data/node.db");
  EXPECT_EQ(db.find("SQLite format 3"), std::string::npos);
  EXPECT_EQ(db.find("Trajectum"), std::string::npos);
}

TEST_F(NodeCli, InitRefusesBadInputAndExistingNodes) {
  std::string dir = tmp_ / "n";
  auto bad_type = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "abc", "--org-type", "bank"});
  EXPECT_EQ(bad_type.code, 2);
  EXPECT_NE(bad_type.err.find("--org-type"), std::string::npos) << bad_type.err;
  auto bad_id = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "A B", "--org-type", "school"});
  EXPECT_EQ(bad_id.code, 2);
  EXPECT_NE(bad_id.err.find("--org-id"), std::string::npos);
  auto bad_listen = RunSchakel(
      {"init", "--dir", dir, "--name", "X", "--org-id", "abc", "--org-type", "school", "--listen", "nohost"});
  EXPECT_EQ(bad_listen.code, 2);
  EXPECT_NE(bad_listen.err.find("--listen"), std::string::npos);
  auto missing = RunSchakel({"init", "--dir", dir, "--name", "X"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err.rfind("schakel: ", 0), 0u) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/schakel.toml"));

  InitNode(dir, "school-a", "school", 17401);
  auto again = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "school-b", "--org-type", "school"});
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("exists already"), std::string::npos);
}

// Issue 16 (5): `init --listen 0.0.0.0:...` needs --public-host; the API
// always goes to loopback; the card and the links' public URL carry the
// public host.
TEST_F(NodeCli, InitWithAWildcardListenNeedsAPublicHost) {
  std::string dir = tmp_ / "wild";
  auto missing = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "school-x", "--org-type", "school",
                             "--listen", "0.0.0.0:17401"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--public-host: missing"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir));
  for (const char* bad : {"0.0.0.0", "::", "[::]", "", "bad host!"}) {
    auto r = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "school-x", "--org-type", "school",
                         "--listen", "0.0.0.0:17401", "--public-host", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("--public-host"), std::string::npos) << bad << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir)) << bad;
  }
  auto ok = RunSchakel({"init", "--dir", dir, "--name", "X", "--org-id", "school-x", "--org-type", "school", "--listen",
                        "0.0.0.0:17401", "--public-host", "school-x.example.nl"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto cfg = config::LoadNodeConfig(dir);
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->peer_listen.ToString(), "0.0.0.0:17401");
  EXPECT_EQ(cfg->api_listen.ToString(), "127.0.0.1:17402");
  EXPECT_EQ(cfg->links_public_url, "https://school-x.example.nl:17403");
  EXPECT_EQ(cfg->AdvertisedPeerAddress().ToString(), "school-x.example.nl:17401");
  auto card = crypto::ParseNodeCard(ReadAll(dir + "/node-card.json"));
  ASSERT_TRUE(card.ok()) << card.status().message();
  EXPECT_EQ(card->address, "school-x.example.nl:17401");

  // IPv6: the API on ::1.
  std::string dir6 = tmp_ / "wild6";
  auto v6 = RunSchakel({"init", "--dir", dir6, "--name", "X", "--org-id", "school-y", "--org-type", "school",
                        "--listen", "[::]:17411", "--public-host", "2001:db8::7"});
  ASSERT_EQ(v6.code, 0) << v6.err;
  auto cfg6 = config::LoadNodeConfig(dir6);
  ASSERT_TRUE(cfg6.ok()) << cfg6.status().message();
  EXPECT_EQ(cfg6->api_listen.ToString(), "[::1]:17412");
  EXPECT_EQ(cfg6->links_public_url, "https://[2001:db8::7]:17413");
  EXPECT_EQ(cfg6->AdvertisedPeerAddress().ToString(), "[2001:db8::7]:17411");

  // A specific --listen address is the public host by default; the API
  // still goes to loopback.
  std::string dir_specific = tmp_ / "specific";
  auto specific = RunSchakel({"init", "--dir", dir_specific, "--name", "X", "--org-id", "school-z", "--org-type",
                              "school", "--listen", "192.0.2.10:17421"});
  ASSERT_EQ(specific.code, 0) << specific.err;
  auto cfgs = config::LoadNodeConfig(dir_specific);
  ASSERT_TRUE(cfgs.ok()) << cfgs.status().message();
  EXPECT_EQ(cfgs->api_listen.ToString(), "127.0.0.1:17422");
  EXPECT_EQ(cfgs->links_public_url, "https://192.0.2.10:17423");
  EXPECT_FALSE(cfgs->peer_advertise.has_value());
}

TEST_F(NodeCli, UnknownCommandIsUsageError) {
  auto r = RunSchakel({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("schakel: usage: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("unknown command 'frobnicate' for 'schakel' (commands: init, node,"), std::string::npos)
      << r.err;
  // The word is named where it was given, with the commands there are.
  auto sub = RunSchakel({"--dir", "/nowhere", "consent", "bar", "--json"});
  EXPECT_EQ(sub.code, 2);
  EXPECT_NE(sub.err.find("unknown command 'bar' for 'schakel consent' (commands: add, withdraw, list"),
            std::string::npos)
      << sub.err;
  auto none = RunSchakel({"consent"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("'schakel consent' needs a command: add,"), std::string::npos) << none.err;
  // A missing option of a command is CLI11's own message.
  auto missing = RunSchakel({"consent", "list"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--student is required"), std::string::npos) << missing.err;
  auto version = RunSchakel({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out, "schakel " + std::string(kVersion) + "\n");
}

TEST_F(NodeCli, PartnersArePairedByCardAndFingerprint) {
  std::string school = tmp_ / "school", team = tmp_ / "team";
  InitNode(school, "school-a", "school", 17401);
  InitNode(team, "wijkteam-b", "wijkteam", 17411);
  std::string team_fp = NodeFingerprint(team);

  auto add = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", team + "/node-card.json",
                         "--fingerprint", team_fp});
  ASSERT_EQ(add.code, 0) << add.err;
  // Typed without spaces, as people do on the phone, it still matches.
  std::string compact = team_fp;
  compact.erase(std::remove(compact.begin(), compact.end(), ' '), compact.end());
  auto again = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card",
                           team + "/node-card.json", "--fingerprint", compact, "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["result"], "unchanged");

  auto list = RunSchakel({"partner", "list", "--dir", school, "--json"});
  ASSERT_EQ(list.code, 0);
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j["partners"].size(), 1u);
  EXPECT_EQ(j["partners"][0]["node_id"], "wijkteam-b");
  EXPECT_EQ(j["partners"][0]["fingerprint"], team_fp);

  auto remove = RunSchakel({"partner", "remove", "--dir", school, "wijkteam-b"});
  EXPECT_EQ(remove.code, 0) << remove.err;
  auto remove_again = RunSchakel({"partner", "remove", "--dir", school, "wijkteam-b"});
  EXPECT_EQ(remove_again.code, 2);
}

TEST_F(NodeCli, WrongFingerprintIsRefused) {
  std::string school = tmp_ / "school", team = tmp_ / "team";
  InitNode(school, "school-a", "school", 17401);
  InitNode(team, "wijkteam-b", "wijkteam", 17411);
  std::string fp = NodeFingerprint(team);
  std::string wrong = fp;
  wrong[0] = wrong[0] == '1' ? '2' : '1';
  auto r = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", team + "/node-card.json",
                       "--fingerprint", wrong});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("fingerprint does not match"), std::string::npos) << r.err;
  // The school's own fingerprint is not the team's either.
  auto own = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", team + "/node-card.json",
                         "--fingerprint", NodeFingerprint(school)});
  EXPECT_EQ(own.code, 3);
  EXPECT_EQ(RunSchakel({"partner", "list", "--dir", school, "--json"}).out.find("wijkteam-b"), std::string::npos);
}

TEST_F(NodeCli, TamperedCardIsRefused) {
  std::string school = tmp_ / "school", team = tmp_ / "team";
  InitNode(school, "school-a", "school", 17401);
  InitNode(team, "wijkteam-b", "wijkteam", 17411);
  std::string fp = NodeFingerprint(team);
  auto card = nlohmann::json::parse(ReadAll(team + "/node-card.json"));
  // Each field changed to another well-formed value: only the signature can tell.
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"name", "Evil Team"}, {"address", "127.0.0.1:1"}, {"org_type", "lvs"}, {"created", "2027-01-01T00:00:00Z"}};
  for (const auto& [field, value] : changes) {
    auto tampered = card;
    tampered[field] = value;
    WriteAll(tmp_ / "tampered.json", tampered.dump());
    auto r = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", tmp_ / "tampered.json",
                         "--fingerprint", fp});
    EXPECT_EQ(r.code, 2) << field;
    EXPECT_NE(r.err.find("signature"), std::string::npos) << field << ": " << r.err;
  }
  WriteAll(tmp_ / "garbage.json", "{\"version\": 1, ");
  auto g = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", tmp_ / "garbage.json",
                       "--fingerprint", fp});
  EXPECT_EQ(g.code, 2);
  WriteAll(tmp_ / "huge.json", std::string(1 << 20, ' '));
  auto h = RunSchakel(
      {"partner", "add", "--allow-local-address", "--dir", school, "--card", tmp_ / "huge.json", "--fingerprint", fp});
  EXPECT_EQ(h.code, 2);
}

TEST_F(NodeCli, ChangedKeyForAKnownNodeIsRefused) {
  std::string school = tmp_ / "school", team = tmp_ / "team", impostor = tmp_ / "impostor";
  InitNode(school, "school-a", "school", 17401);
  InitNode(team, "wijkteam-b", "wijkteam", 17411);
  // Another node claiming the same id, with its own (valid) keys and card.
  InitNode(impostor, "wijkteam-b", "wijkteam", 17421);
  ASSERT_EQ(RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", team + "/node-card.json",
                        "--fingerprint", NodeFingerprint(team)})
                .code,
            0);
  auto r = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card",
                       impostor + "/node-card.json", "--fingerprint", NodeFingerprint(impostor)});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("different identity key"), std::string::npos) << r.err;
  auto list = nlohmann::json::parse(RunSchakel({"partner", "list", "--dir", school, "--json"}).out);
  EXPECT_EQ(list["partners"][0]["fingerprint"], NodeFingerprint(team));
}

TEST_F(NodeCli, OwnCardIsRefused) {
  std::string school = tmp_ / "school";
  InitNode(school, "school-a", "school", 17401);
  auto r = RunSchakel({"partner", "add", "--allow-local-address", "--dir", school, "--card", school + "/node-card.json",
                       "--fingerprint", NodeFingerprint(school)});
  EXPECT_EQ(r.code, 2);
}

TEST_F(NodeCli, UserAddPrintsTheTokenOnceOnTheLastLine) {
  std::string school = tmp_ / "school";
  InitNode(school, "school-a", "school", 17401);
  auto r = RunSchakel({"user", "add", "--dir", school, "--name", "J. Bakker", "--role", "coordinator"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string token = LastLine(r.out);
  EXPECT_TRUE(std::regex_match(token, std::regex("skl_[0-9a-f]{64}"))) << token;
  auto dup = RunSchakel({"user", "add", "--dir", school, "--name", "J. Bakker", "--role", "staff"});
  EXPECT_EQ(dup.code, 2);
  auto bad_role = RunSchakel({"user", "add", "--dir", school, "--name", "X", "--role", "root"});
  EXPECT_EQ(bad_role.code, 2);
  EXPECT_NE(bad_role.err.find("--role"), std::string::npos);
  // Two users never share a token.
  auto other = RunSchakel({"user", "add", "--dir", school, "--name", "R. Portman", "--role", "staff"});
  EXPECT_NE(LastLine(other.out), token);
}

TEST_F(NodeCli, WrongDatabaseKeyIsAClearError) {
  std::string school = tmp_ / "school";
  InitNode(school, "school-a", "school", 17401);
  std::string key_path = school + "/secrets/db.key";
  std::string other(32, '\x42');
  WriteAll(key_path, other);
  ::chmod(key_path.c_str(), 0600);
  auto r = RunSchakel({"node", "fingerprint", "--dir", school});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("wrong key file or passphrase"), std::string::npos) << r.err;
}

TEST_F(NodeCli, KeyFileReadableByOthersIsRefused) {
  std::string school = tmp_ / "school";
  InitNode(school, "school-a", "school", 17401);
  std::string key_path = school + "/secrets/db.key";
  ::chmod(key_path.c_str(), 0644);
  auto r = RunSchakel({"node", "fingerprint", "--dir", school});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("chmod"), std::string::npos) << r.err;
}

TEST_F(NodeCli, MissingNodeDirectoryIsAClearError) {
  auto r = RunSchakel({"node", "fingerprint", "--dir", tmp_ / "nothing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("schakel init"), std::string::npos) << r.err;
}

TEST_F(NodeCli, PassphraseModeDerivesTheKey) {
  std::string dir = tmp_ / "pp";
  ::setenv("SCHAKEL_TEST_PASSPHRASE", "correct horse battery staple", 1);
  auto r = RunSchakel({"init", "--dir", dir, "--name", "LVS", "--org-id", "lvs-zhz", "--org-type", "lvs",
                       "--passphrase-env", "SCHAKEL_TEST_PASSPHRASE"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/secrets/db.key"));
  EXPECT_EQ(ReadAll(dir + "/data/node.salt").size(), 16u);
  EXPECT_EQ(RunSchakel({"node", "fingerprint", "--dir", dir}).code, 0);
  ::setenv("SCHAKEL_TEST_PASSPHRASE", "wrong passphrase", 1);
  auto wrong = RunSchakel({"node", "fingerprint", "--dir", dir});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("wrong key file or passphrase"), std::string::npos) << wrong.err;
  ::unsetenv("SCHAKEL_TEST_PASSPHRASE");
  auto unset = RunSchakel({"node", "fingerprint", "--dir", dir});
  EXPECT_EQ(unset.code, 2);
  EXPECT_NE(unset.err.find("SCHAKEL_TEST_PASSPHRASE"), std::string::npos) << unset.err;
}

}  // namespace
}  // namespace schakel
