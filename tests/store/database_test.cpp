#include "schakel/store/database.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/partners.h"
#include "schakel/store/users.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::ReadAll;
using schakel::testing::TempDir;
using schakel::testing::WriteAll;

constexpr const char* kMarker = "Sanne-de-Vries-MARKER-7c1f";

std::unique_ptr<Database> MustOpen(const std::string& path, const crypto::SecureBuffer& key, OpenMode mode) {
  auto db = Database::Open(path, key, mode);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(Database, CreatesMigratesAndReopens) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  {
    auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
    ASSERT_NE(db, nullptr);
    EXPECT_GE(db->SchemaVersion(), 1);
    ASSERT_TRUE(SetMeta(*db, "k", "v").ok());
  }
  auto db = MustOpen(dir / "node.db", key, OpenMode::kExisting);
  ASSERT_NE(db, nullptr);
  auto v = GetMeta(*db, "k");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "v");
  // Migrations ran once: one row per version.
  auto q = db->Prepare("SELECT count(*), max(version) FROM schema_version;");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->Step().value());
  EXPECT_EQ(q->Int(0), q->Int(1));
}

TEST(Database, WrongKeyIsAClearErrorAndLeavesTheFileAlone) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  { ASSERT_NE(MustOpen(dir / "node.db", key, OpenMode::kCreate), nullptr); }
  std::string before = ReadAll(dir / "node.db");
  auto wrong = crypto::SecureBuffer::Random(32);
  auto db = Database::Open(dir / "node.db", wrong, OpenMode::kExisting);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().ExitCode(), 2);
  EXPECT_NE(db.status().message().find("wrong key file or passphrase"), std::string::npos) << db.status().message();
  EXPECT_EQ(ReadAll(dir / "node.db"), before);
  // And the right key still opens it.
  EXPECT_NE(MustOpen(dir / "node.db", key, OpenMode::kExisting), nullptr);
}

TEST(Database, FileHoldsNoPlaintext) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  {
    auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(SetMeta(*db, "note" + std::to_string(i), std::string(kMarker) + " bsn 111222333").ok());
    }
    // Read the marker back while the WAL still holds it, then scan every file.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::string bytes = ReadAll(dir / (std::string("node.db") + suffix));
      EXPECT_EQ(bytes.find(kMarker), std::string::npos) << "plaintext in node.db" << suffix;
      EXPECT_EQ(bytes.find("111222333"), std::string::npos) << "BSN in node.db" << suffix;
      EXPECT_EQ(bytes.find("SQLite format 3"), std::string::npos) << "plain header in node.db" << suffix;
      EXPECT_EQ(bytes.find("CREATE TABLE"), std::string::npos) << "schema text in node.db" << suffix;
    }
  }
  std::string bytes = ReadAll(dir / "node.db");
  EXPECT_GT(bytes.size(), 4096u);
  EXPECT_EQ(bytes.find(kMarker), std::string::npos);
}

TEST(Database, ExistingModeDoesNotCreate) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = Database::Open(dir / "missing.db", key, OpenMode::kExisting);
  ASSERT_FALSE(db.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));
}

TEST(Database, CreateModeRefusesAnExistingFile) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  { ASSERT_NE(MustOpen(dir / "node.db", key, OpenMode::kCreate), nullptr); }
  auto db = Database::Open(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kAlreadyExists);
}

TEST(Database, GarbageAndTruncatedFilesAreClearErrors) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  WriteAll(dir / "garbage.db", std::string(8192, '\x5a'));
  auto g = Database::Open(dir / "garbage.db", key, OpenMode::kExisting);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("garbage.db"), std::string::npos);

  { ASSERT_NE(MustOpen(dir / "node.db", key, OpenMode::kCreate), nullptr); }
  std::string full = ReadAll(dir / "node.db");
  WriteAll(dir / "truncated.db", full.substr(0, 100));
  auto t = Database::Open(dir / "truncated.db", key, OpenMode::kExisting);
  ASSERT_FALSE(t.ok());
}

