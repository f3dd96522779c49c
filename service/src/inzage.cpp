// Inzage links (AVG art. 15) for a parent or the young person
// (consent_requests.h, docs/consent-requests.md "Inzage"): made by a
// coordinator, opened with a personal code, read live.
#include <set>

#include "schakel/audit/audit_log.h"
#include "schakel/base/strings.h"
#include "schakel/service/consent_requests.h"
#include "schakel/service/link_service.h"
#include "schakel/service/operations.h"
#include "schakel/store/consent_requests.h"
#include "schakel/store/partners.h"
#include "schakel/store/users.h"
#include "service_internal.h"

namespace schakel::service {
namespace {

// What a family reads about: sharing, links, refusals and consents; not the
// staff's own reading and listing.
const std::set<std::string>& ReportedActions() {
  static const std::set<std::string> k = {"share.permitted", "share.denied",     "share.delivered",
                                          "share.revoked",   "share.cancelled",  "share.purged",
                                          "link.created",    "link.read",        "link.revoked",
                                          "consent.record",  "consent.withdraw", "consent_request.refused"};
  return k;
}

audit::AuditEvent InzageEvent(AuditWhat what) { return SystemEvent(std::move(what), "inzage-page"); }

// The report about `student_id` as a family reads it: names no staff member
// (audit::RedactForFamily), shows only what ReportedActions lists.
Result<InzageReport> FamilyReport(NodeCore::Held& held, const std::string& student_id,
                                  const std::string& grantor_role) {
  const NodeCore& core = held.core();
  InzageReport rep;
  rep.student_id = student_id;
  rep.grantor_role = grantor_role;
  rep.organisation = core.config.name;
  rep.names[core.config.node_id] = core.config.name;
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> student, store::FindStudent(held.db(), student_id));
  if (student) rep.student_name = student->name;
  SCHAKEL_ASSIGN_OR_RETURN(rep.consents, store::ConsentsForSubject(held.db(), student_id));
  SCHAKEL_ASSIGN_OR_RETURN(rep.requests, internal::RequestViewsFor(held, student_id));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(held.db()));
  for (const auto& p : partners) rep.names[p.card.node_id] = p.card.name;
  SCHAKEL_ASSIGN_OR_RETURN(audit::SubjectAccessReport audit_report, held.audit().SubjectReport(student_id));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(held.db()));
  std::set<std::string> staff;
  for (const auto& u : users) staff.insert(u.user_id);
  audit::RedactForFamily(audit_report, staff);
  for (auto& e : audit_report.entries) {
    if (ReportedActions().count(e.action)) rep.events.push_back(std::move(e));
  }
  return rep;
}

InzagePage GoneInzage(const std::string& state) {
  InzagePage p;
  p.kind = InzagePage::Kind::kGone;
  p.state = state;
  return p;
}

}  // namespace

Result<InzageLinkCreated> ConsentRequests::CreateInzage(const Caller& c, const std::string& student_id,
                                                        const std::string& grantor_role, int days) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kIssueInzage));
  if (core_.config.links_public_url.empty()) {
    return Status::InvalidInput("inzage links need the link pages: set [links] listen (and public_url)");
  }
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("student: not a student id");
  if (grantor_role != "ouder" && grantor_role != "jongere") {
    return Status::InvalidInput("for: \"ouder\" or \"jongere\", not \"" + grantor_role + "\"");
  }
  if (days < 1 || days > kMaxInzageDays) {
    return Status::InvalidInput("days: from 1 to " + std::to_string(kMaxInzageDays));
  }
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> student, store::FindStudent(held.db(), student_id));
    if (!student) return Status::NotFound("no student " + student_id + " in the register (docs/students.md)");
  }
  const Instant now = core_.clock->Now();
  store::InzageLinkRecord r;
  r.link_id = internal::RandomId("i-", 8);
  r.student_id = student_id;
  r.grantor_role = grantor_role;
  r.created_by = c.user_id;
  r.created = FormatInstantMs(now);
  r.expires = FormatInstantMs(now + std::chrono::days{days});
  const std::string token = crypto::NewLinkToken();
  InzageLinkCreated out{r.link_id, core_.config.links_public_url + "/i/" + token, crypto::NewAccessCode(), r.expires};
  // The sealed content only proves the code: the report is read when opened.
  SCHAKEL_ASSIGN_OR_RETURN(
      crypto::SealedLink sealed,
      crypto::SealLinkContent(token, *crypto::NormaliseAccessCode(out.code), r.link_id, student_id, options_.kdf));
  const auto hash = crypto::LinkTokenHash(token);
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::InsertInzageLink(held.db(), r, {hash, sealed.salt, sealed.nonce, sealed.ciphertext}));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(
      held, internal::CallerEvent(c, {"inzage.created", student_id, r.link_id, "", "", "ok", "for:" + grantor_role})));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

