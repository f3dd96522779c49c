// The delivery queue ("outgoing") keeps each sealed payload in a row of its
// own (schema 23, docs/performance.md "Payloads apart"): a retry, a count or
// a lane's query never reads or rewrites a payload, and a payload never
// outlives its queue row.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "schakel/store/records.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max();

std::unique_ptr<Database> Fresh(const TempDir& tmp) {
  auto db = Database::Open(tmp / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

int64_t Count(Database& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return -1;
  auto row = s->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? s->Int(0) : -1;
}

// EXPLAIN QUERY PLAN of `sql`, its detail column joined.
std::string Plan(Database& db, const std::string& sql) {
  auto s = db.Prepare("EXPLAIN QUERY PLAN " + sql);
  EXPECT_TRUE(s.ok()) << s.status().message();
  std::string out;
  while (s.ok()) {
    auto row = s->Step();
    if (!row.ok() || !*row) break;
    out += s->Text(3) + "\n";
  }
  return out;
}

TEST(Outgoing, APayloadTravelsWithItsRowAndGoesWithIt) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  const std::string big(70000, 'p'), small = "envelope-2";
  // Outside a transaction each enqueue is one of its own.
  ASSERT_TRUE(EnqueueOutgoing(*db, "share", "m-1", "wijkteam-a", big, 0, "2026-12-03T10:00:00.000Z").ok());
  ASSERT_TRUE(EnqueueOutgoing(*db, "share", "m-2", "wijkteam-b", small, 0, "2026-12-03T10:00:01.000Z").ok());
  EXPECT_FALSE(db->InTransaction());
  // The same message twice is refused, and leaves no payload behind.
  EXPECT_FALSE(EnqueueOutgoing(*db, "share", "m-1", "wijkteam-a", small, 0, "2026-12-03T10:00:02.000Z").ok());
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing_payloads;"), 2);

  auto due = DueOutgoing(*db, kEndOfTime, 10);
  ASSERT_TRUE(due.ok()) << due.status().message();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].message_id, "m-1");
  EXPECT_EQ((*due)[0].payload, big);
  EXPECT_EQ((*due)[1].payload, small);

  // A retry changes the queue row only; the payload is as it was.
  ASSERT_TRUE(RescheduleOutgoing(*db, (*due)[0].id, 3, 500, "Connection refused").ok());
  auto to_a = DueOutgoingTo(*db, "wijkteam-a", 1000, 10);
  ASSERT_TRUE(to_a.ok()) << to_a.status().message();
  ASSERT_EQ(to_a->size(), 1u);
  EXPECT_EQ((*to_a)[0].attempts, 3);
  EXPECT_EQ((*to_a)[0].last_error.value_or(""), "Connection refused");
  EXPECT_EQ((*to_a)[0].payload, big);
  EXPECT_TRUE(DueOutgoingTo(*db, "wijkteam-a", 499, 10)->empty());

  // Delivered: the row goes, and its payload with it (the trigger); the
  // other's stays.
  ASSERT_TRUE(RemoveOutgoing(*db, "share", "m-1").ok());
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing_payloads;"), 1);
  auto left = DueOutgoing(*db, kEndOfTime, 10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].payload, small);
  auto summary = SummarizeOutgoing(*db, "share", "");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->count, 1);
  EXPECT_EQ(summary->oldest.value_or(""), "2026-12-03T10:00:01.000Z");
}

TEST(Outgoing, ARoundInFlightIsLeftOutOfTheNextOne) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 6; ++i) {
    std::string id = "m-" + std::to_string(i);
    ASSERT_TRUE(
        EnqueueOutgoing(*db, "share", id, "wijkteam-a", "payload-" + id, 100 - i, "2026-12-04T10:00:00.000Z").ok());
  }
  ASSERT_TRUE(EnqueueOutgoing(*db, "share", "n-1", "wijkteam-b", "other", 0, "2026-12-04T10:00:00.000Z").ok());
  ASSERT_TRUE(EnqueueOutgoing(*db, "share", "m-9", "wijkteam-a", "later", kEndOfTime, "2026-12-04T10:00:00.000Z").ok());
  auto ids = [](const Result<std::vector<OutgoingItem>>& items) {
    std::vector<std::string> out;
    EXPECT_TRUE(items.ok()) << items.status().message();
    if (!items.ok()) return out;
    for (const OutgoingItem& o : *items) {
      EXPECT_EQ(o.payload, "payload-" + o.message_id);
      out.push_back(o.message_id);
    }
    return out;
  };
  // Due first (next_attempt), then in the order queued.
  auto first = DueOutgoingTo(*db, "wijkteam-a", 1000, 3);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"m-5", "m-4", "m-3"}));
  std::vector<int64_t> flying;
  for (const OutgoingItem& o : *first) flying.push_back(o.id);
  // The round in flight is left out; the limit counts what is returned.
  EXPECT_EQ(ids(DueOutgoingTo(*db, "wijkteam-a", 1000, 3, flying)), (std::vector<std::string>{"m-2", "m-1", "m-0"}));
  EXPECT_EQ(ids(DueOutgoingTo(*db, "wijkteam-a", 1000, 2, flying)), (std::vector<std::string>{"m-2", "m-1"}));
  EXPECT_EQ(ids(DueOutgoingTo(*db, "wijkteam-a", 1000, 10, {flying[0], flying[2]})),
            (std::vector<std::string>{"m-4", "m-2", "m-1", "m-0"}));
  // Not due yet, another partner's, or gone: not there.
  ASSERT_TRUE(RemoveOutgoing(*db, "share", "m-1").ok());
  EXPECT_EQ(ids(DueOutgoingTo(*db, "wijkteam-a", 1000, 10, flying)), (std::vector<std::string>{"m-2", "m-0"}));
  EXPECT_TRUE(DueOutgoingTo(*db, "wijkteam-a", 0, 10, flying)->empty());
  // The ids are read from the partner's index, without the payloads.
  std::string plan = Plan(*db,
                          "SELECT id FROM outgoing WHERE recipient_id = 'x' AND next_attempt <= 5 "
                          "ORDER BY next_attempt, id LIMIT 8;");
  EXPECT_NE(plan.find("outgoing_recipient"), std::string::npos) << plan;
}

