// The audit log in the store: the chain, checkpoints by count, age, export
// and close, transactions, validation, the append-only triggers, and
// VerifyStored against an attacker who holds the database key.
#include "schakel/audit/audit_log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_test_util.h"

namespace schakel::audit {
namespace {

using testing::All;
using testing::AuditLogTest;
using testing::Event;
using testing::kNodeId;

TEST_F(AuditLogTest, AppendBuildsAHashChain) {
  MakeLog();
  AppendRange(1, 4);
  auto entries = All(*log_);
  ASSERT_EQ(entries.size(), 4u);
  Hash prev{};
  for (size_t i = 0; i < entries.size(); ++i) {
    const AuditEntry& e = entries[i];
    EXPECT_EQ(e.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(e.prev_hash, prev);
    std::string ts = FormatInstantMs(e.ts);
    EXPECT_EQ(e.format, kCurrentEntryFormat);
    EXPECT_EQ(e.hash, ComputeEntryHash(e.format, e.seq, TextOf(e, ts), prev));
    EXPECT_EQ(e.subject, Event(static_cast<int>(i + 1)).subject);
    prev = e.hash;
  }
  EXPECT_EQ(FormatInstantMs(entries[0].ts), "2026-11-23T10:00:01.000Z");
  EXPECT_EQ(FormatInstantMs(entries[3].ts), "2026-11-23T10:00:04.000Z");
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, CheckpointsEveryNEntriesAndOnClose) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 12);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{5, 10}));
  ASSERT_TRUE(log_->Close().ok());
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{5, 10, 12}));
  // Nothing new to cover: no second checkpoint for seq 12.
  ASSERT_TRUE(log_->Close().ok());
  ASSERT_TRUE(log_->Checkpoint().ok());
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{5, 10, 12}));
  // The log is usable after Close; N counts from the last checkpoint.
  AppendRange(13, 16);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{5, 10, 12}));
  AppendRange(17, 17);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{5, 10, 12, 17}));
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, CheckpointsWhenTheOldestUncoveredEntryIsOld) {
  MakeLog({.checkpoint_every_entries = 1000, .checkpoint_every = std::chrono::seconds(300)});
  AppendRange(1, 1);  // at 10:00:01
  clock_.Advance(std::chrono::seconds(200));
  AppendRange(2, 2);
  ASSERT_TRUE(log_->MaybeCheckpoint().ok());
  EXPECT_TRUE(CheckpointSeqs().empty());
  clock_.Advance(std::chrono::seconds(100));  // entry 1 is now 301 s old
  ASSERT_TRUE(log_->MaybeCheckpoint().ok());
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2}));
  // Idle: nothing uncovered, nothing written.
  clock_.Advance(std::chrono::hours(2));
  ASSERT_TRUE(log_->MaybeCheckpoint().ok());
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2}));
  // Append checks the age too: entry 3 waits, entry 4 comes 301 s later.
  AppendRange(3, 3);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2}));
  clock_.Advance(std::chrono::seconds(300));
  AppendRange(4, 4);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2, 4}));
}

TEST_F(AuditLogTest, CheckpointIsSignedByTheIdentityOverNodeSeqHashAndTime) {
  MakeLog({.checkpoint_every_entries = 3});
  AppendRange(1, 3);
  auto q = db_->Prepare("SELECT seq, hash, ts, sig FROM audit_checkpoints;");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->Step().value());
  EXPECT_EQ(q->Int(0), 3);
  Hash hash{};
  auto hb = q->Blob(1);
  std::copy(hb.begin(), hb.end(), hash.begin());
  EXPECT_EQ(hash, All(*log_)[2].hash);
  std::string ts = q->Text(2);
  EXPECT_EQ(ts, "2026-11-23T10:00:03.000Z");
  crypto::Signature sig{};
  auto sb = q->Blob(3);
  ASSERT_EQ(sb.size(), 64u);
  std::copy(sb.begin(), sb.end(), sig.begin());
  EXPECT_TRUE(crypto::Verify(key_.public_key, CheckpointMessage(kNodeId, 3, hash, ts), sig));
  EXPECT_FALSE(crypto::Verify(key_.public_key, CheckpointMessage("other-node", 3, hash, ts), sig));
  EXPECT_FALSE(crypto::Verify(key_.public_key, CheckpointMessage(kNodeId, 2, hash, ts), sig));
  EXPECT_FALSE(crypto::Verify(key_.public_key, CheckpointMessage(kNodeId, 3, hash, "2026-11-23T10:00:04.000Z"), sig));
}

