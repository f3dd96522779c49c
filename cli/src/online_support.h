// Private to cli/: what the online command groups (online_commands.cpp,
// link_commands.cpp) share: registering a subcommand that talks to the
// daemon, and turning the API's JSON answers into human lines.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.h"

namespace schakel::cli {

// Registers `name` under `parent` as an online subcommand (common options and
// --token-file); when it is the one chosen, `run` becomes ctx->action.
CLI::App* Online(CLI::App* parent, const std::string& name, const std::string& help, Context* ctx, std::string what,
                 std::function<Status()> run);

// The daemon's messages name request fields ("category: unknown category
// ..."); a command's hints map them to its flags ({"category",
// "--category"}) for the error it prints. The field "allow_partial" turns the
// gate's "allow a partial share" advice into "add --allow-partial".
using FlagHints = std::vector<std::pair<std::string, std::string>>;
Status WithFlagHints(const Status& st, const FlagHints& hints);
// Online() with its errors passed through WithFlagHints.
CLI::App* Online(CLI::App* parent, const std::string& name, const std::string& help, Context* ctx, std::string what,
                 FlagHints hints, std::function<Status()> run);

// The value at `key` as text for a human line: strings as they are, null as
// "-", other values as JSON; "" when absent.
std::string JsonText(const nlohmann::json& j, const char* key);

// A JSON array as "a,b,c"; "-" when empty, "" when not an array.
std::string JsonNames(const nlohmann::json& list);

// The API path of a received share: "/v1/inbox/ID" and `suffix`, with
// "?from=SENDER" when the sender is named (a message id is unique per
// sender only). kInvalidInput when either is not an id.
Result<std::string> InboxPath(const std::string& message_id, const std::string& from, const std::string& suffix = "");

// Prints `body` as JSON with --json, else calls `human`.
Status PrintResult(Context* ctx, const nlohmann::json& body, const std::function<void(std::ostream&)>& human);

}  // namespace schakel::cli
