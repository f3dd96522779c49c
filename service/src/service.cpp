#include "schakel/service/service.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "schakel/base/fault_inject.h"
#include "schakel/base/fault_point.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/base/version.h"
#include "schakel/consent/engine.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/password.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/crypto/totp.h"
#include "schakel/formats/case_summary.h"
#include "schakel/formats/consent_json.h"
#include "schakel/formats/scenario.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::service {
namespace {

using store::Role;
using store::ShareState;

constexpr const char* kContentType = "application/vnd.schakel.case+json";
constexpr const char* kPendingApprover = "(pending second approval)";

std::string RandomId(const char* prefix, size_t bytes) {
  crypto::SecureBuffer b = crypto::SecureBuffer::Random(bytes);
  return std::string(prefix) + ToHex(b.span());
}

Json CategoryNames(consent::CategorySet set) {
  Json out = Json::array();
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) out.push_back(std::string(consent::Name(c)));
  }
  return out;
}

std::string ReasonCodes(const consent::Decision& d) {
  std::vector<std::string> codes;
  for (const auto& r : d.reasons) {
    if (std::find(codes.begin(), codes.end(), r.code) == codes.end()) codes.push_back(r.code);
  }
  return Join(codes, ",");
}

std::string ReasonText(const consent::Decision& d) {
  std::vector<std::string> parts;
  for (const auto& r : d.reasons) parts.push_back(r.code + ": " + r.message);
  return Join(parts, "; ");
}

bool IsPurposeName(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  for (char ch : p) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
  }
  return true;
}

Status RoleIn(const Caller& c, std::initializer_list<Role> roles, std::string_view what) {
  for (Role r : roles) {
    if (c.role == r) return Status::Ok();
  }
  return Status::Denied("the " + std::string(store::RoleName(c.role)) + " role may not " + std::string(what));
}

bool CanSeeCase(const Caller& c, const store::CaseRecord& r) {
  if (c.role == Role::kCoordinator) return true;
  if (c.role != Role::kStaff) return false;
  if (r.created_by == c.user_id) return true;
  return std::find(r.assigned.begin(), r.assigned.end(), c.user_id) != r.assigned.end();
}

Json ShareJson(const store::ShareRecord& s) {
  return Json{{"message_id", s.message_id},
              {"case_id", s.case_id},
              {"student_id", s.student_id},
              {"recipient", s.recipient_id},
              {"purpose", s.purpose},
              {"legal_basis", s.legal_basis},
              {"categories", CategoryNames(s.categories)},
              {"withheld", CategoryNames(s.withheld)},
              {"consents", s.consent_ids},
              {"state", std::string(store::ShareStateName(s.state))},
              {"state_reason", s.state_reason ? Json(*s.state_reason) : Json(nullptr)},
              {"created", s.created},
              {"retain_until", s.retain_until},
              {"delivered_at", s.delivered_at ? Json(*s.delivered_at) : Json(nullptr)},
              {"requested_by", s.requested_by},
              {"approved_by", s.approved_by ? Json(*s.approved_by) : Json(nullptr)}};
}

Json InboxJson(const store::InboxRecord& r) {
  return Json{{"message_id", r.message_id},
              {"from", r.sender_id},
              {"student_id", r.student_id},
              {"purpose", r.purpose},
              {"categories", CategoryNames(r.categories)},
              {"created", r.created},
              {"received", r.received},
              {"retain_until", r.retain_until},
              {"state", r.state},
              {"purged_at", r.purged_at ? Json(*r.purged_at) : Json(nullptr)},
              {"purge_reason", r.purge_reason ? Json(*r.purge_reason) : Json(nullptr)}};
}

Json ConsentJson(const store::ConsentRecord& r) {
  Json j = formats::ConsentToJsonValue(r.consent);
  j["recorded_by"] = r.recorded_by;
  j["recorded_at"] = r.recorded_at;
  j["evidence"] = r.evidence;
  j["withdrawn_by"] = r.withdrawn_by ? Json(*r.withdrawn_by) : Json(nullptr);
  return j;
}

// The consent-engine request for sharing a case's student with a partner.
Result<consent::Request> BuildRequest(NodeCore& core, const store::CaseRecord& kase, const consent::Party& recipient,
                                      const std::string& purpose, std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override) {
  auto birth = ParseDate(kase.birth_date);
  if (!birth.ok()) return Status::Corruption("stored case has a bad birth date");
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ConsentRecord> records,
                           store::ConsentsForSubject(*core.db, kase.student_id));
  consent::Request req;
  req.now = core.clock->Now();
  req.subject_id = kase.student_id;
  req.birth_date = *birth;
  req.sender = {core.config.node_id, core.config.org_type};
  req.recipient = recipient;
  req.purpose = purpose;
  req.categories = std::move(categories);
  for (auto& r : records) req.consents.push_back(std::move(r.consent));
  req.override = std::move(override);
  return req;
}

Result<consent::Request> BuildRequest(NodeCore& core, const store::CaseRecord& kase, const store::Partner& partner,
                                      const std::string& purpose, std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override) {
  auto org_type = consent::ParseOrgType(partner.card.org_type);
  if (!org_type) return Status::Corruption("partner " + partner.card.node_id + " has an unknown org type");
  return BuildRequest(core, kase, consent::Party{partner.card.node_id, *org_type}, purpose, std::move(categories),
                      std::move(override));
}

Result<store::CaseRecord> LoadCase(NodeCore& core, const std::string& case_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::CaseRecord> r, store::FindCase(*core.db, case_id));
  if (!r) return Status::NotFound("no case " + case_id);
  return *r;
}

Result<store::Partner> LoadPartner(NodeCore& core, const std::string& node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> p, store::FindPartner(*core.db, node_id));
  if (!p) return Status::InvalidInput("unknown partner " + node_id + " (see schakel partner list)");
  return *p;
}

