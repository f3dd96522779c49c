// DurationHistogram: the buckets Prometheus reads (cumulative, a value on a
// bound inside it), the sum and the count, from several threads.
#include "schakel/base/histogram.h"

#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace schakel {
namespace {

size_t BucketOf(double bound) {
  for (size_t i = 0; i < DurationHistogram::kBounds.size(); ++i) {
    if (DurationHistogram::kBounds[i] == bound) return i;
  }
  ADD_FAILURE() << "no bound " << bound;
  return 0;
}

TEST(DurationHistogram, EmptyReadsZero) {
  DurationHistogram h;
  DurationHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.sum_seconds, 0.0);
  for (int64_t c : s.cumulative) EXPECT_EQ(c, 0);
}

TEST(DurationHistogram, BucketsAreCumulativeAndABoundIsInItsBucket) {
  DurationHistogram h;
  h.Observe(0.001);  // on the 1 ms bound: in it
  h.Observe(0.0011);
  h.Observe(0.02);
  h.Observe(400);  // beyond 5 minutes: +Inf only
  DurationHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.cumulative[BucketOf(0.0005)], 0);
  EXPECT_EQ(s.cumulative[BucketOf(0.001)], 1);
  EXPECT_EQ(s.cumulative[BucketOf(0.002)], 2);
  EXPECT_EQ(s.cumulative[BucketOf(0.01)], 2);
  EXPECT_EQ(s.cumulative[BucketOf(0.02)], 3);
  EXPECT_EQ(s.cumulative[BucketOf(300)], 3);
  EXPECT_EQ(s.cumulative.back(), 4);
  EXPECT_NEAR(s.sum_seconds, 400.0221, 1e-6);
  for (size_t i = 1; i < s.cumulative.size(); ++i) EXPECT_GE(s.cumulative[i], s.cumulative[i - 1]) << i;
}

TEST(DurationHistogram, NegativeAndNotANumberCountAsZero) {
  DurationHistogram h;
  h.Observe(-3.0);  // a clock stepped back
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  DurationHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.cumulative[0], 2);
  EXPECT_EQ(s.sum_seconds, 0.0);
}

TEST(DurationHistogram, AnInfiniteOrHugeDurationIsCappedInTheSum) {
  DurationHistogram h;
  h.Observe(std::numeric_limits<double>::infinity());
  h.Observe(1e300);
  DurationHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.cumulative[BucketOf(300)], 0);  // both beyond every bound: +Inf
  EXPECT_EQ(s.sum_seconds, 2 * DurationHistogram::kMaxSeconds);
}

TEST(DurationHistogram, ThreadsObserveWithoutLosingAny) {
  DurationHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe(0.001 * (t + 1));
    });
  }
  for (auto& t : threads) t.join();
  DurationHistogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 40000);
  EXPECT_EQ(s.cumulative[BucketOf(0.001)], 10000);
  EXPECT_EQ(s.cumulative[BucketOf(0.002)], 20000);
  EXPECT_EQ(s.cumulative[BucketOf(0.005)], 40000);
  EXPECT_NEAR(s.sum_seconds, 10000 * (0.001 + 0.002 + 0.003 + 0.004), 1e-3);
}

}  // namespace
}  // namespace schakel
