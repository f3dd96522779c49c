// The online commands: thin clients of the daemon's local API
// (docs/api.md). Each sends one request with the user's bearer token; the
// daemon decides and enforces roles; the exit code follows the daemon's
// answer (3 for a refusal by policy or role).
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"
#include "schakel/base/file.h"
#include "schakel/formats/json.h"

namespace schakel::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxInputFile = 1024 * 1024;

Result<std::string> ReadInput(const std::string& file) {
  if (file.empty()) return Status::InvalidInput("--file: missing");
  auto text = ReadFileLimited(file, kMaxInputFile);
  if (!text.ok()) return text.status().WithContext("--file");
  return text;
}

void AddCaseCommands(CLI::App& app, Context* ctx) {
  CLI::App* c = app.add_subcommand("case", "case summaries (groeidocument)");
  c->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();

  Online(c, "add", "add a case summary from a JSON file; prints the case id", ctx, "case add",
         [ctx, file] {
           SCHAKEL_ASSIGN_OR_RETURN(std::string body, ReadInput(*file));
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/cases", body));
           return PrintResult(ctx, r, [&](std::ostream& o) { o << JsonText(r, "case_id") << "\n"; });
         })
      ->add_option("--file", *file, "the case summary (JSON)")
      ->required();

  CLI::App* update =
      Online(c, "update", "replace a case summary; the earlier version is kept", ctx, "case update", [ctx, file, id] {
        SCHAKEL_ASSIGN_OR_RETURN(std::string body, ReadInput(*file));
        SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "PUT", "/v1/cases/" + *id, body));
        return PrintResult(ctx, r, [&](std::ostream& o) {
          o << JsonText(r, "case_id") << " version " << JsonText(r, "version") << "\n";
        });
      });
  update->add_option("ID", *id, "case id")->required();
  update->add_option("--file", *file, "the new case summary (JSON)")->required();

  Online(c, "show", "print a case summary", ctx, "case show",
         [ctx, id] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/cases/" + *id));
           return PrintResult(ctx, r, [&](std::ostream& o) { o << r["summary"].dump(2) << "\n"; });
         })
      ->add_option("ID", *id, "case id")
      ->required();

  Online(c, "list", "list the cases you may see", ctx, "case list", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/cases"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& k : r["cases"]) {
        o << JsonText(k, "case_id") << "\t" << JsonText(k, "student_id") << "\tv" << JsonText(k, "version") << "\t"
          << JsonText(k, "updated") << "\n";
      }
    });
  });

  CLI::App* assign = Online(c, "assign", "assign a case to a colleague", ctx, "case assign", [ctx, id, user] {
    SCHAKEL_ASSIGN_OR_RETURN(json r,
                             CallApi(*ctx, "POST", "/v1/cases/" + *id + "/assign", json{{"user", *user}}.dump()));
    return PrintResult(ctx, r, [&](std::ostream& o) { o << *id << " assigned to " << *user << "\n"; });
  });
  assign->add_option("ID", *id, "case id")->required();
  assign->add_option("--user", *user, "the colleague's user name")->required();
}