TEST(Database, RefusesANewerSchema) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  {
    auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
    ASSERT_TRUE(db->Exec("INSERT INTO schema_version (version) VALUES (999);").ok());
  }
  auto db = Database::Open(dir / "node.db", key, OpenMode::kExisting);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("newer than this program"), std::string::npos);
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(SetMeta(*db, "a", "1").ok());
  }
  EXPECT_FALSE(GetMeta(*db, "a").value().has_value());
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(SetMeta(*db, "a", "2").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(GetMeta(*db, "a").value().value(), "2");
}

// A statement with OR ROLLBACK that fails ends the whole transaction (the
// hot UPDATEs and the audit inserts say so: docs/performance.md "No
// statement journals"). What the caller runs after it must not slip out as
// statements of their own, each kept at once: the connection refuses them
// until the caller rolls back.
TEST(Database, AFailedStatementThatEndsTheTransactionLetsNothingRunOutsideIt) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(SetMeta(*db, "a", "1").ok());
    EXPECT_FALSE(db->Exec("INSERT OR ROLLBACK INTO meta (key, value) VALUES ('b', NULL);").ok());
    EXPECT_TRUE(db->InTransaction());
    Status more = SetMeta(*db, "c", "3");
    EXPECT_EQ(more.code(), Code::kInternal);
    EXPECT_NE(more.message().find("ended by a statement that failed"), std::string::npos) << more.message();
    EXPECT_FALSE(db->Exec("INSERT INTO meta (key, value) VALUES ('d', '4');").ok());
    Status commit = tx.Commit();
    EXPECT_FALSE(commit.ok());
    EXPECT_NE(commit.message().find("roll it back"), std::string::npos) << commit.message();
  }
  EXPECT_FALSE(db->InTransaction());
  for (const char* k : {"a", "b", "c", "d"}) EXPECT_FALSE(GetMeta(*db, k).value().has_value()) << k;
  // The next transaction works as ever.
  Transaction tx(*db);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(SetMeta(*db, "e", "5").ok());
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(GetMeta(*db, "e").value().value(), "5");
}

// Statements are kept for reuse (Database::Prepare): one taken again is as
// new -- reset, no bindings -- whatever its last user left.
TEST(DatabaseStatements, AStatementIsReusedResetAndWithoutItsBindings) {
  TempDir dir;
  auto db = MustOpen(dir / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(SetMeta(*db, "a", "1").ok());
  ASSERT_TRUE(SetMeta(*db, "b", "2").ok());
  const size_t before = db->KeptStatements();
  const std::string by_key = "SELECT value FROM meta WHERE key = ?;";
  {
    auto q = db->Prepare(by_key);
    ASSERT_TRUE(q.ok()) << q.status().message();
    q->Bind(1, "a");
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Text(0), "1");
  }
  EXPECT_EQ(db->KeptStatements(), before + 1);
  {
    auto q = db->Prepare(by_key);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(db->KeptStatements(), before);  // taken
    // Unbound: key = NULL matches nothing ("a" was cleared).
    EXPECT_FALSE(q->Step().value());
  }
  // Left after its first row; taken again, it starts from the first row.
  const std::string all = "SELECT key FROM meta WHERE key IN ('a', 'b') ORDER BY key;";
  {
    auto q = db->Prepare(all);
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Text(0), "a");
  }
  EXPECT_EQ(db->ResetSteppedStatements(), 0);  // a kept statement holds no snapshot
  {
    auto q = db->Prepare(all);
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Text(0), "a");
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Text(0), "b");
  }
  // Two of one text at once: each its own, both kept after.
  {
    auto q1 = db->Prepare(by_key);
    auto q2 = db->Prepare(by_key);
    ASSERT_TRUE(q1.ok() && q2.ok());
    q1->Bind(1, "a");
    q2->Bind(1, "b");
    ASSERT_TRUE(q1->Step().value() && q2->Step().value());
    EXPECT_EQ(q1->Text(0), "1");
    EXPECT_EQ(q2->Text(0), "2");
  }
  EXPECT_EQ(db->KeptStatements(), before + 3);  // by_key twice, all once
  // A text of two statements runs its first, and is not kept.
  {
    auto q = db->Prepare("SELECT 1; SELECT 2;");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Int(0), 1);
  }
  EXPECT_EQ(db->KeptStatements(), before + 3);
}

