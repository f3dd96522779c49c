// The end of an account and the second person for content roles (issue 16;
// the rules are store/accounts.h's):
//
//   schakel user list                      offline: every account and its state
//   schakel user disable|enable|remove NAME   offline, audited
//   schakel user rotate-token NAME         offline: a new token, printed once on
//                                          the last line; the old one stops working
//   schakel user set-role NAME ROLE        offline: admin and auditor at once;
//                                          staff and coordinator wait for a coordinator
//   schakel user confirm NAME              online, as a coordinator (POST
//                                          /v1/users/NAME/confirm); with --offline the
//                                          coordinator's token is checked against the
//                                          database directly (before the daemon runs)
//   schakel user pending                   online, as a coordinator: grants waiting
//
// Offline commands audit with the actor os:<user>, like `user add`.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/store/accounts.h"
#include "schakel/store/users.h"

namespace schakel::cli {
namespace {

using nlohmann::json;

std::string StateOf(const store::User& u) {
  if (u.removed_at) return "removed";
  if (u.disabled_at) return "disabled";
  if (!u.active) return "pending";
  return "active";
}

Status RunUserList(Context* ctx) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::User> users, store::ListUsers(*node.db));
  json list = json::array();
  for (const auto& u : users) {
    list.push_back({{"user_id", u.user_id},
                    {"name", u.name},
                    {"role", store::RoleName(u.role)},
                    {"state", StateOf(u)},
                    {"pending_role", u.pending_role ? json(store::RoleName(*u.pending_role)) : json(nullptr)},
                    {"token_expires", u.token_expires ? json(*u.token_expires) : json(nullptr)},
                    {"function", u.function ? json(*u.function) : json(nullptr)},
                    {"created", u.created}});
  }
  return PrintResult(ctx, json{{"users", list}}, [&](std::ostream& o) {
    for (const auto& u : list) {
      o << JsonText(u, "name") << "\t" << JsonText(u, "role") << "\t" << JsonText(u, "state") << "\t"
        << "pending=" << JsonText(u, "pending_role") << "\ttoken_expires=" << JsonText(u, "token_expires");
      if (u["function"].is_string()) o << "\tfunction=" << JsonText(u, "function");
      o << "\n";
    }
  });
}

using Change = std::function<Result<store::AccountChange>(OfflineNode&, const std::string& now)>;

Status RunChange(Context* ctx, const std::string& name, const std::string& done, const Change& change) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(store::AccountChange c, change(node, FormatInstant(NowUtc())));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, c.action, c.user_id, c.reason));
  return PrintResult(ctx, json{{"name", name}, {"user_id", c.user_id}, {"action", c.action}, {"reason", c.reason}},
                     [&](std::ostream& o) { o << "User " << name << " " << done << ".\n"; });
}

Status RunRotateToken(Context* ctx, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  store::NewToken token = store::MakeToken();
  std::string expires = FormatInstant(NowUtc() + std::chrono::days(node.config.token_days));
  SCHAKEL_ASSIGN_OR_RETURN(store::AccountChange c, store::RotateToken(*node.db, name, token, expires));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, c.action, c.user_id, c.reason));
  if (ctx->globals.json) {
    std::string t(token.text());
    PrintJson(ctx, {{"name", name}, {"user_id", c.user_id}, {"token_expires", expires}, {"token", t}});
    crypto::Wipe(t.data(), t.size());
  } else {
    ctx->io.out << "New token for " << name << ", valid until " << expires
                << "; the old one no longer works. Shown only now:\n"
                << token.text() << "\n";
  }
  return Status::Ok();
}

// A coordinator confirms without the daemon: their own token, checked
// against the database like the daemon does.
Status RunConfirmOffline(Context* ctx, const std::string& name) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer token, LoadToken(*ctx));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::User> me,
                           store::FindUserByTokenHash(*node.db, crypto::Sha256(token.span())));
  if (!me || !me->Usable()) return Status::Unauthenticated("unknown, pending or disabled token");
  if (me->token_expires && *me->token_expires <= FormatInstant(NowUtc())) {
    return Status::Unauthenticated("token expired on " + *me->token_expires +
                                   "; ask an admin for `schakel user rotate-token " + me->name + "`");
  }
  SCHAKEL_ASSIGN_OR_RETURN(store::AccountChange c, store::ConfirmGrant(*node.db, name, *me));
  SCHAKEL_RETURN_IF_ERROR(
      AuditOfflineAs(node, me->user_id, std::string(store::RoleName(me->role)), c.action, c.user_id, c.reason));
  return PrintResult(ctx, json{{"name", name}, {"user_id", c.user_id}, {"confirmed_by", me->name}},
                     [&](std::ostream& o) { o << "Role of " << name << " confirmed.\n"; });
}

void AddChange(
    CLI::App* user, Context* ctx, const std::string& verb, const std::string& help, const std::string& done,
    std::function<Result<store::AccountChange>(store::Database&, const std::string&, const std::string&)> fn) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = user->add_subcommand(verb, help);
  AddCommonOptions(cmd, ctx);
  cmd->add_option("name", *name, "the user's name")->required();
  cmd->callback([ctx, name, verb, done, fn] {
    ctx->action = {"user " + verb, [ctx, name, done, fn] {
                     return RunChange(ctx, *name, done, [&](OfflineNode& node, const std::string& now) {
                       return fn(*node.db, *name, now);
                     });
                   }};
  });
}

// The name as a path segment when it is one (no '%' is allowed there);
// otherwise the user id of the pending grant with that name.
Result<std::string> PendingRef(const Context& ctx, const std::string& name) {
  bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (plain) return name;
  SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(ctx, "GET", "/v1/users/pending"));
  for (const auto& p : r["pending"]) {
    if (p.value("name", "") == name) return p.value("user_id", "");
  }
  return Status::NotFound("no role waiting for confirmation for \"" + name + "\" (see schakel user pending)");
}

}  // namespace

