// `schakel consent request|requests`: permission requests to parents and
// young people (docs/consent-requests.md), thin clients of POST/GET
// /v1/consent-requests. `request` prints, per grantor, the URL and the
// access code to hand over separately (the node keeps neither).
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"
#include "schakel/formats/api_request.h"

namespace schakel::cli {

using nlohmann::json;

void AddConsentRequestCommands(CLI::App* c, Context* ctx) {
  struct Args {
    std::string student, until;
    std::vector<std::string> to, purposes, categories;
    int answer_days = formats::kDefaultAnswerDays;
  };
  auto a = std::make_shared<Args>();
  CLI::App* request =
      Online(c, "request", "ask the parent(s) and/or the young person for permission; prints a link and code for each",
             ctx, "consent request",
             FlagHints{{"recipients", "--to"},
                       {"purposes", "--purpose"},
                       {"categories", "--category"},
                       {"valid_until", "--until"},
                       {"answer_days", "--answer-days"}},
             [ctx, a] {
               json body{{"student", a->student},       {"recipients", a->to},     {"purposes", a->purposes},
                         {"categories", a->categories}, {"valid_until", a->until}, {"answer_days", a->answer_days}};
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/consent-requests", body.dump()));
               return PrintResult(ctx, r, [&](std::ostream& o) {
                 o << "request: " << JsonText(r, "request_id") << " (answer before " << JsonText(r, "expires") << ")\n";
                 for (const auto& l : r["links"]) {
                   o << JsonText(l, "grantor_role");
                   if (!JsonText(l, "guardian").empty()) o << " (" << JsonText(l, "guardian") << ")";
                   o << ": " << JsonText(l, "url") << "\n";
                   o << "  access code (hand it over separately): " << JsonText(l, "code") << "\n";
                 }
               });
             });
  request->add_option("STUDENT", a->student, "student id (from the register)")->required();
  request->add_option("--to", a->to, "a partner node id or an org type (repeat)")->required();
  request->add_option("--purpose", a->purposes, "kernteamoverleg, doorverwijzing, ... (repeat)")->required();
  request->add_option("--category", a->categories, "a category asked for (repeat)")->required();
  request->add_option("--until", a->until, "the last day the permission holds, YYYY-MM-DD")->required();
  request->add_option("--answer-days", a->answer_days, "days the links can be answered (1..60, default 14)");

  struct InzageArgs {
    std::string student, for_role;
    int days = formats::kDefaultInzageDays;
  };
  auto z = std::make_shared<InzageArgs>();
  CLI::App* inzage =
      Online(c, "inzage", "an inzage link (AVG art. 15) for a parent or the young person; prints the URL and the code",
             ctx, "consent inzage", FlagHints{{"for", "--for"}, {"days", "--days"}}, [ctx, z] {
               json body{{"student", z->student}, {"for", z->for_role}, {"days", z->days}};
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/inzage-links", body.dump()));
               return PrintResult(ctx, r, [&](std::ostream& o) {
                 o << "inzage link: " << JsonText(r, "link_id") << " (expires " << JsonText(r, "expires") << ")\n";
                 o << JsonText(r, "url") << "\n";
                 o << "access code (hand it over separately):\n" << JsonText(r, "code") << "\n";
               });
             });
  inzage->add_option("STUDENT", z->student, "student id")->required();
  inzage->add_option("--for", z->for_role, "ouder or jongere")->required();
  inzage->add_option("--days", z->days, "days the link works (1..30, default 14)");

  auto student = std::make_shared<std::string>();
  Online(c, "requests", "list a student's permission requests and each grantor's answer", ctx, "consent requests",
         [ctx, student] {
           SCHAKEL_ASSIGN_OR_RETURN(json r,
                                    CallApi(*ctx, "GET", "/v1/consent-requests?student=" + QueryValue(*student)));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             for (const auto& q : r["requests"]) {
               o << JsonText(q, "request_id") << "\t" << JsonNames(q["purposes"]) << "\t" << JsonNames(q["recipients"])
                 << "\t" << JsonNames(q["categories"]) << "\tuntil " << JsonText(q, "valid_until") << "\n";
               for (const auto& g : q["grantors"]) {
                 o << "  " << JsonText(g, "grantor_role");
                 if (!JsonText(g, "guardian").empty()) o << " (" << JsonText(g, "guardian") << ")";
                 o << ": " << JsonText(g, "state");
                 if (!g["agreed"].empty()) o << " (" << JsonNames(g["agreed"]) << ")";
                 if (!JsonText(g, "consent_id").empty()) o << " consent " << JsonText(g, "consent_id");
                 o << "\n";
               }
             }
           });
         })
      ->add_option("STUDENT", *student, "student id")
      ->required();
}

}  // namespace schakel::cli