// Seals the case, projected onto the share's categories, for the partner and
// queues it. REQUIRES: core.mu held, inside a transaction.
Status SealAndQueue(NodeCore& core, store::ShareRecord& share, const store::CaseRecord& kase,
                    const store::Partner& partner) {
  SCHAKEL_ASSIGN_OR_RETURN(formats::CaseSummary summary, formats::ParseCaseSummary(kase.summary, true));
  std::string body = formats::Project(summary, share.categories);
  crypto::EnvelopeHeader h;
  h.message_id = share.message_id;
  h.sender_id = core.config.node_id;
  h.recipient_id = partner.card.node_id;
  h.created = *ParseInstant(share.created);
  h.retain_until = *ParseInstant(share.retain_until);
  h.purpose = share.purpose;
  h.consent_ids = share.consent_ids;
  h.content_type = kContentType;
  auto envelope = crypto::Seal(h, body, core.keys.identity(), partner.card.enc_pk);
  crypto::BodyHash hash = crypto::HashBody(body);
  crypto::Wipe(body.data(), body.size());
  if (!envelope.ok()) return envelope.status().WithContext("sealing the share");
  share.body_hash.assign(hash.begin(), hash.end());
  SCHAKEL_RETURN_IF_ERROR(store::SetShareBodyHash(*core.db, share.message_id, share.body_hash));
  Instant now = core.clock->Now();
  SCHAKEL_RETURN_IF_ERROR(store::EnqueueOutgoing(*core.db, "share", share.message_id, partner.card.node_id, *envelope,
                                                 now.time_since_epoch().count(), FormatInstantMs(now)));
  return Status::Ok();
}

}  // namespace

audit::AuditEvent SystemEvent(AuditWhat what, std::string source) {
  audit::AuditEvent e;
  e.actor_user = "schakeld";
  e.actor_role = "system";
  e.action = std::move(what.action);
  e.subject = std::move(what.subject);
  e.object = std::move(what.object);
  e.purpose = std::move(what.purpose);
  e.legal_basis = std::move(what.legal_basis);
  e.outcome = std::move(what.outcome);
  e.reason = std::move(what.reason);
  e.source = std::move(source);
  return e;
}

namespace {

// The one writer under both policies (node_core.h).
Status AppendAudit(NodeCore& core, audit::AuditEvent event) {
  if (event.actor_org.empty()) event.actor_org = core.config.node_id;
  if (FaultFail("audit.append")) return Status::IoError("audit log: injected failure (audit.append)");
  auto seq = core.audit->Append(event);
  return seq.ok() ? Status::Ok() : seq.status().WithContext("audit log");
}

audit::AuditEvent CallerEvent(const Caller& c, AuditWhat what) {
  audit::AuditEvent e = SystemEvent(std::move(what), c.source);
  e.actor_user = c.user_id;
  e.actor_role = std::string(store::RoleName(c.role));
  return e;
}

}  // namespace

Status AuditOrFail(NodeCore& core, audit::AuditEvent event) { return AppendAudit(core, std::move(event)); }

void AuditBestEffort(NodeCore& core, audit::AuditEvent event) {
  // The subject and reason may be personal; the action and object id are not.
  std::string action = event.action;
  std::string object = event.object;
  Status st = AppendAudit(core, std::move(event));
  if (!st.ok()) LogError("audit: entry " + action + " on " + object + " not written: " + st.message());
}

Status Service::AuditOrFail(const Caller& c, std::string action, std::string subject, std::string object,
                            std::string purpose, std::string legal_basis, std::string outcome, std::string reason) {
  return service::AuditOrFail(
      core_, CallerEvent(c, {std::move(action), std::move(subject), std::move(object), std::move(purpose),
                             std::move(legal_basis), std::move(outcome), std::move(reason)}));
}

void Service::AuditBestEffort(const Caller& c, std::string action, std::string subject, std::string object,
                              std::string purpose, std::string legal_basis, std::string outcome, std::string reason) {
  service::AuditBestEffort(core_,
                           CallerEvent(c, {std::move(action), std::move(subject), std::move(object), std::move(purpose),
                                           std::move(legal_basis), std::move(outcome), std::move(reason)}));
}

Result<Caller> Service::Authenticate(std::string_view token) {
  if (token.size() < 8 || token.size() > 256) return Status::Unauthenticated("missing or malformed bearer token");
  store::TokenHash hash = crypto::Sha256({reinterpret_cast<const uint8_t*>(token.data()), token.size()});
  std::lock_guard<std::mutex> lock(core_.mu);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserByTokenHash(*core_.db, hash));
  if (!user || user->disabled_at) return Status::Unauthenticated("unknown or disabled token");
  return Caller{user->user_id, user->name, user->role, "api"};
}

// ---- cases -----------------------------------------------------------------

