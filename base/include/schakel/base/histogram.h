// A histogram of durations with fixed bounds, for /metrics (Prometheus's
// histogram type: cumulative buckets, a sum and a count). Observe() is
// lock-free and may be called from any thread; Read() gives a snapshot
// whose +Inf bucket equals its count.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace schakel {

class DurationHistogram {
 public:
  // Upper bounds in seconds (a value equal to a bound is in its bucket),
  // from half a millisecond to five minutes; beyond them, +Inf.
  static constexpr std::array<double, 17> kBounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25,
                                                  0.5,    1,     2.5,   5,     10,   30,   60,   300};

  // A negative duration (a clock stepped back) counts as 0; one beyond
  // kMaxSeconds (or infinite) as kMaxSeconds, so that the sum stays exact.
  static constexpr double kMaxSeconds = 1e9;
  void Observe(double seconds) {
    if (!(seconds > 0)) seconds = 0;  // also NaN
    if (seconds > kMaxSeconds) seconds = kMaxSeconds;
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    // Microseconds, summed as an integer: 9,000 observations of kMaxSeconds fit.
    sum_us_.fetch_add(static_cast<int64_t>(seconds * 1e6 + 0.5), std::memory_order_relaxed);
  }

  struct Snapshot {
    std::array<int64_t, kBounds.size() + 1> cumulative{};  // [i]: values <= kBounds[i]; last: all
    int64_t count = 0;
    double sum_seconds = 0;
  };
  Snapshot Read() const {
    Snapshot s;
    int64_t running = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      running += buckets_[i].load(std::memory_order_relaxed);
      s.cumulative[i] = running;
    }
    s.count = running;
    s.sum_seconds = static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
    return s;
  }

 private:
  std::array<std::atomic<int64_t>, kBounds.size() + 1> buckets_{};  // not cumulative
  std::atomic<int64_t> sum_us_{0};
};

}  // namespace schakel