TEST_F(AuditLogTest, CheckpointOfAnEmptyLogWritesNothing) {
  MakeLog();
  ASSERT_TRUE(log_->Checkpoint().ok());
  ASSERT_TRUE(log_->Close().ok());
  EXPECT_EQ(Count("audit_checkpoints"), 0);
  EXPECT_EQ(ExportText(), "");
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, AppendJoinsTheCallersTransaction) {
  MakeLog({.checkpoint_every_entries = 2});
  {
    // The action and its audit entry roll back together.
    store::Transaction tx(*db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO meta (key, value) VALUES ('action', 'done');").ok());
    AppendRange(1, 2);  // and its checkpoint
    EXPECT_EQ(Count("audit_log"), 2);
    EXPECT_EQ(Count("audit_checkpoints"), 1);
  }
  EXPECT_EQ(Count("meta"), 0);
  EXPECT_EQ(Count("audit_log"), 0);
  EXPECT_EQ(Count("audit_checkpoints"), 0);
  // No gap is left: the next entry is seq 1 again.
  {
    store::Transaction tx(*db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO meta (key, value) VALUES ('action', 'done');").ok());
    AppendRange(1, 1);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Count("meta"), 1);
  EXPECT_EQ(Count("audit_log"), 1);
  AppendRange(2, 3);  // on its own again
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2}));
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, ARefusedAppendLeavesTheCallersTransactionIntact) {
  MakeLog();
  store::Transaction tx(*db_);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO meta (key, value) VALUES ('a', 'b');").ok());
  AuditEvent bad = Event(1);
  bad.reason = "line one\nline two";
  EXPECT_EQ(log_->Append(bad).status().code(), Code::kInvalidInput);
  AppendRange(1, 1);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(Count("meta"), 1);
  EXPECT_EQ(Count("audit_log"), 1);
}

TEST_F(AuditLogTest, AppendOnItsOwnIsDurable) {
  MakeLog({.checkpoint_every_entries = 2});
  AppendRange(1, 3);
  log_.reset();
  db_.reset();
  db_ = OpenDb(tmp_ / "node.db", store::OpenMode::kExisting);
  ASSERT_NE(db_, nullptr);
  MakeLog({.checkpoint_every_entries = 2});
  EXPECT_EQ(Count("audit_log"), 3);
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{2}));
  AppendRange(4, 4);
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, TwoConnectionsAppendToOneChain) {
  // An offline `schakel` command appends while the daemon runs: nothing is
  // cached between calls, so the chain stays whole.
  MakeLog({.checkpoint_every_entries = 4});
  auto other_db = OpenDb(tmp_ / "node.db", store::OpenMode::kExisting);
  ASSERT_NE(other_db, nullptr);
  auto other = AuditLog::Create(*other_db, kNodeId, key_, clock_, {.checkpoint_every_entries = 4});
  ASSERT_TRUE(other.ok());
  for (int i = 1; i <= 10; ++i) {
    AuditLog& log = i % 2 ? *log_ : **other;
    auto seq = log.Append(Event(i));
    ASSERT_TRUE(seq.ok()) << seq.status().message();
    EXPECT_EQ(*seq, i);
  }
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{4, 8}));
  EXPECT_TRUE(log_->VerifyStored().ok());
  EXPECT_TRUE((*other)->VerifyStored().ok());
}

