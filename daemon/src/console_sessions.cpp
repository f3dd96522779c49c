#include "console_sessions.h"

#include <algorithm>

#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::daemon {
namespace {

constexpr size_t kIdBytes = 32;

std::string RandomHex(size_t bytes) {
  crypto::SecureBuffer b = crypto::SecureBuffer::Random(bytes);
  return ToHex(b.span());
}

}  // namespace

ConsoleSessions::ConsoleSessions(const Clock& clock, ConsoleSessionOptions options)
    : clock_(clock), options_(options) {}

std::optional<ConsoleSessions::Key> ConsoleSessions::KeyOf(std::string_view id) {
  if (id.size() != 2 * kIdBytes) return std::nullopt;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(id.data()), id.size()});
}

bool ConsoleSessions::Expired(const ConsoleSession& s, Instant now) const {
  if (!s.signed_in) return now - s.created >= options_.pending_timeout;
  return now - s.last_seen >= options_.idle_timeout || now - s.created >= options_.absolute_timeout;
}

void ConsoleSessions::SweepLocked(Instant now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = Expired(it->second, now) ? sessions_.erase(it) : std::next(it);
  }
  // Still full: drop the least recently used, so a flood of sign-ins cannot
  // grow memory without bound.
  while (sessions_.size() >= options_.max_sessions && !sessions_.empty()) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    });
    sessions_.erase(oldest);
  }
}

std::string ConsoleSessions::Insert(ConsoleSession session) {
  std::string id = RandomHex(kIdBytes);
  Key key = *KeyOf(id);
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked(session.created);
  sessions_[key] = std::move(session);
  return id;
}

std::string ConsoleSessions::StartPending(const Caller& caller) {
  ConsoleSession s;
  s.caller = caller;
  s.signed_in = false;
  s.csrf_token = RandomHex(32);
  s.created = s.last_seen = clock_.Now();
  return Insert(std::move(s));
}

std::optional<std::string> ConsoleSessions::Promote(std::string_view pending_id) {
  auto key = KeyOf(pending_id);
  if (!key) return std::nullopt;
  Instant now = clock_.Now();
  ConsoleSession next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(*key);
    if (it == sessions_.end()) return std::nullopt;
    if (it->second.signed_in || Expired(it->second, now)) {
      sessions_.erase(it);
      return std::nullopt;
    }
    next.caller = it->second.caller;
    sessions_.erase(it);
  }
  next.signed_in = true;
  next.csrf_token = RandomHex(32);
  next.created = next.last_seen = now;
  return Insert(std::move(next));
}

std::optional<ConsoleSession> ConsoleSessions::Find(std::string_view id) {
  auto key = KeyOf(id);
  if (!key) return std::nullopt;
  Instant now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(*key);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  if (it->second.signed_in) it->second.last_seen = now;
  return it->second;
}

void ConsoleSessions::Destroy(std::string_view id) {
  auto key = KeyOf(id);
  if (!key) return;
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(*key);
}

bool ConsoleSessions::CsrfMatches(const ConsoleSession& session, std::string_view submitted) {
  if (session.csrf_token.empty()) return false;
  return crypto::ConstantTimeEqual(session.csrf_token, submitted);
}

size_t ConsoleSessions::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

}  // namespace schakel::daemon
