// The inbox: shares received from partners, and their purge at the end of
// their retention.
#include <algorithm>
#include <mutex>

#include "schakel/formats/case_summary.h"
#include "schakel/service/service.h"
#include "service_internal.h"

namespace schakel::service {

Result<std::vector<store::InboxRecord>> Service::ListInbox(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListInbox));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> items, store::ListInbox(held.db()));
  for (auto& r : items) r.summary.reset();  // the list shows no content
  return items;
}

Result<InboxView> Service::ShowInbox(const Caller& c, const std::string& message_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShowInbox));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> items, store::ListInbox(held.db()));
  auto it =
      std::find_if(items.begin(), items.end(), [&](const store::InboxRecord& r) { return r.message_id == message_id; });
  if (it == items.end()) return Status::NotFound("no received share " + message_id);
  InboxView out;
  out.record = std::move(*it);
  std::optional<std::string> stored = std::move(out.record.summary);
  out.record.summary.reset();
  const store::InboxRecord& r = out.record;
  if (!stored) {
    AuditBestEffort(held, c, "inbox.read", r.student_id, message_id, r.purpose, "", "purged",
                    r.purge_reason.value_or(""));
    return out;
  }
  // Shown only in its permitted categories, whatever the stored text holds.
  auto summary = formats::ParseCaseSummary(*stored, true);
  if (!summary.ok()) return Status::Corruption("stored inbox summary does not parse");
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "inbox.read", r.student_id, message_id, r.purpose, "", "ok", ""));
  out.summary_json = formats::Project(*summary, r.categories);
  return out;
}

Result<int> Service::PurgeExpired() {
  NodeCore::Held held(core_);
  std::string now = FormatInstantMs(core_.clock->Now());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> expired, store::ExpiredInbox(held.db(), now));
  for (const auto& r : expired) {
    store::Transaction tx(held.db());
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    SCHAKEL_RETURN_IF_ERROR(store::PurgeInbox(held.db(), r.sender_id, r.message_id, "retention", now));
    audit::AuditEvent e =
        SystemEvent({"inbox.purged", r.student_id, r.message_id, r.purpose, "", "ok", "retention"}, "retention");
    SCHAKEL_RETURN_IF_ERROR(service::AuditOrFail(held, std::move(e)));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  return static_cast<int>(expired.size());
}

}  // namespace schakel::service