TEST_F(AuditLogTest, ValidationRefusesWhatMustNotReachTheLog) {
  MakeLog();
  struct Case {
    const char* field;
    std::function<void(AuditEvent&)> edit;
  };
  const std::string secret = "Sanne de Vries heeft slaapproblemen";
  std::vector<Case> cases = {
      {"reason", [&](AuditEvent& e) { e.reason = secret + "\nforged line"; }},
      {"object", [](AuditEvent& e) { e.object = "casus-1\r"; }},
      {"purpose", [](AuditEvent& e) { e.purpose = "kernteam\toverleg"; }},
      {"actor_user", [](AuditEvent& e) { e.actor_user = std::string("u\0x", 3); }},
      {"actor_org", [](AuditEvent& e) { e.actor_org = "bad \xff utf8"; }},
      {"legal_basis", [](AuditEvent& e) { e.legal_basis = "c1 \xc2\x85 control"; }},
      {"object", [](AuditEvent& e) { e.object = std::string(257, 'x'); }},
      {"reason", [](AuditEvent& e) { e.reason = std::string(1025, 'r'); }},
      {"subject", [&](AuditEvent& e) { e.subject = "Sanne de Vries"; }},
      {"subject", [&](AuditEvent& e) { e.subject = std::string(129, 's'); }},
      {"action", [](AuditEvent& e) { e.action = "Case Read"; }},
      {"action", [](AuditEvent& e) { e.action = ""; }},
      {"outcome", [](AuditEvent& e) { e.outcome = ""; }},
      {"outcome", [](AuditEvent& e) { e.outcome = std::string(65, 'a'); }},
      {"source", [](AuditEvent& e) { e.source = ""; }},
  };
  for (const auto& c : cases) {
    AuditEvent e = Event(1);
    c.edit(e);
    auto r = log_->Append(e);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput) << c.field;
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("Sanne"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(Count("audit_log"), 0);
  // At the limits, and with non-ASCII text, an event is fine.
  AuditEvent edge = Event(1);
  edge.reason = std::string(1024, 'r');
  edge.object = std::string(256, 'o');
  edge.subject = std::string(128, 's');
  edge.purpose = "overleg \xc3\xa9\xc3\xa8 \xf0\x9f\x98\x80";
  edge.actor_user = "";
  edge.legal_basis = "";
  EXPECT_TRUE(log_->Append(edge).ok());
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, TriggersRefuseUpdateAndDelete) {
  MakeLog({.checkpoint_every_entries = 2});
  AppendRange(1, 2);
  EXPECT_FALSE(db_->Exec("UPDATE audit_log SET reason = 'x' WHERE seq = 1;").ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_log WHERE seq = 2;").ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_log;").ok());
  EXPECT_FALSE(db_->Exec("UPDATE audit_checkpoints SET ts = 'x';").ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_checkpoints;").ok());
  EXPECT_EQ(Count("audit_log"), 2);
  EXPECT_EQ(Count("audit_checkpoints"), 1);
  EXPECT_EQ(All(*log_)[0].reason, "");
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(AuditLogTest, ReplaceIsRefusedAndWithoutTheTriggersCaughtByVerifyStored) {
  // SQLite fires no DELETE trigger for the row that REPLACE removes (unless
  // recursive_triggers is on); schema v3 refuses an insert over an existing seq.
  MakeLog({.checkpoint_every_entries = 2});
  AppendRange(1, 2);
  const char* kReplace =
      "INSERT OR REPLACE INTO audit_log SELECT seq, ts, actor_user, actor_role, "
      "actor_org, action, subject, object, purpose, legal_basis, 'ok', reason, "
      "source, prev_hash, hash, format, recipient, categories, consents FROM audit_log WHERE seq = 1;";
  EXPECT_FALSE(db_->Exec(kReplace).ok());
  EXPECT_TRUE(log_->VerifyStored().ok());
  // An attacker with the key can drop the triggers; the chain still tells.
  DropTriggers();
  ASSERT_TRUE(db_->Exec(kReplace).ok());
  EXPECT_EQ(All(*log_)[0].outcome, "ok");
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("seq 1:"), std::string::npos) << st.message();
}

TEST_F(AuditLogTest, VerifyStoredFindsAChangedRow) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 12);
  ASSERT_TRUE(log_->VerifyStored().ok());
  DropTriggers();
  ASSERT_TRUE(db_->Exec("UPDATE audit_log SET outcome = 'permit', reason = '' WHERE seq = 10;").ok());
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("seq 10:"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("altered"), std::string::npos) << st.message();
}

TEST_F(AuditLogTest, VerifyStoredFindsARewrittenChainAtTheNextCheckpoint) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 12);
  DropTriggers();
  // Change entry 7 and recompute every hash after it, as someone without
  // the identity key can: only the checkpoint at 10 gives it away.
  auto entries = All(*log_);
  Hash prev = entries[5].hash;
  for (size_t i = 6; i < entries.size(); ++i) {
    AuditEntry& e = entries[i];
    if (e.seq == 7) e.outcome = "deny";
    e.prev_hash = prev;
    std::string ts = FormatInstantMs(e.ts);
    e.hash = ComputeEntryHash(e.format, e.seq, TextOf(e, ts), prev);
    auto q = db_->Prepare("UPDATE audit_log SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?;");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Bind(1, e.outcome).BindBlob(2, e.prev_hash).BindBlob(3, e.hash).Bind(4, e.seq).Run().ok());
    prev = e.hash;
  }
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("seq 10:"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("rewritten"), std::string::npos) << st.message();
}

