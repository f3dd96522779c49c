// The access log for auditors: query, export, subject report, verification.
// Each read is itself logged.
#include <mutex>
#include <set>
#include <sstream>

#include "schakel/audit/ldv.h"
#include "schakel/base/strings.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "service_internal.h"

namespace schakel::service {

Result<AuditFound> Service::AuditQuery(const Caller& c, const audit::AuditFilter& filter) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditQuery));
  NodeCore::Held held(core_);
  AuditFound out;
  SCHAKEL_ASSIGN_OR_RETURN(out.entries, held.audit().Query(filter));
  // The names behind the ids, so an auditor can answer "who" and "to whom".
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(held.db()));
  for (const auto& u : users) out.names[u.user_id] = u.name;
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(held.db()));
  for (const auto& p : partners) out.names[p.card.node_id] = p.card.name;
  out.names[core_.config.node_id] = core_.config.name;
  std::string what = "subject=" + filter.subject + " user=" + filter.user + " action=" + filter.action;
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "audit.query", filter.subject, "", "", "", "ok", what));
  return out;
}

Result<Export> Service::AuditExport(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditExport));
  NodeCore::Held held(core_);
  // The export's own read is logged first, so the export includes it.
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "audit.export", "", "", "", "", "ok", ""));
  std::ostringstream out;
  SCHAKEL_RETURN_IF_ERROR(held.audit().Export(out));
  return Export{out.str(), "application/x-ndjson"};
}

Result<Export> Service::AuditExportLdv(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditExport));
  NodeCore::Held held(core_);
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "audit.export", "", "", "", "", "ok", "format=ldv"));
  std::stringstream plain;
  SCHAKEL_RETURN_IF_ERROR(held.audit().Export(plain));
  crypto::SecureBuffer key = audit::LdvSubjectKey(core_.keys.identity());
  std::ostringstream out;
  SCHAKEL_RETURN_IF_ERROR(audit::ExportLdv(plain, audit::LdvOptions{core_.config.node_id, key.span()}, out));
  return Export{out.str(), "application/x-ndjson"};
}

Result<audit::SubjectAccessReport> Service::SubjectReport(const Caller& c, const std::string& subject, bool internal) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditSubject));
  if (!IsValidObjectId(subject)) return Status::InvalidInput("subject: not a student id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(audit::SubjectAccessReport report, held.audit().SubjectReport(subject));
  if (!internal) {
    SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(held.db()));
    std::set<std::string> staff;
    for (const auto& u : users) staff.insert(u.user_id);
    audit::RedactForFamily(report, staff);
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "audit.subject_report", subject, "", "", "", "ok",
                                      internal ? "internal (staff named)" : "for the family"));
  return report;
}

Result<AuditVerification> Service::AuditVerify(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditVerify));
  NodeCore::Held held(core_);
  Status verified = held.audit().VerifyStored();
  AuditBestEffort(held, c, "audit.verify", "", "", "", "", verified.ok() ? "ok" : "fail",
                  verified.ok() ? "" : verified.message());
  if (!verified.ok()) return AuditVerification{false, verified.message()};
  return AuditVerification{true, ""};
}

}  // namespace schakel::service
