#include "schakel/cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "schakel/base/strings.h"
#include "schakel/base/version.h"

namespace schakel::cli {
namespace {

// One line, printable: error messages never carry control characters that
// could forge log lines.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

// When a command group is given a word that is none of its commands
// ("schakel consent bar") or none at all, CLI11 says only "A subcommand is
// required": name the word and the commands there are instead. Empty when
// that is not it.
std::string UnknownCommand(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* at = &app;
  std::string path = "schakel";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind('-', 0) == 0) {
      const CLI::Option* opt = at->get_option_no_throw(arg.substr(0, arg.find('=')));
      if (opt != nullptr && opt->get_items_expected_max() > 0 && arg.find('=') == std::string::npos) ++i;
      continue;
    }
    const std::vector<const CLI::App*> subs = at->get_subcommands([](const CLI::App*) { return true; });
    auto sub = std::find_if(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->check_name(arg); });
    if (sub != subs.end()) {
      at = *sub;
      path += " " + arg;
      continue;
    }
    if (at->get_require_subcommand_min() == 0) return "";
    std::vector<std::string> names;
    names.reserve(subs.size());
    for (const CLI::App* s : subs) names.push_back(s->get_name());
    return "unknown command '" + OneLine(arg) + "' for '" + path + "' (commands: " + Join(names, ", ") + ")";
  }
  if (at->get_require_subcommand_min() == 0) return "";
  std::vector<std::string> names;
  for (const CLI::App* s : at->get_subcommands([](const CLI::App*) { return true; })) names.push_back(s->get_name());
  return "'" + path + "' needs a command: " + Join(names, ", ");
}

}  // namespace

void AddCommonOptions(CLI::App* cmd, Context* ctx) {
  cmd->add_option("--dir", ctx->globals.dir, "node directory (default $SCHAKEL_DIR, else .)");
  cmd->add_flag("--json", ctx->globals.json, "print results as one JSON document");
}

int RunCli(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err) {
  Context ctx{Globals{}, Io{in, out, err}, Action{}};
  CLI::App app{
      "schakel: share case summaries between school and care partners, "
      "end-to-end encrypted and only as the privacy protocol and consent allow",
      "schakel"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "schakel " + std::string(kVersion));
  AddCommonOptions(&app, &ctx);
  AddInitCommand(app, &ctx);
  AddNodeCommands(app, &ctx);
  AddPartnerCommands(app, &ctx);
  AddUserCommands(app, &ctx);
  AddPolicyCommands(app, &ctx);
  AddOnlineCommands(app, &ctx);
  AddLinkCommands(app, &ctx);
  AddAuditCommands(app, &ctx);
  AddAuditOnlineCommands(app, &ctx);
  AddBackupCommands(app, &ctx);
  AddKeyCommands(app, &ctx);
  AddDirectoryCommands(app, &ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    out << "schakel " << kVersion << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 reports help through exceptions with exit code 0.
    if (e.get_exit_code() == 0) {
      out << app.help();
      return 0;
    }
    std::string why = UnknownCommand(app, argc, argv);
    if (why.empty()) why = OneLine(e.what());
    err << "schakel: usage: " << why << " (see schakel --help)\n";
    return 2;
  }
  if (ctx.globals.dir.empty()) {
    const char* env = std::getenv("SCHAKEL_DIR");
    ctx.globals.dir = (env != nullptr && *env != '\0') ? env : ".";
  }
  if (!ctx.action.run) {
    err << "schakel: usage: no command given (see schakel --help)\n";
    return 2;
  }
  Status st;
  try {
    st = ctx.action.run();
  } catch (const std::exception& e) {
    st = Status::Internal(std::string("unexpected error: ") + e.what());
  }
  if (!st.ok()) {
    err << "schakel: " << ctx.action.what << ": " << OneLine(st.message()) << "\n";
  }
  return st.ExitCode();
}

}  // namespace schakel::cli