TEST_F(AuditLogTest, VerifyStoredFindsDeletedEntries) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 12);
  ASSERT_TRUE(log_->Close().ok());
  DropTriggers();
  ASSERT_TRUE(db_->Exec("DELETE FROM audit_log WHERE seq = 12;").ok());
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("seq 12:"), std::string::npos) << st.message();
  ASSERT_TRUE(db_->Exec("DELETE FROM audit_log WHERE seq = 3;").ok());
  st = log_->VerifyStored();
  EXPECT_NE(st.message().find("seq 3:"), std::string::npos) << st.message();
}

TEST_F(AuditLogTest, VerifyStoredFindsACheckpointOfAnotherKey) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 7);
  auto other = crypto::GenerateSigningKeyPair();
  auto e = All(*log_)[6];
  std::string ts = "2026-11-23T11:00:00.000Z";
  auto sig = crypto::Sign(other, CheckpointMessage(kNodeId, 7, e.hash, ts));
  auto q = db_->Prepare("INSERT INTO audit_checkpoints (seq, hash, ts, sig) VALUES (?, ?, ?, ?);");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->Bind(1, int64_t{7}).BindBlob(2, e.hash).Bind(3, ts).BindBlob(4, sig).Run().ok());
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("seq 7: checkpoint signature"), std::string::npos) << st.message();
}

TEST_F(AuditLogTest, QueryFilters) {
  MakeLog();
  AppendRange(1, 20);
  AuditFilter f;
  f.subject = "stu-1";
  auto r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);  // 1, 5, 9, 13, 17
  for (const auto& e : *r) EXPECT_EQ(e.subject, "stu-1");
  EXPECT_EQ(r->front().seq, 1);

  f = {};
  f.user = "u-2";
  f.action = "share.create";  // even i with i % 3 == 2: 2, 8, 14, 20
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  std::vector<int64_t> seqs;
  for (const auto& e : *r) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<int64_t>{2, 8, 14, 20}));

  f = {};
  f.since = ParseInstant("2026-11-23T10:00:18Z").value();
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(r->front().seq, 18);

  f = {};
  f.after_seq = 5;
  f.limit = 4;
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(r->front().seq, 6);
  EXPECT_EQ(r->back().seq, 9);

  f.limit = 0;
  EXPECT_EQ(log_->Query(f).status().code(), Code::kInvalidInput);
  f.limit = kMaxQueryLimit + 1;
  EXPECT_EQ(log_->Query(f).status().code(), Code::kInvalidInput);
}

// AVG art. 15(1)(c): the recipients. An entry of format 2 says to whom and
// which categories; a format-1 row claiming them is corrupt.
TEST_F(AuditLogTest, SubjectReportNamesRecipientsAndAFormatOneRowCannotClaimThem) {
  MakeLog();
  AuditEvent e = Event(2);
  e.recipient = "wijkteam-overvecht";
  e.categories = "hulpvraag,onderwijs";
  e.consents = "c-1";
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(log_->Append(e).ok());
  auto r = log_->SubjectReport("stu-2");
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string text = SubjectReportText(*r);
  EXPECT_NE(text.find("  to wijkteam-overvecht, categories hulpvraag,onderwijs\n"), std::string::npos) << text;
  auto j = nlohmann::json::parse(SubjectReportJson(*r));
  EXPECT_EQ(j["entries"][0]["recipient"], "wijkteam-overvecht");
  EXPECT_EQ(j["entries"][0]["consents"], "c-1");
  EXPECT_TRUE(log_->VerifyStored().ok());

  DropTriggers();
  ASSERT_TRUE(db_->Exec("UPDATE audit_log SET format = 1 WHERE seq = 1;").ok());
  Status st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("format-1 entry holds fields of format 2"), std::string::npos) << st.message();
  ASSERT_TRUE(db_->Exec("UPDATE audit_log SET format = 3 WHERE seq = 1;").ok());
  st = log_->VerifyStored();
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("entry format 3"), std::string::npos) << st.message();
}

