#include "schakel/store/accounts.h"

#include <algorithm>

#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"

namespace schakel::store {
namespace {

bool IsContentRole(Role r) { return r == Role::kStaff || r == Role::kCoordinator; }

Status NotRemoved(const User& u) {
  if (u.removed_at) return Status::InvalidInput("user \"" + u.name + "\" was removed on " + *u.removed_at);
  return Status::Ok();
}

// The last usable coordinator may not lose the role for good.
Status KeepsACoordinator(Database& db, const User& u, std::string_view doing) {
  if (u.role != Role::kCoordinator || !u.Usable()) return Status::Ok();
  SCHAKEL_ASSIGN_OR_RETURN(int64_t others, CountUsableCoordinators(db, u.user_id));
  if (others > 0) return Status::Ok();
  return Status::Denied("\"" + u.name + "\" is the last coordinator; " + std::string(doing) +
                        " would leave nobody to confirm staff and coordinators (confirm another coordinator first, "
                        "or disable instead)");
}

}  // namespace

NewToken MakeToken() {
  crypto::SecureBuffer raw = crypto::SecureBuffer::Random(32);
  NewToken t{crypto::SecureBuffer(4 + 64), {}};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::copy_n("skl_", 4, t.token.data());
  for (size_t i = 0; i < raw.size(); ++i) {
    t.token.data()[4 + 2 * i] = static_cast<uint8_t>(kDigits[raw.data()[i] >> 4]);
    t.token.data()[5 + 2 * i] = static_cast<uint8_t>(kDigits[raw.data()[i] & 0x0f]);
  }
  t.hash = crypto::Sha256(t.token.span());
  return t;
}

bool LooksLikeUserId(std::string_view s) {
  if (s.size() != 14 || s.substr(0, 2) != "u-") return false;
  return std::all_of(s.begin() + 2, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<User> RequireUser(Database& db, const std::string& name) {
  std::optional<User> u;
  if (LooksLikeUserId(name)) {
    SCHAKEL_ASSIGN_OR_RETURN(u, FindUserById(db, name));
  } else {
    SCHAKEL_ASSIGN_OR_RETURN(u, FindUserByName(db, name));
  }
  if (!u) return Status::NotFound("no user named \"" + name + "\" (see schakel user list)");
  return *u;
}

Result<CreatedAccount> CreateAccount(Database& db, const std::string& name, Role role, const std::string& requester,
                                     const std::string& now, const std::string& token_expires) {
  if (LooksLikeUserId(name)) {
    return Status::InvalidInput("name: \"" + name + "\" looks like a user id (u- and 12 hex digits); choose another");
  }
  CreatedAccount out;
  out.token = MakeToken();
  User& user = out.user;
  crypto::SecureBuffer id_bytes = crypto::SecureBuffer::Random(6);
  user.user_id = "u-" + ToHex(id_bytes.span());
  user.name = name;
  user.role = role;
  user.created = now;
  user.token_expires = token_expires;
  std::string reason(RoleName(role));
  if (IsContentRole(role)) {
    SCHAKEL_ASSIGN_OR_RETURN(bool bootstrap, BootstrapCoordinatorOpen(db));
    if (role == Role::kCoordinator && bootstrap) {
      user.confirmed_by = "bootstrap";
      reason += ",bootstrap_coordinator";
    } else {
      user.active = false;
      user.pending_role = role;
      user.pending_by = requester;
      reason += ",pending_confirmation";
    }
  }
  SCHAKEL_RETURN_IF_ERROR(InsertUser(db, user, out.token.hash));
  out.changes.push_back({"user.create", user.user_id, reason});
  if (user.pending_role) out.changes.push_back({"user.grant_requested", user.user_id, std::string(RoleName(role))});
  return out;
}

Result<AccountChange> DisableAccount(Database& db, const std::string& name, const std::string& now) {
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  if (u.disabled_at)
    return Status::InvalidInput("user \"" + name + "\" is disabled already (since " + *u.disabled_at + ")");
  UserUpdate up;
  up.disabled_at = std::optional<std::string>(now);
  up.end_sessions = true;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.disable", u.user_id, std::string(RoleName(u.role))};
}

Result<AccountChange> EnableAccount(Database& db, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  if (!u.disabled_at) return Status::InvalidInput("user \"" + name + "\" is not disabled");
  UserUpdate up;
  up.disabled_at = std::optional<std::string>();
  up.end_sessions = true;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.enable", u.user_id, std::string(RoleName(u.role))};
}

Result<AccountChange> RemoveAccount(Database& db, const std::string& name, const std::string& now) {
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  SCHAKEL_RETURN_IF_ERROR(KeepsACoordinator(db, u, "removing them"));
  UserUpdate up;
  up.removed_at = now;
  up.pending_role = std::optional<Role>();
  up.token_hash = MakeToken().hash;  // nobody ever saw this token
  up.end_sessions = true;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.remove", u.user_id, std::string(RoleName(u.role))};
}

Result<AccountChange> RotateToken(Database& db, const std::string& name, const NewToken& token,
                                  const std::string& token_expires) {
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  UserUpdate up;
  up.token_hash = token.hash;
  up.token_expires = token_expires;
  up.end_sessions = true;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.rotate_token", u.user_id, "expires=" + token_expires};
}

Result<AccountChange> SetRole(Database& db, const std::string& name, Role role, const std::string& requester) {
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  if (u.role == role && u.active) {
    return Status::InvalidInput("user \"" + name + "\" has the role " + std::string(RoleName(role)) + " already");
  }
  if (role != Role::kCoordinator) SCHAKEL_RETURN_IF_ERROR(KeepsACoordinator(db, u, "another role"));
  std::string from(RoleName(u.role));
  UserUpdate up;
  if (IsContentRole(role)) {
    up.pending_role = std::optional<Role>(role);
    up.pending_by = requester;
    SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
    return AccountChange{"user.grant_requested", u.user_id, std::string(RoleName(role)) + ",from=" + from};
  }
  // A direct role: also an account still waiting for its first grant
  // becomes usable with it.
  up.role = role;
  up.pending_role = std::optional<Role>();
  up.active = true;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.set_role", u.user_id, std::string(RoleName(role)) + ",from=" + from};
}

Result<AccountChange> SetFunction(Database& db, const std::string& name, const std::optional<std::string>& function) {
  if (function && !IsValidFunctionName(*function)) {
    return Status::InvalidInput(
        "function: 3 to 40 of a-z, 0-9 and '-', starting with a letter, not a role name (e.g. "
        "aandachtsfunctionaris); \"none\" removes it");
  }
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  if (function && u.role != Role::kCoordinator && u.pending_role != Role::kCoordinator) {
    return Status::InvalidInput("user \"" + name + "\" is " + std::string(RoleName(u.role)) +
                                ": a function is held by a coordinator");
  }
  UserUpdate up;
  up.function = function;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.set_function", u.user_id, function.value_or("none")};
}

Result<AccountChange> SetEmail(Database& db, const std::string& name, const std::optional<std::string>& email) {
  if (email && !IsPlainEmail(*email)) {
    return Status::InvalidInput("email: one address like j.bakker@school.example; \"none\" removes it");
  }
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  UserUpdate up;
  up.email = email;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  // The address itself stays out of the audit log (it is personal data).
  return AccountChange{"user.set_email", u.user_id, email ? "set" : "none"};
}

Result<AccountChange> ConfirmGrant(Database& db, const std::string& name, const User& confirmer) {
  if (confirmer.role != Role::kCoordinator || !confirmer.Usable()) {
    return Status::Denied("only a coordinator may confirm a staff or coordinator role");
  }
  SCHAKEL_ASSIGN_OR_RETURN(User u, RequireUser(db, name));
  SCHAKEL_RETURN_IF_ERROR(NotRemoved(u));
  if (!u.pending_role) return Status::InvalidInput("user \"" + name + "\" has no role waiting for confirmation");
  if (u.user_id == confirmer.user_id) return Status::Denied("nobody may confirm a role for themselves");
  if (u.pending_by == confirmer.user_id) {
    return Status::Denied("the coordinator who asked for this role may not confirm it; another coordinator must");
  }
  if (*u.pending_role != Role::kCoordinator) SCHAKEL_RETURN_IF_ERROR(KeepsACoordinator(db, u, "another role"));
  UserUpdate up;
  up.role = *u.pending_role;
  up.pending_role = std::optional<Role>();
  up.active = true;
  up.confirmed_by = confirmer.user_id;
  SCHAKEL_RETURN_IF_ERROR(UpdateUser(db, u.user_id, up));
  return AccountChange{"user.grant_confirmed", u.user_id,
                       std::string(RoleName(*u.pending_role)) + ",requested_by=" + u.pending_by};
}

}  // namespace schakel::store
