// The service's shared parts: the audit policy, the role table's check,
// bearer-token authentication and the helpers of service_internal.h. The
// operations are in cases.cpp, consents.cpp, shares.cpp, inbox.cpp,
// audit_queries.cpp, accounts.cpp and status.cpp.
#include "schakel/service/service.h"

#include <algorithm>

#include "schakel/base/fault_inject.h"
#include "schakel/base/log.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"
#include "service_internal.h"

namespace schakel::service {

namespace internal {

std::string RandomId(const char* prefix, size_t bytes) {
  crypto::SecureBuffer b = crypto::SecureBuffer::Random(bytes);
  return std::string(prefix) + ToHex(b.span());
}

std::vector<std::string> CategoryNames(consent::CategorySet set) {
  std::vector<std::string> out;
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) out.emplace_back(consent::Name(c));
  }
  return out;
}

std::vector<consent::Category> CategoriesOf(consent::CategorySet set) {
  std::vector<consent::Category> cats;
  for (consent::Category cat : consent::kAllCategories) {
    if (set.Has(cat)) cats.push_back(cat);
  }
  return cats;
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

bool CanSeeCase(const Caller& c, const store::CaseRecord& r) {
  if (c.role == store::Role::kCoordinator) return true;
  if (c.role != store::Role::kStaff) return false;
  if (r.created_by == c.user_id) return true;
  return std::find(r.assigned.begin(), r.assigned.end(), c.user_id) != r.assigned.end();
}

Result<store::CaseRecord> LoadCase(store::Database& db, const std::string& case_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::CaseRecord> r, store::FindCase(db, case_id));
  if (!r) return Status::NotFound("no case " + case_id);
  return *r;
}

Result<store::CaseRecord> LoadCase(NodeCore::Held& held, const std::string& case_id) {
  return LoadCase(held.db(), case_id);
}

Result<store::Partner> LoadPartner(store::Database& db, const std::string& node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> p, store::FindPartner(db, node_id));
  if (!p) return Status::InvalidInput("unknown partner " + node_id + " (see schakel partner list)");
  return *p;
}

Result<store::Partner> LoadPartner(NodeCore::Held& held, const std::string& node_id) {
  return LoadPartner(held.db(), node_id);
}

Result<consent::Request> BuildRequest(NodeCore::Held& held, const store::CaseRecord& kase,
                                      const consent::Party& recipient, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override) {
  return BuildRequest(held.db(), held.core(), kase, recipient, purpose, std::move(categories), std::move(override));
}

Result<consent::Request> BuildRequest(store::Database& db, const NodeCore& core, const store::CaseRecord& kase,
                                      const consent::Party& recipient, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override) {
  // The register's birth date decides (docs/students.md); a case from before
  // the register keeps its own until its student is registered.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> student, store::FindStudent(db, kase.student_id));
  auto birth = ParseDate(student ? student->birth_date : kase.birth_date);
  if (!birth.ok()) return Status::Corruption("stored birth date of " + kase.student_id + " does not parse");
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::ConsentRecord> records, store::ConsentsForSubject(db, kase.student_id));
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
  if (student) {
    req.parents_with_authority =
        static_cast<int>(std::count_if(student->guardians.begin(), student->guardians.end(),
                                       [](const store::GuardianRecord& g) { return g.authority; }));
  }
  return req;
}

Result<consent::Request> BuildRequest(NodeCore::Held& held, const store::CaseRecord& kase,
                                      const store::Partner& partner, const std::string& purpose,
                                      std::vector<consent::Category> categories,
                                      std::optional<consent::Override> override) {
  auto org_type = consent::ParseOrgType(partner.card.org_type);
  if (!org_type) return Status::Corruption("partner " + partner.card.node_id + " has an unknown org type");
  return BuildRequest(held, kase, consent::Party{partner.card.node_id, *org_type}, purpose, std::move(categories),
                      std::move(override));
}

Status ConsentsStillHold(NodeCore::Held& held, const std::vector<std::string>& consent_ids, std::string_view doing) {
  for (const auto& id : consent_ids) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ConsentRecord> consent, store::FindConsent(held.db(), id));
    if (!consent || consent->consent.withdrawn_at) {
      return Status::Denied("consent " + id + " was withdrawn while " + std::string(doing) + "; nothing was created");
    }
  }
  return Status::Ok();
}

std::optional<crypto::SealedLink> StoredSeal(bool has_content, const std::vector<uint8_t>& salt,
                                             const std::vector<uint8_t>& nonce,
                                             const std::vector<uint8_t>& ciphertext) {
  crypto::SealedLink sealed;
  if (!has_content || salt.size() != sealed.salt.size() || nonce.size() != sealed.nonce.size()) return std::nullopt;
  std::copy(salt.begin(), salt.end(), sealed.salt.begin());
  std::copy(nonce.begin(), nonce.end(), sealed.nonce.begin());
  sealed.ciphertext = ciphertext;
  return sealed;
}