void AddConsentCommands(CLI::App& app, Context* ctx) {
  CLI::App* c = app.add_subcommand("consent", "consents (toestemming) of parents and young people");
  c->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto evidence = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto student = std::make_shared<std::string>();

  CLI::App* add = Online(c, "add", "record a consent from a JSON file; prints the consent id", ctx, "consent add",
                         [ctx, file, evidence] {
                           SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadInput(*file));
                           SCHAKEL_ASSIGN_OR_RETURN(json consent, formats::ParseJsonLimited(text, {64 * 1024, 16}));
                           json body{{"consent", consent}};
                           if (!evidence->empty()) body["evidence"] = *evidence;
                           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/consents", body.dump()));
                           return PrintResult(ctx, r, [&](std::ostream& o) { o << JsonText(r, "consent_id") << "\n"; });
                         });
  add->add_option("--file", *file, "the consent (JSON, as in a scenario, without id)")->required();
  add->add_option("--evidence", *evidence, "how it was given, e.g. \"formulier getekend 2026-09-02\"");

  Online(c, "withdraw", "withdraw a consent: queued shares are cancelled, delivered ones revoked", ctx,
         "consent withdraw",
         [ctx, id] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/consents/" + *id + "/withdraw", "{}"));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             o << "consent " << *id << " withdrawn at " << JsonText(r, "withdrawn_at")
               << "; cancelled: " << JsonNames(r["cancelled"]) << "; revoked: " << JsonNames(r["revoked"])
               << "; links revoked: " << JsonNames(r["links_revoked"]) << "\n";
           });
         })
      ->add_option("ID", *id, "consent id")
      ->required();

  Online(c, "list", "list a student's consents and the shares that relied on them", ctx, "consent list",
         FlagHints{{"student", "--student"}},
         [ctx, student] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/consents?student=" + QueryValue(*student)));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             for (const auto& k : r["consents"]) {
               o << JsonText(k, "id") << "\t" << JsonText(k, "grantor_role") << "\t" << JsonNames(k["purposes"]) << "\t"
                 << JsonNames(k["recipients"]) << "\t" << JsonNames(k["categories"]) << "\t"
                 << JsonText(k, "valid_from") << ".." << JsonText(k, "valid_until") << "\t"
                 << (k["withdrawn_at"].is_null() ? "valid" : "withdrawn " + JsonText(k, "withdrawn_at")) << "\n";
             }
           });
         })
      ->add_option("--student", *student, "student id")
      ->required();
  AddConsentRequestCommands(c, ctx);
}

// schakel meldcode show|approve|reject|cancel|justification (docs/consent.md "Meldcode").
void AddMeldcodeCommands(CLI::App& app, Context* ctx) {
  CLI::App* meldcode = app.add_subcommand("meldcode", "Meldcode shares (four eyes)");
  meldcode->require_subcommand(1);
  auto mid = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto ended = [](std::ostream& o, const json& r) {
    o << JsonText(r, "message_id") << " " << JsonText(r, "state") << " (" << JsonText(r, "state_reason") << ")\n";
  };
  Online(meldcode, "show", "a share; a pending Meldcode share with its justification (coordinators, requester)", ctx,
         "meldcode show",
         [ctx, mid] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/shares/" + *mid));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             o << JsonText(r, "message_id") << "\t" << JsonText(r, "case_id") << "\t" << JsonText(r, "recipient")
               << "\t" << JsonText(r, "purpose") << "\t" << JsonText(r, "state") << "\trequested by "
               << JsonText(r, "requested_by") << "\n";
             if (r["justification"].is_string()) o << "justification: " << JsonText(r, "justification") << "\n";
             if (r["justification_sha256"].is_string()) o << "sha256: " << JsonText(r, "justification_sha256") << "\n";
           });
         })
      ->add_option("MSG_ID", *mid, "message id")
      ->required();
  Online(meldcode, "approve", "approve a colleague's pending Meldcode share", ctx, "meldcode approve",
         [ctx, mid] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/shares/" + *mid + "/approve", "{}"));
           return PrintResult(ctx, r,
                              [&](std::ostream& o) { o << JsonText(r, "message_id") << " approved and queued\n"; });
         })
      ->add_option("MSG_ID", *mid, "message id")
      ->required();
  CLI::App* reject =
      Online(meldcode, "reject", "reject a colleague's pending Meldcode share, with a reason", ctx, "meldcode reject",
             FlagHints{{"reason", "--reason"}}, [ctx, mid, reason, ended] {
               json body{{"reason", *reason}};
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/shares/" + *mid + "/reject", body.dump()));
               return PrintResult(ctx, r, [&](std::ostream& o) { ended(o, r); });
             });
  reject->add_option("MSG_ID", *mid, "message id")->required();
  reject->add_option("--reason", *reason, "why (1 to 500 bytes, one line; kept in the audit log)")->required();
  Online(meldcode, "cancel", "cancel your own pending Meldcode share", ctx, "meldcode cancel",
         [ctx, mid, ended] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/shares/" + *mid + "/cancel", "{}"));
           return PrintResult(ctx, r, [&](std::ostream& o) { ended(o, r); });
         })
      ->add_option("MSG_ID", *mid, "message id")
      ->required();
  Online(meldcode, "justification", "a Meldcode share's justification and its SHA-256 (audited)", ctx,
         "meldcode justification",
         [ctx, mid] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/shares/" + *mid + "/justification"));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             o << JsonText(r, "justification") << "\nsha256: " << JsonText(r, "sha256") << "\n";
           });
         })
      ->add_option("MSG_ID", *mid, "message id")
      ->required();
}

