#include "api_json.h"

#include <chrono>

#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/formats/consent_json.h"
#include "schakel/formats/json.h"
#include "schakel/formats/scenario.h"

namespace schakel::daemon {
namespace {

Json CategoryArray(consent::CategorySet set) {
  Json out = Json::array();
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) out.push_back(std::string(consent::Name(c)));
  }
  return out;
}

Json OptString(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }
Json OptInstant(const std::optional<Instant>& t) { return t ? Json(FormatInstantMs(*t)) : Json(nullptr); }

Json ShareJson(const store::ShareRecord& s) {
  return Json{{"message_id", s.message_id},
              {"case_id", s.case_id},
              {"student_id", s.student_id},
              {"recipient", s.recipient_id},
              {"purpose", s.purpose},
              {"legal_basis", s.legal_basis},
              {"categories", CategoryArray(s.categories)},
              {"withheld", CategoryArray(s.withheld)},
              {"consents", s.consent_ids},
              {"state", std::string(store::ShareStateName(s.state))},
              {"state_reason", OptString(s.state_reason)},
              {"created", s.created},
              {"retain_until", s.retain_until},
              {"delivered_at", OptString(s.delivered_at)},
              {"requested_by", s.requested_by},
              {"approved_by", OptString(s.approved_by)}};
}

Json InboxJson(const store::InboxRecord& r) {
  return Json{{"message_id", r.message_id},
              {"from", r.sender_id},
              {"student_id", r.student_id},
              {"purpose", r.purpose},
              {"categories", CategoryArray(r.categories)},
              {"created", r.created},
              {"received", r.received},
              {"retain_until", r.retain_until},
              {"state", r.state},
              {"purged_at", OptString(r.purged_at)},
              {"purge_reason", OptString(r.purge_reason)},
              {"assigned_to", OptString(r.assigned_to)},
              {"assigned_by", OptString(r.assigned_by)},
              {"adopted_at", OptString(r.adopted_at)},
              {"adopted_basis", OptString(r.adopted_basis)}};
}

Json ConsentJson(const service::ConsentEntry& e) {
  const store::ConsentRecord& r = e.record;
  Json j = formats::ConsentToJsonValue(r.consent);
  j["recorded_by"] = r.recorded_by;
  j["recorded_at"] = r.recorded_at;
  j["evidence"] = r.evidence;
  j["withdrawn_by"] = OptString(r.withdrawn_by);
  Json shares = Json::array();
  for (const auto& s : e.shares) {
    shares.push_back({{"message_id", s.message_id},
                      {"recipient", s.recipient},
                      {"state", std::string(store::ShareStateName(s.state))}});
  }
  j["shares"] = shares;
  Json links = Json::array();
  for (const auto& l : e.links) {
    links.push_back(
        {{"link_id", l.link_id}, {"for", l.recipient_name}, {"type", l.recipient_type}, {"state", l.state}});
  }
  j["links"] = links;
  return j;
}

Json PartnerStatusJson(const service::PartnerStatus& p) {
  const std::optional<service::PartnerContact>& seen = p.seen;
  Json reachable = nullptr;  // unknown: nothing sent to it since the daemon started
  if (seen && seen->last_attempt) reachable = seen->last_attempt_ok;
  return Json{{"node_id", p.node_id},
              {"name", p.name},
              {"org_type", p.org_type},
              {"address", p.address},
              {"source", p.source.empty() ? "hand" : p.source},
              {"reachable", reachable},
              {"last_attempt", OptInstant(seen ? seen->last_attempt : std::nullopt)},
              {"last_success", OptInstant(seen ? seen->last_success : std::nullopt)},
              {"last_inbound", OptInstant(seen ? seen->last_inbound : std::nullopt)},
              {"last_error_at", OptInstant(seen ? seen->last_error_at : std::nullopt)},
              {"last_error", seen && seen->last_error_at ? Json(seen->last_error) : Json(nullptr)},
              {"queued_shares", p.queued_shares},
              {"pending_revocations", p.pending_revocations},
              {"oldest_queued", OptString(p.oldest_queued)}};
}

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
              {"source", e.source},
              {"format", e.format},
              {"recipient", e.recipient},
              {"categories", e.categories},
              {"consents", e.consents}};
}

}  // namespace

Json ToJson(const consent::Decision& d) { return formats::DecisionToJsonValue(d); }

Json ToJson(const service::CaseSaved& r) { return {{"case_id", r.case_id}, {"version", r.version}}; }

Json ToJson(const service::CaseView& r) {
  Json versions = Json::array();
  for (const auto& v : r.versions) {
    versions.push_back({{"version", v.version}, {"updated_by", v.updated_by}, {"updated", v.updated}});
  }
  return {{"case_id", r.case_id},
          {"student_id", r.student_id},
          {"version", r.version},
          {"created_by", r.created_by},
          {"created", r.created},
          {"updated", r.updated},
          {"assigned", r.assigned},
          {"versions", versions},
          {"summary", Json::parse(r.summary_json, nullptr, false)}};
}