// CJEU C-579/21: the family's report names organisations and roles, not the
// staff members; a case assigned to a colleague names no colleague either.
TEST_F(AuditLogTest, TheFamilysReportNamesNoStaffMember) {
  MakeLog();
  AuditEvent e = Event(2);
  e.recipient = "u-7";  // assigned inside the organisation
  e.reason = "u-7";     // inbox.assign names the assignee in its reason too
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(log_->Append(e).ok());
  AuditEvent out = Event(2);
  out.recipient = "wijkteam-overvecht";
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(log_->Append(out).ok());
  auto r = log_->SubjectReport("stu-2");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NE(SubjectReportText(*r).find("u-7"), std::string::npos);  // the internal report
  RedactForFamily(*r, {"u-0", "u-7"});
  std::string text = SubjectReportText(*r);
  EXPECT_EQ(text.find("by u-"), std::string::npos) << text;
  EXPECT_EQ(text.find("u-7"), std::string::npos) << text;
  EXPECT_EQ(text.find("internal"), std::string::npos) << text;
  EXPECT_NE(text.find("by a coordinator of school-trajectum"), std::string::npos) << text;
  EXPECT_NE(text.find("to a staff member of "), std::string::npos) << text;
  EXPECT_NE(text.find("to wijkteam-overvecht"), std::string::npos) << text;
  auto j = nlohmann::json::parse(SubjectReportJson(*r));
  EXPECT_TRUE(j["for_family"].get<bool>());
  EXPECT_FALSE(j["entries"][0]["actor"].contains("user"));
  EXPECT_EQ(j["entries"][0]["actor"]["org"], "school-trajectum");
}

TEST_F(AuditLogTest, SubjectReportListsWhoWhatWhenWhy) {
  MakeLog();
  AppendRange(1, 12);
  auto r = log_->SubjectReport("stu-2");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->entries.size(), 3u);  // 2, 6, 10
  EXPECT_FALSE(r->truncated);
  std::string text = SubjectReportText(*r);
  EXPECT_NE(text.find("student stu-2"), std::string::npos) << text;
  EXPECT_NE(text.find("3 entries"), std::string::npos) << text;
  EXPECT_NE(text.find("2026-11-23T10:00:06.000Z"), std::string::npos) << text;
  EXPECT_NE(text.find("share.create casus-6"), std::string::npos) << text;
  EXPECT_NE(text.find("by u-2 (coordinator) of school-trajectum via api"), std::string::npos) << text;
  EXPECT_NE(text.find("purpose doorverwijzing, legal basis consent, outcome deny, reason: "
                      "missing_consent_ouder"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("casus-1\n"), std::string::npos);
  EXPECT_EQ(text.find("casus-3 "), std::string::npos);

  auto j = nlohmann::json::parse(SubjectReportJson(*r));
  EXPECT_EQ(j["subject"], "stu-2");
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["entries"][1]["seq"], 6);
  EXPECT_EQ(j["entries"][1]["actor"]["user"], "u-0");
  EXPECT_EQ(j["organisations"], nlohmann::json::array({"school-trajectum"}));
  EXPECT_EQ(j["purposes"], nlohmann::json::array({"doorverwijzing"}));

  auto cut = log_->SubjectReport("stu-2", 2);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->entries.size(), 2u);
  EXPECT_TRUE(cut->truncated);
  EXPECT_NE(SubjectReportText(*cut).find("truncated"), std::string::npos);

  auto none = log_->SubjectReport("stu-99");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->entries.empty());
  EXPECT_EQ(log_->SubjectReport("Sanne de Vries").status().code(), Code::kInvalidInput);
}

TEST_F(AuditLogTest, SubjectReportPagesThroughManyEntries) {
  MakeLog();
  store::Transaction tx(*db_);
  ASSERT_TRUE(tx.Begin().ok());
  for (int i = 1; i <= 2 * static_cast<int>(kMaxQueryLimit) + 10; ++i) {
    AuditEvent e = Event(i);
    e.subject = i % 2 ? "stu-odd" : "stu-even";
    ASSERT_TRUE(log_->Append(e).ok());
  }
  ASSERT_TRUE(tx.Commit().ok());
  auto r = log_->SubjectReport("stu-odd");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries.size(), kMaxQueryLimit + 5);
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->entries.back().seq, 2 * static_cast<int64_t>(kMaxQueryLimit) + 9);
  auto exact = log_->SubjectReport("stu-odd", kMaxQueryLimit + 5);
  ASSERT_TRUE(exact.ok());
  EXPECT_FALSE(exact->truncated);
}

