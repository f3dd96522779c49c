#include "schakel/http/rate_limiter.h"

namespace schakel::http {

RateLimiter::RateLimiter(const Clock& clock, RateLimiterOptions options) : clock_(clock), options_(options) {}

void RateLimiter::Prune(Entry& e, Instant now) {
  while (!e.attempts.empty() && now - e.attempts.front() >= options_.window) e.attempts.pop_front();
}

RateLimiter::Entry& RateLimiter::Touch(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  while (entries_.size() >= options_.max_keys && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  Entry& e = entries_[key];
  e.lru = lru_.begin();
  return e;
}

bool RateLimiter::Allow(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Instant now = clock_.Now();
  Entry& e = Touch(key);
  Prune(e, now);
  if (static_cast<int>(e.attempts.size()) >= options_.max_attempts) return false;
  e.attempts.push_back(now);
  return true;
}

bool RateLimiter::WouldAllow(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return options_.max_attempts > 0;
  Prune(it->second, clock_.Now());
  return static_cast<int>(it->second.attempts.size()) < options_.max_attempts;
}

void RateLimiter::Reset(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

size_t RateLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace schakel::http