void AddShareCommands(CLI::App& app, Context* ctx) {
  struct Args {
    std::string case_id, to, purpose, justification;
    std::vector<std::string> categories;
    std::vector<std::string> reasons;  // CATEGORY=TEXT, a Meldcode report's
    bool allow_partial = false, dry_run = false;
  };
  auto a = std::make_shared<Args>();
  const FlagHints hints{{"to", "--to"},
                        {"purpose", "--purpose"},
                        {"category", "--category"},
                        {"categories", "--category"},
                        {"category_reasons", "--reason"},
                        {"justification", "--justification"},
                        {"allow_partial", "--allow-partial"}};
  CLI::App* share =
      Online(&app, "share", "share a case with a partner, if the gate permits", ctx, "share", hints, [ctx, a] {
        json body{{"case_id", a->case_id},
                  {"to", a->to},
                  {"purpose", a->purpose},
                  {"allow_partial", a->allow_partial},
                  {"dry_run", a->dry_run}};
        if (!a->categories.empty()) body["categories"] = a->categories;
        if (!a->justification.empty()) body["justification"] = a->justification;
        if (!a->reasons.empty()) {
          json reasons = json::object();
          for (const std::string& r : a->reasons) {
            size_t eq = r.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == r.size()) {
              return Status::InvalidInput("--reason: expected CATEGORY=TEXT, e.g. --reason \"gezinssituatie=...\"");
            }
            reasons[r.substr(0, eq)] = r.substr(eq + 1);
          }
          body["category_reasons"] = reasons;
        }
        json details;
        auto r = CallApi(*ctx, "POST", "/v1/shares", body.dump(), &details);
        if (!r.ok()) {
          if (ctx->globals.json && details.contains("decision")) PrintJson(ctx, details);
          return r.status();
        }
        return PrintResult(ctx, *r, [&](std::ostream& o) {
          const json& d = (*r)["decision"];
          if (a->dry_run) {
            o << "would " << JsonText(d, "decision") << ": categories " << JsonNames(d["categories"]) << "; withheld "
              << JsonNames(d["withheld"]) << "\n";
            return;
          }
          if (!d["withheld"].empty()) o << "withheld: " << JsonNames(d["withheld"]) << "\n";
          if (JsonText(*r, "state") == "pending_approval") o << "waiting for a second coordinator (meldcode approve)\n";
          o << JsonText(*r, "message_id") << "\n";
        });
      });
  share->add_option("CASE", a->case_id, "case id")->required();
  share->add_option("--to", a->to, "the partner's node id")->required();
  share->add_option("--purpose", a->purpose, "kernteamoverleg, doorverwijzing, overdracht_rmc, ...")->required();
  share->add_option("--category", a->categories,
                    "a category to send (repeat); default: all the case holds, but a meldcode report names each");
  share->add_option("--reason", a->reasons,
                    "CATEGORY=TEXT: why the category is necessary (repeat; a meldcode report, one per --category)");
  share->add_flag("--allow-partial", a->allow_partial, "send what is allowed even if some categories are withheld");
  share->add_flag("--dry-run", a->dry_run, "only ask the gate");
  share->add_option("--justification", a->justification, "required for a meldcode share");

  AddMeldcodeCommands(app, ctx);

  auto recall = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* recall_cmd = Online(
      &app, "recall", "take back a share: cancelled if not sent yet, else the partner must purge it", ctx, "recall",
      FlagHints{{"reason", "--reason"}}, [ctx, recall] {
        json body{{"reason", recall->second}};
        SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/shares/" + recall->first + "/recall", body.dump()));
        return PrintResult(ctx, r, [&](std::ostream& o) {
          o << JsonText(r, "message_id") << "\t" << JsonText(r, "state") << "\t" << JsonText(r, "reason") << "\n";
        });
      });
  recall_cmd->add_option("MSG_ID", recall->first, "message id")->required();
  recall_cmd
      ->add_option("--reason", recall->second,
                   "sent_in_error, consent_withdrawn, wrong_recipient, content_incorrect or other")
      ->required();

  Online(&app, "shares", "this node's outbox: what was sent or queued, and its state", ctx, "shares", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/shares"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& s : r["shares"]) {
        o << JsonText(s, "message_id") << "\t" << JsonText(s, "case_id") << "\t" << JsonText(s, "recipient") << "\t"
          << JsonText(s, "purpose") << "\t" << JsonText(s, "state") << "\n";
      }
    });
  });
}

