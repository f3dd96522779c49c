// `schakel link create|list|revoke|new-code`: dossier links (docs/links.md),
// thin clients of POST/GET /v1/links on the daemon's API. `create` and
// `new-code` print the URL and, alone on the last line, the access code.
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"

namespace schakel::cli {
namespace {

using nlohmann::json;

Result<int> ParseDays(const std::string& text) {
  std::string digits = text;
  if (!digits.empty() && digits.back() == 'd') digits.pop_back();
  if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidInput("--expires: expected a number of days like 7d");
  }
  return std::stoi(digits);
}

Status PrintLink(Context* ctx, const json& r) {
  return PrintResult(ctx, r, [&](std::ostream& o) {
    const std::string withheld = JsonNames(r.value("withheld", json::array()));
    if (!withheld.empty() && withheld != "-") o << "withheld: " << withheld << "\n";
    o << "link: " << JsonText(r, "link_id") << " (expires " << JsonText(r, "expires") << ")\n";
    o << JsonText(r, "url") << "\n";
    o << "access code (give it by phone or SMS, not with the link):\n";
    o << JsonText(r, "code") << "\n";
  });
}

}  // namespace

void AddLinkCommands(CLI::App& app, Context* ctx) {
  CLI::App* l = app.add_subcommand("link", "dossier links with a personal access code");
  l->require_subcommand(1);
  struct Args {
    std::string case_id, for_name, type, purpose, expires = "7d", id;
    std::vector<std::string> categories;
    bool allow_partial = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* create =
      Online(l, "create", "create a link, if the gate permits; prints the URL and the code", ctx, "link create",
             FlagHints{{"for", "--for"},
                       {"type", "--type"},
                       {"purpose", "--purpose"},
                       {"expires_days", "--expires"},
                       {"category", "--category"},
                       {"allow_partial", "--allow-partial"}},
             [ctx, a] {
               SCHAKEL_ASSIGN_OR_RETURN(int days, ParseDays(a->expires));
               json body{{"case_id", a->case_id}, {"for", a->for_name},   {"type", a->type},
                         {"purpose", a->purpose}, {"expires_days", days}, {"allow_partial", a->allow_partial}};
               if (!a->categories.empty()) body["categories"] = a->categories;
               json details;
               auto r = CallApi(*ctx, "POST", "/v1/links", body.dump(), &details);
               if (!r.ok()) {
                 if (ctx->globals.json && details.contains("decision")) PrintJson(ctx, details);
                 return r.status();
               }
               return PrintLink(ctx, *r);
             });
  create->add_option("CASE", a->case_id, "case id")->required();
  create->add_option("--for", a->for_name, "the person the link is for")->required();
  create->add_option("--type", a->type, "their org type (ggd, wijkteam, ...)")->required();
  create->add_option("--purpose", a->purpose, "kernteamoverleg, doorverwijzing, ...")->required();
  create->add_option("--expires", a->expires, "validity in days, like 7d (default 7d, at most 30d)");
  create->add_option("--category", a->categories, "a category to include (repeat); default: all the case holds");
  create->add_flag("--allow-partial", a->allow_partial, "include what is allowed even if some categories are withheld");

  Online(l, "list", "list links (yours; a coordinator sees all)", ctx, "link list", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/links"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& x : r["links"]) {
        o << JsonText(x, "link_id") << "  " << JsonText(x, "case_id") << "  " << JsonText(x, "for") << " ("
          << JsonText(x, "type") << ")  " << JsonText(x, "purpose") << "  " << JsonText(x, "state") << "  expires "
          << JsonText(x, "expires") << "\n";
      }
    });
  });
  Online(l, "revoke", "revoke a link: its page answers 410 and the content is deleted", ctx, "link revoke",
         [ctx, a] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/links/" + a->id + "/revoke", "{}"));
           return PrintResult(ctx, r, [&](std::ostream& o) { o << JsonText(r, "link_id") << " revoked\n"; });
         })
      ->add_option("ID", a->id, "link id")
      ->required();
  Online(l, "new-code", "a new URL and code for a (locked) link, decided again on the current case", ctx,
         "link new-code",
         [ctx, a] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/links/" + a->id + "/new-code", "{}"));
           return PrintLink(ctx, r);
         })
      ->add_option("ID", a->id, "link id")
      ->required();
}

}  // namespace schakel::cli
