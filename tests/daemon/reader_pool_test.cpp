// NodeCore's reader pool (service/node_core.h, docs/performance.md "Locks"):
// reads run beside each other, each on a read-only connection of its own;
// a read waits only while every connection is taken, and then gets the one
// given back; every connection sees what the writer committed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/service/node_core.h"
#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel::service {
namespace {

using schakel::testing::TempDir;
using namespace std::chrono_literals;

class ReaderPoolTest : public ::testing::Test {
 protected:
  static constexpr size_t kReaders = 2;

  void SetUp() override {
    auto key = crypto::SecureBuffer::Random(32);
    const std::string path = dir_ / "node.db";
    auto writer = store::Database::Open(path, key, store::OpenMode::kCreate);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    ASSERT_TRUE((*writer)->Exec("CREATE TABLE seen (id INTEGER PRIMARY KEY);").ok());
    std::vector<std::unique_ptr<store::Database>> readers;
    for (size_t i = 0; i < kReaders; ++i) {
      auto reader = store::Database::Open(path, key, store::OpenMode::kReader);
      ASSERT_TRUE(reader.ok()) << reader.status().message();
      readers.push_back(std::move(reader).value());
    }
    core_.Open(std::move(writer).value(), std::move(readers), nullptr);
  }

  // Holds a Reading on its own thread until `release` is set; `taken`
  // tells which connection it got, once it has one.
  struct Holder {
    std::promise<store::Database*> taken;
    std::promise<void> release;
    std::future<void> done;
  };
  std::unique_ptr<Holder> Hold() {
    auto h = std::make_unique<Holder>();
    h->done = std::async(std::launch::async, [this, holder = h.get(), released = h->release.get_future()]() mutable {
      NodeCore::Reading reading(core_);
      holder->taken.set_value(&reading.db());
      released.wait();
    });
    return h;
  }

  int64_t CountSeen(store::Database& db) {
    auto q = db.Prepare("SELECT count(*) FROM seen;");
    if (!q.ok()) return -1;
    auto row = q->Step();
    return row.ok() && *row ? q->Int(0) : -1;
  }

  TempDir dir_;
  NodeCore core_;
};

TEST_F(ReaderPoolTest, ReadsRunAtOnceEachOnAConnectionOfItsOwn) {
  auto first = Hold();
  auto first_db = first->taken.get_future();
  ASSERT_EQ(first_db.wait_for(10s), std::future_status::ready);
  // With the first still held, a second read does not wait for it.
  auto second = Hold();
  auto second_db = second->taken.get_future();
  ASSERT_EQ(second_db.wait_for(10s), std::future_status::ready) << "the second read waited for the first";
  EXPECT_NE(first_db.get(), second_db.get());
  first->release.set_value();
  second->release.set_value();
  first->done.get();
  second->done.get();
}

TEST_F(ReaderPoolTest, AReadWaitsOnlyWhileEveryConnectionIsTakenAndThenGetsTheOneGivenBack) {
  std::vector<std::unique_ptr<Holder>> holders;
  std::vector<store::Database*> taken;
  for (size_t i = 0; i < kReaders; ++i) {
    holders.push_back(Hold());
    auto db = holders.back()->taken.get_future();
    ASSERT_EQ(db.wait_for(10s), std::future_status::ready);
    taken.push_back(db.get());
  }
  auto waiting = Hold();
  auto waiting_db = waiting->taken.get_future();
  // Every connection is taken: it cannot have one (the wait only gives it
  // time to take one wrongly).
  EXPECT_EQ(waiting_db.wait_for(200ms), std::future_status::timeout);
  holders[0]->release.set_value();
  holders[0]->done.get();
  ASSERT_EQ(waiting_db.wait_for(10s), std::future_status::ready) << "the read still waits with a connection free";
  EXPECT_EQ(waiting_db.get(), taken[0]);
  waiting->release.set_value();
  waiting->done.get();
  holders[1]->release.set_value();
  holders[1]->done.get();
}

TEST_F(ReaderPoolTest, EveryConnectionSeesWhatWasCommittedAndWritesNothing) {
  ASSERT_TRUE(
      core_.WithDb([](NodeCore::Held& held) { return held.db().Exec("INSERT INTO seen (id) VALUES (1);"); }).ok());
  // Both connections, held at once, so that each is asked.
  NodeCore::Reading one(core_);
  auto other = std::async(std::launch::async, [this] {
    NodeCore::Reading reading(core_);
    Status write = reading.db().Exec("INSERT INTO seen (id) VALUES (2);");
    return std::make_pair(CountSeen(reading.db()), write.ok());
  });
  ASSERT_EQ(other.wait_for(10s), std::future_status::ready);
  auto [other_count, other_wrote] = other.get();
  EXPECT_EQ(CountSeen(one.db()), 1);
  EXPECT_EQ(other_count, 1);
  EXPECT_FALSE(other_wrote) << "a reader wrote";
  EXPECT_FALSE(one.db().Exec("DELETE FROM seen;").ok()) << "a reader wrote";
}

// The daemon opens one connection at start-up and the others (up to
// ReaderPool::kReaders) when reads first overlap: an idle node keeps one.
class LazyReaderPoolTest : public ReaderPoolTest {
 protected:
  void SetUp() override {
    auto key = std::make_shared<const crypto::SecureBuffer>(crypto::SecureBuffer::Random(32));
    const std::string path = dir_ / "node.db";
    auto writer = store::Database::Open(path, *key, store::OpenMode::kCreate);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    ASSERT_TRUE((*writer)->Exec("CREATE TABLE seen (id INTEGER PRIMARY KEY);").ok());
    auto first = store::Database::Open(path, *key, store::OpenMode::kReader);
    ASSERT_TRUE(first.ok()) << first.status().message();
    std::vector<std::unique_ptr<store::Database>> readers;
    readers.push_back(std::move(first).value());
    core_.Open(std::move(writer).value(), std::move(readers), nullptr, 3,
               [this, path, key]() -> Result<std::unique_ptr<store::Database>> {
                 ++opened_;
                 if (fail_) return Status::IoError("injected: the disk said no");
                 return store::Database::Open(path, *key, store::OpenMode::kReader);
               });
  }

