// store::Database::DeferDurability (docs/performance.md "Durable after the
// lock"): the writer's commits return without flushing the log, and
// MakeDurable flushes it once for every commit up to what the caller saw.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

class DeferredDurability : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_ / "node.db", key_, OpenMode::kCreate);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);").ok());
  }

  int64_t Synchronous() {
    auto q = db_->Prepare("PRAGMA synchronous;");
    EXPECT_TRUE(q.ok());
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return q->Int(0);
  }

  void Insert(int id) {
    Transaction tx(*db_);
    ASSERT_TRUE(tx.Begin().ok());
    auto ins = db_->Prepare("INSERT INTO t (id, v) VALUES (?, 'x');");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, static_cast<int64_t>(id)).Run().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }

  TempDir dir_;
  crypto::SecureBuffer key_ = crypto::SecureBuffer::Random(32);
  std::unique_ptr<Database> db_;
};

TEST_F(DeferredDurability, WithoutItEveryCommitIsFlushedAsItReturns) {
  EXPECT_EQ(Synchronous(), 2) << "FULL";
  Insert(1);
  // Nothing is counted and nothing is left to flush.
  EXPECT_EQ(db_->commits_begun(), 0u);
  EXPECT_TRUE(db_->MakeDurable(1).ok());
  EXPECT_EQ(db_->durable_flushes(), 0);
}

TEST_F(DeferredDurability, OneFlushCoversEveryCommitFinishedBeforeIt) {
  ASSERT_TRUE(db_->DeferDurability().ok());
  EXPECT_EQ(Synchronous(), 1) << "NORMAL";
  Insert(1);
  Insert(2);
  // A statement on its own commits too.
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id, v) VALUES (3, 'x');").ok());
  const uint64_t begun = db_->commits_begun();
  EXPECT_EQ(begun, 3u);
  db_->CommitsComplete(begun);
  ASSERT_TRUE(db_->MakeDurable(begun).ok());
  EXPECT_EQ(db_->durable_flushes(), 1);
  // Asked again for what it covered: no second flush.
  ASSERT_TRUE(db_->MakeDurable(begun).ok());
  ASSERT_TRUE(db_->MakeDurable(1).ok());
  EXPECT_EQ(db_->durable_flushes(), 1);
  // A commit after it needs a flush of its own.
  Insert(4);
  EXPECT_EQ(db_->commits_begun(), 4u);
  db_->CommitsComplete(4);
  ASSERT_TRUE(db_->MakeDurable(4).ok());
  EXPECT_EQ(db_->durable_flushes(), 2);
}

TEST_F(DeferredDurability, ACommitNotCountedAsFinishedIsFlushedEachTimeItIsAskedFor) {
  ASSERT_TRUE(db_->DeferDurability().ok());
  Insert(1);
  // A reader saw commit 1, whose writer has not said it finished: the flush
  // is made, but cannot stand for it, so the next caller flushes again.
  ASSERT_TRUE(db_->MakeDurable(1).ok());
  ASSERT_TRUE(db_->MakeDurable(1).ok());
  EXPECT_EQ(db_->durable_flushes(), 2);
  // Once finished, one more flush stands for it.
  db_->CommitsComplete(1);
  ASSERT_TRUE(db_->MakeDurable(1).ok());
  ASSERT_TRUE(db_->MakeDurable(1).ok());
  EXPECT_EQ(db_->durable_flushes(), 3);
}

TEST_F(DeferredDurability, ARolledBackTransactionCountsNoCommit) {
  ASSERT_TRUE(db_->DeferDurability().ok());
  {
    Transaction tx(*db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id, v) VALUES (1, 'x');").ok());
  }  // rolled back
  EXPECT_EQ(db_->commits_begun(), 0u);
  EXPECT_TRUE(db_->MakeDurable(0).ok());
  EXPECT_EQ(db_->durable_flushes(), 0);
}

TEST_F(DeferredDurability, WhatWasCommittedIsThereAfterReopening) {
  ASSERT_TRUE(db_->DeferDurability().ok());
  for (int id = 1; id <= 20; ++id) Insert(id);
  db_->CommitsComplete(db_->commits_begun());
  ASSERT_TRUE(db_->MakeDurable(db_->commits_begun()).ok());
  db_.reset();
  auto again = Database::Open(dir_ / "node.db", key_, OpenMode::kExisting);
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto q = (*again)->Prepare("SELECT count(*) FROM t;");
  ASSERT_TRUE(q.ok());
  auto row = q->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q->Int(0), 20);
  // A connection opened again flushes as it commits until told otherwise.
  EXPECT_EQ((*again)->commits_begun(), 0u);
}

}  // namespace
}  // namespace schakel::store