TEST(DatabaseStatements, AKeptStatementFollowsTheSchemaAndIsBounded) {
  TempDir dir;
  auto db = MustOpen(dir / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7);").ok());
  const std::string star = "SELECT * FROM t;";
  { ASSERT_TRUE(db->Prepare(star)->Step().value()); }
  ASSERT_TRUE(db->Exec("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x';").ok());
  {
    auto q = db->Prepare(star);
    ASSERT_TRUE(q->Step().value());
    EXPECT_EQ(q->Text(1), "x");  // prepared again for the new column
  }
  ASSERT_TRUE(db->Exec("DROP TABLE t;").ok());
  {
    auto q = db->Prepare(star);
    ASSERT_TRUE(q.ok()) << "a kept statement is handed out again; the error comes when it runs";
    auto step = q->Step();
    ASSERT_FALSE(step.ok());
    EXPECT_NE(step.status().message().find("no such table"), std::string::npos) << step.status().message();
  }
  // At most 256 kept, however many texts.
  for (int i = 0; i < 300; ++i) {
    auto q = db->Prepare("SELECT " + std::to_string(i) + ";");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Step().value());
  }
  EXPECT_EQ(db->KeptStatements(), 256U);
}

TEST(DatabaseStatements, AStatementMayOutliveItsDatabase) {
  TempDir dir;
  auto db = MustOpen(dir / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(SetMeta(*db, "a", "1").ok());
  { ASSERT_TRUE(db->Prepare("SELECT value FROM meta;")->Step().value()); }  // one kept
  auto q = db->Prepare("SELECT key FROM meta;");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->Step().value());
  db.reset();  // the kept one is finalized; q keeps the connection open
  EXPECT_EQ(q->Text(0), "a");
  // q goes at the end of the test: finalized, not kept (ASan checks).
}

// The daemon's reader (OpenMode::kReader, NodeCore::Reading): a second
// connection that reads beside the writer, sees each commit as soon as it is
// made, and cannot write.
TEST(DatabaseReader, ReadsBesideAWriterAndSeesItsCommits) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto writer = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(SetMeta(*writer, "k", "before").ok());
  auto reader = MustOpen(dir / "node.db", key, OpenMode::kReader);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->SchemaVersion(), writer->SchemaVersion());

  // A writer inside its transaction does not hold the reader up: it reads
  // the last commit, and the writer's commit as soon as it is made.
  Transaction tx(*writer);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(SetMeta(*writer, "k", "after").ok());
  EXPECT_EQ(GetMeta(*reader, "k").value().value(), "before");
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(GetMeta(*reader, "k").value().value(), "after");

  // It only reads.
  Status write = SetMeta(*reader, "k", "by-reader");
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.message().find("readonly"), std::string::npos) << write.message();
  EXPECT_EQ(GetMeta(*writer, "k").value().value(), "after");
}

// A connection takes its cache's pages as it reads them: opening one does
// not set aside room for a hundred pages (about 420 KiB) that an idle
// node's reader never reads (ConfigureSqliteOnce).
TEST(DatabaseReader, OpeningAConnectionDoesNotReserveAPageCache) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto writer = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_NE(writer, nullptr);
  int64_t before = Database::ProcessMemoryUsed();
  auto reader = MustOpen(dir / "node.db", key, OpenMode::kReader);
  ASSERT_NE(reader, nullptr);
  int64_t taken = Database::ProcessMemoryUsed() - before;
  EXPECT_GT(taken, 0);
  EXPECT_LT(taken, 256 * 1024) << "a new reader took " << taken << " bytes";
}

