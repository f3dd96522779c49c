// End-to-end tests of `schakel backup`, `schakel restore` and
// `schakel node rotate-keys`, run in-process against real node directories.
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/base/time.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"
#include "test_support.h"

namespace schakel {
namespace {

using testing::InitNode;
using testing::NodeFingerprint;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

std::unique_ptr<store::Database> OpenNode(const std::string& dir) {
  store::NodePaths paths(dir);
  store::KeySource source{paths.key_file, "", {}};
  auto db = store::OpenNodeDatabase(paths, source);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

void AddCase(const std::string& dir, const std::string& id) {
  auto db = OpenNode(dir);
  ASSERT_NE(db, nullptr);
  store::CaseRecord c;
  c.case_id = id;
  c.student_id = "stu-1";
  c.birth_date = "2012-03-04";
  c.created_by = "u-staff";
  c.created = "2026-11-23T10:00:00Z";
  c.updated = c.created;
  c.summary = R"({"hulpvraag":"test"})";
  ASSERT_TRUE(store::InsertCase(*db, c).ok());
}

bool HasCase(const std::string& dir, const std::string& id) {
  auto db = OpenNode(dir);
  if (db == nullptr) return false;
  auto found = store::FindCase(*db, id);
  EXPECT_TRUE(found.ok());
  return found.ok() && found->has_value();
}

int64_t CountAudit(store::Database& db, const std::string& action) {
  auto q = db.Prepare("SELECT count(*) FROM audit_log WHERE action = ?;");
  EXPECT_TRUE(q.ok());
  q->Bind(1, action);
  auto row = q->Step();
  EXPECT_TRUE(row.ok() && *row);
  return q->Int(0);
}

class RotateBackup : public ::testing::Test {
 protected:
  crypto::NodeCard Card(const std::string& dir) {
    auto card = crypto::ParseNodeCard(ReadAll(dir + "/node-card.json"));
    EXPECT_TRUE(card.ok()) << card.status().message();
    return card.ok() ? std::move(card).value() : crypto::NodeCard{};
  }
  TempDir tmp_;
};

TEST_F(RotateBackup, RestoreBringsBackTheBackupAndKeepsTheReplacedDatabase) {
  std::string dir = tmp_ / "school";
  InitNode(dir, "school-a", "school", 17501);
  AddCase(dir, "case-before");
  std::string backup = tmp_ / "school.backup";
  auto b = RunSchakel({"backup", "--dir", dir, "--to", backup, "--json"});
  ASSERT_EQ(b.code, 0) << b.err;
  ASSERT_TRUE(std::filesystem::exists(backup));
  // Still encrypted: no SQLite header in clear.
  EXPECT_NE(ReadAll(backup).substr(0, 15), "SQLite format 3");
  // A second backup to the same file is refused, the first stays.
  EXPECT_EQ(RunSchakel({"backup", "--dir", dir, "--to", backup}).code, 2);

  AddCase(dir, "case-after");
  ASSERT_TRUE(HasCase(dir, "case-after"));

  auto r = RunSchakel({"restore", "--dir", dir, "--from", backup, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  std::string kept = doc.at("previous").get<std::string>();
  EXPECT_TRUE(std::regex_search(kept, std::regex("/data/node\\.db\\.before-restore-[0-9]{8}T[0-9]{6}Z$"))) << kept;

  EXPECT_TRUE(HasCase(dir, "case-before"));
  EXPECT_FALSE(HasCase(dir, "case-after"));

  // The restored audit chain verifies, holds the backup entry (written before
  // the copy) and now the restore.
  {
    auto db = OpenNode(dir);
    ASSERT_NE(db, nullptr);
    auto identity = store::LoadIdentity(*db);
    ASSERT_TRUE(identity.ok());
    SystemClock clock;
    auto log = audit::AuditLog::Create(*db, "school-a", *identity, clock);
    ASSERT_TRUE(log.ok());
    Status verified = (*log)->VerifyStored();
    EXPECT_TRUE(verified.ok()) << verified.message();
    EXPECT_EQ(CountAudit(*db, "node.backup"), 1);
    EXPECT_EQ(CountAudit(*db, "node.restore"), 1);
  }
  // The replaced database is kept whole, with the later case.
  {
    store::NodePaths paths(dir);
    store::KeySource source{paths.key_file, "", {}};
    auto key = store::LoadDatabaseKey(paths, source);
    ASSERT_TRUE(key.ok());
    auto old = store::Database::Open(kept, *key, store::OpenMode::kExisting);
    ASSERT_TRUE(old.ok()) << old.status().message();
    auto found = store::FindCase(**old, "case-after");
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->has_value());
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/data/node.db.restore-tmp"));
}

// The entries written after the backup stay, with their seq and hashes:
// the restored chain goes on where the replaced one was and the restore's
// own entry comes after them; no sequence number is given out twice.
TEST_F(RotateBackup, RestoreCarriesTheAuditEntriesWrittenAfterTheBackup) {
  std::string dir = tmp_ / "school";
  InitNode(dir, "school-a", "school", 17521);
  std::string backup = tmp_ / "school.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", dir, "--to", backup}).code, 0);
  std::vector<std::pair<int64_t, std::string>> after;  // seq, hash (hex)
  {
    auto db = OpenNode(dir);
    ASSERT_NE(db, nullptr);
    auto identity = store::LoadIdentity(*db);
    ASSERT_TRUE(identity.ok());
    SystemClock clock;
    // A checkpoint after every entry: the carried ones come with theirs.
    auto log = audit::AuditLog::Create(*db, "school-a", *identity, clock, {1, std::chrono::milliseconds(0)});
    ASSERT_TRUE(log.ok());
    for (const char* action : {"case.read", "inbox.read"}) {
      audit::AuditEvent e;
      e.actor_user = "u-mentor";
      e.actor_role = "staff";
      e.actor_org = "school-a";
      e.action = action;
      e.subject = "stu-1";
      e.object = "casus-1";
      e.outcome = "ok";
      e.source = "api";
      auto seq = (*log)->Append(e);
      ASSERT_TRUE(seq.ok()) << seq.status().message();
    }
    auto q =
        db->Prepare("SELECT seq, hex(hash) FROM audit_log WHERE action IN ('case.read', 'inbox.read') ORDER BY seq;");
    ASSERT_TRUE(q.ok());
    while (*q->Step()) after.emplace_back(q->Int(0), q->Text(1));
  }
  ASSERT_EQ(after.size(), 2u);

  auto r = RunSchakel({"restore", "--dir", dir, "--from", backup, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["audit_carried"], 2) << r.out;
  EXPECT_EQ(doc["audit_diverged"], false);

  auto db = OpenNode(dir);
  ASSERT_NE(db, nullptr);
  auto q =
      db->Prepare("SELECT seq, hex(hash) FROM audit_log WHERE action IN ('case.read', 'inbox.read') ORDER BY seq;");
  ASSERT_TRUE(q.ok());
  std::vector<std::pair<int64_t, std::string>> kept;
  while (*q->Step()) kept.emplace_back(q->Int(0), q->Text(1));
  EXPECT_EQ(kept, after);
  auto restore = db->Prepare("SELECT seq, reason FROM audit_log WHERE action = 'node.restore';");
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE(*restore->Step());
  EXPECT_EQ(restore->Int(0), after.back().first + 1);
  EXPECT_EQ(restore->Text(1), "restore: carried entries " + std::to_string(after.front().first) + "-" +
                                  std::to_string(after.back().first) + " written after the backup, as they were");
  auto cps = db->Prepare("SELECT count(*) FROM audit_checkpoints WHERE seq >= ?;");
  ASSERT_TRUE(cps.ok());
  cps->Bind(1, after.front().first);
  ASSERT_TRUE(*cps->Step());
  EXPECT_GE(cps->Int(0), 2);  // the carried entries' own checkpoints
  auto identity = store::LoadIdentity(*db);
  ASSERT_TRUE(identity.ok());
  SystemClock clock;
  auto log = audit::AuditLog::Create(*db, "school-a", *identity, clock);
  ASSERT_TRUE(log.ok());
  Status verified = (*log)->VerifyStored();
  EXPECT_TRUE(verified.ok()) << verified.message();
}

// A backup whose log went another way than the one it replaces (taken
// from a copy of the node that lived on separately): nothing is carried,
// the replaced database is kept whole, and the restore's entry says so.
TEST_F(RotateBackup, RestoreOfABackupFromAnotherBranchCarriesNothingAndSaysSo) {
  std::string dir = tmp_ / "school";
  InitNode(dir, "school-a", "school", 17531);
  std::string twin = tmp_ / "twin";
  std::filesystem::copy(dir, twin, std::filesystem::copy_options::recursive);
  // Each copy logs something of its own.
  std::string scratch = tmp_ / "scratch.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", dir, "--to", scratch}).code, 0);
  std::string backup = tmp_ / "twin.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", twin, "--to", backup}).code, 0);
  auto r = RunSchakel({"restore", "--dir", dir, "--from", backup, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["audit_carried"], 0);
  EXPECT_EQ(doc["audit_diverged"], true);
  auto db = OpenNode(dir);
  ASSERT_NE(db, nullptr);
  auto restore = db->Prepare("SELECT reason FROM audit_log WHERE action = 'node.restore';");
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE(*restore->Step());
  EXPECT_NE(restore->Text(0).find("does not continue the backup"), std::string::npos) << restore->Text(0);
  EXPECT_NE(restore->Text(0).find("node.db.before-restore-"), std::string::npos) << restore->Text(0);
}