// A delivered payload's pages are freed without being zeroed and written
// again (the pages of a sealed envelope only its recipient can open); the
// connection's secure_delete is on again afterwards, for everything else.
TEST(Outgoing, APayloadIsFreedWithoutRewritingItsPagesAndSecureDeleteStaysOn) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  auto wal_bytes = [&] {
    std::error_code ec;
    auto n = std::filesystem::file_size(tmp / "node.db-wal", ec);
    return ec ? uintmax_t{0} : n;
  };
  auto checkpoint = [&] { ASSERT_TRUE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE);").ok()); };
  auto removed_wal_growth = [&](const std::string& id) {
    checkpoint();
    EXPECT_EQ(wal_bytes(), 0u);
    EXPECT_TRUE(RemoveOutgoing(*db, "share", id).ok());
    return wal_bytes();
  };
  // 70 KB: 18 overflow pages of 4 KiB. Removed, it writes about 7 pages to
  // the WAL (the tree, the freelist); with its pages zeroed, about 24.
  ASSERT_TRUE(
      EnqueueOutgoing(*db, "share", "m-1", "wijkteam-a", std::string(70000, 'p'), 0, "2026-12-04T10:00:00Z").ok());
  ASSERT_TRUE(
      EnqueueOutgoing(*db, "share", "m-2", "wijkteam-a", std::string(70000, 'q'), 0, "2026-12-04T10:00:00Z").ok());
  constexpr uintmax_t kFrame = 4096 + 24;
  uintmax_t growth = removed_wal_growth("m-1");
  EXPECT_GT(growth, 0u);
  EXPECT_LT(growth, 14 * kFrame) << "the freed payload pages were written again";
  EXPECT_EQ(Count(*db, "PRAGMA secure_delete;"), 1);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing_payloads;"), 1);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing;"), 1);
  // What the removal wrote before, the payload going with its row (the
  // trigger) under secure_delete: each freed page zeroed and written.
  checkpoint();
  ASSERT_TRUE(db->Exec("DELETE FROM outgoing WHERE message_id = 'm-2';").ok());
  EXPECT_GE(wal_bytes(), 20 * kFrame);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing_payloads;"), 0);
}

TEST(Outgoing, InACallersTransactionTheEnqueueIsUndoneWithIt) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(EnqueueOutgoing(*db, "revocation", "m-9", "rmc-a", "sealed", 0, "2026-12-03T10:00:00.000Z").ok());
    // Still the caller's transaction, not committed by the enqueue.
    EXPECT_TRUE(db->InTransaction());
  }  // rolled back
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing;"), 0);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM outgoing_payloads;"), 0);
}

TEST(Outgoing, ALanesQueryUsesItsPartnersIndex) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  std::string plan = Plan(*db,
                          "SELECT o.id FROM outgoing o JOIN outgoing_payloads p ON p.id = o.id "
                          "WHERE o.recipient_id = 'x' AND o.next_attempt <= 5 ORDER BY o.next_attempt, o.id LIMIT 8;");
  EXPECT_NE(plan.find("outgoing_recipient"), std::string::npos) << plan;
}

TEST(Outgoing, WhetherAPartnerHasAnythingWaitingIsReadFromTheIndexAlone) {
  TempDir tmp;
  auto db = Fresh(tmp);
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(HasOutgoingTo(*db, "wijkteam-a").value());
  // Not due for a long while: it still waits.
  ASSERT_TRUE(EnqueueOutgoing(*db, "share", "m-1", "wijkteam-a", std::string(70000, 'p'),
                              std::numeric_limits<int64_t>::max() / 2, "2026-12-03T10:00:00.000Z")
                  .ok());
  EXPECT_TRUE(HasOutgoingTo(*db, "wijkteam-a").value());
  EXPECT_FALSE(HasOutgoingTo(*db, "wijkteam-b").value());
  ASSERT_TRUE(RemoveOutgoing(*db, "share", "m-1").ok());
  EXPECT_FALSE(HasOutgoingTo(*db, "wijkteam-a").value());
  std::string plan = Plan(*db, "SELECT EXISTS (SELECT 1 FROM outgoing WHERE recipient_id = 'x');");
  EXPECT_NE(plan.find("COVERING INDEX outgoing_recipient"), std::string::npos) << plan;
}

}  // namespace
}  // namespace schakel::store
