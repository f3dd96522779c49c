// Retention ([audit] retention_years; docs/audit.md "Retention"): the oldest
// whole segments go after a signed boundary, what remains verifies from it
// (stored and exported), an anchor before the start is said to be
// unchecked, a rewritten segment is not deleted, and the triggers still
// refuse deleting anything after the boundary.
#include <gtest/gtest.h>

#include "audit_test_util.h"
#include "schakel/audit/audit_log.h"
#include "schakel/audit/verify.h"

namespace schakel::audit {
namespace {

using testing::All;
using testing::AuditLogTest;

constexpr auto kFiveYears = std::chrono::duration_cast<std::chrono::hours>(std::chrono::years(5));

class RetentionTest : public AuditLogTest {
 protected:
  // Twelve entries six years ago (checkpoints at 5 and 10, 12 on Close),
  // then six years later three more (13 to 15).
  void SixYearOldLog() {
    MakeLog({.checkpoint_every_entries = 5});
    AppendRange(1, 12);
    ASSERT_TRUE(log_->Close().ok());
    clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::years(6)));
    AppendRange(13, 15);
  }

  VerifyReport Verify(const std::string& text, std::optional<VerifyAnchor> anchor = std::nullopt) {
    VerifyOptions options;
    options.anchor = anchor;
    auto r = VerifyExport(text, testing::MakeCard(key_), options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  Hash HashAt(int64_t seq) {
    auto q = db_->Prepare("SELECT hash FROM audit_log WHERE seq = ?;");
    EXPECT_TRUE(q.ok());
    q->Bind(1, seq);
    EXPECT_TRUE(q->Step().value());
    Hash h{};
    auto b = q->Blob(0);
    std::copy(b.begin(), b.end(), h.begin());
    return h;
  }
};

TEST_F(RetentionTest, DeletesTheSixYearOldSegmentAndTheRestVerifies) {
  SixYearOldLog();
  Hash boundary_hash = HashAt(12);
  auto r = log_->ApplyRetention(kFiveYears);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->from_seq, 1);
  EXPECT_EQ(r->through_seq, 12);
  EXPECT_EQ(r->entries, 12);
  EXPECT_EQ(r->checkpoints, 2);  // 5 and 10; 12 stays as the boundary
  EXPECT_EQ(CheckpointSeqs().front(), 12);

  // The pass is in the log itself, after the young entries.
  AuditFilter f;
  f.action = "audit.retention";
  auto found = log_->Query(f);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].seq, 16);
  EXPECT_EQ((*found)[0].object, "seq:1-12");
  EXPECT_NE((*found)[0].reason.find("checkpoint at seq 12"), std::string::npos) << (*found)[0].reason;
  EXPECT_EQ(Count("audit_log"), 4);  // 13, 14, 15 and the retention entry

  EXPECT_TRUE(log_->VerifyStored().ok()) << log_->VerifyStored().message();
  auto start = ReadLogStart(*db_);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->after_seq, 12);
  EXPECT_EQ(start->hash, boundary_hash);

  // The export starts with the boundary's checkpoint and verifies from it.
  std::string text = ExportText();
  EXPECT_EQ(text.rfind("{\"type\":\"checkpoint\",\"node_id\":\"school-trajectum\",\"seq\":12,", 0), 0u) << text;
  VerifyReport report = Verify(text);
  EXPECT_TRUE(report.ok) << report.Describe();
  EXPECT_EQ(report.starts_after_seq, 12);
  EXPECT_EQ(report.entries, 4);
  EXPECT_EQ(report.last_seq, 16);
  EXPECT_NE(report.Describe().find("starts after seq 12"), std::string::npos) << report.Describe();

  // An anchor at the boundary is checked; one before it cannot be and the
  // report says so; a wrong hash at the boundary is caught.
  VerifyReport at = Verify(text, VerifyAnchor{12, boundary_hash});
  EXPECT_TRUE(at.ok) << at.Describe();
  EXPECT_FALSE(at.anchor_before_start);
  VerifyReport before = Verify(text, VerifyAnchor{10, Hash{}});
  EXPECT_TRUE(before.ok) << before.Describe();
  EXPECT_TRUE(before.anchor_before_start);
  VerifyReport wrong = Verify(text, VerifyAnchor{12, Hash{}});
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.problem, VerifyProblem::kAnchorMismatch);

  // New entries go on from seq 17: no sequence number is given out twice.
  AppendRange(17, 17);
  EXPECT_EQ(All(*log_).back().seq, 17);
  EXPECT_TRUE(log_->VerifyStored().ok());

  // Nothing more is due: a second pass deletes nothing and logs nothing.
  auto again = log_->ApplyRetention(kFiveYears);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->through_seq, 0);
  EXPECT_EQ(Count("audit_log"), 5);
}

