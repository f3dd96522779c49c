// E-mail notices ([notify], docs/console.md "What is new"): who is due one.
// The daemon's notifier sends them (daemon/src/notifier.h) outside any lock
// and reports each one sent.
#include <string>
#include <vector>

#include "schakel/service/service.h"
#include "schakel/store/users.h"
#include "service_internal.h"

namespace schakel::service {

Result<std::vector<NoticeDue>> Service::NoticesDue() {
  NodeCore::Held held(core_);
  const Instant now = core_.clock->Now();
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(held.db()));
  std::vector<NoticeDue> due;
  for (const auto& u : users) {
    if (!u.Usable() || !u.email || (u.role != store::Role::kStaff && u.role != store::Role::kCoordinator)) continue;
    SCHAKEL_ASSIGN_OR_RETURN(store::StartCounts counts, internal::CountWaiting(held.db(), now, u.user_id, u.role));
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::NoticeState> last, store::FindNoticeState(held.db(), u.user_id));
    const store::NoticeState was = last.value_or(store::NoticeState{});
    const store::NoticeState is{counts.new_shares, counts.meldcode_waiting};
    if (is.new_shares > was.new_shares || is.meldcode_waiting > was.meldcode_waiting) {
      due.push_back({u.user_id, *u.email, counts});
    } else if (!last || is.new_shares != was.new_shares || is.meldcode_waiting != was.meldcode_waiting) {
      // Fewer now (read, approved): remembered, so the next rise is noticed.
      SCHAKEL_RETURN_IF_ERROR(store::SetNoticeState(held.db(), u.user_id, is, std::nullopt));
    }
  }
  return due;
}

Status Service::NoticeSent(const NoticeDue& notice) {
  NodeCore::Held held(core_);
  const std::string at = FormatInstantMs(core_.clock->Now());
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(
      store::SetNoticeState(held.db(), notice.user_id, {notice.counts.new_shares, notice.counts.meldcode_waiting}, at));
  SCHAKEL_RETURN_IF_ERROR(
      service::AuditOrFail(held, SystemEvent({"notice.sent", "", notice.user_id, "", "", "ok",
                                              "shares=" + std::to_string(notice.counts.new_shares) +
                                                  ",meldcode=" + std::to_string(notice.counts.meldcode_waiting)},
                                             "notify")));
  return tx.Commit();
}

}  // namespace schakel::service
