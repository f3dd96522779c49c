// NodeCore::WriteGrouped (service/node_core.h, docs/performance.md "Group
// commit of the API's shares"): the works that arrive while one group
// commits share the next transaction; each caller returns once its writes
// are durable (seen by a second connection); a work that fails takes no
// other with it and leaves nothing behind.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "node_core_support.h"
#include "schakel/service/node_core.h"
#include "test_support.h"

namespace schakel::service {
namespace {

using schakel::testing::TempDir;

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(schakel::testing::OpenCoreOnFreshDatabase(
        core_, dir_ / "node.db", "CREATE TABLE grouped (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"));
  }

  // A work that inserts row `id` and then fails if `fail`.
  std::function<Status(NodeCore::Held&)> Insert(int id, bool fail = false) {
    return [this, id, fail](NodeCore::Held& held) -> Status {
      runs_[static_cast<size_t>(id)].fetch_add(1);
      auto ins = held.db().Prepare("INSERT INTO grouped (id, v) VALUES (?, 'x');");
      if (!ins.ok()) return ins.status();
      SCHAKEL_RETURN_IF_ERROR(ins->Bind(1, static_cast<int64_t>(id)).Run());
      if (fail) return Status::IoError("work " + std::to_string(id) + " failed after its insert");
      return Status::Ok();
    };
  }

  // Whether the reader (a second connection) sees row `id`: committed.
  bool Committed(int id) {
    return core_.Read([id](NodeCore::Reading& r) {
      auto q = r.db().Prepare("SELECT count(*) FROM grouped WHERE id = ?;");
      if (!q.ok()) return false;
      q->Bind(1, static_cast<int64_t>(id));
      auto row = q->Step();
      return row.ok() && *row && q->Int(0) == 1;
    });
  }

  // Runs works 0..n-1, each on a thread of its own, while the node lock is
  // held: work 0 leads alone (it took the queue before the others came);
  // the others wait together for the next turn. Returns each one's status
  // and whether its row was committed when its call returned.
  struct Outcome {
    Status status;
    bool committed_on_return = false;
  };
  std::vector<Outcome> RunWhileLocked(const std::vector<std::function<Status(NodeCore::Held&)>>& works) {
    std::vector<Outcome> out(works.size());
    std::vector<std::thread> threads;
    {
      NodeCore::Held held(core_);
      threads.emplace_back([&, w = works[0]] {
        out[0].status = core_.WriteGrouped(w);
        out[0].committed_on_return = Committed(0);
      });
      // Work 0 has taken its group (itself) and waits for the lock.
      WaitUntil([&] { return core_.group_leading(); });
      EXPECT_EQ(core_.group_waiting(), 0U);
      for (size_t i = 1; i < works.size(); ++i) {
        threads.emplace_back([&, i, w = works[i]] {
          out[i].status = core_.WriteGrouped(w);
          out[i].committed_on_return = Committed(static_cast<int>(i));
        });
      }
      WaitUntil([&] { return core_.group_waiting() == works.size() - 1; });
      EXPECT_EQ(core_.group_waiting(), works.size() - 1);
    }
    for (auto& t : threads) t.join();
    return out;
  }

  template <typename F>
  static void WaitUntil(F done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  TempDir dir_;
  NodeCore core_;
  std::atomic<int> runs_[16] = {};
};

TEST_F(GroupCommitTest, WorksThatArriveTogetherShareOneCommitAndEachIsDurableWhenItReturns) {
  std::vector<std::function<Status(NodeCore::Held&)>> works;
  for (int i = 0; i < 8; ++i) works.push_back(Insert(i));
  std::vector<Outcome> out = RunWhileLocked(works);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i].status.ok()) << i << ": " << out[i].status.message();
    EXPECT_TRUE(out[i].committed_on_return) << i;
    EXPECT_EQ(runs_[i].load(), 1) << i;
  }
  // Work 0 alone, then the seven that waited meanwhile in one transaction.
  EXPECT_EQ(core_.group_stats().groups, 2);
  EXPECT_EQ(core_.group_stats().works, 8);
}

TEST_F(GroupCommitTest, AFailingWorkTakesNoOtherWithItAndLeavesNothing) {
  std::vector<std::function<Status(NodeCore::Held&)>> works;
  for (int i = 0; i < 6; ++i) works.push_back(Insert(i, /*fail=*/i == 3));
  std::vector<Outcome> out = RunWhileLocked(works);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 3) {
      EXPECT_EQ(out[i].status.code(), Code::kIoError);
      EXPECT_FALSE(out[i].committed_on_return);
      EXPECT_FALSE(Committed(3));
    } else {
      EXPECT_TRUE(out[i].status.ok()) << i << ": " << out[i].status.message();
      EXPECT_TRUE(out[i].committed_on_return) << i;
    }
  }
  // The group of five was rolled back at work 3 and each of them run again
  // alone: work 3 and those before it in the group (the order the threads
  // joined the queue) twice, those after it once.
  EXPECT_EQ(runs_[0].load(), 1);
  EXPECT_EQ(runs_[3].load(), 2);
  for (size_t i : {size_t{1}, size_t{2}, size_t{4}, size_t{5}}) {
    EXPECT_GE(runs_[i].load(), 1) << i;
    EXPECT_LE(runs_[i].load(), 2) << i;
  }
  EXPECT_EQ(core_.group_stats().groups, 5);  // work 0; then 1, 2, 4 and 5 alone
  EXPECT_EQ(core_.group_stats().works, 5);
}

TEST_F(GroupCommitTest, AWorkThatThrowsIsAnErrorAndTheNextCallerStillGetsItsTurn) {
  std::vector<std::function<Status(NodeCore::Held&)>> works;
  works.push_back(Insert(0));
  works.push_back([](NodeCore::Held&) -> Status { throw std::runtime_error("boom"); });
  std::vector<Outcome> out = RunWhileLocked(works);
  EXPECT_TRUE(out[0].status.ok());
  EXPECT_EQ(out[1].status.code(), Code::kInternal);
  EXPECT_NE(out[1].status.message().find("boom"), std::string::npos);
  // The lead was handed on: a later call is served.
  EXPECT_TRUE(core_.WriteGrouped(Insert(7)).ok());
  EXPECT_TRUE(Committed(7));
}

}  // namespace
}  // namespace schakel::service
