// Issue 22 (2): a regional directory. The keeper's tools make and sign one;
// a node trusts its key after one fingerprint check and takes the members of
// the org types its administrator accepts; a newer directory adds, updates
// and removes them; older, forged and conflicting directories are refused or
// reported, and partners paired by hand are never touched.
#include <sys/stat.h>

#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/crypto/directory.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel {
namespace {

using Json = nlohmann::json;
using testing::InitNode;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

crypto::NodeCard MakeCard(const crypto::SigningKeyPair& identity, const std::string& node_id,
                          const std::string& org_type, const std::string& created, uint8_t pin) {
  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(identity);
  crypto::NodeCard card;
  card.node_id = node_id;
  card.name = "Org " + node_id;
  card.org_type = org_type;
  card.address = "192.0.2." + std::to_string(pin) + ":7401";  // TEST-NET-1: no address of this machine
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  card.tls_spki_sha256.fill(pin);
  card.created = created;
  crypto::SignNodeCard(card, identity);
  return card;
}

class DirectoryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitNode(school_, "school-a", "school", 17601));
    auto r = RunSchakel({"directory", "init", "--file", dir_file_, "--key", key_file_, "--region", "swv-oost", "--name",
                         "Samenwerkingsverband Oost", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    fingerprint_ = Json::parse(r.out)["fingerprint"];
  }

  testing::CliResult KeeperAdd(const crypto::NodeCard& card, std::string fingerprint = "") {
    std::string file = tmp_ / (card.node_id + "-" + std::to_string(++n_) + ".json");
    WriteAll(file, crypto::NodeCardToJson(card));
    if (fingerprint.empty()) fingerprint = crypto::Fingerprint(card.sign_pk);
    return RunSchakel({"directory", "add", "--file", dir_file_, "--card", file, "--fingerprint", fingerprint});
  }
  testing::CliResult Sign() { return RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_}); }
  // A copy of the directory as it stands now, as a member would receive it.
  std::string Snapshot() {
    std::string file = tmp_ / ("received-" + std::to_string(++n_) + ".json");
    WriteAll(file, ReadAll(dir_file_));
    return file;
  }
  testing::CliResult Trust(const std::string& file, const std::string& types = "wijkteam,ggd") {
    return RunSchakel({"directory", "trust", "--dir", school_, "--file", file, "--fingerprint", fingerprint_,
                       "--accept-types", types});
  }
  testing::CliResult Update(const std::string& file) {
    return RunSchakel({"directory", "update", "--dir", school_, "--file", file});
  }
  // node_id -> source of every partner.
  std::map<std::string, std::string> Partners() {
    auto r = RunSchakel({"partner", "list", "--dir", school_, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, std::string> out;
    Json parsed = Json::parse(r.out);
    for (const auto& p : parsed["partners"]) out[p["node_id"]] = p["source"];
    return out;
  }
  std::vector<std::string> AuditReasons(const std::string& action) {
    std::string key_bytes = ReadAll(school_ + "/secrets/db.key");
    auto key = crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(key_bytes.data()), key_bytes.size()});
    auto db = store::Database::Open(school_ + "/data/node.db", key, store::OpenMode::kExisting);
    EXPECT_TRUE(db.ok()) << db.status().message();
    std::vector<std::string> out;
    if (!db.ok()) return out;
    auto q = (*db)->Prepare("SELECT object || ' ' || reason FROM audit_log WHERE action = ? ORDER BY seq;");
    if (!q.ok()) return out;
    q->Bind(1, action);
    while (true) {
      auto row = q->Step();
      if (!row.ok() || !*row) break;
      out.push_back(q->Text(0));
    }
    return out;
  }

  TempDir tmp_;
  std::string school_ = tmp_ / "school";
  std::string dir_file_ = tmp_ / "directory.json";
  std::string key_file_ = tmp_ / "directory.key";
  std::string fingerprint_;
  int n_ = 0;
  crypto::SigningKeyPair team_ = crypto::GenerateSigningKeyPair();
  crypto::SigningKeyPair ggd_ = crypto::GenerateSigningKeyPair();
  crypto::SigningKeyPair other_school_ = crypto::GenerateSigningKeyPair();
};

