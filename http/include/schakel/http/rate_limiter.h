// http/: a per-key attempt limiter (sliding window), e.g. code
// attempts per client IP on the link pages or sign-ins on the console.
//
// Allow(key) records an attempt at clock.Now() and says whether it is within
// `max_attempts` per `window`. Memory is bounded: at most `max_keys` keys
// are tracked, each with at most max_attempts timestamps; when full, the key
// seen least recently is evicted (an attacker cycling through many keys can
// only push out old, quiet keys). Thread-safe (one mutex); the clock is
// injected (base/clock.h) so tests move time.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "schakel/base/clock.h"

namespace schakel::http {

struct RateLimiterOptions {
  // Default: 20 attempts per 15 minutes per key.
  int max_attempts = 20;
  std::chrono::milliseconds window{15 * 60 * 1000};
  // Default: 10000 keys tracked.
  size_t max_keys = 10000;
};

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimiterOptions options);

  // Records an attempt; false when the key has had max_attempts in the last
  // window already (the refused attempt is not recorded).
  bool Allow(const std::string& key);
  // Whether an attempt now would be allowed, without recording one.
  bool WouldAllow(const std::string& key);
  // Forgets a key (e.g. after a successful sign-in).
  void Reset(const std::string& key);
  size_t tracked_keys() const;

 private:
  struct Entry {
    std::deque<Instant> attempts;
    std::list<std::string>::iterator lru;
  };
  void Prune(Entry& e, Instant now);
  Entry& Touch(const std::string& key);

  const Clock& clock_;
  const RateLimiterOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::list<std::string> lru_;                      // GUARDED_BY(mu_), most recent first
};

}  // namespace schakel::http
