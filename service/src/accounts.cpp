// Sign-in checks (console password and TOTP), the admin's views of users
// and partners, and the accounts' changes (store/accounts.h has the rules).
#include <mutex>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/password.h"
#include "schakel/crypto/totp.h"
#include "schakel/service/service.h"
#include "schakel/store/accounts.h"
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
  bool ok = user && user->Usable() && !hash.empty() && matches;
  Caller c{user ? user->user_id : "",        user ? user->name : "",
           user ? user->role : Role::kStaff, source,
           user ? user->auth_epoch : 0,      ""};
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
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners,
                           core_.Read([](NodeCore::Reading& r) { return store::ListPartners(r.db()); }));
  std::vector<PartnerView> list;
  list.reserve(partners.size());
  for (const auto& p : partners) {
    list.push_back(
        {p.card.node_id, p.card.name, p.card.org_type, p.card.address, crypto::Fingerprint(p.card.sign_pk), p.added});
  }
  return list;
}

namespace {

// Runs one account change under the node lock and audits it in the same
// transaction; a failed audit undoes the change.
template <typename Fn>
Result<AccountChanged> ChangeAccount(NodeCore& core, const Caller& c, const std::string& name, Fn fn) {
  NodeCore::Held held(core);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(store::AccountChange change, fn(held));
  SCHAKEL_RETURN_IF_ERROR(service::AuditOrFail(
      held, internal::CallerEvent(c, {change.action, "", change.user_id, "", "", "ok", change.reason})));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return AccountChanged{name, change.user_id, change.action};
}

}  // namespace

Result<AccountChanged> Service::DisableUser(const Caller& c, const std::string& name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kDisableUser));
  std::string now = FormatInstant(core_.clock->Now());
  return ChangeAccount(core_, c, name, [&](NodeCore::Held& h) { return store::DisableAccount(h.db(), name, now); });
}

Result<AccountChanged> Service::EnableUser(const Caller& c, const std::string& name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kEnableUser));
  return ChangeAccount(core_, c, name, [&](NodeCore::Held& h) { return store::EnableAccount(h.db(), name); });
}

Result<AccountChanged> Service::RemoveUser(const Caller& c, const std::string& name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kRemoveUser));
  std::string now = FormatInstant(core_.clock->Now());
  return ChangeAccount(core_, c, name, [&](NodeCore::Held& h) { return store::RemoveAccount(h.db(), name, now); });
}

Result<AccountChanged> Service::SetUserRole(const Caller& c, const std::string& name, store::Role role) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kSetUserRole));
  return ChangeAccount(core_, c, name,
                       [&](NodeCore::Held& h) { return store::SetRole(h.db(), name, role, c.user_id); });
}

Result<AccountChanged> Service::ConfirmGrant(const Caller& c, const std::string& name) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kConfirmGrant));
  return ChangeAccount(core_, c, name, [&](NodeCore::Held& h) -> Result<store::AccountChange> {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> me, store::FindUserById(h.db(), c.user_id));
    if (!me) return Status::Unauthenticated("your account no longer exists");
    return store::ConfirmGrant(h.db(), name, *me);
  });
}

Result<std::vector<PendingGrant>> Service::ListPendingGrants(const Caller& c) {
  SCHAKEL_RETURN_IF_ERROR(Authorize(c, Op::kListPendingGrants));
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListPendingGrants(held.db()));
  std::vector<PendingGrant> out;
  for (const auto& u : users) {
    std::string by = u.pending_by;
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> requester, store::FindUserById(held.db(), u.pending_by));
    if (requester) by = requester->name;
    out.push_back({u.name, u.user_id, std::string(store::RoleName(*u.pending_role)),
                   u.active ? std::string(store::RoleName(u.role)) : std::string(), by});
  }
  return out;
}

Result<Caller> Service::Revalidate(const Caller& c) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user,
                           core_.Read([&](NodeCore::Reading& r) { return store::FindUserById(r.db(), c.user_id); }));
  if (!user || !user->Usable() || user->auth_epoch != c.auth_epoch) {
    return Status::Unauthenticated("your account was changed or disabled; sign in again");
  }
  Caller now = c;
  now.role = user->role;
  now.name = user->name;
  return now;
}

}  // namespace schakel::service
