// The recipient's quota windows kept between receipts (InboundWindows) count
// exactly what the inbox holds: the shares of the last minute and the bytes
// of the last 24 hours that store::InboundSince counts, whichever way the
// clock moves and whether or not a transaction that counted committed.
#include "schakel/peer/inbound_windows.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "schakel/base/time.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "schakel/store/records.h"

namespace schakel::peer {
namespace {

using std::chrono::milliseconds;

class InboundWindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "schakel-inbound-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open(dir_ + "/node.db", crypto::SecureBuffer::Random(32), store::OpenMode::kCreate);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    db_ = std::move(opened).value();
  }

  // A share from `sender` received at `at` with a summary of `bytes`.
  Status Store(const std::string& sender, Instant at, size_t bytes) {
    store::InboxRecord r;
    r.sender_id = sender;
    r.message_id = "m-" + std::to_string(++n_);
    r.student_id = "stu-1";
    r.purpose = "verzuimmelding";
    r.created = FormatInstantMs(at);
    r.received = FormatInstantMs(at);
    r.retain_until = FormatInstantMs(at + std::chrono::hours(24 * 30));
    r.summary = std::string(bytes, 'x');
    r.body_hash.assign(32, 1);
    r.receipt.assign(8, 2);
    auto inserted = store::InsertInboxIfNew(*db_, r);
    if (!inserted.ok()) return inserted.status();
    if (!*inserted) return Status::Internal("not inserted");
    windows_.Add(sender, r.received, static_cast<int64_t>(bytes));
    return Status::Ok();
  }

  // The windows at `now` against the inbox counted afresh.
  void ExpectExact(const std::string& sender, Instant now, const std::string& where) {
    auto kept = windows_.At(*db_, sender, now);
    ASSERT_TRUE(kept.ok()) << kept.status().message();
    auto minute = store::InboundSince(*db_, sender, FormatInstantMs(now - InboundWindows::kMinute));
    auto day = store::InboundSince(*db_, sender, FormatInstantMs(now - InboundWindows::kDay));
    ASSERT_TRUE(minute.ok() && day.ok());
    EXPECT_EQ(kept->minute_shares, minute->shares) << where;
    EXPECT_EQ(kept->day_bytes, day->bytes) << where;
  }

  void TearDown() override {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<store::Database> db_;
  InboundWindows windows_;
  int n_ = 0;
};

TEST_F(InboundWindowsTest, CountsWhatTheInboxCountsAsTheWindowsSlide) {
  const Instant start = *ParseInstant("2026-12-01T08:00:00.000Z");
  // Rows from before the windows were first read, some outside both.
  ASSERT_TRUE(Store("school-a", start - std::chrono::hours(30), 700).ok());
  ASSERT_TRUE(Store("school-a", start - std::chrono::hours(3), 500).ok());
  ASSERT_TRUE(Store("school-a", start - std::chrono::seconds(20), 300).ok());
  ASSERT_TRUE(Store("rmc-b", start - std::chrono::seconds(10), 50).ok());
  std::mt19937 rng(19);
  Instant now = start;
  for (int i = 0; i < 600; ++i) {
    // Mostly forward by up to 5 minutes; now and then a long gap, or back.
    int step_ms = static_cast<int>(rng() % 300000);
    if (i % 97 == 0) step_ms = 20 * 3600 * 1000;
    if (i % 53 == 0) step_ms = -static_cast<int>(rng() % 120000);
    now += milliseconds(step_ms);
    const std::string sender = i % 3 == 0 ? "rmc-b" : "school-a";
    ExpectExact(sender, now, "step " + std::to_string(i));
    if (rng() % 4 != 0) {
      // Stored at this instant, or a little earlier (received before the
      // lock was had), as the inbox handler stores.
      Instant received = now - milliseconds(rng() % 1500);
      ASSERT_TRUE(Store(sender, received, 1 + rng() % 5000).ok());
    }
  }
  ExpectExact("school-a", now, "end");
  ExpectExact("rmc-b", now, "end");
  ExpectExact("nobody", now, "a partner that sent nothing");
}

TEST_F(InboundWindowsTest, AShareOfATransactionThatDidNotCommitIsNotCountedOnceForgotten) {
  const Instant now = *ParseInstant("2026-12-01T08:00:00.000Z");
  ASSERT_TRUE(Store("school-a", now - std::chrono::seconds(5), 100).ok());
  ExpectExact("school-a", now, "before");
  {
    store::Transaction tx(*db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(windows_.At(*db_, "school-a", now).ok());
    ASSERT_TRUE(Store("school-a", now, 4000).ok());
    ExpectExact("school-a", now, "inside the transaction");
  }  // rolled back
  // Kept as it was, the windows would count the share that was not stored.
  auto stale = windows_.At(*db_, "school-a", now);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->day_bytes, 4100);
  windows_.Forget("school-a");
  ExpectExact("school-a", now, "after Forget");
}

}  // namespace
}  // namespace schakel::peer