Reply Service::AddCase(const Caller& c, std::string_view summary_json) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "create cases"); !st.ok()) return Reply::Error(st);
  auto parsed = formats::ParseCaseSummary(summary_json, /*require_case_id=*/false);
  if (!parsed.ok()) return Reply::Error(parsed.status().WithContext("case summary"));
  formats::CaseSummary s = std::move(parsed).value();
  if (s.case_id.empty()) s.case_id = RandomId("casus-", 8);
  s.document["case_id"] = s.case_id;
  std::string now = FormatInstantMs(core_.clock->Now());
  store::CaseRecord r;
  r.case_id = s.case_id;
  r.student_id = s.student_id;
  r.birth_date = FormatDate(s.birth_date);
  r.created_by = c.user_id;
  r.created = r.updated = now;
  r.summary = s.document.dump();
  std::lock_guard<std::mutex> lock(core_.mu);
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::InsertCase(*core_.db, r); !st.ok()) return Reply::Error(st);
  if (Status st = AuditOrFail(c, "case.create", r.student_id, r.case_id, "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"case_id", r.case_id}, {"version", 1}});
}

Reply Service::UpdateCase(const Caller& c, const std::string& case_id, std::string_view summary_json) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "change cases"); !st.ok()) return Reply::Error(st);
  auto parsed = formats::ParseCaseSummary(summary_json, false);
  if (!parsed.ok()) return Reply::Error(parsed.status().WithContext("case summary"));
  formats::CaseSummary s = std::move(parsed).value();
  if (!s.case_id.empty() && s.case_id != case_id) {
    return Reply::Error(Status::InvalidInput("case_id: does not match the case being updated"));
  }
  s.document["case_id"] = case_id;
  std::lock_guard<std::mutex> lock(core_.mu);
  auto kase = LoadCase(core_, case_id);
  if (!kase.ok()) return Reply::Error(kase.status());
  if (!CanSeeCase(c, *kase)) return Reply::Error(Status::Denied("case " + case_id + " is not yours"));
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  auto version = store::UpdateCase(*core_.db, case_id, s.student_id, FormatDate(s.birth_date), s.document.dump(),
                                   c.user_id, FormatInstantMs(core_.clock->Now()));
  if (!version.ok()) return Reply::Error(version.status());
  if (Status st = AuditOrFail(c, "case.update", s.student_id, case_id, "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"case_id", case_id}, {"version", *version}});
}

Reply Service::ShowCase(const Caller& c, const std::string& case_id) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "read cases"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto kase = LoadCase(core_, case_id);
  if (!kase.ok()) return Reply::Error(kase.status());
  if (!CanSeeCase(c, *kase)) {
    AuditBestEffort(c, "case.read", kase->student_id, case_id, "", "", "deny", "not_assigned");
    return Reply::Error(Status::Denied("case " + case_id + " is not yours"));
  }
  auto history = store::CaseHistory(*core_.db, case_id);
  if (!history.ok()) return Reply::Error(history.status());
  if (Status st = AuditOrFail(c, "case.read", kase->student_id, case_id, "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  Json versions = Json::array();
  for (const auto& v : *history) {
    versions.push_back({{"version", v.version}, {"updated_by", v.updated_by}, {"updated", v.updated}});
  }
  return Reply::Ok({{"case_id", kase->case_id},
                    {"student_id", kase->student_id},
                    {"version", kase->version},
                    {"created_by", kase->created_by},
                    {"created", kase->created},
                    {"updated", kase->updated},
                    {"assigned", kase->assigned},
                    {"versions", versions},
                    {"summary", Json::parse(kase->summary, nullptr, false)}});
}

Reply Service::ListCases(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "list cases"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  std::optional<std::string> visible;
  if (c.role == Role::kStaff) visible = c.user_id;
  auto cases = store::ListCases(*core_.db, visible);
  if (!cases.ok()) return Reply::Error(cases.status());
  Json list = Json::array();
  for (const auto& r : *cases) {
    list.push_back({{"case_id", r.case_id},
                    {"student_id", r.student_id},
                    {"version", r.version},
                    {"updated", r.updated},
                    {"created_by", r.created_by}});
  }
  return Reply::Ok({{"cases", list}});
}

Reply Service::AssignCase(const Caller& c, const std::string& case_id, const std::string& user_name) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "assign cases"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto kase = LoadCase(core_, case_id);
  if (!kase.ok()) return Reply::Error(kase.status());
  if (c.role != Role::kCoordinator && kase->created_by != c.user_id) {
    return Reply::Error(Status::Denied("only the case's creator or a coordinator may assign it"));
  }
  auto user = store::FindUserByName(*core_.db, user_name);
  if (!user.ok()) return Reply::Error(user.status());
  if (!*user) return Reply::Error(Status::InvalidInput("no user named \"" + user_name + "\""));
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::AssignCase(*core_.db, case_id, (*user)->user_id); !st.ok()) return Reply::Error(st);
  if (Status st = AuditOrFail(c, "case.assign", kase->student_id, case_id, "", "", "ok", (*user)->user_id); !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"case_id", case_id}, {"assigned", (*user)->user_id}});
}

// ---- consents --------------------------------------------------------------

Reply Service::AddConsent(const Caller& c, std::string_view body) {
  if (Status st = RoleIn(c, {Role::kCoordinator}, "record consents"); !st.ok()) return Reply::Error(st);
  auto doc = formats::ParseJsonLimited(body, {64 * 1024, 16});
  if (!doc.ok()) return Reply::Error(doc.status());
  // Either the consent itself, or {"consent": {...}, "evidence": "..."}.
  const formats::Json* consent_obj = &*doc;
  std::string evidence = "not stated";
  if (doc->is_object() && doc->contains("consent")) {
    formats::Fields f(*doc, "");
    if (Status st = f.OnlyKeys({"consent", "evidence"}); !st.ok()) return Reply::Error(st);
    auto obj = f.Object("consent");
    if (!obj.ok()) return Reply::Error(obj.status());
    consent_obj = *obj;
    auto ev = f.OptString("evidence", 500);
    if (!ev.ok()) return Reply::Error(ev.status());
    if (*ev) {
      if (!IsPrintableUtf8(**ev) || (*ev)->empty()) {
        return Reply::Error(Status::InvalidInput("evidence: must be 1 to 500 printable characters"));
      }
      evidence = **ev;
    }
  }
  auto parsed = formats::ParseConsentJson(*consent_obj, "", /*require_id=*/false);
  if (!parsed.ok()) return Reply::Error(parsed.status());
  store::ConsentRecord r;
  r.consent = std::move(parsed).value();
  if (r.consent.withdrawn_at) {
    return Reply::Error(Status::InvalidInput("withdrawn_at: record the consent first, then withdraw it"));
  }
  if (r.consent.id.empty()) r.consent.id = RandomId("c-", 8);
  r.recorded_by = c.user_id;
  r.recorded_at = FormatInstantMs(core_.clock->Now());
  r.evidence = evidence;
  std::lock_guard<std::mutex> lock(core_.mu);
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::InsertConsent(*core_.db, r); !st.ok()) return Reply::Error(st);
  if (Status st = AuditOrFail(c, "consent.record", r.consent.subject_id, r.consent.id, Join(r.consent.purposes, ","),
                              "consent", "ok", std::string(consent::Name(r.consent.grantor_role)));
      !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  return Reply::Ok({{"consent_id", r.consent.id}});
}

