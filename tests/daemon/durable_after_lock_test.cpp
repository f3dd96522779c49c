// The node's commits are made durable after the node lock is let go
// (service/node_core.h "Durability", docs/performance.md "Durable after the
// lock"): a holder that committed flushes the log before it goes on, one
// flush serves the commits of everyone before it, and a reader that saw a
// commit not yet flushed flushes it before it goes on. A flush that fails:
// fault_flush_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "node_core_support.h"
#include "schakel/service/node_core.h"
#include "test_support.h"

namespace schakel::service {
namespace {

using schakel::testing::TempDir;

Status Insert(NodeCore::Held& held, int id) {
  auto ins = held.db().Prepare("INSERT INTO t (id, v) VALUES (?, 'x');");
  if (!ins.ok()) return ins.status();
  return ins->Bind(1, static_cast<int64_t>(id)).Run();
}

bool Sees(NodeCore::Reading& r, int id) {
  auto q = r.db().Prepare("SELECT count(*) FROM t WHERE id = ?;");
  if (!q.ok()) return false;
  q->Bind(1, static_cast<int64_t>(id));
  auto row = q->Step();
  return row.ok() && *row && q->Int(0) == 1;
}

class DurableAfterLock : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(schakel::testing::OpenCoreOnFreshDatabase(
        core_, dir_ / "node.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"));
  }

  TempDir dir_;
  NodeCore core_;
};

TEST_F(DurableAfterLock, AHolderThatCommittedFlushesOnceAfterLettingGo) {
  EXPECT_EQ(core_.durable_flushes(), 0);
  {
    NodeCore::Held held(core_);
    ASSERT_TRUE(Insert(held, 1).ok());
    EXPECT_EQ(core_.durable_flushes(), 0) << "flushed under the node lock";
  }
  EXPECT_EQ(core_.durable_flushes(), 1);
  // Holders and readers that come after it find nothing left to flush.
  {
    NodeCore::Held held(core_);
    auto q = held.db().Prepare("SELECT count(*) FROM t;");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(q->Step().ok());
  }
  EXPECT_TRUE(core_.Read([](NodeCore::Reading& r) { return Sees(r, 1); }));
  EXPECT_EQ(core_.durable_flushes(), 1);
}

TEST_F(DurableAfterLock, AHolderThatLeavesItToALaterOneDoesNotFlushAndTheLaterOneDoes) {
  // A lane's record and its read of the next round (delivery.cpp) ...
  {
    NodeCore::Held held(core_, NodeCore::Durable::kByALaterHolder);
    ASSERT_TRUE(Insert(held, 1).ok());
  }
  {
    NodeCore::Reading reading(core_, NodeCore::Durable::kByALaterHolder);
    EXPECT_TRUE(Sees(reading, 1));
  }
  EXPECT_EQ(core_.durable_flushes(), 0);
  // ... then its mark of the round, which lets go once all of it is durable.
  {
    NodeCore::Held held(core_);
    ASSERT_TRUE(Insert(held, 2).ok());
  }
  EXPECT_EQ(core_.durable_flushes(), 1);
  // One flush covered both commits: nothing is left for anyone else.
  EXPECT_TRUE(core_.Read([](NodeCore::Reading& r) { return Sees(r, 1) && Sees(r, 2); }));
  EXPECT_EQ(core_.durable_flushes(), 1);
}

TEST_F(DurableAfterLock, AnyoneElseWhoSeesWhatWasLeftFlushesIt) {
  {
    NodeCore::Held held(core_, NodeCore::Durable::kByALaterHolder);
    ASSERT_TRUE(Insert(held, 1).ok());
  }
  EXPECT_EQ(core_.durable_flushes(), 0);
  // A reader of the usual kind (a list, a status) lets go once it is durable.
  EXPECT_TRUE(core_.Read([](NodeCore::Reading& r) { return Sees(r, 1); }));
  EXPECT_EQ(core_.durable_flushes(), 1);
}

TEST_F(DurableAfterLock, AReaderThatSawACommitNotYetFlushedFlushesItBeforeGoingOn) {
  std::mutex mu;
  std::condition_variable cv;
  bool committed = false, read = false;
  std::thread holder([&] {
    NodeCore::Held held(core_);
    EXPECT_TRUE(Insert(held, 1).ok());
    std::unique_lock<std::mutex> lock(mu);
    committed = true;
    cv.notify_all();
    // Keeps the lock (and its flush) until the reader is done.
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return read; }));
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return committed; }));
  }
  // The reader sees the row while its writer still holds the node lock, and
  // has it flushed as it lets go, without waiting for the holder.
  EXPECT_TRUE(core_.Read([](NodeCore::Reading& r) { return Sees(r, 1); }));
  EXPECT_EQ(core_.durable_flushes(), 1);
  {
    std::lock_guard<std::mutex> lock(mu);
    read = true;
  }
  cv.notify_all();
  holder.join();
  // The holder could not count on the reader's flush (it had not said its
  // commit finished) and made its own.
  EXPECT_EQ(core_.durable_flushes(), 2);
}

TEST_F(DurableAfterLock, GroupedWritersEachReturnAfterAFlushAndShareThem) {
  constexpr int kThreads = 6, kEach = 20;
  std::vector<std::thread> threads;
  std::atomic<int> flushed_after{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        int64_t seen = -1;
        Status st = core_.WriteGrouped([&](NodeCore::Held& held) {
          seen = core_.durable_flushes();
          return Insert(held, t * kEach + i);
        });
        EXPECT_TRUE(st.ok()) << st.message();
        if (core_.durable_flushes() > seen) flushed_after.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(flushed_after.load(), kThreads * kEach) << "a writer returned with no flush after its write";
  const NodeCore::GroupStats g = core_.group_stats();
  EXPECT_EQ(g.works, kThreads * kEach);
  EXPECT_GE(core_.durable_flushes(), 1);
  EXPECT_LE(core_.durable_flushes(), g.groups) << "more flushes than commits";
}

}  // namespace
}  // namespace schakel::service
