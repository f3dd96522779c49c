#include "sign_in_throttle.h"

#include <algorithm>
#include <vector>

#include "schakel/base/strings.h"
#include "schakel/store/users.h"

namespace schakel::daemon {
namespace {

constexpr size_t kMaxUserNameBytes = 200;

// The address's hard limit keys, apart from any user name.
std::string AddressKey(const std::string& address) { return "ip:" + address; }

}  // namespace

SignInThrottle::SignInThrottle(const Clock& clock, SignInThrottleOptions options, OnThrottled on_throttled)
    : clock_(clock),
      options_(options),
      on_throttled_(std::move(on_throttled)),
      addresses_(clock, http::RateLimiterOptions{options.max_failures_per_address, options.address_window,
                                                 options.max_pairs}) {}

std::chrono::milliseconds SignInThrottle::DelayAfter(int failures) const {
  int beyond = failures - options_.free_failures;  // 0 for the first failure that waits
  if (beyond < 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds delay = options_.first_delay;
  for (int i = 0; i < beyond && delay < options_.max_delay; ++i) delay *= 2;
  return std::min(delay, options_.max_delay);
}

void SignInThrottle::ForgetStale(Instant now) {
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    if (now - it->second.last_failure >= options_.forget_after && now >= it->second.wait_until) {
      it = pairs_.erase(it);
    } else {
      ++it;
    }
  }
}

std::chrono::milliseconds SignInThrottle::Wait(const std::string& user, const std::string& address) {
  Instant now = clock_.Now();
  if (!addresses_.WouldAllow(AddressKey(address))) return options_.address_window;
  MutexLock lock(&mu_);
  auto it = pairs_.find(Key{user, address});
  if (it == pairs_.end() || now >= it->second.wait_until) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(it->second.wait_until - now);
}

std::chrono::milliseconds SignInThrottle::Fail(const std::string& user, const std::string& address) {
  Instant now = clock_.Now();
  (void)addresses_.Allow(AddressKey(address));
  std::chrono::milliseconds delay{0};
  {
    MutexLock lock(&mu_);
    Key key{user, address};
    auto it = pairs_.find(key);
    if (it == pairs_.end()) {
      if (pairs_.size() >= options_.max_pairs) ForgetStale(now);
      if (pairs_.size() >= options_.max_pairs) {
        auto oldest = std::min_element(pairs_.begin(), pairs_.end(), [](const auto& a, const auto& b) {
          return a.second.last_failure < b.second.last_failure;
        });
        pairs_.erase(oldest);
      }
      it = pairs_.emplace(std::move(key), Pair{}).first;
    }
    Pair& p = it->second;
    ++p.failures;
    p.last_failure = now;
    delay = DelayAfter(p.failures);
    if (delay.count() > 0) p.wait_until = now + delay;
  }
  if (delay.count() > 0 && on_throttled_) on_throttled_(user, address, delay);
  return delay;
}

void SignInThrottle::Succeeded(const std::string& user, const std::string& address) {
  MutexLock lock(&mu_);
  pairs_.erase(Key{user, address});
}

int SignInThrottle::Unlock(const std::string& user) {
  MutexLock lock(&mu_);
  int cleared = 0;
  for (auto it = pairs_.lower_bound(Key{user, ""}); it != pairs_.end() && it->first.first == user;) {
    ++cleared;
    it = pairs_.erase(it);
  }
  return cleared;
}

size_t SignInThrottle::tracked_pairs() const {
  MutexLock lock(&mu_);
  return pairs_.size();
}

Result<int> UnlockUser(NodeCore& core, SignInThrottle& throttle, const Caller& c, const std::string& name) {
  SCHAKEL_RETURN_IF_ERROR(service::Authorize(c, service::Op::kUnlockUser));
  if (name.empty() || name.size() > kMaxUserNameBytes || !IsPrintableUtf8(name)) {
    return Status::InvalidInput("name: must be a user name of 1 to 200 printable characters");
  }
  NodeCore::Held held(core);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserByName(held.db(), name));
  if (!user && IsValidObjectId(name)) {  // a user id: names with spaces cannot be in a request path
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> all, store::ListUsers(held.db()));
    for (auto& u : all) {
      if (u.user_id == name) user = std::move(u);
    }
  }
  if (!user) return Status::NotFound("no user with the name or id \"" + name + "\"");
  // The entry first: the waits are cleared only once it is written.
  audit::AuditEvent e =
      SystemEvent({"user.unlock", "", user->user_id, "", "", "ok", "console_signin_waits_cleared"}, c.source);
  e.actor_user = c.user_id;
  e.actor_role = std::string(store::RoleName(c.role));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, std::move(e)));
  return throttle.Unlock(user->name);
}

void AuditThrottled(NodeCore& core, const std::string& user, const std::string& address,
                    std::chrono::milliseconds /*wait*/) {
  NodeCore::Held held(core);
  std::string user_id;
  store::Role role = store::Role::kStaff;
  bool known = false;
  if (user.size() <= kMaxUserNameBytes) {
    auto found = store::FindUserByName(held.db(), user);
    if (found.ok() && found->has_value()) {
      user_id = (*found)->user_id;
      role = (*found)->role;
      known = true;
    }
  }
  audit::AuditEvent e = SystemEvent({"console.signin", "", user_id, "", "", "deny", "throttled"}, "console:" + address);
  if (known) {
    e.actor_user = user_id;
    e.actor_role = std::string(store::RoleName(role));
  }
  AuditBestEffort(held, std::move(e));
}

}  // namespace schakel::daemon
