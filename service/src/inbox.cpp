// The inbox: shares received from partners, and their purge at the end of
// their retention.
#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include "schakel/base/strings.h"
#include "schakel/crypto/envelope.h"
#include "schakel/formats/case_summary.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "service_internal.h"

namespace schakel::service {

using store::Role;

namespace {

// A coordinator sees every received share; anyone else only what is
// assigned to them (docs/students.md "Who sees what").
bool CanSeeInbox(const Caller& c, const store::InboxRecord& r) {
  return c.role == Role::kCoordinator || (r.assigned_to && *r.assigned_to == c.user_id);
}

// The user a coordinator names for an assignment or a route: one who may
// read received shares (staff or coordinator) and is not disabled.
Result<store::User> Assignee(NodeCore::Held& held, const std::string& user_name) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserByName(held.db(), user_name));
  if (!user) return Status::InvalidInput("user: no user named \"" + user_name + "\"");
  if (user->disabled_at) return Status::InvalidInput("user: " + user_name + " is disabled");
  if (!Allowed(Op::kShowInbox, user->role)) {
    return Status::InvalidInput("user: the " + std::string(store::RoleName(user->role)) +
                                " role may not read received shares");
  }
  return *user;
}

}  // namespace

Result<std::vector<InboxListItem>> Service::ListInbox(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListInbox));
  // Read beside the writer (NodeCore::Reading); shown only once audited.
  std::vector<store::InboxRecord> records;
  std::set<std::pair<std::string, std::string>> seen;
  {
    NodeCore::Reading reading(core_);
    store::ReadSnapshot snapshot(reading.db());  // the list and what was seen, as of one moment
    SCHAKEL_RETURN_IF_ERROR(snapshot.Begin());
    if (c.role == Role::kCoordinator) {
      SCHAKEL_ASSIGN_OR_RETURN(records, store::ListInbox(reading.db()));
    } else {
      SCHAKEL_ASSIGN_OR_RETURN(records, store::ListInboxAssignedTo(reading.db(), c.user_id));
    }
    SCHAKEL_ASSIGN_OR_RETURN(seen, store::InboxSeenBy(reading.db(), c.user_id));
  }
  std::vector<InboxListItem> items;
  items.reserve(records.size());
  for (auto& r : records) {
    r.summary.reset();  // the list shows no content
    const bool unread = r.state == "received" && seen.count({r.sender_id, r.message_id}) == 0;
    items.push_back({std::move(r), unread});
  }
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "inbox.list", "", "", "", "", "ok", std::to_string(items.size())));
  return items;
}

namespace {

// The received share (from, message_id); `from` empty: the one share with
// that id, refused when partners share it (docs/console.md "Inbox").
Result<store::InboxRecord> FindReceived(store::Database& db, const std::string& message_id, const std::string& from) {
  if (!from.empty()) {
    if (!IsValidNodeId(from)) return Status::InvalidInput("from: \"" + from + "\" is not a node id");
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> found, store::FindInbox(db, from, message_id));
    if (!found) return Status::NotFound("no received share " + message_id + " from " + from);
    return std::move(*found);
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> items, store::FindInboxByMessage(db, message_id));
  if (items.empty()) return Status::NotFound("no received share " + message_id);
  if (items.size() > 1) {
    std::string senders;
    for (const store::InboxRecord& r : items) senders += (senders.empty() ? "" : ", ") + r.sender_id;
    return Status::InvalidInput("from: received share " + message_id + " came from " + std::to_string(items.size()) +
                                " partners (" + senders + "); name its sender");
  }
  return std::move(items.front());
}

}  // namespace

Result<InboxView> Service::ShowInbox(const Caller& c, const std::string& message_id, const std::string& from) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kShowInbox));
  NodeCore::Held held(core_);
  InboxView out;
  SCHAKEL_ASSIGN_OR_RETURN(out.record, FindReceived(held.db(), message_id, from));
  std::optional<std::string> stored = std::move(out.record.summary);
  out.record.summary.reset();
  const store::InboxRecord& r = out.record;
  if (!CanSeeInbox(c, r)) {
    AuditBestEffort(held, c, "inbox.read", r.student_id, message_id, r.purpose, "", "deny", "not_assigned", InboxTo(r));
    return Status::Denied("received share " + message_id + " is not assigned to you; a coordinator assigns it");
  }
  if (!stored) {
    AuditBestEffort(held, c, "inbox.read", r.student_id, message_id, r.purpose, "", "purged",
                    r.purge_reason.value_or(""), InboxTo(r));
    return out;
  }
  // Shown only in its permitted categories, whatever the stored text holds.
  auto summary = formats::ParseCaseSummary(*stored, true);
  if (!summary.ok()) return Status::Corruption("stored inbox summary does not parse");
  SCHAKEL_RETURN_IF_ERROR(
      AuditOrFail(held, c, "inbox.read", r.student_id, message_id, r.purpose, "", "ok", "", InboxTo(r)));
  SCHAKEL_RETURN_IF_ERROR(
      store::MarkInboxSeen(held.db(), r.sender_id, message_id, c.user_id, FormatInstantMs(core_.clock->Now())));
  out.summary_json = formats::Project(*summary, r.categories);
  return out;
}

