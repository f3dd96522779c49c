// `schakel user add`: creates a user with a role and prints its bearer token
// once. Only the token's SHA-256 is stored; a lost token is replaced, never
// recovered.
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/secure_buffer.h"
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
  store::User user;
  crypto::SecureBuffer id_bytes = crypto::SecureBuffer::Random(6);
  user.user_id = "u-" + ToHex(id_bytes.span());
  user.name = args.name;
  user.role = *role;
  user.created = FormatInstant(NowUtc());

  // The token: "skl_" and 64 hex digits of fresh randomness, in guarded memory
  // until printed.
  crypto::SecureBuffer raw = crypto::SecureBuffer::Random(32);
  crypto::SecureBuffer token(4 + 64);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::copy_n("skl_", 4, token.data());
  for (size_t i = 0; i < raw.size(); ++i) {
    token.data()[4 + 2 * i] = static_cast<uint8_t>(kDigits[raw.data()[i] >> 4]);
    token.data()[5 + 2 * i] = static_cast<uint8_t>(kDigits[raw.data()[i] & 0x0f]);
  }
  store::TokenHash hash = crypto::Sha256(token.span());
  SCHAKEL_RETURN_IF_ERROR(store::InsertUser(*node.db, user, hash));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "user.create", user.user_id, std::string(store::RoleName(user.role))));

  std::string_view token_text(reinterpret_cast<const char*>(token.data()), token.size());
  if (ctx->globals.json) {
    std::string t(token_text);
    PrintJson(ctx, {{"user_id", user.user_id},
                    {"name", user.name},
                    {"role", store::RoleName(user.role)},
                    {"token", t}});
    crypto::Wipe(t.data(), t.size());
  } else {
    ctx->io.out << "User " << user.name << " (" << store::RoleName(user.role) << ", id "
                << user.user_id << ") created. Their token, shown only now:\n"
                << token_text << "\n";
  }
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
  add->callback([ctx, args] {
    ctx->action = {"user add", [ctx, args] { return RunUserAdd(ctx, *args); }};
  });
}

}  // namespace schakel::cli
