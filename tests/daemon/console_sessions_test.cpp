// Console sessions: fresh ids at sign-in, time-outs on an injected clock,
// sign-out, CSRF tokens, bounded size.
#include "console_sessions.h"

#include <gtest/gtest.h>

#include <set>

namespace schakel::daemon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Caller Staff() { return Caller{"u-1", "mentor", store::Role::kStaff, "console", 0, ""}; }

class ConsoleSessionsTest : public ::testing::Test {
 protected:
  ManualClock clock_{Instant{std::chrono::milliseconds{1'790'000'000'000}}};
  ConsoleSessions sessions_{clock_};
  std::string StartPending() { return sessions_.StartPending(Staff()); }
};

TEST_F(ConsoleSessionsTest, PendingSessionIsNotSignedInAndPromotionGivesAFreshId) {
  std::string pending = StartPending();
  auto p = sessions_.Find(pending);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->signed_in);
  auto id = sessions_.Promote(pending);
  ASSERT_TRUE(id.has_value());
  EXPECT_NE(*id, pending);
  EXPECT_EQ(id->size(), 64u);
  EXPECT_FALSE(sessions_.Find(pending).has_value());  // the old id is gone
  auto s = sessions_.Find(*id);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->signed_in);
  EXPECT_EQ(s->caller.user_id, "u-1");
  EXPECT_NE(s->csrf_token, p->csrf_token);  // a new CSRF token as well
  // A signed-in session cannot be promoted again.
  EXPECT_FALSE(sessions_.Promote(*id).has_value());
}

TEST_F(ConsoleSessionsTest, UnknownOrMalformedIdsAreNotAdopted) {
  std::string planted(64, 'a');
  EXPECT_FALSE(sessions_.Find(planted).has_value());
  EXPECT_FALSE(sessions_.Promote(planted).has_value());
  EXPECT_FALSE(sessions_.Find("").has_value());
  EXPECT_FALSE(sessions_.Find(std::string(64, 'G')).has_value());
  EXPECT_FALSE(sessions_.Find(std::string(1000, 'a')).has_value());
}

TEST_F(ConsoleSessionsTest, PendingExpiresAfterFiveMinutes) {
  std::string pending = StartPending();
  clock_.Advance(minutes(5));
  EXPECT_FALSE(sessions_.Promote(pending).has_value());
}

TEST_F(ConsoleSessionsTest, IdleTimeoutAndActivityKeepsItAlive) {
  auto id = *sessions_.Promote(StartPending());
  clock_.Advance(minutes(14));
  ASSERT_TRUE(sessions_.Find(id).has_value());  // refreshes the idle timer
  clock_.Advance(minutes(14));
  ASSERT_TRUE(sessions_.Find(id).has_value());
  clock_.Advance(minutes(15));
  EXPECT_FALSE(sessions_.Find(id).has_value());
  EXPECT_EQ(sessions_.size(), 0u);
}

TEST_F(ConsoleSessionsTest, AbsoluteTimeoutEvenWhenActive) {
  auto id = *sessions_.Promote(StartPending());
  for (int i = 0; i < 8 * 6 - 1; ++i) {  // a request every 10 minutes for 7h50
    clock_.Advance(minutes(10));
    ASSERT_TRUE(sessions_.Find(id).has_value()) << i;
  }
  clock_.Advance(minutes(10));
  EXPECT_FALSE(sessions_.Find(id).has_value());
}

TEST_F(ConsoleSessionsTest, SignOutDestroys) {
  auto id = *sessions_.Promote(StartPending());
  sessions_.Destroy(id);
  EXPECT_FALSE(sessions_.Find(id).has_value());
}

TEST_F(ConsoleSessionsTest, CsrfTokenMatchesOnlyExactly) {
  auto id = *sessions_.Promote(StartPending());
  auto s = *sessions_.Find(id);
  EXPECT_EQ(s.csrf_token.size(), 64u);
  EXPECT_TRUE(ConsoleSessions::CsrfMatches(s, s.csrf_token));
  std::string wrong = s.csrf_token;
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(s, wrong));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(s, ""));
  EXPECT_FALSE(ConsoleSessions::CsrfMatches(s, s.csrf_token.substr(0, 63)));
}

TEST(ConsoleSessionsLimits, SizeIsBounded) {
  ManualClock clock{Instant{std::chrono::milliseconds{1'790'000'000'000}}};
  ConsoleSessionOptions o;
  o.max_sessions = 10;
  ConsoleSessions sessions(clock, o);
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    ids.insert(sessions.StartPending(Staff()));
    clock.Advance(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_LE(sessions.size(), 10u);
}

}  // namespace
}  // namespace schakel::daemon