TEST(DatabaseReader, AStatementLeftSteppedIsResetSoTheReaderSeesLaterCommits) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto writer = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(SetMeta(*writer, "k", "old").ok());
  auto reader = MustOpen(dir / "node.db", key, OpenMode::kReader);
  ASSERT_NE(reader, nullptr);
  auto q = reader->Prepare("SELECT value FROM meta WHERE key = 'k';");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_TRUE(q->Step().value());  // stepped, not reset: its snapshot stays
  EXPECT_EQ(reader->ResetSteppedStatements(), 1);
  ASSERT_TRUE(SetMeta(*writer, "k", "new").ok());
  EXPECT_EQ(GetMeta(*reader, "k").value().value(), "new");
  EXPECT_EQ(reader->ResetSteppedStatements(), 0);
}

// Several reads from one snapshot (status, metrics, the gate): a commit
// made between them is not half seen; the next snapshot sees it.
TEST(DatabaseReader, AReadSnapshotSeesOneMomentAcrossACommit) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto writer = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(SetMeta(*writer, "a", "1").ok());
  ASSERT_TRUE(SetMeta(*writer, "b", "1").ok());
  auto reader = MustOpen(dir / "node.db", key, OpenMode::kReader);
  ASSERT_NE(reader, nullptr);
  {
    ReadSnapshot snapshot(*reader);
    ASSERT_TRUE(snapshot.Begin().ok());
    EXPECT_EQ(GetMeta(*reader, "a").value().value(), "1");
    Transaction tx(*writer);  // the writer is not held up by the snapshot
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(SetMeta(*writer, "a", "2").ok());
    ASSERT_TRUE(SetMeta(*writer, "b", "2").ok());
    ASSERT_TRUE(tx.Commit().ok());
    EXPECT_EQ(GetMeta(*reader, "b").value().value(), "1");  // not half of the commit
    EXPECT_TRUE(reader->InTransaction());
  }
  EXPECT_FALSE(reader->InTransaction());
  EXPECT_EQ(GetMeta(*reader, "a").value().value(), "2");
  EXPECT_EQ(GetMeta(*reader, "b").value().value(), "2");

  // Inside a transaction already open it leaves that transaction alone.
  Transaction tx(*writer);
  ASSERT_TRUE(tx.Begin().ok());
  {
    ReadSnapshot inner(*writer);
    ASSERT_TRUE(inner.Begin().ok());
    ASSERT_TRUE(SetMeta(*writer, "a", "3").ok());
  }
  EXPECT_TRUE(writer->InTransaction());
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(GetMeta(*reader, "a").value().value(), "3");
}

TEST(DatabaseReader, RefusesAMissingFileAndASchemaNotItsOwn) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto missing = Database::Open(dir / "node.db", key, OpenMode::kReader);
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "node.db"));
  {
    auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
    ASSERT_TRUE(db->Exec("INSERT INTO schema_version (version) VALUES (999);").ok());
  }
  auto reader = Database::Open(dir / "node.db", key, OpenMode::kReader);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("a reader needs schema version"), std::string::npos)
      << reader.status().message();
  auto wrong = Database::Open(dir / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kReader);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("key does not open"), std::string::npos) << wrong.status().message();
}

