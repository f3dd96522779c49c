// The student register (docs/students.md) and the inbox's assignment, as
// thin clients of the daemon's API: `schakel student import|list|show|set`,
// `schakel inbox assign|adopt|route|routes`. Coordinators only; the daemon decides.
#include <ostream>

#include "api_client.h"
#include "command.h"
#include "node_access.h"
#include "online_support.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/formats/roster.h"
#include "schakel/store/records.h"

namespace schakel::cli {
namespace {

using nlohmann::json;

// The roster is checked here first, so a bad row is reported with its line
// before anything is sent; the daemon checks it again.
Result<std::string> ReadRoster(const std::string& file) {
  auto text = ReadFileLimited(file, formats::RosterLimits{}.max_bytes);
  if (!text.ok()) return text.status().WithContext("--file");
  auto rows = formats::ParseRoster(*text);
  if (!rows.ok()) return rows.status().WithContext(file);
  return text;
}

// "Name" or "Name:ja" / "Name:nee" (parental authority).
Result<json> GuardianJson(const std::string& spec) {
  auto colon = spec.rfind(':');
  std::string name = spec.substr(0, colon);
  bool authority = false;
  if (colon != std::string::npos) {
    std::string flag = spec.substr(colon + 1);
    if (flag == "ja" || flag == "yes") {
      authority = true;
    } else if (flag != "nee" && flag != "no") {
      return Status::InvalidInput("--guardian: NAME or NAME:ja / NAME:nee");
    }
  }
  if (name.empty()) return Status::InvalidInput("--guardian: the name is empty");
  return json{{"name", name}, {"authority", authority}};
}

void PrintStudent(std::ostream& o, const json& s) {
  o << JsonText(s, "student_id") << "\t" << JsonText(s, "name") << "\t" << JsonText(s, "birth_date");
  for (const auto& g : s["guardians"]) {
    o << "\t" << g.value("name", "") << (g.value("authority", false) ? " (gezag)" : "");
  }
  o << "\n";
}

// `student load`, offline: the admin's first fill of the register from the
// school's administration. It only ADDS students; a row for a registered
// student is skipped when it matches and refused when it differs, since a
// change of birth date or guardians is a coordinator's (student import/set).
Status RunStudentLoad(Context* ctx, const std::string& file) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string csv, ReadRoster(file));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<formats::RosterRow> rows, formats::ParseRoster(csv));
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  const std::string now = FormatInstantMs(NowUtc());
  std::vector<store::StudentRecord> fresh;
  int same = 0;
  for (const auto& row : rows) {
    store::StudentRecord r;
    r.student_id = row.student_id;
    r.name = row.name;
    r.birth_date = FormatDate(row.birth_date);
    for (const auto& g : row.guardians) r.guardians.push_back({g.name, g.authority});
    r.added = r.updated = now;
    r.updated_by = "offline";
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::StudentRecord> known, store::FindStudent(*node.db, r.student_id));
    if (!known) {
      fresh.push_back(std::move(r));
      continue;
    }
    if (known->name == r.name && known->birth_date == r.birth_date && known->guardians == r.guardians) {
      ++same;
      continue;
    }
    return Status::InvalidInput(file + ": line " + std::to_string(row.line) + ": student " + r.student_id +
                                " is registered with other details; a coordinator changes them "
                                "(schakel student import or student set); nothing was loaded");
  }
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  for (const auto& r : fresh) SCHAKEL_RETURN_IF_ERROR(store::InsertStudent(*node.db, r));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "student.load", "", std::to_string(fresh.size()) + " added"));
  if (ctx->globals.json) {
    PrintJson(ctx, {{"added", fresh.size()}, {"unchanged", same}});
  } else {
    ctx->io.out << fresh.size() << " added, " << same << " already registered\n";
  }
  return Status::Ok();
}

struct StudentArgs {
  std::string file;
  std::string id;
  std::string name;
  std::string birth_date;
  std::vector<std::string> guardians;
  bool no_guardians = false;
};

