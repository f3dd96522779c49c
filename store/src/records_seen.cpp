// What is new for a user: the received shares they opened, and the start
// page's counts (schema v15). Each count is one SELECT count(*).
#include <set>
#include <string>
#include <utility>

#include "rows.h"
#include "schakel/store/records.h"

namespace schakel::store {
namespace {

Result<int64_t> CountOf(Statement& s) {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

}  // namespace

Status MarkInboxSeen(Database& db, const std::string& sender_id, const std::string& message_id,
                     const std::string& user_id, const std::string& at) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT OR IGNORE INTO inbox_seen (sender_id, message_id, user_id, "
                                                   "seen_at) VALUES (?, ?, ?, ?);"));
  return s.Bind(1, sender_id).Bind(2, message_id).Bind(3, user_id).Bind(4, at).Run();
}

Result<std::set<std::pair<std::string, std::string>>> InboxSeenBy(Database& db, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT sender_id, message_id FROM inbox_seen WHERE user_id = ?;"));
  s.Bind(1, user_id);
  std::set<std::pair<std::string, std::string>> out;
  for (;;) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.emplace(s.Text(0), s.Text(1));
  }
  return out;
}

Result<StartCounts> CountStart(Database& db, const std::string& user_id, bool all, const StartCountWindow& w) {
  StartCounts c;
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s, db.Prepare("SELECT count(*) FROM inbox i WHERE i.state = 'received' AND (? OR i.assigned_to = ?) "
                                "AND NOT EXISTS (SELECT 1 FROM inbox_seen v WHERE v.sender_id = i.sender_id AND "
                                "v.message_id = i.message_id AND v.user_id = ?);"));
    s.Bind(1, int64_t{all ? 1 : 0}).Bind(2, user_id).Bind(3, user_id);
    SCHAKEL_ASSIGN_OR_RETURN(c.new_shares, CountOf(s));
  }
  if (all) {
    SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT count(*) FROM shares WHERE state = 'pending_approval' "
                                                     "AND requested_by != ?;"));
    s.Bind(1, user_id);
    SCHAKEL_ASSIGN_OR_RETURN(c.meldcode_waiting, CountOf(s));
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement e, db.Prepare("SELECT count(*) FROM consents WHERE withdrawn_at IS NULL AND valid_until IS NOT NULL "
                                "AND valid_until >= ? AND valid_until <= ?;"));
    e.Bind(1, w.today).Bind(2, w.consents_until);
    SCHAKEL_ASSIGN_OR_RETURN(c.consents_ending, CountOf(e));
  }
  SCHAKEL_ASSIGN_OR_RETURN(Statement l, db.Prepare("SELECT count(*) FROM links WHERE state = 'active' AND "
                                                   "expires > ? AND expires <= ? AND (? OR created_by = ?);"));
  l.Bind(1, w.now).Bind(2, w.links_before).Bind(3, int64_t{all ? 1 : 0}).Bind(4, user_id);
  SCHAKEL_ASSIGN_OR_RETURN(c.links_expiring, CountOf(l));
  return c;
}

Result<std::optional<NoticeState>> FindNoticeState(Database& db, const std::string& user_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("SELECT new_shares, meldcode_waiting FROM notice_state WHERE user_id = ?;"));
  s.Bind(1, user_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<NoticeState>();
  return std::optional<NoticeState>(NoticeState{s.Int(0), s.Int(1)});
}

Status SetNoticeState(Database& db, const std::string& user_id, const NoticeState& state,
                      const std::optional<std::string>& notified_at) {
  // Without UPSERT (SQLite 3.15): the row is replaced whole, keeping the
  // last notice's time unless a new one went out.
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("INSERT OR REPLACE INTO notice_state (user_id, new_shares, meldcode_waiting, notified_at) VALUES "
                 "(?, ?, ?, COALESCE(?, (SELECT notified_at FROM notice_state WHERE user_id = ?)));"));
  s.Bind(1, user_id).Bind(2, state.new_shares).Bind(3, state.meldcode_waiting).BindOpt(4, notified_at).Bind(5, user_id);
  return s.Run();
}

}  // namespace schakel::store
