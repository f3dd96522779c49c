// The links table through store/records.h: a link stored and found by id and
// by token hash, listed, due for expiry; attempts counted, locked, read,
// given a new code, expired.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "schakel/store/records.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

LinkRecord Sample(const std::string& id, const std::string& created, const std::string& expires) {
  LinkRecord r;
  r.link_id = id;
  r.case_id = "casus-1";
  r.case_version = 2;
  r.student_id = "stu-1";
  r.recipient_name = "dr. A. Jansen";
  r.recipient_type = "wijkteam";
  r.purpose = "doorverwijzing";
  r.legal_basis = "consent";
  r.categories = "identificatie,hulpvraag";
  r.withheld = "bsn";
  r.consent_ids = "c-1,c-2";
  r.created_by = "u-1";
  r.created = created;
  r.expires = expires;
  return r;
}

struct Secret {
  std::array<uint8_t, 32> hash{};
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 24> nonce{};
  std::vector<uint8_t> ct;
  explicit Secret(uint8_t fill) : ct(4, static_cast<uint8_t>(fill + 3)) {
    hash.fill(fill);
    salt.fill(static_cast<uint8_t>(fill + 1));
    nonce.fill(static_cast<uint8_t>(fill + 2));
  }
  LinkSecret View() const { return {hash, salt, nonce, ct}; }
};

int64_t Attempts(Database& db, const std::string& id) {
  auto r = FindLink(db, id);
  EXPECT_TRUE(r.ok() && r->has_value());
  return r.ok() && r->has_value() ? (*r)->failed_attempts : -1;
}

TEST(LinkStore, InsertFindListAndTheCodeAttemptCycle) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto opened = Database::Open(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Database& db = **opened;

  Secret one(7);
  ASSERT_TRUE(InsertLink(db, Sample("l-1", "2026-01-01T00:00:00.000Z", "2026-01-08T00:00:00.000Z"), one.View()).ok());
  Secret two(9);
  ASSERT_TRUE(InsertLink(db, Sample("l-2", "2026-01-02T00:00:00.000Z", "2026-01-30T00:00:00.000Z"), two.View()).ok());

  auto found = FindLinkByTokenHash(db, one.hash);
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status().message();
  const LinkRecord& r = **found;
  EXPECT_EQ(r.link_id, "l-1");
  EXPECT_EQ(r.case_version, 2);
  EXPECT_EQ(r.categories, "identificatie,hulpvraag");
  EXPECT_EQ(r.withheld, "bsn");
  EXPECT_EQ(r.consent_ids, "c-1,c-2");
  EXPECT_EQ(r.state, "active");
  EXPECT_EQ(r.failed_attempts, 0);
  ASSERT_TRUE(r.has_content);
  EXPECT_EQ(r.kdf_salt, std::vector<uint8_t>(one.salt.begin(), one.salt.end()));
  EXPECT_EQ(r.nonce, std::vector<uint8_t>(one.nonce.begin(), one.nonce.end()));
  EXPECT_EQ(r.ciphertext, one.ct);
  std::array<uint8_t, 32> unknown{};
  auto none = FindLinkByTokenHash(db, unknown);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto listed = ListLinks(db, 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].link_id, "l-2");  // newest first

  // Counted before the code is tried, given back on a read.
  auto counted = CountLinkAttempt(db, "l-1");
  ASSERT_TRUE(counted.ok() && *counted);
  EXPECT_EQ(Attempts(db, "l-1"), 1);
  ASSERT_TRUE(CountLinkAttempt(db, "l-1").ok());
  ASSERT_TRUE(RecordLinkRead(db, "l-1", "2026-01-03T00:00:00.000Z").ok());
  EXPECT_EQ(Attempts(db, "l-1"), 1);

  // A locked link counts no more attempts; a new code makes it active again.
  ASSERT_TRUE(LockLink(db, "l-1", "2026-01-03T00:00:01.000Z").ok());
  auto on_locked = CountLinkAttempt(db, "l-1");
  ASSERT_TRUE(on_locked.ok());
  EXPECT_FALSE(*on_locked);
  Secret renewed(11);
  auto updated =
      UpdateLinkCode(db, "l-1", renewed.View(), 3, "identificatie", "bsn,hulpvraag", "c-1", "2026-01-03T00:00:02.000Z");
  ASSERT_TRUE(updated.ok() && *updated) << updated.status().message();
  auto after = FindLinkByTokenHash(db, renewed.hash);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->state, "active");
  EXPECT_EQ((*after)->failed_attempts, 0);
  EXPECT_EQ((*after)->case_version, 3);
  auto old = FindLinkByTokenHash(db, one.hash);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());

  // Due at the expiry of l-1 only; expired, the content is gone and no new
  // code is given.
  auto due = DueLinks(db, "2026-01-08T00:00:00.000Z", 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].link_id, "l-1");
  ASSERT_TRUE(MarkLinkExpired(db, "l-1", "2026-01-08T00:00:00.000Z").ok());
  auto expired = FindLink(db, "l-1");
  ASSERT_TRUE(expired.ok() && expired->has_value());
  EXPECT_EQ((*expired)->state, "expired");
  EXPECT_FALSE((*expired)->has_content);
  auto refused = UpdateLinkCode(db, "l-1", renewed.View(), 4, "", "", "", "2026-01-09T00:00:00.000Z");
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(*refused);
  auto due_after = DueLinks(db, "2026-01-08T00:00:00.000Z", 10);
  ASSERT_TRUE(due_after.ok());
  EXPECT_TRUE(due_after->empty());
}

}  // namespace
}  // namespace schakel::store