TEST_F(AuditLogTest, ExportSignsACheckpointFirstAndVerifies) {
  MakeLog({.checkpoint_every_entries = 3});
  AppendRange(1, 7);
  clock_.Advance(std::chrono::milliseconds(250));
  std::string text = ExportText();
  EXPECT_EQ(CheckpointSeqs(), (std::vector<int64_t>{3, 6, 7}));
  auto lines = testing::SplitLines(text);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[3].rfind("{\"type\":\"checkpoint\",\"node_id\":\"school-trajectum\",\"seq\":3,", 0), 0u) << lines[3];
  auto report = VerifyExport(text, testing::MakeCard(key_));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->Describe();
  EXPECT_EQ(report->entries, 7);
  EXPECT_EQ(report->checkpoints, 3);
  EXPECT_EQ(report->last_checkpoint_seq, 7);
  EXPECT_EQ(report->last_checkpoint_ts, "2026-11-23T10:00:07.250Z");
  // A second export adds no checkpoint and is the same text.
  EXPECT_EQ(ExportText(), text);
}

TEST_F(AuditLogTest, CreateRefusesBadArguments) {
  EXPECT_EQ(AuditLog::Create(*db_, "Bad Id", key_, clock_).status().code(), Code::kInvalidInput);
  crypto::SigningKeyPair empty;
  EXPECT_EQ(AuditLog::Create(*db_, kNodeId, empty, clock_).status().code(), Code::kInvalidInput);
  EXPECT_EQ(AuditLog::Create(*db_, kNodeId, key_, clock_, {.checkpoint_every_entries = 0}).status().code(),
            Code::kInvalidInput);
}

// CarryTail, as `schakel restore` uses it: a backup (a prefix of the log)
// gets the entries and checkpoints written after it, as stored, and then
// verifies; carrying again finds nothing; a replaced log that is older than
// the backup is not "another way"; one with other entries is.
TEST_F(AuditLogTest, CarryTailGivesABackupTheEntriesWrittenAfterIt) {
  MakeLog({2, std::chrono::milliseconds(0)});
  AppendRange(1, 3);
  const std::string backup = tmp_ / "backup.db";
  ASSERT_TRUE(db_->BackupTo(backup, db_key_).ok());
  const std::string second = tmp_ / "second.db";
  ASSERT_TRUE(db_->BackupTo(second, db_key_).ok());
  AppendRange(4, 6);
  auto restored = OpenDb(backup, store::OpenMode::kExisting);
  ASSERT_NE(restored, nullptr);
  auto carried = CarryTail(*db_, *restored);
  ASSERT_TRUE(carried.ok()) << carried.status().message();
  EXPECT_EQ(carried->after_seq, 3);
  EXPECT_EQ(carried->carried, 3);
  EXPECT_EQ(carried->last_seq, 6);
  EXPECT_GE(carried->checkpoints, 1);
  EXPECT_FALSE(carried->diverged);
  auto log = AuditLog::Create(*restored, kNodeId, key_, clock_);
  ASSERT_TRUE(log.ok());
  Status verified = (*log)->VerifyStored();
  EXPECT_TRUE(verified.ok()) << verified.message();
  auto again = CarryTail(*db_, *restored);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->carried, 0);
  EXPECT_FALSE(again->diverged);

  // The replaced log older than the backup (entries 1..3 replaced by 1..6):
  // nothing to carry, the same history.
  auto older = OpenDb(second, store::OpenMode::kExisting);
  ASSERT_NE(older, nullptr);
  auto newer_backup = CarryTail(*older, *restored);
  ASSERT_TRUE(newer_backup.ok());
  EXPECT_FALSE(newer_backup->diverged);
  EXPECT_EQ(newer_backup->carried, 0);

  // Another log with as many entries but other ones: diverged, nothing copied.
  auto other = OpenDb(tmp_ / "other.db", store::OpenMode::kCreate);
  ASSERT_NE(other, nullptr);
  {
    auto other_log = AuditLog::Create(*other, kNodeId, key_, clock_);
    ASSERT_TRUE(other_log.ok());
    for (int i = 101; i <= 108; ++i) ASSERT_TRUE((*other_log)->Append(Event(i)).ok());
  }
  auto diverged = CarryTail(*other, *restored);
  ASSERT_TRUE(diverged.ok());
  EXPECT_TRUE(diverged->diverged);
  EXPECT_EQ(diverged->carried, 0);
  EXPECT_TRUE((*log)->VerifyStored().ok());
}

}  // namespace
}  // namespace schakel::audit