void AddStudentCommands(CLI::App& app, Context* ctx) {
  CLI::App* st = app.add_subcommand("student", "the student register (coordinators)");
  st->require_subcommand(1);
  auto a = std::make_shared<StudentArgs>();
  Online(st, "import", "add or update students from a CSV roster; all rows or none", ctx, "student import",
         [ctx, a] {
           SCHAKEL_ASSIGN_OR_RETURN(std::string csv, ReadRoster(a->file));
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/students/import", json{{"csv", csv}}.dump()));
           return PrintResult(ctx, r, [&](std::ostream& o) {
             o << JsonText(r, "added") << " added, " << JsonText(r, "updated") << " updated, "
               << JsonText(r, "unchanged") << " unchanged\n";
           });
         })
      ->add_option("--file", a->file, "the roster (CSV: student_id,name,birth_date[,guardianN_name,...])")
      ->required();
  CLI::App* load = st->add_subcommand("load", "offline, the admin's first fill: add new students from a CSV roster");
  AddCommonOptions(load, ctx);
  load->add_option("--file", a->file, "the roster (CSV)")->required();
  load->callback([ctx, a] { ctx->action = {"student load", [ctx, a] { return RunStudentLoad(ctx, a->file); }}; });
  Online(st, "list", "list the registered students", ctx, "student list", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/students"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& s : r["students"]) PrintStudent(o, s);
    });
  });
  Online(st, "show", "print one registered student", ctx, "student show",
         [ctx, a] {
           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/students/" + a->id));
           return PrintResult(ctx, r, [&](std::ostream& o) { PrintStudent(o, r); });
         })
      ->add_option("ID", a->id, "student id")
      ->required();
  CLI::App* set = Online(st, "set", "change a student's name, birth date or guardians (audited)", ctx, "student set",
                         {{"birth_date", "--birth-date"}, {"guardians", "--guardian"}}, [ctx, a] {
                           json body = json::object();
                           if (!a->name.empty()) body["name"] = a->name;
                           if (!a->birth_date.empty()) body["birth_date"] = a->birth_date;
                           if (!a->guardians.empty() || a->no_guardians) {
                             body["guardians"] = json::array();
                             for (const auto& g : a->guardians) {
                               SCHAKEL_ASSIGN_OR_RETURN(json gj, GuardianJson(g));
                               body["guardians"].push_back(gj);
                             }
                           }
                           SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "PUT", "/v1/students/" + a->id, body.dump()));
                           return PrintResult(ctx, r, [&](std::ostream& o) { PrintStudent(o, r); });
                         });
  set->add_option("ID", a->id, "student id")->required();
  set->add_option("--name", a->name, "the student's name");
  set->add_option("--birth-date", a->birth_date, "YYYY-MM-DD");
  set->add_option("--guardian", a->guardians, "NAME or NAME:ja (holds parental authority); repeat; replaces all");
  set->add_flag("--no-guardians", a->no_guardians, "remove all guardians");
}

struct InboxArgs {
  std::string id;
  std::string from;
  std::string user;
  std::string sender;
  std::string student;
  std::string basis;
};

}  // namespace

void AddStudentAndInboxCommands(CLI::App& app, CLI::App* inbox, Context* ctx) {
  AddStudentCommands(app, ctx);
  auto a = std::make_shared<InboxArgs>();
  CLI::App* assign =
      Online(inbox, "assign", "assign a received share to a colleague (coordinators)", ctx, "inbox assign",
             {{"from", "--from"}}, [ctx, a] {
               SCHAKEL_ASSIGN_OR_RETURN(std::string path, InboxPath(a->id, a->from, "/assign"));
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", path, json{{"user", a->user}}.dump()));
               return PrintResult(ctx, r, [&](std::ostream& o) { o << a->id << " assigned to " << a->user << "\n"; });
             });
  assign->add_option("MSG_ID", a->id, "message id")->required();
  assign->add_option("--user", a->user, "the colleague's user name")->required();
  assign->add_option("--from", a->from, "the sender's node id, when two partners used the same message id");
  CLI::App* adopt =
      Online(inbox, "adopt",
             "take a received share into your own dossier on your legal basis (coordinators): retention and a "
             "revocation no longer purge it; the sender is told",
             ctx, "inbox adopt", {{"from", "--from"}}, [ctx, a] {
               SCHAKEL_ASSIGN_OR_RETURN(std::string path, InboxPath(a->id, a->from, "/adopt"));
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", path, json{{"basis", a->basis}}.dump()));
               return PrintResult(ctx, r, [&](std::ostream& o) {
                 o << a->id << " adopted into the dossier " << JsonText(r, "adopted_at") << " (" << JsonText(r, "basis")
                   << ")\n";
               });
             });
  adopt->add_option("MSG_ID", a->id, "message id")->required();
  adopt->add_option("--basis", a->basis, "the legal basis for keeping it, e.g. \"Jeugdwet art. 7.3.8\"")->required();
  adopt->add_option("--from", a->from, "the sender's node id, when two partners used the same message id");
  CLI::App* route =
      Online(inbox, "route",
             "send what a partner shares about one of its students to a colleague on arrival "
             "(coordinators; confirmed once)",
             ctx, "inbox route", {{"sender", "--sender"}, {"student", "--student"}, {"user", "--user"}}, [ctx, a] {
               json body{{"sender", a->sender}, {"student", a->student}, {"user", a->user}};
               SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "POST", "/v1/inbox-routes", body.dump()));
               return PrintResult(
                   ctx, r, [&](std::ostream& o) { o << a->sender << "/" << a->student << " -> " << a->user << "\n"; });
             });
  route->add_option("--sender", a->sender, "the partner's node id")->required();
  route->add_option("--student", a->student, "the student id as the partner sends it")->required();
  route->add_option("--user", a->user, "the colleague's user name")->required();
  Online(inbox, "routes", "list the confirmed routes (coordinators)", ctx, "inbox routes", [ctx] {
    SCHAKEL_ASSIGN_OR_RETURN(json r, CallApi(*ctx, "GET", "/v1/inbox-routes"));
    return PrintResult(ctx, r, [&](std::ostream& o) {
      for (const auto& x : r["routes"]) {
        o << JsonText(x, "sender") << "\t" << JsonText(x, "student") << "\t" << JsonText(x, "user") << "\t"
          << JsonText(x, "confirmed_by") << "\t" << JsonText(x, "confirmed") << "\n";
      }
    });
  });
}

}  // namespace schakel::cli