  std::atomic<int> opened_{0};
  std::atomic<bool> fail_{false};
};

TEST_F(LazyReaderPoolTest, OneConnectionAtStartTheOthersOpenedOnlyWhenReadsOverlap) {
  EXPECT_EQ(core_.readers_open(), 1u);
  // Reads one after another keep to the one connection.
  for (int i = 0; i < 3; ++i) {
    NodeCore::Reading reading(core_);
    EXPECT_EQ(CountSeen(reading.db()), 0);
  }
  EXPECT_EQ(opened_.load(), 0);
  EXPECT_EQ(core_.readers_open(), 1u);

  // Three at once: two more are opened, each a connection of its own.
  std::vector<std::unique_ptr<Holder>> holders;
  std::vector<store::Database*> taken;
  for (int i = 0; i < 3; ++i) {
    holders.push_back(Hold());
    auto db = holders.back()->taken.get_future();
    ASSERT_EQ(db.wait_for(10s), std::future_status::ready) << "read " << i << " waited with room to open another";
    taken.push_back(db.get());
  }
  EXPECT_EQ(opened_.load(), 2);
  EXPECT_EQ(core_.readers_open(), 3u);
  EXPECT_NE(taken[0], taken[1]);
  EXPECT_NE(taken[1], taken[2]);
  EXPECT_NE(taken[0], taken[2]);
  for (store::Database* db : taken) EXPECT_EQ(CountSeen(*db), 0);

  // A fourth waits for one given back: no connection past the capacity.
  auto waiting = Hold();
  auto waiting_db = waiting->taken.get_future();
  EXPECT_EQ(waiting_db.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(opened_.load(), 2);
  holders[1]->release.set_value();
  holders[1]->done.get();
  ASSERT_EQ(waiting_db.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waiting_db.get(), taken[1]);
  waiting->release.set_value();
  waiting->done.get();
  holders[0]->release.set_value();
  holders[0]->done.get();
  holders[2]->release.set_value();
  holders[2]->done.get();
  EXPECT_EQ(core_.readers_open(), 3u);
}

TEST_F(LazyReaderPoolTest, AReadTransactionLeftOpenIsEndedWhenItsConnectionIsGivenBack) {
  // Reads one after another share the one connection (above), so a snapshot
  // left open would be what the next read sees.
  store::Database* first = nullptr;
  {
    NodeCore::Reading reading(core_);
    first = &reading.db();
    ASSERT_TRUE(reading.db().Exec("BEGIN DEFERRED;").ok());
    EXPECT_EQ(CountSeen(reading.db()), 0);  // the snapshot is taken here
  }
  EXPECT_FALSE(first->InTransaction()) << "the connection went back to the pool inside a transaction";
  ASSERT_TRUE(
      core_.WithDb([](NodeCore::Held& held) { return held.db().Exec("INSERT INTO seen (id) VALUES (1);"); }).ok());
  NodeCore::Reading next(core_);
  ASSERT_EQ(&next.db(), first);
  EXPECT_EQ(CountSeen(next.db()), 1) << "the next read saw the database as it was before the commit";
}

TEST_F(LazyReaderPoolTest, AConnectionThatCannotBeOpenedIsTriedOnceAndReadsWaitForTheOpenOne) {
  fail_ = true;
  auto first = Hold();
  auto first_db = first->taken.get_future();
  ASSERT_EQ(first_db.wait_for(10s), std::future_status::ready);
  // The second read tries to open another, fails, and waits for the first.
  auto second = Hold();
  auto second_db = second->taken.get_future();
  EXPECT_EQ(second_db.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(opened_.load(), 1);
  first->release.set_value();
  first->done.get();
  ASSERT_EQ(second_db.wait_for(10s), std::future_status::ready) << "the read still waits with a connection free";
  store::Database* only = first_db.get();
  EXPECT_EQ(second_db.get(), only);
  // Overlapping again: not tried a second time.
  auto third = Hold();
  auto third_db = third->taken.get_future();
  EXPECT_EQ(third_db.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(opened_.load(), 1);
  second->release.set_value();
  second->done.get();
  ASSERT_EQ(third_db.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(third_db.get(), only);
  third->release.set_value();
  third->done.get();
  EXPECT_EQ(core_.readers_open(), 1u);
}

}  // namespace
}  // namespace schakel::service