namespace internal {

Result<store::StartCounts> CountWaiting(store::Database& db, Instant now, const std::string& user_id,
                                        store::Role role) {
  if (role != Role::kStaff && role != Role::kCoordinator) return store::StartCounts{};
  store::StartCountWindow w;
  const Date today = AmsterdamDate(now);
  w.today = FormatDate(today);
  w.consents_until = FormatDate(AddDays(today, 30));
  w.now = FormatInstantMs(now);
  w.links_before = FormatInstantMs(now + std::chrono::days(3));
  return store::CountStart(db, user_id, role == Role::kCoordinator, w);
}

}  // namespace internal

Result<store::StartCounts> Service::StartCounts(const Caller& c) {
  NodeCore::Reading reading(core_);
  return internal::CountWaiting(reading.db(), core_.clock->Now(), c.user_id, c.role);
}

Result<InboxAssignment> Service::AssignInbox(const Caller& c, const std::string& message_id,
                                             const std::string& user_name, const std::string& from) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAssignInbox));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(const store::InboxRecord r, FindReceived(held.db(), message_id, from));
  SCHAKEL_ASSIGN_OR_RETURN(store::User user, Assignee(held, user_name));
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::AssignInbox(held.db(), r.sender_id, message_id, user.user_id, c.user_id));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "inbox.assign", r.student_id, message_id, r.purpose, "", "ok",
                                      user.user_id, AssignedTo(r, user.user_id)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return InboxAssignment{message_id, r.sender_id, user.user_id};
}

Result<InboxAdoption> Service::AdoptInbox(const Caller& c, const std::string& message_id, const std::string& basis,
                                          const std::string& from) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAdoptInbox));
  SCHAKEL_RETURN_IF_ERROR(crypto::CheckAdoptionBasis(basis));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(const store::InboxRecord r, FindReceived(held.db(), message_id, from));
  InboxAdoption out{message_id, r.sender_id, FormatInstantMs(core_.clock->Now()), c.user_id, basis};
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::AdoptInbox(held.db(), r.sender_id, message_id, c.user_id, basis, out.adopted_at));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "inbox.adopted", r.student_id, message_id, r.purpose, basis, "ok",
                                      "retention and revocation no longer purge it", InboxTo(r)));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<store::InboxRoute> Service::RouteInbox(const Caller& c, const std::string& sender_id,
                                              const std::string& student_id, const std::string& user_name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRouteInbox));
  if (!IsValidNodeId(sender_id)) return Status::InvalidInput("sender: not a node id");
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> partner, store::FindPartner(held.db(), sender_id));
  if (!partner) return Status::InvalidInput("sender: unknown partner " + sender_id + " (see schakel partner list)");
  SCHAKEL_ASSIGN_OR_RETURN(store::User user, Assignee(held, user_name));
  store::InboxRoute route{sender_id, student_id, user.user_id, c.user_id, FormatInstantMs(core_.clock->Now())};
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::SetInboxRoute(held.db(), route));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "inbox.route", student_id, sender_id, "", "", "ok", "to " + user.user_id,
                                      AuditTo{user.user_id, "", ""}));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return route;
}

Result<std::vector<store::InboxRoute>> Service::ListInboxRoutes(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRouteInbox));
  NodeCore::Held held(core_);
  return store::ListInboxRoutes(held.db());
}

Result<int> Service::PurgeExpired() {
  NodeCore::Held held(core_);
  std::string now = FormatInstantMs(core_.clock->Now());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> expired, store::ExpiredInbox(held.db(), now));
  for (const auto& r : expired) {
    store::Transaction tx(held.db());
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    SCHAKEL_RETURN_IF_ERROR(store::PurgeInbox(held.db(), r.sender_id, r.message_id, "retention", now));
    audit::AuditEvent e = SystemEvent({"inbox.purged", r.student_id, r.message_id, r.purpose, "", "ok", "retention"},
                                      "retention", InboxTo(r));
    SCHAKEL_RETURN_IF_ERROR(service::AuditOrFail(held, std::move(e)));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  return static_cast<int>(expired.size());
}

}  // namespace schakel::service