namespace {

// The active link behind a token hash, into `row`; or the page to show
// instead: none, expired now (past its expiry), locked or expired before.
Result<std::optional<InzagePage>> LookUpInzage(NodeCore::Held& held, std::span<const uint8_t> hash,
                                               store::InzageLinkRecord* row) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InzageLinkRecord> r, store::FindInzageLinkByTokenHash(held.db(), hash));
  if (!r) return std::optional<InzagePage>(InzagePage{});
  if (r->state == "active" && r->expires <= FormatInstantMs(held.core().clock->Now())) {
    SCHAKEL_RETURN_IF_ERROR(store::EndInzageLink(held.db(), r->link_id, "expired"));
    AuditBestEffort(held, InzageEvent({"inzage.expired", r->student_id, r->link_id, "", "", "ok", ""}));
    return std::optional<InzagePage>(GoneInzage("expired"));
  }
  if (r->state != "active") return std::optional<InzagePage>(GoneInzage(r->state));
  *row = std::move(*r);
  return std::optional<InzagePage>();
}

}  // namespace

Result<InzagePage> ConsentRequests::VisitInzage(const std::string& token) {
  if (!crypto::IsLinkTokenShape(token)) return InzagePage{};
  NodeCore::Held held(core_);
  store::InzageLinkRecord row;
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<InzagePage> instead, LookUpInzage(held, crypto::LinkTokenHash(token), &row));
  if (instead) return *instead;
  InzagePage page;
  page.kind = InzagePage::Kind::kAskCode;
  return page;
}

// long-function: count, try the code without the lock, look again, lock or
// read the report; the same steps as ConsentRequests::Unseal.
Result<InzagePage> ConsentRequests::OpenInzage(const std::string& token, std::string_view typed_code) {
  InzagePage page;
  if (!crypto::IsLinkTokenShape(token)) return page;
  const auto hash = crypto::LinkTokenHash(token);
  store::InzageLinkRecord row;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<InzagePage> instead, LookUpInzage(held, hash, &row));
    if (instead) return *instead;
    // Counted before it is tried: an attempt that cannot be counted is never tried.
    SCHAKEL_ASSIGN_OR_RETURN(bool counted, store::CountInzageAttempt(held.db(), row.link_id));
    if (!counted) return GoneInzage(row.state);
  }
  auto code = crypto::NormaliseAccessCode(typed_code);
  Result<crypto::SecureBuffer> opened = Status::Unauthenticated("malformed code");
  if (auto sealed = internal::StoredSeal(row.has_content, row.kdf_salt, row.nonce, row.ciphertext); code && sealed) {
    opened = crypto::OpenLinkContent(token, *code, row.link_id, *sealed, options_.kdf);
  }
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InzageLinkRecord> again,
                           store::FindInzageLinkByTokenHash(held.db(), hash));
  if (!again) return InzagePage{};
  if (again->state != "active") return GoneInzage(again->state);
  if (!opened.ok()) {
    const int64_t failed = again->failed_attempts;
    if (failed >= kMaxWrongCodes) {
      SCHAKEL_RETURN_IF_ERROR(store::EndInzageLink(held.db(), row.link_id, "locked"));
      AuditBestEffort(
          held, InzageEvent({"inzage.locked", row.student_id, row.link_id, "", "", "deny", "too_many_wrong_codes"}));
      return GoneInzage("locked");
    }
    AuditBestEffort(held, InzageEvent({"inzage.wrong_code", row.student_id, row.link_id, "", "", "deny",
                                       "attempt " + std::to_string(failed)}));
    page.kind = InzagePage::Kind::kWrongCode;
    page.attempts_left = static_cast<int>(kMaxWrongCodes - failed);
    return page;
  }
  SCHAKEL_RETURN_IF_ERROR(store::ResetInzageAttempts(held.db(), row.link_id));
  SCHAKEL_ASSIGN_OR_RETURN(page.report, FamilyReport(held, row.student_id, row.grantor_role));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(
      held, InzageEvent({"inzage.read", row.student_id, row.link_id, "", "", "ok", "for:" + row.grantor_role})));
  page.kind = InzagePage::Kind::kReport;
  return page;
}

Result<InzageReport> ConsentRequests::FamilyReportFor(const Caller& c, const std::string& student_id) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kAuditSubject));
  if (!IsValidObjectId(student_id)) return Status::InvalidInput("leerling: not a student id");
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(InzageReport rep, FamilyReport(held, student_id, "ouder"));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, internal::CallerEvent(c, {"audit.subject_report", student_id, "", "", "",
                                                                      "ok", "for the family (Dutch page)"})));
  return rep;
}

}  // namespace schakel::service