TEST_F(DirectoryCli, TheKeeperMakesAndSignsADirectoryAfterCheckingEachCard) {
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto show = RunSchakel({"directory", "show", "--file", dir_file_, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_FALSE(Json::parse(show.out)["signed"].get<bool>());
  EXPECT_EQ(Json::parse(show.out)["fingerprint"], fingerprint_);

  auto card = MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", 11);
  auto wrong = KeeperAdd(card, crypto::Fingerprint(ggd_.public_key));
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.err.find("fingerprint does not match"), std::string::npos) << wrong.err;
  ASSERT_EQ(KeeperAdd(card).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(ggd_, "ggd-c", "ggd", "2026-11-01T10:00:00Z", 12)).code, 0);
  // The same identity key under another node id is refused.
  auto renamed = KeeperAdd(MakeCard(ggd_, "ggd-d", "ggd", "2026-11-02T10:00:00Z", 13));
  EXPECT_NE(renamed.code, 0);
  EXPECT_NE(renamed.err.find("identity key"), std::string::npos) << renamed.err;
  EXPECT_FALSE(crypto::ParseDirectory(ReadAll(dir_file_)).ok()) << "a draft is not signed";

  auto sign = Sign();
  ASSERT_EQ(sign.code, 0) << sign.err;
  auto signed_dir = crypto::ParseDirectory(ReadAll(dir_file_));
  ASSERT_TRUE(signed_dir.ok()) << signed_dir.status().message();
  EXPECT_EQ(signed_dir->serial, 1);
  EXPECT_EQ(signed_dir->members.size(), 2u);
  EXPECT_TRUE(crypto::FingerprintMatches(signed_dir->directory_pk, fingerprint_));
  ASSERT_EQ(Sign().code, 0);
  EXPECT_EQ(crypto::ParseDirectory(ReadAll(dir_file_))->serial, 2);

  ASSERT_EQ(RunSchakel({"directory", "remove", "--file", dir_file_, "--node-id", "ggd-c"}).code, 0);
  EXPECT_NE(RunSchakel({"directory", "remove", "--file", dir_file_, "--node-id", "ggd-c"}).code, 0);
  auto draft = crypto::ParseDirectoryDraft(ReadAll(dir_file_));
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(draft->members.size(), 1u);
  EXPECT_FALSE(draft->sig.has_value());

  // Signing with another key is refused; init never overwrites.
  std::string other_key = tmp_ / "other.key";
  ASSERT_EQ(RunSchakel({"directory", "init", "--file", tmp_ / "other.json", "--key", other_key, "--region",
                        "gemeente-zeist", "--name", "Zeist"})
                .code,
            0);
  auto foreign = RunSchakel({"directory", "sign", "--file", dir_file_, "--key", other_key});
  EXPECT_NE(foreign.code, 0);
  EXPECT_NE(foreign.err.find("is not the key of the directory"), std::string::npos) << foreign.err;
  EXPECT_NE(RunSchakel({"directory", "init", "--file", dir_file_, "--key", tmp_ / "third.key", "--region", "swv-oost",
                        "--name", "Again"})
                .code,
            0);
  EXPECT_NE(RunSchakel({"directory", "sign", "--file", dir_file_, "--key", key_file_, "--valid-days", "0"}).code, 0);
}

