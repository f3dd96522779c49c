// The console's failed sign-in throttle on an injected clock: waits per
// (user, address), growing to the cap, the per-address limit, unlock,
// success, forgetting and bounded memory.
#include "sign_in_throttle.h"

#include <gtest/gtest.h>

#include <vector>

namespace schakel::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class SignInThrottleTest : public ::testing::Test {
 protected:
  ManualClock clock_{Instant{milliseconds{1'790'000'000'000}}};
  std::vector<std::pair<std::string, milliseconds>> throttled_;
  SignInThrottle throttle_{clock_, SignInThrottleOptions{},
                           [this](const std::string& user, const std::string& address, milliseconds wait) {
                             throttled_.emplace_back(user + "@" + address, wait);
                           }};
};

TEST_F(SignInThrottleTest, WaitsPerUserAndAddressGrowingToTheCap) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(throttle_.Fail("mentor", "10.0.0.1"), milliseconds(0)) << i;
  EXPECT_TRUE(throttled_.empty());
  EXPECT_EQ(throttle_.Fail("mentor", "10.0.0.1"), seconds(2));
  EXPECT_EQ(throttle_.Wait("mentor", "10.0.0.1"), seconds(2));
  EXPECT_EQ(throttle_.Wait("mentor", "10.0.0.2"), milliseconds(0));  // another address
  EXPECT_EQ(throttle_.Wait("other", "10.0.0.1"), milliseconds(0));   // another user
  ASSERT_EQ(throttled_.size(), 1u);
  EXPECT_EQ(throttled_[0].first, "mentor@10.0.0.1");
  std::vector<milliseconds> waits;
  for (int i = 0; i < 12; ++i) waits.push_back(throttle_.Fail("mentor", "10.0.0.1"));
  EXPECT_EQ(waits[0], seconds(4));
  EXPECT_EQ(waits[1], seconds(8));
  EXPECT_EQ(waits[7], seconds(512));
  EXPECT_EQ(waits[8], minutes(15));
  EXPECT_EQ(waits[11], minutes(15));
  clock_.Advance(minutes(15));
  EXPECT_EQ(throttle_.Wait("mentor", "10.0.0.1"), milliseconds(0));
}

TEST_F(SignInThrottleTest, OneAddressHasAHardLimitAcrossUserNames) {
  for (int i = 0; i < 20; ++i) (void)throttle_.Fail("name-" + std::to_string(i), "10.0.0.9");
  EXPECT_GT(throttle_.Wait("someone-else", "10.0.0.9").count(), 0);
  EXPECT_EQ(throttle_.Wait("someone-else", "10.0.0.8"), milliseconds(0));
  clock_.Advance(minutes(15) + seconds(1));
  EXPECT_EQ(throttle_.Wait("someone-else", "10.0.0.9"), milliseconds(0));
}

TEST_F(SignInThrottleTest, UnlockClearsEveryAddressOfThatUserOnly) {
  for (int i = 0; i < 5; ++i) {
    (void)throttle_.Fail("mentor", "10.0.0.1");
    (void)throttle_.Fail("mentor", "10.0.0.2");
    (void)throttle_.Fail("mentors", "10.0.0.3");
  }
  EXPECT_EQ(throttle_.Unlock("mentor"), 2);
  EXPECT_EQ(throttle_.Wait("mentor", "10.0.0.1"), milliseconds(0));
  EXPECT_EQ(throttle_.Wait("mentor", "10.0.0.2"), milliseconds(0));
  EXPECT_GT(throttle_.Wait("mentors", "10.0.0.3").count(), 0);
  EXPECT_EQ(throttle_.Unlock("mentor"), 0);
}

TEST_F(SignInThrottleTest, SuccessAndTimeForgetAPair) {
  for (int i = 0; i < 3; ++i) (void)throttle_.Fail("mentor", "10.0.0.1");
  throttle_.Succeeded("mentor", "10.0.0.1");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(throttle_.Fail("mentor", "10.0.0.1"), milliseconds(0)) << i;
  EXPECT_EQ(throttle_.tracked_pairs(), 1u);
  clock_.Advance(std::chrono::hours(25));
  (void)throttle_.Fail("other", "10.0.0.2");
  EXPECT_EQ(throttle_.tracked_pairs(), 2u);  // forgotten only when room is needed
}

TEST(SignInThrottleLimits, MemoryIsBounded) {
  ManualClock clock{Instant{milliseconds{1'790'000'000'000}}};
  SignInThrottleOptions options;
  options.max_pairs = 100;
  options.max_failures_per_address = 1000000;
  SignInThrottle throttle(clock, options);
  for (int i = 0; i < 1000; ++i) {
    (void)throttle.Fail("user-" + std::to_string(i), "10.0.0.1");
    clock.Advance(milliseconds(1));
  }
  EXPECT_LE(throttle.tracked_pairs(), 100u);
}

}  // namespace
}  // namespace schakel::daemon