TEST(IdentityStore, KeysRoundTrip) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  auto id = crypto::GenerateSigningKeyPair();
  auto enc = crypto::GenerateEncryptionKeyPair(id);
  auto tls = crypto::GenerateTlsIdentity("school-a");
  ASSERT_TRUE(tls.ok());
  ASSERT_TRUE(SaveNewIdentity(*db, id, enc, *tls, "2026-11-23T10:00:00Z").ok());
  EXPECT_FALSE(SaveNewIdentity(*db, id, enc, *tls, "2026-11-23T10:00:00Z").ok());

  auto loaded = LoadIdentity(*db);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, id.public_key);
  EXPECT_TRUE(loaded->secret.Equals(id.secret.span()));
  auto loaded_enc = LoadCurrentEncKey(*db, *loaded);
  ASSERT_TRUE(loaded_enc.ok());
  EXPECT_EQ(loaded_enc->pair.public_key, enc.public_key);
  EXPECT_TRUE(loaded_enc->pair.secret.Equals(enc.secret.span()));
  auto loaded_tls = LoadCurrentTls(*db);
  ASSERT_TRUE(loaded_tls.ok());
  EXPECT_EQ(loaded_tls->certificate_pem, tls->certificate_pem);
  EXPECT_EQ(loaded_tls->spki_sha256, tls->spki_sha256);
  EXPECT_TRUE(loaded_tls->private_key_pem.Equals(tls->private_key_pem.span()));
}

TEST(Partners, InsertFindUpdateRemove) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  Partner p;
  p.card.node_id = "wijkteam-overvecht";
  p.card.name = "Wijkteam Overvecht";
  p.card.org_type = "wijkteam";
  p.card.address = "127.0.0.1:7411";
  p.card.sign_pk[0] = 1;
  p.card.created = "2026-11-23T10:00:00Z";
  p.card_json = "{}";
  p.added = p.updated = "2026-11-23T10:00:00Z";
  ASSERT_TRUE(InsertPartner(*db, p).ok());
  EXPECT_EQ(InsertPartner(*db, p).code(), Code::kAlreadyExists);
  auto found = FindPartner(*db, "wijkteam-overvecht");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->card.sign_pk, p.card.sign_pk);
  p.card.address = "127.0.0.1:9999";
  ASSERT_TRUE(UpdatePartnerCard(*db, p).ok());
  EXPECT_EQ(FindPartner(*db, "wijkteam-overvecht").value()->card.address, "127.0.0.1:9999");
  EXPECT_EQ(ListPartners(*db).value().size(), 1u);
  ASSERT_TRUE(RemovePartner(*db, "wijkteam-overvecht").ok());
  EXPECT_EQ(RemovePartner(*db, "wijkteam-overvecht").code(), Code::kNotFound);
  EXPECT_FALSE(FindPartner(*db, "wijkteam-overvecht").value().has_value());
}

TEST(Users, StoresOnlyTheTokenHash) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  User u;
  u.user_id = "u-1";
  u.name = "J. Bakker";
  u.role = Role::kCoordinator;
  u.created = "2026-11-23T10:00:00Z";
  TokenHash h{};
  h[0] = 7;
  ASSERT_TRUE(InsertUser(*db, u, h).ok());
  User same_name = u;
  same_name.user_id = "u-2";
  same_name.role = Role::kStaff;
  TokenHash h2{};
  EXPECT_EQ(InsertUser(*db, same_name, h2).code(), Code::kAlreadyExists);
  auto found = FindUserByTokenHash(*db, h);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->role, Role::kCoordinator);
  EXPECT_FALSE(FindUserByTokenHash(*db, h2).value().has_value());
  EXPECT_EQ(ParseRole("auditor"), Role::kAuditor);
  EXPECT_FALSE(ParseRole("root").has_value());
}

TEST(Database, OnlineBackupOpensWithTheSameKey) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = MustOpen(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(SetMeta(*db, "marker", kMarker).ok());
  ASSERT_TRUE(db->BackupTo(dir / "copy.db", key).ok());
  EXPECT_EQ(ReadAll(dir / "copy.db").find(kMarker), std::string::npos);
  auto copy = MustOpen(dir / "copy.db", key, OpenMode::kExisting);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(GetMeta(*copy, "marker").value().value(), kMarker);
  EXPECT_EQ(db->BackupTo(dir / "copy.db", key).code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace schakel::store