// `schakel status` for a person: one line per topic, one per partner.
void PrintStatus(std::ostream& o, const json& r) {
  o << "node " << JsonText(r, "node_id") << " (" << JsonText(r, "org_type") << "), version " << JsonText(r, "version")
    << ", up " << JsonText(r, "uptime_seconds") << " s since " << JsonText(r, "started") << "\n";
  o << "outbox: " << JsonText(r, "outbox_depth") << " queued item(s): " << JsonText(r, "queued_shares")
    << " share(s), oldest queued " << JsonText(r, "oldest_queued") << "; " << JsonText(r, "pending_revocations")
    << " pending revocation(s), oldest " << JsonText(r, "oldest_pending_revocation") << "\n";
  const json& a = r.contains("audit") ? r["audit"] : json::object();
  o << "audit: " << JsonText(a, "last_seq") << " entries, checkpointed up to " << JsonText(a, "checkpointed_seq")
    << ", next checkpoint "
    << (a.contains("next_checkpoint") && a["next_checkpoint"].is_null() ? std::string("when new entries are written")
                                                                        : JsonText(a, "next_checkpoint"))
    << "\n";
  const json& d = r.contains("database") ? r["database"] : json::object();
  o << "database: " << JsonText(d, "total_bytes") << " bytes (" << JsonText(d, "db_bytes") << " in "
    << JsonText(d, "file") << ", " << JsonText(d, "wal_bytes") << " in its write-ahead log)\n";
  if (r.contains("expiring_tokens")) {
    for (const auto& t : r["expiring_tokens"]) {
      o << "warning: the token of " << JsonText(t, "name") << " expires " << JsonText(t, "expires")
        << " (schakel user rotate-token " << JsonText(t, "name") << ")\n";
    }
  }
  if (r.contains("self_signed_public_listeners") && r["self_signed_public_listeners"].is_array()) {
    for (const auto& l : r["self_signed_public_listeners"]) {
      o << "warning: the [" << JsonText(l, "listener") << "] listener at " << JsonText(l, "url")
        << " serves the node's own self-signed certificate; browsers elsewhere will warn. Set ["
        << JsonText(l, "listener") << "] cert_file and key_file (docs/links.md, \"Certificates a browser trusts\")\n";
    }
  }
  if (r.contains("regions") && r["regions"].is_array()) {
    for (const auto& g : r["regions"]) {
      o << "region " << JsonText(g, "region") << ": directory serial " << JsonText(g, "serial") << ", issued "
        << JsonText(g, "issued") << " (" << JsonText(g, "age_days") << " days ago), "
        << (JsonText(g, "expired") == "true" ? "EXPIRED at " : "valid until ") << JsonText(g, "expires") << "; "
        << (g.contains("members") ? g["members"].size() : 0) << " partner(s) from it";
      if (g.contains("unreachable") && g["unreachable"].is_array() && !g["unreachable"].empty()) {
        o << ", unreachable:";
        for (const auto& id : g["unreachable"]) o << " " << (id.is_string() ? id.get<std::string>() : "?");
      }
      o << "\n";
    }
  }
  if (!r.contains("partners") || !r["partners"].is_array() || r["partners"].empty()) {
    o << "partners: none\n";
    return;
  }
  for (const auto& p : r["partners"]) {
    o << "partner " << JsonText(p, "node_id") << " (" << JsonText(p, "org_type") << ") at " << JsonText(p, "address")
      << ": ";
    const json& reach = p.contains("reachable") ? p["reachable"] : json(nullptr);
    if (reach.is_boolean() && reach.get<bool>()) {
      o << "reachable, last success " << JsonText(p, "last_success");
    } else if (reach.is_boolean()) {
      o << "UNREACHABLE since " << JsonText(p, "last_error_at") << " (" << JsonText(p, "last_error")
        << "), last success " << JsonText(p, "last_success");
    } else {
      o << "not contacted since the daemon started";
      if (p.contains("last_inbound") && !p["last_inbound"].is_null())
        o << ", last heard from " << JsonText(p, "last_inbound");
    }
    o << "; " << JsonText(p, "queued_shares") << " share(s) queued, " << JsonText(p, "pending_revocations")
      << " revocation(s) pending";
    if (p.contains("oldest_queued") && p["oldest_queued"].is_string()) {
      o << ", waiting since " << JsonText(p, "oldest_queued");
    }
    o << "\n";
  }
}

