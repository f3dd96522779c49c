// Private to daemon/: sessions of the staff console (docs/console.md).
//
// A session is created in two stages: after a correct password it is
// "pending" (only the TOTP step may use it, for at most 5 minutes); after a
// correct TOTP code the pending session is destroyed and a signed-in session
// with a FRESH id is created, so an id seen before sign-in (planted by an
// attacker: session fixation) never becomes a signed-in session.
//
// Ids are 32 random bytes (64 hex digits in the cookie). Only their SHA-256 is
// kept as the map key, so a lookup is a hash-table lookup on a digest and
// does not compare the secret byte by byte. Each session has its own CSRF
// token (synchronizer token), checked in constant time.
//
// Time-outs: idle 15 minutes, absolute 8 hours (Options). Sessions live in
// memory only: a restart of schakeld signs everyone out, by design.
//
// Thread-safety: all methods lock `mu_`. Time comes from the injected Clock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "schakel/base/clock.h"
#include "service_names.h"

namespace schakel::daemon {

struct ConsoleSessionOptions {
  // Signed out after this long without a request. Default: 15 minutes.
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(15);
  // Signed out this long after sign-in, whatever the activity. Default: 8 hours.
  std::chrono::milliseconds absolute_timeout = std::chrono::hours(8);
  // A password-checked session waits this long for its TOTP code. Default: 5 minutes.
  std::chrono::milliseconds pending_timeout = std::chrono::minutes(5);
  // At most this many sessions (pending and signed in); the oldest expire first.
  size_t max_sessions = 10000;
};

struct ConsoleSession {
  Caller caller;
  bool signed_in = false;  // false: password checked, waiting for the TOTP code
  std::string csrf_token;  // 64 hex digits
  Instant created{};
  Instant last_seen{};
};

class ConsoleSessions {
 public:
  ConsoleSessions(const Clock& clock, ConsoleSessionOptions options = {});

  // Starts a pending session for a caller whose password was correct.
  // Returns the new session id (the cookie value).
  std::string StartPending(const Caller& caller);
  // Destroys the pending session `pending_id` and creates a signed-in session
  // for the same caller with a fresh id, which it returns; nullopt when the
  // pending session is unknown, expired or already signed in.
  std::optional<std::string> Promote(std::string_view pending_id);

  // The session for a cookie value when it exists and has not timed out;
  // refreshes its idle timer. Expired sessions are removed.
  std::optional<ConsoleSession> Find(std::string_view id);
  // Removes the session (sign-out). Unknown ids are ignored.
  void Destroy(std::string_view id);
  // Constant-time comparison of a submitted CSRF token with the session's.
  static bool CsrfMatches(const ConsoleSession& session, std::string_view submitted);

  size_t size();

 private:
  using Key = std::array<uint8_t, 32>;
  static std::optional<Key> KeyOf(std::string_view id);
  std::string Insert(ConsoleSession session);
  bool Expired(const ConsoleSession& s, Instant now) const;
  void SweepLocked(Instant now);

  const Clock& clock_;
  ConsoleSessionOptions options_;
  std::mutex mu_;
  std::map<Key, ConsoleSession> sessions_;  // GUARDED_BY(mu_)
};

}  // namespace schakel::daemon