Json ToJson(const std::vector<service::CaseListItem>& list) {
  Json out = Json::array();
  for (const auto& r : list) {
    out.push_back({{"case_id", r.case_id},
                   {"student_id", r.student_id},
                   {"version", r.version},
                   {"updated", r.updated},
                   {"created_by", r.created_by}});
  }
  return {{"cases", out}};
}

Json ToJson(const service::CaseAssignment& r) { return {{"case_id", r.case_id}, {"assigned", r.assigned}}; }

Json ConsentIdJson(const std::string& consent_id) { return {{"consent_id", consent_id}}; }

Json ToJson(const service::ConsentWithdrawal& r) {
  return {{"consent_id", r.consent_id},
          {"withdrawn_at", r.withdrawn_at},
          {"cancelled", r.cancelled},
          {"revoked", r.revoked},
          {"links_revoked", r.links_revoked}};
}

Json ToJson(const service::StudentConsents& r) {
  Json list = Json::array();
  for (const auto& e : r.consents) list.push_back(ConsentJson(e));
  return {{"student_id", r.student_id}, {"consents", list}};
}

Json ToJson(const service::ShareOutcome& r) {
  if (r.dry_run) return {{"dry_run", true}, {"decision", ToJson(r.decision)}};
  return {{"message_id", r.message_id},
          {"state", std::string(store::ShareStateName(r.state))},
          {"decision", ToJson(r.decision)}};
}

Json ToJson(const service::ShareRecall& r) {
  return {{"message_id", r.message_id}, {"state", std::string(store::ShareStateName(r.state))}, {"reason", r.reason}};
}

Json ToJson(const service::MeldcodeApproval& r) {
  return {{"message_id", r.message_id},
          {"state", std::string(store::ShareStateName(r.state))},
          {"approved_by", r.approved_by}};
}

Json ToJson(const service::MeldcodeEnded& r) {
  return {{"message_id", r.message_id},
          {"state", std::string(store::ShareStateName(r.state))},
          {"state_reason", r.state_reason},
          {"by", r.by}};
}

Json ToJson(const service::ShareView& r) {
  Json j = ShareJson(r.record);
  j["justification"] = OptString(r.record.justification);
  j["justification_sha256"] = OptString(r.justification_sha256);
  return j;
}

Json ToJson(const service::MeldcodeJustification& r) {
  return {{"message_id", r.message_id},
          {"student_id", r.student_id},
          {"state", std::string(store::ShareStateName(r.state))},
          {"requested_by", r.requested_by},
          {"justification", r.justification},
          {"sha256", r.sha256}};
}

Json ToJson(const std::vector<store::ShareRecord>& list) {
  Json out = Json::array();
  for (const auto& s : list) out.push_back(ShareJson(s));
  return {{"shares", out}};
}

Json ToJson(const std::vector<service::InboxListItem>& list) {
  Json out = Json::array();
  for (const auto& item : list) {
    Json j = InboxJson(item.record);
    j["unread"] = item.unread;
    out.push_back(std::move(j));
  }
  return {{"inbox", out}};
}

Json ToJson(const service::InboxView& r) {
  Json out = InboxJson(r.record);
  out["summary"] = r.summary_json ? Json::parse(*r.summary_json) : Json(nullptr);
  return out;
}

Json ToJson(const service::InboxAdoption& r) {
  return {{"message_id", r.message_id},
          {"from", r.sender_id},
          {"adopted_at", r.adopted_at},
          {"adopted_by", r.adopted_by},
          {"basis", r.basis}};
}

Json ToJson(const service::InboxAssignment& r) {
  return {{"message_id", r.message_id}, {"from", r.sender_id}, {"assigned", r.assigned}};
}

Json ToJson(const store::InboxRoute& r) {
  return {{"sender", r.sender_id},
          {"student", r.student_id},
          {"user", r.user_id},
          {"confirmed_by", r.confirmed_by},
          {"confirmed", r.confirmed}};
}

Json ToJson(const std::vector<store::InboxRoute>& list) {
  Json out = Json::array();
  for (const auto& r : list) out.push_back(ToJson(r));
  return {{"routes", out}};
}

Json ToJson(const service::StudentImport& r) {
  return {{"added", r.added}, {"updated", r.updated}, {"unchanged", r.unchanged}};
}

Json ToJson(const store::StudentRecord& r) {
  Json guardians = Json::array();
  for (const auto& g : r.guardians) guardians.push_back({{"name", g.name}, {"authority", g.authority}});
  return {{"student_id", r.student_id}, {"name", r.name},       {"birth_date", r.birth_date}, {"guardians", guardians},
          {"added", r.added},           {"updated", r.updated}, {"updated_by", r.updated_by}};
}

