// `schakel user add`: creates a user with a role and prints its bearer token
// once. Only the token's SHA-256 is stored; a lost token is replaced, never
// recovered.
//
// The rest of an account's life (list, disable, enable, remove,
// rotate-token, set-role, confirm, pending) is in user_admin_commands.cpp.
//
// `schakel user passwd NAME`: sets the user's console password (read from
// stdin, without echo on a terminal) and a fresh TOTP secret, printed once as
// an otpauth:// URI and as base32 text for an authenticator app.
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/password.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/crypto/totp.h"
#include "schakel/store/accounts.h"
#include "schakel/store/users.h"

namespace schakel::cli {
namespace {

struct UserAddArgs {
  std::string name;
  std::string role;
};

Status RunUserAdd(Context* ctx, const UserAddArgs& args) {
  if (args.name.empty() || args.name.size() > 128 || !IsPrintableUtf8(args.name)) {
    return Status::InvalidInput("--name: must be 1 to 128 printable characters");
  }
  auto role = store::ParseRole(args.role);
  if (!role) {
    return Status::InvalidInput("--role: unknown role \"" + args.role +
                                "\" (one of staff, coordinator, auditor, admin)");
  }
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  Instant now = NowUtc();
  SCHAKEL_ASSIGN_OR_RETURN(store::CreatedAccount made,
                           store::CreateAccount(*node.db, args.name, *role, OfflineActor(), FormatInstant(now),
                                                FormatInstant(now + std::chrono::days(node.config.token_days))));
  for (const auto& change : made.changes) {
    SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, change.action, change.user_id, change.reason));
  }
  const store::User& user = made.user;
  std::string_view token_text = made.token.text();
  if (ctx->globals.json) {
    std::string t(token_text);
    PrintJson(ctx, {{"user_id", user.user_id},
                    {"name", user.name},
                    {"role", store::RoleName(user.role)},
                    {"pending", user.pending_role.has_value()},
                    {"token_expires", *user.token_expires},
                    {"token", t}});
    crypto::Wipe(t.data(), t.size());
  } else {
    ctx->io.out << "User " << user.name << " (" << store::RoleName(user.role) << ", id " << user.user_id << ") created";
    if (user.pending_role) {
      ctx->io.out << "; it cannot sign in until a coordinator confirms the role (schakel user confirm " << user.name
                  << ")";
    }
    ctx->io.out << ". Their token, valid until " << *user.token_expires << ", shown only now:\n" << token_text << "\n";
  }
  return Status::Ok();
}

// Reads one line of at most kMaxPasswordLength bytes into guarded memory.
// When stdin is a terminal, echo is off while typing.
Result<crypto::SecureBuffer> ReadPassword(Context* ctx) {
  const bool tty = &ctx->io.in == &std::cin && isatty(STDIN_FILENO) == 1;
  termios old_mode{};
  if (tty && tcgetattr(STDIN_FILENO, &old_mode) == 0) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    ctx->io.err << "New password (12 to 1024 characters): " << std::flush;
  }
  crypto::SecureBuffer buf(crypto::kMaxPasswordLength + 1);
  size_t n = 0;
  bool too_long = false;
  char ch = 0;
  // Bounded: stops at the first newline, at end of input, or after the limit.
  for (size_t i = 0; i < crypto::kMaxPasswordLength + 2 && ctx->io.in.get(ch); ++i) {
    if (ch == '\n') break;
    if (n == buf.size()) {
      too_long = true;
      break;
    }
    buf.data()[n++] = static_cast<uint8_t>(ch);
  }
  // Wipe, not `ch = 0`: a plain store to a variable never read again is
  // dropped by the optimiser (clang-analyzer DeadStores), leaving the last
  // password byte on the stack.
  crypto::Wipe(&ch, sizeof ch);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
    ctx->io.err << "\n";
  }
  if (n > 0 && buf.data()[n - 1] == '\r') --n;
  if (too_long || n > crypto::kMaxPasswordLength) {
    return Status::InvalidInput("password: at most 1024 characters");
  }
  if (n < crypto::kMinPasswordLength) return Status::InvalidInput("password: at least 12 characters (read from stdin)");
  crypto::SecureBuffer out = crypto::SecureBuffer::FromBytes({buf.data(), n});
  return out;
}

Status RunUserPasswd(Context* ctx, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> user, store::FindUserByName(*node.db, name));
  if (!user) return Status::InvalidInput("no user named \"" + name + "\" (see schakel user add)");
  if (user->disabled_at || user->removed_at)
    return Status::InvalidInput("user \"" + name + "\" is disabled or removed");
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer password, ReadPassword(ctx));
  SCHAKEL_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(std::string_view(
                                                 reinterpret_cast<const char*>(password.data()), password.size())));
  crypto::SecureBuffer secret = crypto::SecureBuffer::Random(crypto::kTotpSecretBytes);
  SCHAKEL_RETURN_IF_ERROR(store::SetCredentials(*node.db, user->user_id, hash, secret.span(), FormatInstant(NowUtc())));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "user.passwd", user->user_id, "password_and_totp_reset"));

  std::string account = user->name + "@" + node.config.node_id;
  std::string uri = crypto::TotpUri("Schakel", account, secret.span());
  std::string base32 = crypto::Base32Encode(secret.span());
  if (ctx->globals.json) {
    PrintJson(ctx, {{"user_id", user->user_id}, {"name", user->name}, {"otpauth_uri", uri}, {"totp_secret", base32}});
  } else {
    ctx->io.out << "Password set for " << user->name << ". Add this second factor to an authenticator app now;\n"
                << "it is shown only once (scan or paste the URI, or type the secret):\n"
                << uri << "\n"
                << base32 << "\n";
  }
  crypto::Wipe(uri.data(), uri.size());
  crypto::Wipe(base32.data(), base32.size());
  return Status::Ok();
}

}  // namespace

void AddUserCommands(CLI::App& app, Context* ctx) {
  CLI::App* user = app.add_subcommand("user", "users and their roles");
  user->require_subcommand(1);
  auto args = std::make_shared<UserAddArgs>();
  CLI::App* add = user->add_subcommand("add", "create a user and print their token once");
  AddCommonOptions(add, ctx);
  add->add_option("--name", args->name, "the user's name")->required();
  add->add_option("--role", args->role, "staff, coordinator, auditor or admin")->required();
  add->callback([ctx, args] { ctx->action = {"user add", [ctx, args] { return RunUserAdd(ctx, *args); }}; });
  auto passwd_name = std::make_shared<std::string>();
  CLI::App* passwd =
      user->add_subcommand("passwd", "set a user's console password (from stdin) and a new TOTP secret, printed once");
  AddCommonOptions(passwd, ctx);
  passwd->add_option("name", *passwd_name, "the user's name")->required();
  passwd->callback([ctx, passwd_name] {
    ctx->action = {"user passwd", [ctx, passwd_name] { return RunUserPasswd(ctx, *passwd_name); }};
  });
  AddUserAdminCommands(user, ctx);
}

}  // namespace schakel::cli
