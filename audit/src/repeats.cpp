#include "schakel/audit/repeats.h"

#include <string>
#include <vector>

#include "schakel/base/time.h"

namespace schakel::audit {
namespace {

struct Counted {
  AuditEvent event;
  std::string hour;
  int64_t counted = 0;
  std::string first_at;
  std::string last_at;
};

// The caller's transaction, or one of our own committed at the end.
class Scope {
 public:
  explicit Scope(store::Database& db) : db_(db) {}
  ~Scope() {
    if (own_) db_.Rollback();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  Status Begin() {
    if (db_.InTransaction()) return Status::Ok();
    SCHAKEL_RETURN_IF_ERROR(db_.Begin());
    own_ = true;
    return Status::Ok();
  }
  Status Commit() {
    if (!own_) return Status::Ok();
    own_ = false;
    return db_.Commit();
  }

 private:
  store::Database& db_;
  bool own_ = false;
};

// The time to the second: "2026-12-02T16:04:05Z".
std::string Second(Instant t) { return FormatInstant(t); }

}  // namespace

std::string HourOf(Instant t) { return FormatInstant(t).substr(0, 13); }

Result<bool> AppendOrCount(store::Database& db, AuditLog& log, const AuditEvent& event, Instant now) {
  const std::string hour = HourOf(now);
  Scope scope(db);
  SCHAKEL_RETURN_IF_ERROR(scope.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement bump,
                           db.Prepare("UPDATE audit_repeats SET counted = counted + 1, first_at = CASE WHEN counted = "
                                      "0 THEN ? ELSE first_at END, last_at = ? WHERE action = ? AND object = ? AND "
                                      "outcome = ? AND reason = ? AND hour = ?;"));
  bump.Bind(1, Second(now))
      .Bind(2, Second(now))
      .Bind(3, event.action)
      .Bind(4, event.object)
      .Bind(5, event.outcome)
      .Bind(6, event.reason)
      .Bind(7, hour);
  SCHAKEL_RETURN_IF_ERROR(bump.Run());
  if (db.Changes() > 0) {
    SCHAKEL_RETURN_IF_ERROR(scope.Commit());
    return false;
  }
  SCHAKEL_RETURN_IF_ERROR(log.Append(event).status());
  SCHAKEL_ASSIGN_OR_RETURN(
      store::Statement add,
      db.Prepare("INSERT INTO audit_repeats (action, object, outcome, reason, hour, actor_user, actor_role, actor_org, "
                 "subject, purpose, legal_basis, source, recipient, counted, first_at, last_at) VALUES (?, ?, ?, ?, ?, "
                 "?, ?, ?, ?, ?, ?, ?, ?, 0, '', '');"));
  add.Bind(1, event.action)
      .Bind(2, event.object)
      .Bind(3, event.outcome)
      .Bind(4, event.reason)
      .Bind(5, hour)
      .Bind(6, event.actor_user)
      .Bind(7, event.actor_role)
      .Bind(8, event.actor_org)
      .Bind(9, event.subject)
      .Bind(10, event.purpose)
      .Bind(11, event.legal_basis)
      .Bind(12, event.source)
      .Bind(13, event.recipient);
  SCHAKEL_RETURN_IF_ERROR(add.Run());
  SCHAKEL_RETURN_IF_ERROR(scope.Commit());
  return true;
}

Result<int> FlushRepeats(store::Database& db, AuditLog& log, Instant now, int limit) {
  const std::string hour = HourOf(now);
  std::vector<Counted> ended;
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        store::Statement q,
        db.Prepare("SELECT action, object, outcome, reason, hour, actor_user, actor_role, actor_org, subject, purpose, "
                   "legal_basis, source, recipient, counted, first_at, last_at FROM audit_repeats WHERE hour < ? "
                   "ORDER BY hour, action, object LIMIT ?;"));
    q.Bind(1, hour).Bind(2, int64_t{limit});
    for (;;) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      Counted c;
      c.event.action = q.Text(0);
      c.event.object = q.Text(1);
      c.event.outcome = q.Text(2);
      c.event.reason = q.Text(3);
      c.hour = q.Text(4);
      c.event.actor_user = q.Text(5);
      c.event.actor_role = q.Text(6);
      c.event.actor_org = q.Text(7);
      c.event.subject = q.Text(8);
      c.event.purpose = q.Text(9);
      c.event.legal_basis = q.Text(10);
      c.event.source = q.Text(11);
      c.event.recipient = q.Text(12);
      c.counted = q.Int(13);
      c.first_at = q.Text(14);
      c.last_at = q.Text(15);
      ended.push_back(std::move(c));
    }
  }
  if (ended.empty()) return 0;
  Scope scope(db);
  SCHAKEL_RETURN_IF_ERROR(scope.Begin());
  int appended = 0;
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement del,
                           db.Prepare("DELETE FROM audit_repeats WHERE action = ? AND object = ? AND outcome = ? AND "
                                      "reason = ? AND hour = ?;"));
  for (Counted& c : ended) {
    if (c.counted > 0) {
      AuditEvent e = c.event;
      e.reason = (e.reason.empty() ? "" : e.reason + "; ") + "repeated " + std::to_string(c.counted) +
                 " more times from " + c.first_at + " to " + c.last_at;
      SCHAKEL_RETURN_IF_ERROR(log.Append(e).status());
      ++appended;
    }
    SCHAKEL_RETURN_IF_ERROR(del.Reset());
    del.Bind(1, c.event.action)
        .Bind(2, c.event.object)
        .Bind(3, c.event.outcome)
        .Bind(4, c.event.reason)
        .Bind(5, c.hour);
    SCHAKEL_RETURN_IF_ERROR(del.Run());
  }
  SCHAKEL_RETURN_IF_ERROR(scope.Commit());
  return appended;
}

}  // namespace schakel::audit
