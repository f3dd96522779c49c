// The service's operations and the roles that may perform each (DESIGN.md
// "Roles"), in one table. Every operation of Service starts with
// Authorize(c, Op::...); a front end may ask the same question before it
// parses a request, so a caller without the role is refused before its input
// is read.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/store/users.h"

namespace schakel::service {

struct Caller;

enum class Op : uint8_t {
  kAddCase,
  kUpdateCase,
  kShowCase,
  kListCases,
  kAssignCase,
  kAddConsent,
  kWithdrawConsent,
  kListConsents,
  kShare,
  kApproveMeldcode,
  kRejectMeldcode,
  kCancelMeldcode,
  kShowShare,
  kReadJustification,
  kListShares,
  kRecallShare,
  kListInbox,
  kShowInbox,
  kNodeStatus,
  kDisplayNames,
  kAuditQuery,
  kAuditExport,
  kAuditSubject,
  kAuditVerify,
  kListUsers,
  kListPartners,
  kCreateLink,
  kListLinks,
  kRevokeLink,
  kNewLinkCode,
  kReadMetrics,
  kImportStudents,
  kListStudents,
  kUpdateStudent,
  kAssignInbox,
  kRouteInbox,
  kAdoptInbox,
  kUnlockUser,
  kDisableUser,
  kEnableUser,
  kRemoveUser,
  kSetUserRole,
  kConfirmGrant,
  kListPendingGrants,
  kRequestConsent,
  kListConsentRequests,
  kIssueInzage,
  kCount
};

using RoleMask = uint8_t;
constexpr RoleMask RoleBit(store::Role r) { return static_cast<RoleMask>(1u << static_cast<unsigned>(r)); }
inline constexpr RoleMask kStaffOrCoordinator = RoleBit(store::Role::kStaff) | RoleBit(store::Role::kCoordinator);
inline constexpr RoleMask kCoordinatorOnly = RoleBit(store::Role::kCoordinator);
inline constexpr RoleMask kAuditorOnly = RoleBit(store::Role::kAuditor);
inline constexpr RoleMask kCoordinatorOrAuditor = RoleBit(store::Role::kCoordinator) | RoleBit(store::Role::kAuditor);
inline constexpr RoleMask kAdminOnly = RoleBit(store::Role::kAdmin);
// Consents and their evidence: staff (their cases' students), coordinators,
// and auditors checking what a share rested on -- every read audited.
inline constexpr RoleMask kStaffCoordinatorOrAuditor = kStaffOrCoordinator | RoleBit(store::Role::kAuditor);
inline constexpr RoleMask kAnyRole = RoleBit(store::Role::kStaff) | RoleBit(store::Role::kCoordinator) |
                                     RoleBit(store::Role::kAuditor) | RoleBit(store::Role::kAdmin);

struct OpRule {
  Op op;
  RoleMask allowed;
  std::string_view what;  // "the <role> role may not <what>"
};

// Indexed by Op.
inline constexpr std::array<OpRule, static_cast<size_t>(Op::kCount)> kOpRules = {{
    {Op::kAddCase, kStaffOrCoordinator, "create cases"},
    {Op::kUpdateCase, kStaffOrCoordinator, "change cases"},
    {Op::kShowCase, kStaffOrCoordinator, "read cases"},
    {Op::kListCases, kStaffOrCoordinator, "list cases"},
    {Op::kAssignCase, kStaffOrCoordinator, "assign cases"},
    {Op::kAddConsent, kCoordinatorOnly, "record consents"},
    {Op::kWithdrawConsent, kCoordinatorOnly, "withdraw consents"},
    {Op::kListConsents, kStaffCoordinatorOrAuditor, "read consents"},
    {Op::kShare, kStaffOrCoordinator, "share cases"},
    {Op::kApproveMeldcode, kCoordinatorOnly, "approve Meldcode shares"},
    {Op::kRejectMeldcode, kCoordinatorOnly, "reject Meldcode shares"},
    // Only the requester, checked in the operation; a coordinator who is not
    // the requester rejects instead (with a reason).
    {Op::kCancelMeldcode, kStaffOrCoordinator, "cancel Meldcode shares"},
    // The justification of a Meldcode share only to a coordinator and the
    // requester, checked in the operation (each reading audited).
    {Op::kShowShare, kStaffOrCoordinator, "read shares"},
    // Audited as share.justification_read.
    {Op::kReadJustification, kCoordinatorOrAuditor, "read Meldcode justifications"},
    {Op::kListShares, kStaffOrCoordinator, "list shares"},
    {Op::kRecallShare, kStaffOrCoordinator, "recall shares"},  // staff: only their own (RecallShare)
    {Op::kListInbox, kStaffOrCoordinator, "read the inbox"},
    {Op::kShowInbox, kStaffOrCoordinator, "read the inbox"},
    {Op::kNodeStatus, kAnyRole, "see the node's status"},  // nothing in it is personal data
    // Colleagues' and partners' names for the pages people read: directory
    // information, no student's data.
    {Op::kDisplayNames, kAnyRole, "see colleagues' and partners' names"},
    {Op::kAuditQuery, kAuditorOnly, "read the audit log"},
    {Op::kAuditExport, kAuditorOnly, "export the audit log"},
    {Op::kAuditSubject, kAuditorOnly, "read the audit log"},
    {Op::kAuditVerify, kAuditorOnly, "verify the audit log"},
    {Op::kListUsers, kAdminOnly, "list users"},
    {Op::kListPartners, kAdminOnly, "list partners"},
    {Op::kCreateLink, kStaffOrCoordinator, "create links"},
    {Op::kListLinks, kStaffOrCoordinator, "list links"},
    {Op::kRevokeLink, kStaffOrCoordinator, "revoke links"},
    {Op::kNewLinkCode, kStaffOrCoordinator, "manage links"},
    {Op::kReadMetrics, kAdminOnly, "read the metrics"},  // GET /metrics: counts, no personal data
    // The register: staff create cases only for registered students and
    // never change who a student is (docs/students.md).
    {Op::kImportStudents, kCoordinatorOnly, "import students"},
    {Op::kListStudents, kCoordinatorOnly, "read the student register"},
    {Op::kUpdateStudent, kCoordinatorOnly, "change a student's birth date or guardians"},
    // Received shares wait in the coordinators' queue until assigned.
    {Op::kAssignInbox, kCoordinatorOnly, "assign received shares"},
    {Op::kRouteInbox, kCoordinatorOnly, "route received shares"},
    {Op::kAdoptInbox, kCoordinatorOnly, "adopt received shares into the dossier"},
    // POST /v1/users/{name}/unlock: clears a user's console sign-in waits
    // (daemon/src/sign_in_throttle.h); audited user.unlock.
    {Op::kUnlockUser, kAdminOnly, "unlock users"},
    {Op::kDisableUser, kAdminOnly, "disable users"},
    {Op::kEnableUser, kAdminOnly, "enable users"},
    {Op::kRemoveUser, kAdminOnly, "remove users"},
    // staff and coordinator only pending, confirmed by kConfirmGrant.
    {Op::kSetUserRole, kAdminOnly, "change users' roles"},
    // Not by the requester nor for oneself, checked in store::ConfirmGrant.
    {Op::kConfirmGrant, kCoordinatorOnly, "confirm staff and coordinator roles"},
    {Op::kListPendingGrants, kCoordinatorOnly, "see roles waiting for confirmation"},
    // Permission requests to parents and young people (docs/consent-requests.md).
    {Op::kRequestConsent, kCoordinatorOnly, "ask parents or young people for permission"},
    {Op::kListConsentRequests, kCoordinatorOrAuditor, "read permission requests"},
    {Op::kIssueInzage, kCoordinatorOnly, "issue inzage links to parents or young people"},
}};

constexpr bool TableInOrder() {
  for (size_t i = 0; i < kOpRules.size(); ++i) {
    if (static_cast<size_t>(kOpRules[i].op) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kOpRules must list the operations in the order of Op");

constexpr bool Allowed(Op op, store::Role role) {
  return (kOpRules[static_cast<size_t>(op)].allowed & RoleBit(role)) != 0;
}

// Ok when the caller's role may perform `op`; kDenied ("the auditor role may
// not share cases") otherwise. Not audited: a role refusal touches no data.
Status Authorize(const Caller& c, Op op);

}  // namespace schakel::service
