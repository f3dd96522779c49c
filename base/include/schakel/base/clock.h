// Clock: the seam through which the daemon reads the time, so tests can move
// it (retention, expiry, birthdays) without sleeping.
//
// SystemClock reads the system clock. ManualClock holds a time that tests set
// and advance; it is thread-safe.
#pragma once

#include <atomic>

#include "schakel/base/time.h"

namespace schakel {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant Now() const override { return NowUtc(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start) : ms_(start.time_since_epoch().count()) {}
  Instant Now() const override { return Instant{std::chrono::milliseconds{ms_.load()}}; }
  void Set(Instant t) { ms_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::milliseconds d) { ms_.fetch_add(d.count()); }

 private:
  std::atomic<long long> ms_;
};

}  // namespace schakel