Reply Service::WithdrawConsent(const Caller& c, const std::string& consent_id) {
  if (Status st = RoleIn(c, {Role::kCoordinator}, "withdraw consents"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto record = store::FindConsent(*core_.db, consent_id);
  if (!record.ok()) return Reply::Error(record.status());
  if (!*record) return Reply::Error(Status::NotFound("no consent " + consent_id));
  Instant now = core_.clock->Now();
  std::string at = FormatInstantMs(now);
  auto shares = store::SharesUsingConsent(*core_.db, consent_id);
  if (!shares.ok()) return Reply::Error(shares.status());
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::WithdrawConsent(*core_.db, consent_id, now, c.user_id); !st.ok()) return Reply::Error(st);
  const std::string& subject = (*record)->consent.subject_id;
  if (Status st = AuditOrFail(c, "consent.withdraw", subject, consent_id, "", "consent", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  Json cancelled = Json::array(), revoked = Json::array();
  for (const auto& s : *shares) {
    if (s.state == ShareState::kQueued || s.state == ShareState::kPendingApproval) {
      if (Status st = store::SetShareState(*core_.db, s.message_id, ShareState::kCancelled, "consent_withdrawn", at);
          !st.ok()) {
        return Reply::Error(st);
      }
      if (Status st = store::RemoveOutgoing(*core_.db, "share", s.message_id); !st.ok()) return Reply::Error(st);
      if (Status st = AuditOrFail(c, "share.cancelled", s.student_id, s.message_id, s.purpose, s.legal_basis, "ok",
                                  "consent_withdrawn");
          !st.ok()) {
        return Reply::Error(st);
      }
      cancelled.push_back(s.message_id);
    } else if (s.state == ShareState::kDelivered) {
      auto rev = crypto::MakeRevocation(s.message_id, core_.config.node_id, s.recipient_id, "consent_withdrawn", now,
                                        core_.keys.identity());
      if (!rev.ok()) return Reply::Error(rev.status());
      if (Status st = store::EnqueueOutgoing(*core_.db, "revocation", s.message_id, s.recipient_id,
                                             crypto::EncodeRevocation(*rev), now.time_since_epoch().count(), at);
          !st.ok()) {
        return Reply::Error(st);
      }
      if (Status st = store::SetShareState(*core_.db, s.message_id, ShareState::kRevoked, "consent_withdrawn", at);
          !st.ok()) {
        return Reply::Error(st);
      }
      if (Status st = AuditOrFail(c, "share.revoked", s.student_id, s.message_id, s.purpose, s.legal_basis, "ok",
                                  "consent_withdrawn");
          !st.ok()) {
        return Reply::Error(st);
      }
      revoked.push_back(s.message_id);
    }
  }
  // Dossier links that relied on the consent stop working at once: their
  // sealed content is deleted, as a delivered share is revoked.
  auto links = store::OpenLinksUsingConsent(*core_.db, consent_id);
  if (!links.ok()) return Reply::Error(links.status());
  Json links_revoked = Json::array();
  for (const auto& l : *links) {
    if (Status st = store::RevokeLink(*core_.db, l.link_id, "consent_withdrawn", at); !st.ok()) {
      return Reply::Error(st);
    }
    if (Status st = AuditOrFail(c, "link.revoked", l.student_id, l.link_id, l.purpose, l.legal_basis, "ok",
                                "consent_withdrawn");
        !st.ok()) {
      return Reply::Error(st);
    }
    links_revoked.push_back(l.link_id);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  core_.WakeDelivery();
  return Reply::Ok({{"consent_id", consent_id},
                    {"withdrawn_at", at},
                    {"cancelled", cancelled},
                    {"revoked", revoked},
                    {"links_revoked", links_revoked}});
}

Reply Service::ListConsents(const Caller& c, const std::string& student_id) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "read consents"); !st.ok()) return Reply::Error(st);
  if (!IsValidObjectId(student_id)) return Reply::Error(Status::InvalidInput("--student: not a student id"));
  std::lock_guard<std::mutex> lock(core_.mu);
  if (c.role == Role::kStaff) {
    auto visible = store::ListCases(*core_.db, c.user_id);
    if (!visible.ok()) return Reply::Error(visible.status());
    bool mine = std::any_of(visible->begin(), visible->end(),
                            [&](const store::CaseRecord& r) { return r.student_id == student_id; });
    if (!mine) return Reply::Error(Status::Denied("no case of yours concerns student " + student_id));
  }
  auto records = store::ConsentsForSubject(*core_.db, student_id);
  if (!records.ok()) return Reply::Error(records.status());
  Json list = Json::array();
  for (const auto& r : *records) {
    Json j = ConsentJson(r);
    auto used = store::SharesUsingConsent(*core_.db, r.consent.id);
    if (!used.ok()) return Reply::Error(used.status());
    Json shares = Json::array();
    for (const auto& s : *used) {
      shares.push_back({{"message_id", s.message_id},
                        {"recipient", s.recipient_id},
                        {"state", std::string(store::ShareStateName(s.state))}});
    }
    j["shares"] = shares;
    list.push_back(std::move(j));
  }
  if (Status st = AuditOrFail(c, "consent.read", student_id, "", "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  return Reply::Ok({{"student_id", student_id}, {"consents", list}});
}

// ---- the egress gate -------------------------------------------------------

Reply Service::Gate(const Caller& c, const GateRequest& g, GateResult* out) {
  std::vector<consent::Category> requested;
  for (const auto& name : g.categories) {
    auto cat = consent::ParseCategory(name);
    if (!cat) return Reply::Error(Status::InvalidInput("--category: unknown category \"" + name + "\""));
    requested.push_back(*cat);
  }
  const std::string denied = g.action + ".denied";
  auto kase = LoadCase(core_, g.case_id);
  if (!kase.ok()) return Reply::Error(kase.status());
  if (!CanSeeCase(c, *kase)) {
    AuditBestEffort(c, denied, kase->student_id, g.case_id, g.purpose, "", "deny", "not_assigned");
    return Reply::Error(Status::Denied("case " + g.case_id + " is not yours"));
  }
  if (requested.empty()) {
    auto summary = formats::ParseCaseSummary(kase->summary, true);
    if (!summary.ok()) return Reply::Error(summary.status());
    for (consent::Category cat : consent::kAllCategories) {
      if (summary->Present().Has(cat)) requested.push_back(cat);
    }
  }
  auto request = BuildRequest(core_, *kase, g.recipient, g.purpose, requested, g.override);
  if (!request.ok()) return Reply::Error(request.status());
  consent::Decision d = consent::Decide(core_.protocol, *request);
  Json decision = formats::DecisionToJsonValue(d);
  const std::string legal = d.legal_basis ? std::string(consent::Name(*d.legal_basis)) : "";
  if (!d.permit) {
    AuditBestEffort(c, denied, kase->student_id, g.audit_object, g.purpose, legal, "deny", ReasonCodes(d));
    return Reply::Error(Status::Denied(g.action + " refused: " + ReasonText(d)), {{"decision", decision}});
  }
  if (!d.withheld.Empty() && !g.allow_partial) {
    AuditBestEffort(c, denied, kase->student_id, g.audit_object, g.purpose, legal, "deny",
                    "partial_not_allowed," + ReasonCodes(d));
    std::vector<std::string> held;
    for (const auto& n : CategoryNames(d.withheld)) held.push_back(n.get<std::string>());
    return Reply::Error(Status::Denied(g.action + " refused: it would withhold " + Join(held, ", ") + " (" +
                                       ReasonText(d) + "); add --allow-partial to send only what is allowed"),
                        {{"decision", decision}});
  }
  out->kase = std::move(*kase);
  out->decision = std::move(d);
  out->decision_json = std::move(decision);
  out->legal_basis = legal;
  return Reply::Ok(Json::object());
}

Reply Service::Share(const Caller& c, const ShareRequest& req) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "share cases"); !st.ok()) return Reply::Error(st);
  if (!IsPurposeName(req.purpose)) return Reply::Error(Status::InvalidInput("--purpose: not a purpose name"));
  if (!IsValidNodeId(req.to)) return Reply::Error(Status::InvalidInput("--to: not a node id"));
  if (req.justification.size() > 2000 || !IsPrintableUtf8(req.justification)) {
    return Reply::Error(Status::InvalidInput("--justification: at most 2000 printable characters"));
  }

  std::lock_guard<std::mutex> lock(core_.mu);
  auto partner = LoadPartner(core_, req.to);
  if (!partner.ok()) return Reply::Error(partner.status());
  auto org_type = consent::ParseOrgType(partner->card.org_type);
  if (!org_type) return Reply::Error(Status::Corruption("partner " + req.to + " has an unknown org type"));
  // A Meldcode share is decided as if a second person had approved; it waits
  // for that approval before it is sealed.
  std::optional<consent::Override> override;
  const consent::Flow* flow = core_.protocol.FindFlow(req.purpose, core_.config.org_type, {req.to, *org_type});
  bool meldcode = flow != nullptr && flow->basis == consent::LegalBasis::kMeldcode;
  if (meldcode && !req.justification.empty()) {
    override = consent::Override{c.user_id, kPendingApprover, req.justification};
  }
  GateRequest gate{req.case_id, req.purpose, {req.to, *org_type},        req.categories, req.allow_partial,
                   override,    "share",     req.case_id + "->" + req.to};
  GateResult decided;
  if (Reply refused = Gate(c, gate, &decided); !refused.status.ok()) return refused;
  const store::CaseRecord* kase = &decided.kase;
  const consent::Decision& d = decided.decision;
  const Json& decision = decided.decision_json;
  const std::string& legal = decided.legal_basis;
  if (req.dry_run) {
    AuditBestEffort(c, "share.evaluated", kase->student_id, req.case_id + "->" + req.to, req.purpose, legal, "permit",
                    ReasonCodes(d));
    return Reply::Ok({{"dry_run", true}, {"decision", decision}});
  }

  Instant now = core_.clock->Now();
  int days = d.retention_days ? *d.retention_days : core_.config.retention_default_days;
  store::ShareRecord s;
  s.message_id = RandomId("m-", 12);
  s.case_id = kase->case_id;
  s.case_version = kase->version;
  s.student_id = kase->student_id;
  s.recipient_id = req.to;
  s.recipient_type = partner->card.org_type;
  s.purpose = req.purpose;
  s.legal_basis = legal;
  s.categories = d.categories;
  s.withheld = d.withheld;
  s.consent_ids = d.consents_used;
  s.state = meldcode ? ShareState::kPendingApproval : ShareState::kQueued;
  s.requested_by = c.user_id;
  if (meldcode) s.justification = req.justification;
  s.created = FormatInstantMs(now);
  s.retain_until = FormatInstantMs(now + std::chrono::days{days});
  s.state_changed = s.created;

  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (Status st = store::InsertShare(*core_.db, s); !st.ok()) return Reply::Error(st);
  if (!meldcode) {
    if (Status st = SealAndQueue(core_, s, *kase, *partner); !st.ok()) return Reply::Error(st);
  }
  if (Status st = AuditOrFail(c, meldcode ? "share.pending_approval" : "share.permitted", s.student_id, s.message_id,
                              s.purpose, legal, "permit", ReasonCodes(d));
      !st.ok()) {
    return Reply::Error(st);
  }
  FaultPoint("share.before_commit");
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  FaultPoint("share.after_commit");
  if (!meldcode) core_.WakeDelivery();
  return Reply::Ok(
      {{"message_id", s.message_id}, {"state", std::string(store::ShareStateName(s.state))}, {"decision", decision}});
}