TEST_F(RetentionTest, KeepsASegmentThatHoldsAnyYoungerEntry) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 7);  // checkpoint at 5; 6 and 7 uncovered
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::years(4)));
  AppendRange(8, 10);  // checkpoint at 10 covers 6..10, of which 8..10 are young
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::years(2)));
  // Now 1..7 are six years old and 8..10 four: only the segment through 5
  // is wholly old.
  auto r = log_->ApplyRetention(kFiveYears);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->through_seq, 5);
  VerifyReport report = Verify(ExportText());
  EXPECT_TRUE(report.ok) << report.Describe();
  EXPECT_EQ(report.starts_after_seq, 5);
  EXPECT_TRUE(log_->VerifyStored().ok());
}

TEST_F(RetentionTest, NothingIsDeletedBeforeItsTime) {
  MakeLog({.checkpoint_every_entries = 5});
  AppendRange(1, 12);
  ASSERT_TRUE(log_->Close().ok());
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::years(4)));
  auto r = log_->ApplyRetention(kFiveYears);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->through_seq, 0);
  EXPECT_EQ(Count("audit_log"), 12);
  EXPECT_EQ(Count("audit_segments"), 0);
  EXPECT_FALSE(log_->ApplyRetention(std::chrono::hours(0)).ok());
}

TEST_F(RetentionTest, ARewrittenSegmentIsNotDeleted) {
  SixYearOldLog();
  // Root edits entry 3 in place; deleting it now would hide the edit.
  DropTriggers();
  ASSERT_TRUE(db_->Exec("UPDATE audit_log SET reason = 'edited' WHERE seq = 3;").ok());
  auto r = log_->ApplyRetention(kFiveYears);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("seq 3"), std::string::npos) << r.status().message();
  EXPECT_EQ(Count("audit_log"), 15);
  EXPECT_EQ(Count("audit_segments"), 0);
}

TEST_F(RetentionTest, TheTriggersStillRefuseDeletingAfterTheBoundary) {
  SixYearOldLog();
  ASSERT_TRUE(log_->ApplyRetention(kFiveYears).ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_log WHERE seq = 13;").ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_checkpoints WHERE seq = 12;").ok());
  EXPECT_FALSE(db_->Exec("DELETE FROM audit_segments;").ok());
  EXPECT_FALSE(db_->Exec("UPDATE audit_segments SET entries = 0;").ok());
  // A boundary never moves back.
  EXPECT_FALSE(db_->Exec("INSERT INTO audit_segments (through_seq, hash, ts, sig, cutoff, deleted_at, entries) "
                         "VALUES (3, zeroblob(32), 'x', zeroblob(64), 'x', 'x', 3);")
                   .ok());
  EXPECT_EQ(Count("audit_log"), 4);
}

TEST_F(RetentionTest, AnExportCutToStartAtAForgedCheckpointFails) {
  SixYearOldLog();
  std::string text = ExportText();
  // Cut the front and start at the checkpoint of seq 10 with its signature
  // replaced: the first line must verify like any checkpoint.
  size_t at = text.find("{\"type\":\"checkpoint\",\"node_id\":\"school-trajectum\",\"seq\":10,");
  ASSERT_NE(at, std::string::npos);
  std::string cut = text.substr(at);
  size_t sig = cut.find("\"sig\":\"");
  ASSERT_NE(sig, std::string::npos);
  cut[sig + 7] = cut[sig + 7] == 'A' ? 'B' : 'A';
  VerifyReport report = Verify(cut);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kBadCheckpointSignature);
}

}  // namespace
}  // namespace schakel::audit