// A machine lost with its database: a new directory with only the config,
// the key file and the node card takes the backup.
TEST_F(RotateBackup, RestoreOntoANewMachineNeedsOnlyTheConfigTheKeyAndTheCard) {
  std::string dir = tmp_ / "school";
  InitNode(dir, "school-a", "school", 17541);
  AddCase(dir, "case-before");
  std::string backup = tmp_ / "school.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", dir, "--to", backup}).code, 0);
  std::string fresh = tmp_ / "new-machine";
  std::filesystem::create_directories(fresh + "/secrets");
  std::filesystem::copy_file(dir + "/schakel.toml", fresh + "/schakel.toml");
  std::filesystem::copy_file(dir + "/secrets/db.key", fresh + "/secrets/db.key");
  std::filesystem::copy_file(dir + "/node-card.json", fresh + "/node-card.json");
  std::filesystem::permissions(fresh + "/secrets", std::filesystem::perms::owner_all);
  std::filesystem::remove_all(dir);  // the old machine is gone

  // Another node's backup is refused, and leaves no database behind.
  std::string other = tmp_ / "other";
  InitNode(other, "school-b", "school", 17551);
  std::string foreign = tmp_ / "other.backup";
  ASSERT_EQ(RunSchakel({"backup", "--dir", other, "--to", foreign}).code, 0);
  EXPECT_NE(RunSchakel({"restore", "--dir", fresh, "--from", foreign}).code, 0);
  EXPECT_FALSE(std::filesystem::exists(fresh + "/data/node.db"));

  auto r = RunSchakel({"restore", "--dir", fresh, "--from", backup, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_TRUE(doc["previous"].is_null()) << r.out;
  EXPECT_TRUE(HasCase(fresh, "case-before"));
  {
    auto db = OpenNode(fresh);
    ASSERT_NE(db, nullptr);
    auto restore = db->Prepare("SELECT reason FROM audit_log WHERE action = 'node.restore';");
    ASSERT_TRUE(restore.ok());
    ASSERT_TRUE(*restore->Step());
    EXPECT_NE(restore->Text(0).find("of the lost database are not known here"), std::string::npos) << restore->Text(0);
  }
  // A second restore there replaces the database as usual.
  auto again = RunSchakel({"restore", "--dir", fresh, "--from", backup});
  EXPECT_EQ(again.code, 0) << again.err;
}

TEST_F(RotateBackup, RestoreRefusesWhileTheDatabaseIsOpen) {
  std::string dir = tmp_ / "school";
  InitNode(dir, "school-a", "school", 17511);
  std::string backup = tmp_ / "b";
  ASSERT_EQ(RunSchakel({"backup", "--dir", dir, "--to", backup}).code, 0);
  AddCase(dir, "case-after");
  {
    auto holder = OpenNode(dir);  // as schakeld holds it, idle
    ASSERT_NE(holder, nullptr);
    auto r = RunSchakel({"restore", "--dir", dir, "--from", backup});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("open in another process"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(HasCase(dir, "case-after"));
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/data")) {
    EXPECT_EQ(entry.path().filename().string().find("before-restore"), std::string::npos);
  }
  // Closed, it goes through.
  EXPECT_EQ(RunSchakel({"restore", "--dir", dir, "--from", backup}).code, 0);
  EXPECT_FALSE(HasCase(dir, "case-after"));
}

TEST_F(RotateBackup, RestoreRefusesABackupOfAnotherNode) {
  std::string a = tmp_ / "a";
  std::string other = tmp_ / "other";
  InitNode(a, "school-a", "school", 17521);
  InitNode(other, "school-b", "school", 17531);
  std::string foreign = tmp_ / "foreign";
  ASSERT_EQ(RunSchakel({"backup", "--dir", other, "--to", foreign}).code, 0);
  // Another node's backup does not open with this node's key.
  auto r = RunSchakel({"restore", "--dir", a, "--from", foreign});
  EXPECT_EQ(r.code, 2) << r.err;
  // Not a database at all.
  WriteAll(tmp_ / "junk", std::string(8192, 'x'));
  EXPECT_EQ(RunSchakel({"restore", "--dir", a, "--from", tmp_ / "junk"}).code, 2);
  EXPECT_EQ(RunSchakel({"restore", "--dir", a, "--from", tmp_ / "missing"}).code, 2);
  // The same key (copied) but another node id: refused.
  std::filesystem::copy_file(a + "/secrets/db.key", other + "/secrets/db.key",
                             std::filesystem::copy_options::overwrite_existing);
  std::string same_key = tmp_ / "same-key";
  {
    auto a_db = OpenNode(a);
    ASSERT_NE(a_db, nullptr);
    store::NodePaths paths(a);
    auto key = store::LoadDatabaseKey(paths, store::KeySource{paths.key_file, "", {}});
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(a_db->BackupTo(same_key, *key).ok());
  }
  {
    store::NodePaths paths(a);
    auto key = store::LoadDatabaseKey(paths, store::KeySource{paths.key_file, "", {}});
    ASSERT_TRUE(key.ok());
    auto copy = store::Database::Open(same_key, *key, store::OpenMode::kExisting);
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE(store::SetMeta(**copy, "node_id", "school-b").ok());
  }
  auto r2 = RunSchakel({"restore", "--dir", a, "--from", same_key});
  EXPECT_EQ(r2.code, 3) << r2.err;
  EXPECT_NE(r2.err.find("school-b"), std::string::npos) << r2.err;
}

TEST_F(RotateBackup, RotationChangesKeysNotTheFingerprintAndPartnersAcceptIt) {
  std::string a = tmp_ / "school";
  std::string b = tmp_ / "wijkteam";
  InitNode(a, "school-a", "school", 17541);
  InitNode(b, "wijkteam-b", "wijkteam", 17551);
  std::string fp = NodeFingerprint(a);
  crypto::NodeCard before = Card(a);
  ASSERT_EQ(RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", a + "/node-card.json",
                        "--fingerprint", fp})
                .code,
            0);

  // B seals a share to A's current key, as its outbox would while A rotates.
  std::string envelope;
  {
    auto b_db = OpenNode(b);
    ASSERT_NE(b_db, nullptr);
    auto b_id = store::LoadIdentity(*b_db);
    ASSERT_TRUE(b_id.ok());
    crypto::EnvelopeHeader h;
    h.message_id = "msg-1";
    h.sender_id = "wijkteam-b";
    h.recipient_id = "school-a";
    h.created = NowUtc();
    h.retain_until = h.created + std::chrono::hours(24);
    h.purpose = "terugkoppeling";
    h.content_type = "application/json";
    auto sealed = crypto::Seal(h, R"({"afspraken":"x"})", *b_id, before.enc_pk);
    ASSERT_TRUE(sealed.ok()) << sealed.status().message();
    envelope = *sealed;
  }

  // A moves its peer listener, then rotates.
  std::string config = ReadAll(a + "/schakel.toml");
  auto at = config.find("127.0.0.1:17541");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 15, "127.0.0.1:17641");
  WriteAll(a + "/schakel.toml", config);
  auto r = RunSchakel({"node", "rotate-keys", "--dir", a, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("fingerprint"), fp);

  crypto::NodeCard after = Card(a);
  EXPECT_EQ(after.sign_pk, before.sign_pk);
  EXPECT_EQ(NodeFingerprint(a), fp);
  EXPECT_NE(after.enc_pk, before.enc_pk);
  EXPECT_NE(after.tls_spki_sha256, before.tls_spki_sha256);
  EXPECT_EQ(after.address, "127.0.0.1:17641");
  // The stored card is the file's.
  auto stored_card = RunSchakel({"node", "card", "--dir", a});
  ASSERT_EQ(stored_card.code, 0);
  auto from_meta = crypto::ParseNodeCard(stored_card.out);
  ASSERT_TRUE(from_meta.ok());
  EXPECT_EQ(crypto::CanonicalCardText(*from_meta), crypto::CanonicalCardText(after));

  {
    auto a_db = OpenNode(a);
    ASSERT_NE(a_db, nullptr);
    auto identity = store::LoadIdentity(*a_db);
    ASSERT_TRUE(identity.ok());
    auto current = store::LoadCurrentEncKey(*a_db, *identity);
    ASSERT_TRUE(current.ok());
    EXPECT_EQ(current->pair.public_key, after.enc_pk);
    auto tls = store::LoadCurrentTls(*a_db);
    ASSERT_TRUE(tls.ok());
    EXPECT_EQ(tls->spki_sha256, after.tls_spki_sha256);
    // The old key is retired, not gone: the envelope sealed to it still opens
    // through the key-id lookup the inbox uses.
    auto usable = store::LoadUsableEncKeys(*a_db, *identity);
    ASSERT_TRUE(usable.ok());
    ASSERT_EQ(usable->size(), 2u);
    EXPECT_TRUE(usable->front().retired_at.has_value());
    EXPECT_FALSE(usable->back().retired_at.has_value());
    crypto::EncKeyLookup lookup = [&](const crypto::EncKeyId& id) -> const crypto::EncryptionKeyPair* {
      for (const auto& k : *usable) {
        if (crypto::EncryptionKeyId(k.pair.public_key) == id) return &k.pair;
      }
      return nullptr;
    };
    auto b_card = crypto::ParseNodeCard(ReadAll(b + "/node-card.json"));
    ASSERT_TRUE(b_card.ok());
    auto opened = crypto::Open(envelope, lookup, b_card->sign_pk, "school-a");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(opened->body(), R"({"afspraken":"x"})");
    // With only the new key it would not.
    EXPECT_FALSE(crypto::Open(envelope, current->pair, b_card->sign_pk, "school-a").ok());
    EXPECT_EQ(CountAudit(*a_db, "node.rotate_keys"), 1);
  }

  // B re-imports the new card: same identity, newer card, updated. Its
  // address changed too, which B accepts only with --accept-change.
  auto refused = RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", a + "/node-card.json",
                             "--fingerprint", fp, "--json"});
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("address: \"127.0.0.1:17541\" -> \"127.0.0.1:17641\""), std::string::npos) << refused.err;
  auto up = RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", a + "/node-card.json",
                        "--fingerprint", fp, "--json", "--accept-change"});
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(nlohmann::json::parse(up.out).at("result"), "updated");
  EXPECT_EQ(nlohmann::json::parse(up.out).at("changed").size(), 1u);
  auto list = RunSchakel({"partner", "list", "--dir", b, "--json"});
  ASSERT_EQ(list.code, 0);
  auto partners = nlohmann::json::parse(list.out).at("partners");
  ASSERT_EQ(partners.size(), 1u);
  EXPECT_EQ(partners[0].at("address"), "127.0.0.1:17641");
  EXPECT_EQ(partners[0].at("fingerprint"), fp);
  {
    auto b_db = OpenNode(b);
    ASSERT_NE(b_db, nullptr);
    auto p = store::FindPartner(*b_db, "school-a");
    ASSERT_TRUE(p.ok() && p->has_value());
    EXPECT_EQ((*p)->card.tls_spki_sha256, after.tls_spki_sha256);
    EXPECT_EQ((*p)->card.enc_pk, after.enc_pk);
  }
  // The old card is now a rollback.
  WriteAll(tmp_ / "old-card.json", crypto::NodeCardToJson(before));
  EXPECT_EQ(RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", tmp_ / "old-card.json",
                        "--fingerprint", fp})
                .code,
            3);
}