Reply Service::ApproveMeldcode(const Caller& c, const std::string& message_id) {
  if (Status st = RoleIn(c, {Role::kCoordinator}, "approve Meldcode shares"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto share = store::FindShare(*core_.db, message_id);
  if (!share.ok()) return Reply::Error(share.status());
  if (!*share) return Reply::Error(Status::NotFound("no share " + message_id));
  store::ShareRecord s = **share;
  if (s.state != ShareState::kPendingApproval) {
    return Reply::Error(Status::InvalidInput("share " + message_id + " is not waiting for approval (it is " +
                                             std::string(store::ShareStateName(s.state)) + ")"));
  }
  if (s.requested_by == c.user_id) {
    AuditBestEffort(c, "share.approve", s.student_id, message_id, s.purpose, s.legal_basis, "deny", "same_person");
    return Reply::Error(Status::Denied("a Meldcode share needs a second person: the requester may not approve it"));
  }
  auto kase = LoadCase(core_, s.case_id);
  if (!kase.ok()) return Reply::Error(kase.status());
  auto partner = LoadPartner(core_, s.recipient_id);
  if (!partner.ok()) return Reply::Error(partner.status());
  std::vector<consent::Category> cats;
  for (consent::Category cat : consent::kAllCategories) {
    if (s.categories.Has(cat)) cats.push_back(cat);
  }
  auto request = BuildRequest(core_, *kase, *partner, s.purpose, cats,
                              consent::Override{s.requested_by, c.user_id, s.justification.value_or("")});
  if (!request.ok()) return Reply::Error(request.status());
  consent::Decision d = consent::Decide(core_.protocol, *request);
  std::string at = FormatInstantMs(core_.clock->Now());
  store::Transaction tx(*core_.db);
  if (Status st = tx.Begin(); !st.ok()) return Reply::Error(st);
  if (!d.permit || d.categories != s.categories) {
    if (Status st = store::SetShareState(*core_.db, message_id, ShareState::kCancelled, ReasonCodes(d), at); !st.ok()) {
      return Reply::Error(st);
    }
    // The cancellation is a change to the share: it and its entry go
    // together, or the share stays pending (it is not sent either way).
    if (Status st = AuditOrFail(c, "share.cancelled", s.student_id, message_id, s.purpose, s.legal_basis, "deny",
                                ReasonCodes(d));
        !st.ok()) {
      return Reply::Error(st);
    }
    if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
    return Reply::Error(Status::Denied("share refused on approval: " + ReasonText(d)),
                        {{"decision", formats::DecisionToJsonValue(d)}});
  }
  if (Status st = store::SetShareApproved(*core_.db, message_id, c.user_id, at); !st.ok()) return Reply::Error(st);
  if (Status st = SealAndQueue(core_, s, *kase, *partner); !st.ok()) return Reply::Error(st);
  if (Status st = AuditOrFail(c, "share.approved", s.student_id, message_id, s.purpose, s.legal_basis, "permit",
                              "meldcode_second_approval");
      !st.ok()) {
    return Reply::Error(st);
  }
  if (Status st = tx.Commit(); !st.ok()) return Reply::Error(st);
  core_.WakeDelivery();
  return Reply::Ok({{"message_id", message_id}, {"state", "queued"}, {"approved_by", c.user_id}});
}

Reply Service::ListShares(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "list shares"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto shares = store::ListShares(*core_.db);
  if (!shares.ok()) return Reply::Error(shares.status());
  std::optional<std::vector<store::CaseRecord>> visible;
  if (c.role == Role::kStaff) {
    auto v = store::ListCases(*core_.db, c.user_id);
    if (!v.ok()) return Reply::Error(v.status());
    visible = std::move(v).value();
  }
  Json list = Json::array();
  for (const auto& s : *shares) {
    if (visible && s.requested_by != c.user_id &&
        std::none_of(visible->begin(), visible->end(),
                     [&](const store::CaseRecord& r) { return r.case_id == s.case_id; })) {
      continue;
    }
    list.push_back(ShareJson(s));
  }
  return Reply::Ok({{"shares", list}});
}

// ---- inbox -----------------------------------------------------------------

Reply Service::ListInbox(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "read the inbox"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto items = store::ListInbox(*core_.db);
  if (!items.ok()) return Reply::Error(items.status());
  Json list = Json::array();
  for (const auto& r : *items) list.push_back(InboxJson(r));
  return Reply::Ok({{"inbox", list}});
}

Reply Service::ShowInbox(const Caller& c, const std::string& message_id) {
  if (Status st = RoleIn(c, {Role::kStaff, Role::kCoordinator}, "read the inbox"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto items = store::ListInbox(*core_.db);
  if (!items.ok()) return Reply::Error(items.status());
  auto it = std::find_if(items->begin(), items->end(),
                         [&](const store::InboxRecord& r) { return r.message_id == message_id; });
  if (it == items->end()) return Reply::Error(Status::NotFound("no received share " + message_id));
  Json out = InboxJson(*it);
  if (!it->summary) {
    AuditBestEffort(c, "inbox.read", it->student_id, message_id, it->purpose, "", "purged",
                    it->purge_reason.value_or(""));
    out["summary"] = nullptr;
    return Reply::Ok(out);
  }
  // Shown only in its permitted categories, whatever the stored text holds.
  auto summary = formats::ParseCaseSummary(*it->summary, true);
  if (!summary.ok()) return Reply::Error(Status::Corruption("stored inbox summary does not parse"));
  if (Status st = AuditOrFail(c, "inbox.read", it->student_id, message_id, it->purpose, "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  out["summary"] = Json::parse(formats::Project(*summary, it->categories));
  return Reply::Ok(out);
}

namespace {

Json OptInstant(const std::optional<Instant>& t) { return t ? Json(FormatInstantMs(*t)) : Json(nullptr); }

// The size of a file in bytes; 0 when it does not exist (no WAL yet).
int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// When the daemon will write the next audit checkpoint: at the first
// maintenance run at or after the time it is due (an entry appended after
// that time writes it too); null when every entry is covered.
Json NextCheckpoint(const NodeCore& core, const audit::CheckpointSchedule& schedule) {
  if (!schedule.due) return nullptr;
  int64_t due = schedule.due->time_since_epoch().count();
  int64_t tick = core.next_maintenance_ms.load();
  int64_t every = core.maintenance_interval.count();
  if (tick == 0 || every <= 0 || due <= tick)
    return FormatInstantMs(Instant{std::chrono::milliseconds{std::max(due, tick)}});
  int64_t ticks = (due - tick + every - 1) / every;
  return FormatInstantMs(Instant{std::chrono::milliseconds{tick + ticks * every}});
}

}  // namespace

Reply Service::NodeStatus(const Caller& c, Instant started) {
  (void)c;  // every role may see the node's health; nothing here is personal data
  std::lock_guard<std::mutex> lock(core_.mu);
  auto partners = store::ListPartners(*core_.db);
  if (!partners.ok()) return Reply::Error(partners.status());
  auto depth = store::CountOutgoing(*core_.db);
  if (!depth.ok()) return Reply::Error(depth.status());
  auto shares = store::SummarizeOutgoing(*core_.db, "share");
  if (!shares.ok()) return Reply::Error(shares.status());
  auto revocations = store::SummarizeOutgoing(*core_.db, "revocation");
  if (!revocations.ok()) return Reply::Error(revocations.status());
  auto schedule = core_.audit->Schedule();
  if (!schedule.ok()) return Reply::Error(schedule.status());
  Instant now = core_.clock->Now();
  Json ps = Json::array();
  for (const auto& p : *partners) {
    const std::string& id = p.card.node_id;
    auto queued = store::SummarizeOutgoing(*core_.db, "share", id);
    if (!queued.ok()) return Reply::Error(queued.status());
    auto revoking = store::SummarizeOutgoing(*core_.db, "revocation", id);
    if (!revoking.ok()) return Reply::Error(revoking.status());
    std::optional<PartnerContact> seen = core_.reachability.Get(id);
    Json reachable = nullptr;  // unknown: nothing sent to it since the daemon started
    if (seen && seen->last_attempt) reachable = seen->last_attempt_ok;
    ps.push_back({{"node_id", id},
                  {"name", p.card.name},
                  {"org_type", p.card.org_type},
                  {"address", p.card.address},
                  {"reachable", reachable},
                  {"last_attempt", OptInstant(seen ? seen->last_attempt : std::nullopt)},
                  {"last_success", OptInstant(seen ? seen->last_success : std::nullopt)},
                  {"last_inbound", OptInstant(seen ? seen->last_inbound : std::nullopt)},
                  {"last_error_at", OptInstant(seen ? seen->last_error_at : std::nullopt)},
                  {"last_error", seen && seen->last_error_at ? Json(seen->last_error) : Json(nullptr)},
                  {"queued_shares", queued->count},
                  {"pending_revocations", revoking->count}});
  }
  store::NodePaths paths(core_.dir, core_.config.key_file);
  int64_t db_bytes = FileBytes(paths.database);
  int64_t wal_bytes = FileBytes(paths.database + "-wal");
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started).count();
  return Reply::Ok({{"node_id", core_.config.node_id},
                    {"org_type", std::string(consent::Name(core_.config.org_type))},
                    {"version", std::string(kVersion)},
                    {"now", FormatInstantMs(now)},
                    {"started", FormatInstantMs(started)},
                    {"uptime_seconds", uptime},
                    {"partners", ps},
                    {"outbox_depth", *depth},
                    {"queued_shares", shares->count},
                    {"oldest_queued", shares->oldest ? Json(*shares->oldest) : Json(nullptr)},
                    {"pending_revocations", revocations->count},
                    {"oldest_pending_revocation", revocations->oldest ? Json(*revocations->oldest) : Json(nullptr)},
                    {"audit",
                     {{"last_seq", schedule->last_seq},
                      {"checkpointed_seq", schedule->covered_seq},
                      {"next_checkpoint", NextCheckpoint(core_, *schedule)}}},
                    {"database",
                     {{"file", paths.database},
                      {"db_bytes", db_bytes},
                      {"wal_bytes", wal_bytes},
                      {"total_bytes", db_bytes + wal_bytes}}}});
}

namespace {
Json EntryJson(const audit::AuditEntry& e) {
  return Json{{"seq", e.seq},
              {"ts", FormatInstantMs(e.ts)},
              {"actor", {{"user", e.actor_user}, {"role", e.actor_role}, {"org", e.actor_org}}},
              {"action", e.action},
              {"subject", e.subject},
              {"object", e.object},
              {"purpose", e.purpose},
              {"legal_basis", e.legal_basis},
              {"outcome", e.outcome},
              {"reason", e.reason},
              {"source", e.source}};
}
}  // namespace

Reply Service::AuditQuery(const Caller& c, const audit::AuditFilter& filter) {
  if (Status st = RoleIn(c, {Role::kAuditor}, "read the audit log"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto entries = core_.audit->Query(filter);
  if (!entries.ok()) return Reply::Error(entries.status());
  Json list = Json::array();
  for (const auto& e : *entries) list.push_back(EntryJson(e));
  std::string what = "subject=" + filter.subject + " user=" + filter.user + " action=" + filter.action;
  if (Status st = AuditOrFail(c, "audit.query", filter.subject, "", "", "", "ok", what); !st.ok()) {
    return Reply::Error(st);
  }
  return Reply::Ok({{"entries", list}});
}

Reply Service::AuditExport(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kAuditor}, "export the audit log"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  // The export's own read is logged first, so the export includes it.
  if (Status st = AuditOrFail(c, "audit.export", "", "", "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  std::ostringstream out;
  if (Status st = core_.audit->Export(out); !st.ok()) return Reply::Error(st);
  Reply r = Reply::Ok(Json::object());
  r.raw = out.str();
  r.content_type = "application/x-ndjson";
  return r;
}

Reply Service::AuditSubject(const Caller& c, const std::string& subject, bool as_json) {
  if (Status st = RoleIn(c, {Role::kAuditor}, "read the audit log"); !st.ok()) return Reply::Error(st);
  if (!IsValidObjectId(subject)) return Reply::Error(Status::InvalidInput("subject: not a student id"));
  std::lock_guard<std::mutex> lock(core_.mu);
  auto report = core_.audit->SubjectReport(subject);
  if (!report.ok()) return Reply::Error(report.status());
  if (Status st = AuditOrFail(c, "audit.subject_report", subject, "", "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  Reply r = Reply::Ok(Json::object());
  r.raw = as_json ? audit::SubjectReportJson(*report) : audit::SubjectReportText(*report);
  r.content_type = as_json ? "application/json" : "text/plain; charset=utf-8";
  return r;
}

// ---- console sign-in and admin views ----------------------------------------

Result<Caller> Service::CheckPassword(const std::string& name, std::string_view password, const std::string& source) {
  static const Status kWrong = Status::Unauthenticated("unknown user or wrong password");
  if (name.empty() || name.size() > 128 || password.size() > crypto::kMaxPasswordLength) return kWrong;
  std::optional<store::User> user;
  std::string hash;
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    SCHAKEL_ASSIGN_OR_RETURN(user, store::FindUserByName(*core_.db, name));
    if (user) {
      SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Credentials> creds,
                               store::GetCredentials(*core_.db, user->user_id));
      if (creds) hash = creds->password_hash;
    }
  }
  // Unknown users cost one hash check too, so timing does not tell which
  // names exist.
  static const std::string kDummyHash = crypto::HashPassword("schakel-no-such-user-dummy").value();
  bool matches = crypto::VerifyPassword(hash.empty() ? kDummyHash : hash, password);
  bool ok = user && !user->disabled_at && !hash.empty() && matches;
  Caller c{user ? user->user_id : "", user ? user->name : "", user ? user->role : Role::kStaff, source};
  std::lock_guard<std::mutex> lock(core_.mu);
  if (!ok) {
    audit::AuditEvent e =
        SystemEvent({"console.signin", "", user ? user->user_id : "", "", "", "deny", "bad_password"}, source);
    if (user) {
      e.actor_user = user->user_id;
      e.actor_role = std::string(store::RoleName(user->role));
    }
    service::AuditBestEffort(core_, std::move(e));
    return kWrong;
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(c, "console.signin", "", c.user_id, "", "", "ok", "password"));
  return c;
}

Status Service::CheckTotp(const Caller& c, std::string_view code) {
  std::lock_guard<std::mutex> lock(core_.mu);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Credentials> creds, store::GetCredentials(*core_.db, c.user_id));
  std::optional<int64_t> step;
  if (creds && !creds->totp_secret.empty()) {
    step = crypto::VerifyTotp(creds->totp_secret.span(), code, core_.clock->Now(), creds->totp_last_step);
  }
  bool ok = false;
  if (step) {
    SCHAKEL_ASSIGN_OR_RETURN(ok, store::UseTotpStep(*core_.db, c.user_id, *step));
  }
  if (!ok) {
    AuditBestEffort(c, "console.signin", "", c.user_id, "", "", "deny", "bad_totp");
    return Status::Unauthenticated("wrong, expired or already used code");
  }
  return AuditOrFail(c, "console.signin", "", c.user_id, "", "", "ok", "totp");
}

Reply Service::ListUsers(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kAdmin}, "list users"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto users = store::ListUsers(*core_.db);
  if (!users.ok()) return Reply::Error(users.status());
  Json list = Json::array();
  for (const auto& u : *users) {
    auto creds = store::GetCredentials(*core_.db, u.user_id);
    if (!creds.ok()) return Reply::Error(creds.status());
    list.push_back({{"user_id", u.user_id},
                    {"name", u.name},
                    {"role", std::string(store::RoleName(u.role))},
                    {"created", u.created},
                    {"disabled_at", u.disabled_at ? Json(*u.disabled_at) : Json(nullptr)},
                    {"console", creds->has_value()}});
  }
  if (Status st = AuditOrFail(c, "user.list", "", "", "", "", "ok", ""); !st.ok()) {
    return Reply::Error(st);
  }
  return Reply::Ok({{"users", list}});
}

Reply Service::ListPartners(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kAdmin}, "list partners"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  auto partners = store::ListPartners(*core_.db);
  if (!partners.ok()) return Reply::Error(partners.status());
  Json list = Json::array();
  for (const auto& p : *partners) {
    list.push_back({{"node_id", p.card.node_id},
                    {"name", p.card.name},
                    {"org_type", p.card.org_type},
                    {"address", p.card.address},
                    {"fingerprint", crypto::Fingerprint(p.card.sign_pk)},
                    {"added", p.added}});
  }
  return Reply::Ok({{"partners", list}});
}

Reply Service::AuditVerify(const Caller& c) {
  if (Status st = RoleIn(c, {Role::kAuditor}, "verify the audit log"); !st.ok()) return Reply::Error(st);
  std::lock_guard<std::mutex> lock(core_.mu);
  Status verified = core_.audit->VerifyStored();
  AuditBestEffort(c, "audit.verify", "", "", "", "", verified.ok() ? "ok" : "fail",
                  verified.ok() ? "" : verified.message());
  if (!verified.ok()) return Reply::Ok({{"ok", false}, {"problem", verified.message()}});
  return Reply::Ok({{"ok", true}});
}

Result<int> Service::PurgeExpired() {
  std::lock_guard<std::mutex> lock(core_.mu);
  std::string now = FormatInstantMs(core_.clock->Now());
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::InboxRecord> expired, store::ExpiredInbox(*core_.db, now));
  for (const auto& r : expired) {
    store::Transaction tx(*core_.db);
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    SCHAKEL_RETURN_IF_ERROR(store::PurgeInbox(*core_.db, r.sender_id, r.message_id, "retention", now));
    audit::AuditEvent e =
        SystemEvent({"inbox.purged", r.student_id, r.message_id, r.purpose, "", "ok", "retention"}, "retention");
    SCHAKEL_RETURN_IF_ERROR(service::AuditOrFail(core_, std::move(e)));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  return static_cast<int>(expired.size());
}

Status RecheckShare(NodeCore& core, const store::ShareRecord& s) {
  SCHAKEL_ASSIGN_OR_RETURN(store::CaseRecord kase, LoadCase(core, s.case_id));
  SCHAKEL_ASSIGN_OR_RETURN(store::Partner partner, LoadPartner(core, s.recipient_id));
  std::vector<consent::Category> cats;
  for (consent::Category cat : consent::kAllCategories) {
    if (s.categories.Has(cat)) cats.push_back(cat);
  }
  std::optional<consent::Override> override;
  if (s.justification) {
    override = consent::Override{s.requested_by, s.approved_by.value_or(""), *s.justification};
  }
  SCHAKEL_ASSIGN_OR_RETURN(consent::Request req, BuildRequest(core, kase, partner, s.purpose, cats, override));
  consent::Decision d = consent::Decide(core.protocol, req);
  if (!d.permit) return Status::Denied(ReasonCodes(d));
  if (d.categories != s.categories) return Status::Denied("categories_no_longer_allowed," + ReasonCodes(d));
  return Status::Ok();
}

}  // namespace schakel::service
