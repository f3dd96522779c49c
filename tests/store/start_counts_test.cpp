// What is new for a user (schema v15): received shares they opened, and the
// start page's counts — each count tells apart what it must (state, who,
// the window), one row at a time.
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

InboxRecord Received(const std::string& sender, const std::string& id, std::optional<std::string> assigned_to) {
  InboxRecord r;
  r.sender_id = sender;
  r.message_id = id;
  r.student_id = "stu-1";
  r.purpose = "doorverwijzing";
  r.created = "2026-12-01T09:00:00.000Z";
  r.received = "2026-12-01T09:00:01.000Z";
  r.retain_until = "2027-06-01T09:00:00.000Z";
  r.summary = "{}";
  r.body_hash = std::vector<uint8_t>(32, 1);
  r.receipt = std::vector<uint8_t>(64, 2);
  r.state = "received";
  r.assigned_to = std::move(assigned_to);
  return r;
}

ShareRecord Pending(const std::string& id, const std::string& requested_by) {
  ShareRecord s;
  s.message_id = id;
  s.case_id = "casus-1";
  s.case_version = 1;
  s.student_id = "stu-1";
  s.recipient_id = "vt-utrecht";
  s.recipient_type = "veilig_thuis";
  s.purpose = "meldcode";
  s.legal_basis = "meldcode";
  s.state = ShareState::kPendingApproval;
  s.requested_by = requested_by;
  s.created = "2026-12-01T09:00:00.000Z";
  s.retain_until = "2027-06-01T09:00:00.000Z";
  s.state_changed = s.created;
  return s;
}

ConsentRecord Ending(const std::string& id, const std::string& until) {
  ConsentRecord c;
  c.consent.id = id;
  c.consent.subject_id = "stu-1";
  c.consent.purposes = {"doorverwijzing"};
  c.consent.recipients = {"wijkteam"};
  c.consent.categories = consent::CategorySet::All();
  c.consent.valid_from = *ParseDate("2026-01-01");
  c.consent.valid_until = *ParseDate(until);
  c.recorded_by = "u-co";
  c.recorded_at = "2026-01-01T09:00:00.000Z";
  c.evidence = "formulier";
  return c;
}

LinkRecord Link(const std::string& id, const std::string& by, const std::string& expires) {
  LinkRecord r;
  r.link_id = id;
  r.case_id = "casus-1";
  r.case_version = 1;
  r.student_id = "stu-1";
  r.recipient_name = "dr. A. Jansen";
  r.recipient_type = "ggd";
  r.purpose = "doorverwijzing";
  r.legal_basis = "consent";
  r.categories = "identificatie";
  r.withheld = "";
  r.consent_ids = "c-1";
  r.created_by = by;
  r.created = "2026-11-28T12:00:00.000Z";
  r.expires = expires;
  return r;
}

Status AddLink(Database& db, const LinkRecord& r, uint8_t fill) {
  std::array<uint8_t, 32> hash{};
  hash.fill(fill);
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 24> nonce{};
  std::vector<uint8_t> ct(4, fill);
  return InsertLink(db, r, LinkSecret{hash, salt, nonce, ct});
}

TEST(StartCounts, UnreadSharesMeldcodeConsentsAndLinksEachCountWhatTheyMust) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto opened = Database::Open(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Database& db = **opened;
  ASSERT_TRUE(InsertInboxIfNew(db, Received("school-a", "m-1", "u-staff")).ok());
  ASSERT_TRUE(InsertInboxIfNew(db, Received("school-a", "m-2", std::nullopt)).ok());
  InboxRecord purged = Received("school-a", "m-3", "u-staff");
  ASSERT_TRUE(InsertInboxIfNew(db, purged).ok());
  ASSERT_TRUE(PurgeInbox(db, "school-a", "m-3", "revoked", "2026-12-01T10:00:00.000Z").ok());
  ASSERT_TRUE(InsertShare(db, Pending("s-1", "u-staff")).ok());
  ASSERT_TRUE(InsertShare(db, Pending("s-2", "u-co")).ok());
  ASSERT_TRUE(InsertConsent(db, Ending("c-soon", "2026-12-20")).ok());
  ASSERT_TRUE(InsertConsent(db, Ending("c-later", "2027-03-01")).ok());
  ASSERT_TRUE(InsertConsent(db, Ending("c-past", "2026-11-30")).ok());
  ASSERT_TRUE(InsertConsent(db, Ending("c-gone", "2026-12-10")).ok());
  ASSERT_TRUE(WithdrawConsent(db, "c-gone", *ParseInstant("2026-12-01T08:00:00Z"), "u-co").ok());

  ASSERT_TRUE(AddLink(db, Link("l-soon", "u-staff", "2026-12-03T12:00:00.000Z"), 1).ok());
  ASSERT_TRUE(AddLink(db, Link("l-other", "u-other", "2026-12-02T12:00:00.000Z"), 2).ok());
  ASSERT_TRUE(AddLink(db, Link("l-later", "u-staff", "2026-12-20T12:00:00.000Z"), 3).ok());
  ASSERT_TRUE(AddLink(db, Link("l-ended", "u-staff", "2026-12-02T13:00:00.000Z"), 4).ok());
  ASSERT_TRUE(RevokeLink(db, "l-ended", "revoked", "2026-12-01T11:00:00.000Z").ok());

  const StartCountWindow w{"2026-12-01", "2026-12-31", "2026-12-01T12:00:00.000Z", "2026-12-04T12:00:00.000Z"};
  auto staff = CountStart(db, "u-staff", /*all=*/false, w);
  ASSERT_TRUE(staff.ok()) << staff.status().message();
  EXPECT_EQ(staff->new_shares, 1);  // m-1 is theirs; m-2 waits for a coordinator; m-3 is purged
  EXPECT_EQ(staff->meldcode_waiting, 0);
  EXPECT_EQ(staff->consents_ending, 0);
  EXPECT_EQ(staff->links_expiring, 1);  // l-soon; not another's, a later or a revoked one
  auto co = CountStart(db, "u-co", /*all=*/true, w);
  ASSERT_TRUE(co.ok());
  EXPECT_EQ(co->new_shares, 2);
  EXPECT_EQ(co->meldcode_waiting, 1);  // s-1; s-2 is their own
  EXPECT_EQ(co->consents_ending, 1);   // c-soon; not later, past or withdrawn
  EXPECT_EQ(co->links_expiring, 2);    // every coordinator sees all links

  // Opening marks it read for that user only, once.
  ASSERT_TRUE(MarkInboxSeen(db, "school-a", "m-1", "u-staff", "2026-12-01T12:01:00.000Z").ok());
  ASSERT_TRUE(MarkInboxSeen(db, "school-a", "m-1", "u-staff", "2026-12-01T12:02:00.000Z").ok());
  EXPECT_EQ(CountStart(db, "u-staff", false, w)->new_shares, 0);
  EXPECT_EQ(CountStart(db, "u-co", true, w)->new_shares, 2);
  auto seen = InboxSeenBy(db, "u-staff");
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->size(), 1U);
  EXPECT_EQ(seen->count({"school-a", "m-1"}), 1U);
  EXPECT_TRUE(InboxSeenBy(db, "u-co")->empty());
}

}  // namespace
}  // namespace schakel::store
