// `schakel audit query|export|subject`: the online half of the audit
// commands (the offline `audit verify` is in audit_commands.cpp). Auditors
// only; the daemon logs each read of the log.
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"

namespace schakel::cli {
namespace {

using nlohmann::json;

CLI::App* OnlineAudit(CLI::App* group, const std::string& name, const std::string& help, Context* ctx, std::string what,
                      std::function<Status()> run) {
  CLI::App* cmd = group->add_subcommand(name, help);
  AddCommonOptions(cmd, ctx);
  cmd->add_option("--token-file", ctx->globals.token_file, "file holding your token (default $SCHAKEL_TOKEN)");
  cmd->callback([ctx, what = std::move(what), run = std::move(run)] { ctx->action = {what, run}; });
  return cmd;
}

}  // namespace

void AddAuditOnlineCommands(CLI::App& app, Context* ctx) {
  CLI::App* group = app.get_subcommand("audit");
  struct Filter {
    std::string student, user, action, since;
  };
  auto f = std::make_shared<Filter>();
  CLI::App* query = OnlineAudit(group, "query", "search the access log", ctx, "audit query", [ctx, f]() -> Status {
    std::string target = "/v1/audit/entries?";
    if (!f->student.empty()) target += "student=" + QueryValue(f->student) + "&";
    if (!f->user.empty()) target += "user=" + QueryValue(f->user) + "&";
    if (!f->action.empty()) target += "action=" + QueryValue(f->action) + "&";
    if (!f->since.empty()) target += "since=" + QueryValue(f->since) + "&";
    target.pop_back();
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", target));
    if (ctx->globals.json) {
      PrintJson(ctx, r);
      return Status::Ok();
    }
    for (const auto& e : r["entries"]) {
      // Who by name when the node knows it, with the id to search by.
      std::string who = JsonText(e["actor"], "user");
      if (e["actor"].contains("name") && e["actor"]["name"].is_string()) {
        who = e["actor"]["name"].get<std::string>() + " (" + who + ")";
      }
      ctx->io.out << e["seq"].dump() << "\t" << e["ts"].get<std::string>() << "\t" << who << "\t"
                  << e["action"].get<std::string>() << "\t" << e["subject"].get<std::string>() << "\t"
                  << e["object"].get<std::string>() << "\t" << e["outcome"].get<std::string>() << "\t"
                  << e["reason"].get<std::string>();
      // What went to whom (entries of format 2; empty fields are left out).
      std::string to = JsonText(e, "recipient");
      if (!to.empty()) {
        if (e.contains("recipient_name") && e["recipient_name"].is_string()) {
          to = e["recipient_name"].get<std::string>() + " (" + to + ")";
        }
        ctx->io.out << "\tto " << to;
      }
      std::string categories = JsonText(e, "categories");
      if (!categories.empty()) ctx->io.out << "\tcategories " << categories;
      std::string consents = JsonText(e, "consents");
      if (!consents.empty()) ctx->io.out << "\tconsents " << consents;
      ctx->io.out << "\n";
    }
    return Status::Ok();
  });
  query->add_option("--student", f->student, "student id");
  query->add_option("--user", f->user, "user id");
  query->add_option("--action", f->action, "action, e.g. share.denied");
  query->add_option("--since", f->since, "RFC 3339 instant");

  auto export_format = std::make_shared<std::string>("schakel");
  CLI::App* exp = OnlineAudit(group, "export", "write the whole log as JSON Lines (verify it with audit verify)", ctx,
                              "audit export", [ctx, export_format]() -> Status {
                                std::string target = "/v1/audit/export";
                                if (*export_format == "ldv") target += "?format=ldv";
                                SCHAKEL_ASSIGN_OR_RETURN(std::string text, CallApiRaw(*ctx, "GET", target));
                                ctx->io.out << text;
                                return Status::Ok();
                              });
  exp->add_option("--format", *export_format,
                  "schakel: the hash-chained export audit verify checks (default); ldv: one Logboek "
                  "Dataverwerkingen record per entry (docs/audit.md)")
      ->check(CLI::IsMember({"schakel", "ldv"}));

  auto subject = std::make_shared<std::string>();
  auto internal = std::make_shared<bool>(false);
  CLI::App* report = OnlineAudit(group, "subject", "who accessed a student's data, when and why (AVG art. 15)", ctx,
                                 "audit subject", [ctx, subject, internal]() -> Status {
                                   std::string params;
                                   if (ctx->globals.json) params += "format=json";
                                   if (*internal) params += std::string(params.empty() ? "" : "&") + "internal=1";
                                   std::string target =
                                       "/v1/audit/subject/" + *subject + (params.empty() ? "" : "?" + params);
                                   SCHAKEL_ASSIGN_OR_RETURN(std::string text, CallApiRaw(*ctx, "GET", target));
                                   ctx->io.out << text;
                                   if (!text.empty() && text.back() != '\n') ctx->io.out << "\n";
                                   return Status::Ok();
                                 });
  report->add_option("STUDENT", *subject, "student id")->required();
  report->add_flag(
      "--internal", *internal,
      "the auditor's own report, with staff user ids (the default, for the family, names no staff member)");
}

}  // namespace schakel::cli