TEST_F(DirectoryCli, ANodeTrustsOnceAndTakesTheAcceptedTypes) {
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", 11)).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(ggd_, "ggd-c", "ggd", "2026-11-01T10:00:00Z", 12)).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(other_school_, "school-d", "school", "2026-11-01T10:00:00Z", 13)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  std::string first = Snapshot();

  auto bad = RunSchakel({"directory", "trust", "--dir", school_, "--file", first, "--fingerprint",
                         crypto::Fingerprint(team_.public_key), "--accept-types", "wijkteam"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("fingerprint does not match"), std::string::npos) << bad.err;
  EXPECT_TRUE(Partners().empty());
  EXPECT_NE(Trust(first, "wijkteam,dragons").code, 0);

  auto trust = Trust(first);
  ASSERT_EQ(trust.code, 0) << trust.err;
  auto partners = Partners();
  ASSERT_EQ(partners.size(), 2u) << trust.out;
  EXPECT_EQ(partners["wijkteam-b"], "directory:swv-oost");
  EXPECT_EQ(partners["ggd-c"], "directory:swv-oost");
  EXPECT_EQ(partners.count("school-d"), 0u) << "schools were not accepted";
  auto reasons = AuditReasons("partner.add");
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find("directory swv-oost serial 1"), std::string::npos) << reasons[0];
  EXPECT_EQ(AuditReasons("directory.trust").size(), 1u);

  auto again = Trust(first);
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("trusted already"), std::string::npos) << again.err;

  auto list = RunSchakel({"directory", "list", "--dir", school_, "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  Json regions = Json::parse(list.out)["regions"];
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0]["serial"], 1);
  EXPECT_EQ(regions[0]["members"].size(), 2u);
  EXPECT_FALSE(regions[0]["expired"].get<bool>());
}

TEST_F(DirectoryCli, ANewerDirectoryAddsUpdatesAndRemovesAndAnOlderOneIsRefused) {
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", 11)).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(ggd_, "ggd-c", "ggd", "2026-11-01T10:00:00Z", 12)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  std::string first = Snapshot();
  ASSERT_EQ(Trust(first).code, 0);

  crypto::SigningKeyPair lvs = crypto::GenerateSigningKeyPair();
  ASSERT_EQ(RunSchakel({"directory", "remove", "--file", dir_file_, "--node-id", "ggd-c"}).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-05T10:00:00Z", 21)).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(lvs, "ggd-e", "ggd", "2026-11-05T10:00:00Z", 22)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  std::string second = Snapshot();

  auto update = RunSchakel({"directory", "update", "--dir", school_, "--file", second, "--json"});
  ASSERT_EQ(update.code, 0) << update.err;
  Json applied = Json::parse(update.out);
  EXPECT_EQ(applied["added"], Json::array({"ggd-e"}));
  EXPECT_EQ(applied["updated"], Json::array({"wijkteam-b"}));
  EXPECT_EQ(applied["removed"], Json::array({"ggd-c"}));
  auto partners = Partners();
  EXPECT_EQ(partners.size(), 2u);
  EXPECT_EQ(partners.count("ggd-c"), 0u) << "a member the directory removed gets no more traffic";
  auto card = RunSchakel({"partner", "list", "--dir", school_, "--json"});
  EXPECT_NE(card.out.find("192.0.2.21:7401"), std::string::npos) << "the newer card was taken";

  auto held = Update(second);
  EXPECT_EQ(held.code, 0) << held.err;
  EXPECT_NE(held.out.find("held already"), std::string::npos) << held.out;

  auto older = Update(first);
  EXPECT_NE(older.code, 0);
  EXPECT_NE(older.err.find("older than serial 2"), std::string::npos) << older.err;
  EXPECT_EQ(Partners().size(), 2u);
  EXPECT_EQ(AuditReasons("directory.refused").size(), 1u);
  auto removals = AuditReasons("partner.remove");
  ASSERT_EQ(removals.size(), 1u);
  EXPECT_EQ(removals[0], "ggd-c directory swv-oost serial 2");
}

TEST_F(DirectoryCli, AForgedOrUnknownDirectoryIsRefused) {
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", 11)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  ASSERT_EQ(Trust(Snapshot()).code, 0);

  // Someone else's key signs a directory for the same region with serial 9.
  auto forged = crypto::ParseDirectory(ReadAll(dir_file_));
  ASSERT_TRUE(forged.ok());
  forged->serial = 9;
  forged->members.push_back(MakeCard(ggd_, "ggd-x", "ggd", "2026-11-01T10:00:00Z", 30));
  crypto::SigningKeyPair mallory = crypto::GenerateSigningKeyPair();
  crypto::SignDirectory(*forged, mallory);
  std::string forged_file = tmp_ / "forged.json";
  WriteAll(forged_file, crypto::DirectoryToJson(*forged));
  auto r = Update(forged_file);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("signed by another key"), std::string::npos) << r.err;

  // The same with directory_pk set back to the real key: the signature fails.
  forged->directory_pk = crypto::ParseDirectory(ReadAll(dir_file_))->directory_pk;
  WriteAll(forged_file, crypto::DirectoryToJson(*forged));
  r = Update(forged_file);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("signature does not verify"), std::string::npos) << r.err;

  // A region this node never trusted.
  std::string other_file = tmp_ / "zeist.json";
  std::string other_key = tmp_ / "zeist.key";
  ASSERT_EQ(RunSchakel({"directory", "init", "--file", other_file, "--key", other_key, "--region", "gemeente-zeist",
                        "--name", "Zeist"})
                .code,
            0);
  ASSERT_EQ(RunSchakel({"directory", "sign", "--file", other_file, "--key", other_key}).code, 0);
  r = Update(other_file);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not trusted on this node"), std::string::npos) << r.err;
  EXPECT_EQ(Partners().size(), 1u);
}