void AddInboxAndStatusCommands(CLI::App& app, Context* ctx) {
  // `inbox` lists; `inbox show` (a subcommand) prints one. CLI11 runs the
  // parent's callback after the subcommand's, so the list must not
  // overwrite the chosen action.
  CLI::App* inbox = Online(&app, "inbox", "received shares", ctx, "inbox", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/inbox"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& s : r["inbox"]) {
        o << JsonText(s, "message_id") << "\t" << JsonText(s, "from") << "\t" << JsonText(s, "purpose") << "\t"
          << JsonNames(s["categories"]) << "\t" << JsonText(s, "received") << "\t" << JsonText(s, "retain_until")
          << "\t" << JsonText(s, "state")
          << (s.contains("adopted_at") && s["adopted_at"].is_string() ? " (adopted into the dossier)" : "") << "\n";
      }
    });
  });
  auto mid = std::make_shared<std::string>();
  auto from = std::make_shared<std::string>();
  CLI::App* show = inbox->add_subcommand("show", "print a received summary (its allowed categories only)");
  AddCommonOptions(show, ctx);
  show->add_option("--token-file", ctx->globals.token_file, "file holding your token (default $SCHAKEL_TOKEN)");
  show->add_option("MSG_ID", *mid, "message id")->required();
  show->add_option("--from", *from, "the sender's node id, when two partners used the same message id");
  show->callback([ctx, mid, from] {
    ctx->action = {"inbox show", [ctx, mid, from]() -> Status {
                     SCHAKEL_ASSIGN_OR_RETURN(std::string path, InboxPath(*mid, *from));
                     Result<json> got = CallApi(*ctx, "GET", path);
                     if (!got.ok()) return WithFlagHints(got.status(), {{"from", "--from"}});
                     const json& r = *got;
                     return PrintResult(ctx, r, [&](std::ostream& o) {
                       if (r["summary"].is_null()) {
                         o << "purged " << JsonText(r, "purged_at") << " (" << JsonText(r, "purge_reason") << ")\n";
                       } else {
                         o << r["summary"].dump(2) << "\n";
                       }
                     });
                   }};
  });

  AddStudentAndInboxCommands(app, inbox, ctx);

  Online(&app, "status", "node id, version, uptime, partners and their reachability, outbox, audit, database size", ctx,
         "status", [ctx] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/status"));
           return PrintResult(ctx, r, [&](std::ostream& o) { PrintStatus(o, r); });
         });
}

}  // namespace

void AddOnlineCommands(CLI::App& app, Context* ctx) {
  AddCaseCommands(app, ctx);
  AddConsentCommands(app, ctx);
  AddShareCommands(app, ctx);
  AddInboxAndStatusCommands(app, ctx);
}

}  // namespace schakel::cli
