#include "schakel/cli/cli.h"

#include <cstdlib>
#include <iostream>

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
  app.set_version_flag("--version", std::string(kVersion));
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    out << kVersion << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 reports help through exceptions with exit code 0.
    if (e.get_exit_code() == 0) {
      out << app.help();
      return 0;
    }
    err << "schakel: usage: " << OneLine(e.what()) << " (see schakel --help)\n";
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