void AddUserAdminCommands(CLI::App* user, Context* ctx) {
  CLI::App* list = user->add_subcommand("list", "every account: role, state, pending role, token expiry");
  AddCommonOptions(list, ctx);
  list->callback([ctx] { ctx->action = {"user list", [ctx] { return RunUserList(ctx); }}; });

  AddChange(user, ctx, "disable", "disable an account: its token and console sessions stop at once", "disabled",
            [](store::Database& db, const std::string& n, const std::string& now) {
              return store::DisableAccount(db, n, now);
            });
  AddChange(user, ctx, "enable", "enable a disabled account again", "enabled",
            [](store::Database& db, const std::string& n, const std::string&) { return store::EnableAccount(db, n); });
  AddChange(user, ctx, "remove", "remove an account for good (its row and name stay, for the audit log)", "removed",
            [](store::Database& db, const std::string& n, const std::string& now) {
              return store::RemoveAccount(db, n, now);
            });

  auto rot_name = std::make_shared<std::string>();
  CLI::App* rot = user->add_subcommand("rotate-token", "replace a user's token (printed once) and reset its expiry");
  AddCommonOptions(rot, ctx);
  rot->add_option("name", *rot_name, "the user's name")->required();
  rot->callback([ctx, rot_name] {
    ctx->action = {"user rotate-token", [ctx, rot_name] { return RunRotateToken(ctx, *rot_name); }};
  });

  auto sr_name = std::make_shared<std::string>();
  auto sr_role = std::make_shared<std::string>();
  CLI::App* sr = user->add_subcommand(
      "set-role", "give a user another role (staff and coordinator wait for a coordinator's confirmation)");
  AddCommonOptions(sr, ctx);
  sr->add_option("name", *sr_name, "the user's name")->required();
  sr->add_option("role", *sr_role, "staff, coordinator, auditor or admin")->required();
  sr->callback([ctx, sr_name, sr_role] {
    ctx->action = {"user set-role", [ctx, sr_name, sr_role] {
                     auto role = store::ParseRole(*sr_role);
                     if (!role) {
                       return Status::InvalidInput("role: unknown role \"" + *sr_role +
                                                   "\" (one of staff, coordinator, auditor, admin)");
                     }
                     return RunChange(ctx, *sr_name, "now has role " + *sr_role + " (or waits for a coordinator)",
                                      [&](OfflineNode& node, const std::string&) {
                                        return store::SetRole(*node.db, *sr_name, *role, OfflineActor());
                                      });
                   }};
  });

  auto fn_name = std::make_shared<std::string>();
  auto fn_value = std::make_shared<std::string>();
  CLI::App* fn = user->add_subcommand(
      "set-function",
      "the function a coordinator holds, e.g. the one [meldcode] approver_role names (\"none\": remove)");
  AddCommonOptions(fn, ctx);
  fn->add_option("name", *fn_name, "the user's name")->required();
  fn->add_option("function", *fn_value, "e.g. aandachtsfunctionaris, or none")->required();
  fn->callback([ctx, fn_name, fn_value] {
    ctx->action = {"user set-function", [ctx, fn_name, fn_value] {
                     std::optional<std::string> function;
                     if (*fn_value != "none") function = *fn_value;
                     return RunChange(ctx, *fn_name, "now holds the function " + *fn_value,
                                      [&](OfflineNode& node, const std::string&) {
                                        return store::SetFunction(*node.db, *fn_name, function);
                                      });
                   }};
  });

  auto em_name = std::make_shared<std::string>();
  auto em_value = std::make_shared<std::string>();
  CLI::App* em = user->add_subcommand("set-email",
                                      "where e-mail notices that something waits go ([notify]; \"none\": no notices)");
  AddCommonOptions(em, ctx);
  em->add_option("name", *em_name, "the user's name")->required();
  em->add_option("address", *em_value, "e.g. j.bakker@school.example, or none")->required();
  em->callback([ctx, em_name, em_value] {
    ctx->action = {"user set-email", [ctx, em_name, em_value] {
                     std::optional<std::string> email;
                     if (*em_value != "none") email = *em_value;
                     return RunChange(ctx, *em_name, email ? "now gets e-mail notices" : "gets no e-mail notices",
                                      [&](OfflineNode& node, const std::string&) {
                                        return store::SetEmail(*node.db, *em_name, email);
                                      });
                   }};
  });

  auto cf_name = std::make_shared<std::string>();
  auto offline = std::make_shared<bool>(false);
  CLI::App* cf =
      Online(user, "confirm", "as a coordinator, confirm a staff or coordinator role another asked for", ctx,
             "user confirm", [ctx, cf_name, offline] {
               if (*offline) return RunConfirmOffline(ctx, *cf_name);
               SCHAKEL_ASSIGN_OR_RETURN(std::string ref, PendingRef(*ctx, *cf_name));
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/users/" + ref + "/confirm", "{}"));
               return PrintResult(ctx, r, [&](std::ostream& o) { o << "Role of " << *cf_name << " confirmed.\n"; });
             });
  cf->add_option("name", *cf_name, "the user's name")->required();
  cf->add_flag("--offline", *offline, "check your token against the database directly (no daemon needed)");

  Online(user, "pending", "as a coordinator, list the roles waiting for confirmation", ctx, "user pending", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/users/pending"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& p : r["pending"]) {
        o << JsonText(p, "name") << "\t" << JsonText(p, "pending_role")
          << "\trequested_by=" << JsonText(p, "requested_by") << "\n";
      }
    });
  });
}

}  // namespace schakel::cli