audit::AuditEvent CallerEvent(const Caller& c, AuditWhat what, AuditTo to) {
  audit::AuditEvent e = SystemEvent(std::move(what), c.source, std::move(to));
  e.actor_user = c.user_id;
  e.actor_role = c.actor_role.empty() ? std::string(store::RoleName(c.role)) : c.actor_role;
  return e;
}

}  // namespace internal

Status Authorize(const Caller& c, Op op) {
  if (Allowed(op, c.role)) return Status::Ok();
  return Status::Denied("the " + std::string(store::RoleName(c.role)) + " role may not " +
                        std::string(kOpRules[static_cast<size_t>(op)].what));
}

// An audit field is refused, never cut, when it is too long (format.h), and
// a refused entry would stop the action. A share may rest on more consents
// than fit: the list keeps the ids that fit and says how many it left out
// (the share's own record holds them all).
std::string AuditIds(const std::vector<std::string>& ids) {
  constexpr size_t kRoom = audit::kMaxReasonBytes - 16;  // room for ",+NNNN more"
  std::string out;
  size_t kept = 0;
  for (const auto& id : ids) {
    if (out.size() + 1 + id.size() > kRoom) break;
    if (!out.empty()) out += ',';
    out += id;
    ++kept;
  }
  if (kept < ids.size()) out += ",+" + std::to_string(ids.size() - kept) + " more";
  return out;
}

namespace {

// A link holder's name is at most 200 bytes (link_service.cpp); the type is
// a short token. Cut at a character boundary all the same, marked.
std::string FitText(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  s.resize(end);
  return s + "...";
}

}  // namespace

AuditTo ShareTo(const store::ShareRecord& s) {
  return {s.recipient_id, consent::CategoryNames(s.categories), AuditIds(s.consent_ids)};
}

AuditTo LinkTo(const store::LinkRecord& l) {
  // A holder's name stored before tabs were refused must not stop an entry.
  std::string holder = l.recipient_name + " (" + l.recipient_type + ")";
  std::replace(holder.begin(), holder.end(), '\t', ' ');
  return {FitText(std::move(holder), audit::kMaxFieldBytes), l.categories, AuditIds(Split(l.consent_ids, ','))};
}

AuditTo InboxTo(const store::InboxRecord& r) {
  return {r.assigned_to.value_or(""), consent::CategoryNames(r.categories), AuditIds(r.consent_ids)};
}

AuditTo AssignedTo(const store::InboxRecord& r, const std::string& user_id) {
  AuditTo to = InboxTo(r);
  to.recipient = user_id;
  return to;
}

audit::AuditEvent SystemEvent(AuditWhat what, std::string source, AuditTo to) {
  audit::AuditEvent e;
  e.recipient = std::move(to.recipient);
  e.categories = std::move(to.categories);
  e.consents = std::move(to.consents);
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

Status Service::AuditOrFail(NodeCore::Held& held, const Caller& c, std::string action, std::string subject,
                            std::string object, std::string purpose, std::string legal_basis, std::string outcome,
                            std::string reason, AuditTo to) {
  return service::AuditOrFail(
      held, internal::CallerEvent(c,
                                  {std::move(action), std::move(subject), std::move(object), std::move(purpose),
                                   std::move(legal_basis), std::move(outcome), std::move(reason)},
                                  std::move(to)));
}

void Service::AuditBestEffort(NodeCore::Held& held, const Caller& c, std::string action, std::string subject,
                              std::string object, std::string purpose, std::string legal_basis, std::string outcome,
                              std::string reason, AuditTo to) {
  service::AuditBestEffort(
      held, internal::CallerEvent(c,
                                  {std::move(action), std::move(subject), std::move(object), std::move(purpose),
                                   std::move(legal_basis), std::move(outcome), std::move(reason)},
                                  std::move(to)));
}

Result<Caller> Service::Authenticate(std::string_view token) {
  if (token.size() < 8 || token.size() > 256) return Status::Unauthenticated("missing or malformed bearer token");
  store::TokenHash hash = crypto::Sha256({reinterpret_cast<const uint8_t*>(token.data()), token.size()});
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user,
                           core_.Read([&](NodeCore::Reading& r) { return store::FindUserByTokenHash(r.db(), hash); }));
  if (!user || !user->Usable()) {
    if (user && !user->active) {
      return Status::Unauthenticated("this account waits for a coordinator to confirm its role (schakel user confirm " +
                                     user->name + ")");
    }
    return Status::Unauthenticated("unknown, disabled or removed token");
  }
  if (user->token_expires) {
    auto expires = ParseInstant(*user->token_expires);
    if (!expires.ok()) return Status::Corruption("stored token expiry is not an instant");
    if (core_.clock->Now() >= *expires) {
      return Status::Unauthenticated("token expired on " + *user->token_expires +
                                     "; ask an admin for `schakel user rotate-token " + user->name + "`");
    }
  }
  return Caller{user->user_id, user->name, user->role, "api", user->auth_epoch, ""};
}

}  // namespace schakel::service