Json ToJson(const std::vector<store::StudentRecord>& list) {
  Json out = Json::array();
  for (const auto& r : list) out.push_back(ToJson(r));
  return {{"students", out}};
}

static Json ExpiringTokensJson(const service::NodeStatusView& r) {
  Json out = Json::array();
  for (const auto& [name, expires] : r.expiring_tokens) out.push_back({{"name", name}, {"expires", expires}});
  return out;
}

static Json SelfSignedJson(const service::NodeStatusView& r) {
  Json out = Json::array();
  for (const auto& l : r.self_signed_public) out.push_back({{"listener", l.section}, {"url", l.url}});
  return out;
}

static Json RegionsJson(const service::NodeStatusView& r) {
  Json out = Json::array();
  for (const auto& g : r.regions) {
    out.push_back({{"region", g.region},
                   {"serial", g.serial},
                   {"issued", g.issued},
                   {"expires", g.expires},
                   {"age_days", g.age_days},
                   {"expired", g.expired},
                   {"members", g.members},
                   {"unreachable", g.unreachable}});
  }
  return out;
}

Json ToJson(const service::NodeStatusView& r) {
  Json partners = Json::array();
  for (const auto& p : r.partners) partners.push_back(PartnerStatusJson(p));
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(r.now - r.started).count();
  return {{"node_id", r.node_id},
          {"org_type", r.org_type},
          {"version", r.version},
          {"now", FormatInstantMs(r.now)},
          {"started", FormatInstantMs(r.started)},
          {"uptime_seconds", uptime},
          {"partners", partners},
          {"regions", RegionsJson(r)},
          {"outbox_depth", r.outbox_depth},
          {"queued_shares", r.queued_shares.count},
          {"oldest_queued", OptString(r.queued_shares.oldest)},
          {"pending_revocations", r.pending_revocations.count},
          {"oldest_pending_revocation", OptString(r.pending_revocations.oldest)},
          {"audit",
           {{"last_seq", r.audit_last_seq},
            {"checkpointed_seq", r.audit_checkpointed_seq},
            {"next_checkpoint", OptInstant(r.next_checkpoint)}}},
          {"database",
           {{"file", r.database_file},
            {"db_bytes", r.db_bytes},
            {"wal_bytes", r.wal_bytes},
            {"total_bytes", r.db_bytes + r.wal_bytes}}},
          {"expiring_tokens", ExpiringTokensJson(r)},
          {"self_signed_public_listeners", SelfSignedJson(r)}};
}

Json ToJson(const service::AccountChanged& r) {
  return {{"name", r.name}, {"user_id", r.user_id}, {"action", r.action}};
}

Json ToJson(const std::vector<service::PendingGrant>& list) {
  Json out = Json::array();
  for (const auto& p : list) {
    out.push_back({{"name", p.name},
                   {"user_id", p.user_id},
                   {"pending_role", p.pending_role},
                   {"current_role", p.current_role.empty() ? Json(nullptr) : Json(p.current_role)},
                   {"requested_by", p.requested_by}});
  }
  return {{"pending", out}};
}

Json ToJson(const service::AuditFound& found) {
  auto name = [&](const std::string& id) {
    auto it = found.names.find(id);
    return it == found.names.end() ? Json(nullptr) : Json(it->second);
  };
  Json out = Json::array();
  for (const auto& e : found.entries) {
    Json j = EntryJson(e);
    j["actor"]["name"] = name(e.actor_user);
    j["actor"]["org_name"] = name(e.actor_org);
    j["recipient_name"] = e.recipient.empty() ? Json(nullptr) : name(e.recipient);
    out.push_back(std::move(j));
  }
  return {{"entries", out}};
}

Json ToJson(const std::vector<service::UserView>& list) {
  Json out = Json::array();
  for (const auto& v : list) {
    const store::User& u = v.user;
    out.push_back(
        {{"user_id", u.user_id},
         {"name", u.name},
         {"role", std::string(store::RoleName(u.role))},
         {"created", u.created},
         {"disabled_at", OptString(u.disabled_at)},
         {"removed_at", OptString(u.removed_at)},
         {"pending_role", u.pending_role ? Json(std::string(store::RoleName(*u.pending_role))) : Json(nullptr)},
         {"active", u.active},
         {"token_expires", OptString(u.token_expires)},
         {"console", v.console}});
  }
  return {{"users", out}};
}

Json ToJson(const std::vector<service::PartnerView>& list) {
  Json out = Json::array();
  for (const auto& p : list) {
    out.push_back({{"node_id", p.node_id},
                   {"name", p.name},
                   {"org_type", p.org_type},
                   {"address", p.address},
                   {"fingerprint", p.fingerprint},
                   {"added", p.added}});
  }
  return {{"partners", out}};
}