TEST_F(RotateBackup, ACardWithAChangedIdentityKeyIsStillRefused) {
  std::string a = tmp_ / "school";
  std::string b = tmp_ / "wijkteam";
  InitNode(a, "school-a", "school", 17561);
  InitNode(b, "wijkteam-b", "wijkteam", 17571);
  ASSERT_EQ(RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", a + "/node-card.json",
                        "--fingerprint", NodeFingerprint(a)})
                .code,
            0);
  ASSERT_EQ(RunSchakel({"node", "rotate-keys", "--dir", a}).code, 0);
  // Someone presents a newer card for school-a under another identity key.
  crypto::NodeCard forged = Card(a);
  crypto::SigningKeyPair other = crypto::GenerateSigningKeyPair();
  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(other);
  forged.enc_pk = enc.public_key;
  forged.enc_pk_sig = enc.signature;
  forged.created = FormatInstant(NowUtc() + std::chrono::hours(1));
  crypto::SignNodeCard(forged, other);
  WriteAll(tmp_ / "forged.json", crypto::NodeCardToJson(forged));
  auto r = RunSchakel({"partner", "add", "--allow-local-address", "--dir", b, "--card", tmp_ / "forged.json",
                       "--fingerprint", crypto::Fingerprint(other.public_key)});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("different identity key"), std::string::npos) << r.err;
  auto list = RunSchakel({"partner", "list", "--dir", b, "--json"});
  EXPECT_EQ(nlohmann::json::parse(list.out).at("partners")[0].at("fingerprint"), NodeFingerprint(a));
}

}  // namespace
}  // namespace schakel
