// Private to cli/: how command groups plug into the `schakel` tool.
//
// Each group (node, partner, user, policy, ...) lives in its own
// <group>_commands.cpp and exposes one Add<Group>Commands function that adds
// CLI11 subcommands to the app. A subcommand's callback stores the work to do
// in *action; RunCli runs it after parsing and turns its Status into the exit
// code and the one-line error message.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "schakel/base/status.h"

namespace schakel::cli {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

struct Globals {
  std::string dir;         // --dir, else $SCHAKEL_DIR, else "."
  bool json = false;       // --json
  std::string token_file;  // --token-file, else $SCHAKEL_TOKEN is used
};

// What a parsed command will do. The string is the <what> of the error line
// ("partner add"), set by the command.
struct Action {
  std::string what;
  std::function<Status()> run;
};

struct Context {
  Globals globals;
  Io io;
  Action action;
};

// Adds the common --dir/--json options to a subcommand.
void AddCommonOptions(CLI::App* cmd, Context* ctx);

void AddInitCommand(CLI::App& app, Context* ctx);
void AddNodeCommands(CLI::App& app, Context* ctx);
void AddPartnerCommands(CLI::App& app, Context* ctx);
void AddUserCommands(CLI::App& app, Context* ctx);
// Under `user`: list, disable, enable, remove, rotate-token, set-role, confirm, pending.
void AddUserAdminCommands(CLI::App* user, Context* ctx);
void AddPolicyCommands(CLI::App& app, Context* ctx);
void AddOnlineCommands(CLI::App& app, Context* ctx);
// student import|list|show|set, and inbox assign|route|routes under `inbox`.
void AddStudentAndInboxCommands(CLI::App& app, CLI::App* inbox, Context* ctx);
void AddLinkCommands(CLI::App& app, Context* ctx);
// `schakel consent request|requests` (consent_request_commands.cpp), under
// the `consent` command.
void AddConsentRequestCommands(CLI::App* consent, Context* ctx);
// Adds query/export/subject to the "audit" group; call after AddAuditCommands.
void AddAuditOnlineCommands(CLI::App& app, Context* ctx);
void AddAuditCommands(CLI::App& app, Context* ctx);
void AddBackupCommands(CLI::App& app, Context* ctx);
// `directory`: the keeper's init|add|remove|sign|show (directory_commands.cpp),
// and a node's trust|update|list (directory_node_commands.cpp).
void AddDirectoryCommands(CLI::App& app, Context* ctx);
void AddDirectoryNodeCommands(CLI::App* directory, Context* ctx);
// Adds rotate-keys to the "node" group; call after AddNodeCommands.
void AddKeyCommands(CLI::App& app, Context* ctx);

}  // namespace schakel::cli