Json ToJson(const service::AuditVerification& r) {
  if (!r.ok) return {{"ok", false}, {"problem", r.problem}};
  return {{"ok", true}};
}

Json ToJson(const service::LinkCreated& r) {
  return {{"link_id", r.link_id},
          {"url", r.url},
          {"code", r.code},
          {"expires", r.expires},
          {"categories", r.categories},
          {"withheld", r.withheld},
          {"decision", ToJson(r.decision)}};
}

Json ToJson(const service::ConsentRequestCreated& r) {
  Json links = Json::array();
  for (const auto& l : r.links) {
    links.push_back({{"grant_id", l.grant_id},
                     {"grantor_role", l.grantor_role},
                     {"guardian", l.guardian},
                     {"url", l.url},
                     {"code", l.code}});
  }
  return {{"request_id", r.request_id}, {"expires", r.expires}, {"links", links}};
}

Json ToJson(const std::vector<service::ConsentRequestView>& list) {
  Json out = Json::array();
  for (const auto& r : list) {
    Json grantors = Json::array();
    for (const auto& g : r.grantors) {
      grantors.push_back({{"grant_id", g.grant_id},
                          {"grantor_role", g.grantor_role},
                          {"guardian", g.guardian},
                          {"state", g.state},
                          {"state_changed", g.state_changed},
                          {"agreed", g.agreed},
                          {"consent_id", g.consent_id}});
    }
    out.push_back({{"request_id", r.request_id},
                   {"student_id", r.student_id},
                   {"recipients", r.recipients},
                   {"purposes", r.purposes},
                   {"categories", r.categories},
                   {"valid_until", r.valid_until},
                   {"created_by", r.created_by},
                   {"created", r.created},
                   {"expires", r.expires},
                   {"grantors", grantors}});
  }
  return {{"requests", out}};
}

Json ToJson(const service::InzageLinkCreated& r) {
  return {{"link_id", r.link_id}, {"url", r.url}, {"code", r.code}, {"expires", r.expires}};
}

Json ToJson(const std::vector<service::LinkView>& list) {
  Json out = Json::array();
  for (const auto& r : list) {
    out.push_back({{"link_id", r.link_id},
                   {"case_id", r.case_id},
                   {"for", r.recipient_name},
                   {"type", r.recipient_type},
                   {"purpose", r.purpose},
                   {"legal_basis", r.legal_basis},
                   {"categories", r.categories},
                   {"withheld", r.withheld},
                   {"created_by", r.created_by},
                   {"created", r.created},
                   {"expires", r.expires},
                   {"state", r.state},
                   {"failed_attempts", r.failed_attempts}});
  }
  return {{"links", out}};
}

Json ToJson(const service::LinkRevoked& r) { return {{"link_id", r.link_id}, {"state", r.state}}; }

Json ToJson(const service::LinkNewCode& r) {
  return {{"link_id", r.link_id}, {"url", r.url}, {"code", r.code}, {"expires", r.expires}};
}

Json ErrorBody(const Status& st, Json details) {
  details["error"] = {{"code", std::string(st.CodeName())}, {"message", st.message()}};
  return details;
}

Reply RawReply(const Result<service::Export>& r) {
  if (!r.ok()) return Reply::Error(r.status());
  Reply out = Reply::Ok(Json::object());
  out.raw = r->bytes;
  out.content_type = r->content_type;
  return out;
}

Result<formats::CaseSummary> ParseCaseBody(std::string_view body) {
  auto parsed = formats::ParseCaseSummary(body, /*require_case_id=*/false);
  if (!parsed.ok()) return parsed.status().WithContext("case summary");
  return parsed;
}

Result<service::NewConsent> ParseConsentBody(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(formats::Json doc, formats::ParseJsonLimited(body, {64 * 1024, 16}));
  // Either the consent itself, or {"consent": {...}, "evidence": "..."}.
  const formats::Json* consent_obj = &doc;
  service::NewConsent out;
  if (doc.is_object() && doc.contains("consent")) {
    formats::Fields f(doc, "");
    SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"consent", "evidence"}));
    SCHAKEL_ASSIGN_OR_RETURN(consent_obj, f.Object("consent"));
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> evidence, f.OptString("evidence", 500));
    if (evidence) {
      if (!IsPrintableUtf8(*evidence) || evidence->empty()) {
        return Status::InvalidInput("evidence: must be 1 to 500 printable characters");
      }
      out.evidence = *evidence;
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(out.consent, formats::ParseConsentJson(*consent_obj, "", /*require_id=*/false));
  return out;
}

}  // namespace schakel::daemon
