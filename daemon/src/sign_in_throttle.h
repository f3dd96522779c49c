// Private to daemon/: the console's limit on failed sign-in steps
// (docs/console.md, "Failed sign-ins"), shared by the console (which counts
// and asks) and the API (where an admin clears it: POST
// /v1/users/{name}/unlock).
//
// Failures are counted per (user name, client address): the first
// `free_failures` of a pair cost nothing, each one after that makes the
// pair wait, 2 s after the first of them and twice as long after each next
// one, up to `max_delay` (15 minutes). A pair waiting does not stop the same
// user from another address, so someone who knows a user name cannot lock
// that user out of the console from their own machine. Besides, one client
// address may fail at most `max_failures_per_address` steps (any user
// names) per `address_window` (a hard limit, as before). A success forgets
// the pair; a pair without a failure for `forget_after` is forgotten too.
//
// Memory is bounded: at most `max_pairs` pairs; when full, the pair whose
// last failure is oldest is dropped.
//
// Thread-safety: every method locks the throttle's own mutex; the audit hook
// is called without it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "schakel/base/clock.h"
#include "schakel/base/status.h"
#include "schakel/base/thread_annotations.h"
#include "schakel/http/rate_limiter.h"
#include "service_names.h"

namespace schakel::daemon {

struct SignInThrottleOptions {
  // Failed steps of one user name from one address before it must wait.
  // Default: 5.
  int free_failures = 5;
  // The first wait; each next failure doubles it. Default: 2 s.
  std::chrono::milliseconds first_delay = std::chrono::seconds(2);
  // Default: 15 minutes.
  std::chrono::milliseconds max_delay = std::chrono::minutes(15);
  // Failed steps from one client address, any user names, per window.
  // Default: 20 per 15 minutes.
  int max_failures_per_address = 20;
  std::chrono::milliseconds address_window = std::chrono::minutes(15);
  // Default: a pair is forgotten 24 hours after its last failure.
  std::chrono::milliseconds forget_after = std::chrono::hours(24);
  // Default: 10000 (user, address) pairs.
  size_t max_pairs = 10000;
};

class SignInThrottle {
 public:
  // Called (without the throttle's lock) when a failure makes a pair wait:
  // the user name, the client address and the wait.
  using OnThrottled =
      std::function<void(const std::string& user, const std::string& address, std::chrono::milliseconds wait)>;

  SignInThrottle(const Clock& clock, SignInThrottleOptions options = {}, OnThrottled on_throttled = nullptr);

  // How long a sign-in step of `user` from `address` must still wait; zero
  // when it may go now.
  std::chrono::milliseconds Wait(const std::string& user, const std::string& address);
  // Records a failed step; returns the wait it starts (zero when none).
  std::chrono::milliseconds Fail(const std::string& user, const std::string& address);
  // A successful sign-in: forgets the pair (not the address's count).
  void Succeeded(const std::string& user, const std::string& address);
  // Forgets every pair of this user name, from every address; returns how
  // many pairs had failures.
  int Unlock(const std::string& user);
  size_t tracked_pairs() const;

 private:
  struct Pair {
    int failures = 0;
    Instant last_failure{};
    Instant wait_until{};
  };
  using Key = std::pair<std::string, std::string>;  // (user, address)
  std::chrono::milliseconds DelayAfter(int failures) const;
  void ForgetStale(Instant now) SCHAKEL_REQUIRES(mu_);

  const Clock& clock_;
  const SignInThrottleOptions options_;
  const OnThrottled on_throttled_;
  http::RateLimiter addresses_;
  mutable Mutex mu_;
  std::map<Key, Pair> pairs_ SCHAKEL_GUARDED_BY(mu_);
};

// The admin's unlock (POST /v1/users/{name}/unlock): checks the role
// (Op::kUnlockUser) and `name` (a user's name, or its id: a name with a
// space cannot be in a request path), writes "user.unlock"
// (AuditOrFail, the user's id as object), then clears the user's waits.
// Returns how many (user, address) pairs had failures.
Result<int> UnlockUser(NodeCore& core, SignInThrottle& throttle, const Caller& c, const std::string& name);

// The audit entry of a wait starting: "console.signin", deny, "throttled",
// the user's id as object when the name is a known user.
void AuditThrottled(NodeCore& core, const std::string& user, const std::string& address,
                    std::chrono::milliseconds wait);

}  // namespace schakel::daemon