TEST_F(DirectoryCli, APartnerPairedByHandIsNeverTouchedAndConflictsAreReported) {
  // The admin paired ggd-c by hand, with its real card.
  crypto::NodeCard hand_card = MakeCard(ggd_, "ggd-c", "ggd", "2026-11-01T10:00:00Z", 12);
  std::string hand_file = tmp_ / "ggd-c-hand.json";
  WriteAll(hand_file, crypto::NodeCardToJson(hand_card));
  ASSERT_EQ(RunSchakel({"partner", "add", "--dir", school_, "--card", hand_file, "--fingerprint",
                        crypto::Fingerprint(ggd_.public_key)})
                .code,
            0);
  // The directory lists a different ggd-c (another key) and wijkteam-b.
  crypto::SigningKeyPair impostor = crypto::GenerateSigningKeyPair();
  ASSERT_EQ(KeeperAdd(MakeCard(impostor, "ggd-c", "ggd", "2026-11-03T10:00:00Z", 40)).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", 11)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  auto trust = RunSchakel({"directory", "trust", "--dir", school_, "--file", Snapshot(), "--fingerprint", fingerprint_,
                           "--accept-types", "wijkteam,ggd", "--json"});
  ASSERT_EQ(trust.code, 0) << trust.err;
  Json applied = Json::parse(trust.out);
  EXPECT_EQ(applied["added"], Json::array({"wijkteam-b"}));
  ASSERT_EQ(applied["conflicts"].size(), 1u);
  EXPECT_NE(applied["conflicts"][0].get<std::string>().find("ggd-c: paired by hand"), std::string::npos);
  auto partners = Partners();
  EXPECT_EQ(partners["ggd-c"], "hand");
  EXPECT_EQ(AuditReasons("directory.conflict").size(), 1u);

  // A newer directory without ggd-c leaves the hand-paired ggd-c alone, and
  // one that changes wijkteam-b's org type is a conflict, not an update.
  ASSERT_EQ(RunSchakel({"directory", "remove", "--file", dir_file_, "--node-id", "ggd-c"}).code, 0);
  ASSERT_EQ(KeeperAdd(MakeCard(team_, "wijkteam-b", "ggd", "2026-11-06T10:00:00Z", 11)).code, 0);
  ASSERT_EQ(Sign().code, 0);
  auto update = RunSchakel({"directory", "update", "--dir", school_, "--file", Snapshot(), "--json"});
  ASSERT_EQ(update.code, 0) << update.err;
  applied = Json::parse(update.out);
  EXPECT_TRUE(applied["removed"].empty()) << update.out;
  ASSERT_EQ(applied["conflicts"].size(), 1u) << update.out;
  EXPECT_NE(applied["conflicts"][0].get<std::string>().find("org type from wijkteam to ggd"), std::string::npos);
  partners = Partners();
  EXPECT_EQ(partners.size(), 2u);
  EXPECT_EQ(partners["ggd-c"], "hand");
}

}  // namespace
}  // namespace schakel
