// The life of an account after `user add` (issue 16, "Accounts end" and
// "Content roles need a second person"), as one set of rules that the
// offline commands (cli/src/user_commands.cpp) and the daemon's operations
// (service/src/accounts.cpp) share. Each function checks the rule, writes the
// change and returns what the caller must audit; authorising the actor
// (admin, coordinator) is the caller's part.
//
// Rules (docs/api.md "Accounts"):
// - staff and coordinator are content roles: creating an account with one,
//   or giving an account one, is pending until a usable coordinator who is
//   neither the requester nor the account itself confirms it. A new account
//   may not sign in before; an existing one keeps its role meanwhile.
// - admin and auditor are given directly.
// - The node's first coordinator is made without a confirmation, while no
//   account holds the coordinator role (BootstrapCoordinatorOpen).
// - The last usable coordinator can be disabled (that is undone by enable)
//   but not removed nor given another role: nobody could confirm a grant
//   after it.
// - Removal keeps the row (cases, links and the audit log name its id) and
//   its name; its token hash is replaced by random bytes.
// - Disable, enable, remove, a new token and a new password raise the
//   account's auth_epoch: console sessions that began before end.
#pragma once

#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "schakel/store/users.h"

namespace schakel::store {

// What a change did, to audit: action (user.disable, ...), the user's id as
// the object, and reason codes.
struct AccountChange {
  std::string action;
  std::string user_id;
  std::string reason;
};

// A fresh bearer token, "skl_" and 64 hex digits, in guarded memory, and its
// SHA-256 (what is stored).
struct NewToken {
  crypto::SecureBuffer token;
  TokenHash hash{};
  std::string_view text() const { return {reinterpret_cast<const char*>(token.data()), token.size()}; }
};
NewToken MakeToken();

// The user named `name`, or with the id `name` when it has the form of a
// user id ("u-" and 12 hex digits; no name may have it); kNotFound otherwise.
// Every function below takes a name or id this way.
bool LooksLikeUserId(std::string_view s);
Result<User> RequireUser(Database& db, const std::string& name);

// Creates an account with a fresh token expiring at `token_expires`.
// `requester` is who asks (a user id or "os:<user>"). For a content role the
// account is pending (changes: user.create and user.grant_requested), except
// the bootstrap coordinator (reason bootstrap_coordinator).
struct CreatedAccount {
  User user;
  NewToken token;
  std::vector<AccountChange> changes;
};
Result<CreatedAccount> CreateAccount(Database& db, const std::string& name, Role role, const std::string& requester,
                                     const std::string& now, const std::string& token_expires);

Result<AccountChange> DisableAccount(Database& db, const std::string& name, const std::string& now);
Result<AccountChange> EnableAccount(Database& db, const std::string& name);
Result<AccountChange> RemoveAccount(Database& db, const std::string& name, const std::string& now);
// Replaces the token's hash with `token`'s and sets the new expiry.
Result<AccountChange> RotateToken(Database& db, const std::string& name, const NewToken& token,
                                  const std::string& token_expires);
// admin, auditor: user.set_role at once. staff, coordinator:
// user.grant_requested, pending until confirmed.
Result<AccountChange> SetRole(Database& db, const std::string& name, Role role, const std::string& requester);
// user.set_function: the function a coordinator holds (IsValidFunctionName),
// or none (nullopt). kInvalidInput for a bad name or a user who is not a
// coordinator (nor waiting to become one).
Result<AccountChange> SetFunction(Database& db, const std::string& name, const std::optional<std::string>& function);
// Where e-mail notices for `name` go; nullopt removes it. kInvalidInput for
// an address that is not one plain address (base IsPlainEmail).
Result<AccountChange> SetEmail(Database& db, const std::string& name, const std::optional<std::string>& email);
// `confirmer` must be a usable coordinator other than the requester and the
// account itself: kDenied otherwise.
Result<AccountChange> ConfirmGrant(Database& db, const std::string& name, const User& confirmer);

}  // namespace schakel::store
