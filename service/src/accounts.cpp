// Sign-in checks (console password and TOTP) and the admin's views of users
// and partners.
#include <mutex>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/password.h"
#include "schakel/crypto/totp.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "service_internal.h"

namespace schakel::service {

using store::Role;

Result<Caller> Service::CheckPassword(const std::string& name, std::string_view password, const std::string& source) {
  static const Status kWrong = Status::Unauthenticated("unknown user or wrong password");
  if (name.empty() || name.size() > 128 || password.size() > crypto::kMaxPasswordLength) return kWrong;
  std::optional<store::User> user;
  std::string hash;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(user, store::FindUserByName(held.db(), name));
    if (user) {
      SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Credentials> creds,
                               store::GetCredentials(held.db(), user->user_id));
      if (creds) hash = creds->password_hash;
    }
  }
  // Unknown users cost one hash check too, so timing does not tell which
  // names exist.
  static const std::string kDummyHash = crypto::HashPassword("schakel-no-such-user-dummy").value();
  bool matches = crypto::VerifyPassword(hash.empty() ? kDummyHash : hash, password);
  bool ok = user && !user->disabled_at && !hash.empty() && matches;
  Caller c{user ? user->user_id : "", user ? user->name : "", user ? user->role : Role::kStaff, source};
  NodeCore::Held held(core_);
  if (!ok) {
    audit::AuditEvent e =
        SystemEvent({"console.signin", "", user ? user->user_id : "", "", "", "deny", "bad_password"}, source);
    if (user) {
      e.actor_user = user->user_id;
      e.actor_role = std::string(store::RoleName(user->role));
    }
    service::AuditBestEffort(held, std::move(e));
    return kWrong;
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "console.signin", "", c.user_id, "", "", "ok", "password"));
  return c;
}

Status Service::CheckTotp(const Caller& c, std::string_view code) {
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Credentials> creds, store::GetCredentials(held.db(), c.user_id));
  std::optional<int64_t> step;
  if (creds && !creds->totp_secret.empty()) {
    step = crypto::VerifyTotp(creds->totp_secret.span(), code, core_.clock->Now(), creds->totp_last_step);
  }
  bool ok = false;
  if (step) {
    SCHAKEL_ASSIGN_OR_RETURN(ok, store::UseTotpStep(held.db(), c.user_id, *step));
  }
  if (!ok) {
    AuditBestEffort(held, c, "console.signin", "", c.user_id, "", "", "deny", "bad_totp");
    return Status::Unauthenticated("wrong, expired or already used code");
  }
  return AuditOrFail(held, c, "console.signin", "", c.user_id, "", "", "ok", "totp");
}

Result<std::vector<UserView>> Service::ListUsers(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListUsers));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(held.db()));
  std::vector<UserView> list;
  for (auto& u : users) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Credentials> creds, store::GetCredentials(held.db(), u.user_id));
    list.push_back({std::move(u), creds.has_value()});
  }
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, c, "user.list", "", "", "", "", "ok", ""));
  return list;
}

Result<std::vector<PartnerView>> Service::ListPartners(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListPartners));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(held.db()));
  std::vector<PartnerView> list;
  for (const auto& p : partners) {
    list.push_back(
        {p.card.node_id, p.card.name, p.card.org_type, p.card.address, crypto::Fingerprint(p.card.sign_pk), p.added});
  }
  return list;
}

}  // namespace schakel::service
