// The two writes that make a share `sending` after it was on the wire
// (service/on_the_wire.h): each touches only a share that is still
// `queued`, whatever became of the others meanwhile.
#include <string>

#include <gtest/gtest.h>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "schakel/store/records.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

ShareRecord Share(const std::string& id, ShareState state) {
  ShareRecord s;
  s.message_id = id;
  s.case_id = "casus-1";
  s.case_version = 1;
  s.student_id = "stu-1";
  s.recipient_id = "wijkteam-b";
  s.recipient_type = "wijkteam";
  s.purpose = "doorverwijzing";
  s.legal_basis = "consent";
  s.state = state;
  s.requested_by = "u-staff";
  s.created = "2026-12-06T09:00:00.000Z";
  s.retain_until = "2027-06-06T09:00:00.000Z";
  s.state_changed = s.created;
  return s;
}

std::string StateOf(Database& db, const std::string& id) {
  auto s = FindShare(db, id);
  EXPECT_TRUE(s.ok() && *s) << id;
  return s.ok() && *s ? std::string(ShareStateName((*s)->state)) : "";
}

class ShareStates : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::Open(dir_ / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    db_ = std::move(opened).value();
    for (ShareState st :
         {ShareState::kPendingApproval, ShareState::kQueued, ShareState::kSending, ShareState::kDelivered,
          ShareState::kCancelled, ShareState::kRevoked, ShareState::kPurged, ShareState::kRefused}) {
      ASSERT_TRUE(InsertShare(*db_, Share(std::string(ShareStateName(st)), st)).ok());
    }
    ASSERT_TRUE(InsertShare(*db_, Share("queued-2", ShareState::kQueued)).ok());
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(ShareStates, OneShareMaybeSentOnlyWhenStillQueued) {
  const std::string at = "2026-12-06T10:00:00.000Z";
  for (const char* id :
       {"pending_approval", "queued", "sending", "delivered", "cancelled", "revoked", "purged", "refused"}) {
    ASSERT_TRUE(MarkShareMaybeSent(*db_, id, at).ok()) << id;
  }
  EXPECT_EQ(StateOf(*db_, "queued"), "sending");
  auto changed = FindShare(*db_, "queued");
  ASSERT_TRUE(changed.ok() && *changed);
  EXPECT_EQ((*changed)->state_changed, at);
  // Every other one is as it was, the other queued share too.
  for (const char* id : {"pending_approval", "sending", "delivered", "cancelled", "revoked", "purged", "refused"}) {
    EXPECT_EQ(StateOf(*db_, id), id);
  }
  EXPECT_EQ(StateOf(*db_, "queued-2"), "queued");
  // An unknown share is no error: there is nothing to mark.
  EXPECT_TRUE(MarkShareMaybeSent(*db_, "no-such-share", at).ok());
}

TEST_F(ShareStates, AfterAnUncleanStopEveryQueuedShareAndNoOtherIsMaybeSent) {
  auto n = MarkQueuedSharesMaybeSent(*db_, "2026-12-06T10:00:00.000Z");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(StateOf(*db_, "queued"), "sending");
  EXPECT_EQ(StateOf(*db_, "queued-2"), "sending");
  for (const char* id : {"pending_approval", "sending", "delivered", "cancelled", "revoked", "purged", "refused"}) {
    EXPECT_EQ(StateOf(*db_, id), id);
  }
  auto again = MarkQueuedSharesMaybeSent(*db_, "2026-12-06T10:00:01.000Z");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

}  // namespace
}  // namespace schakel::store
