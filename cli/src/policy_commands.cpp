// `schakel policy eval` and `schakel policy show` (CONTRACT.md "Offline
// policy evaluation"): offline, no daemon, no database.
//
//   schakel policy eval [--policy FILE] < scenario.json   decision JSON, exit 0
//   schakel policy show [--policy FILE]                   the protocol as TOML
//
// Bad input (malformed JSON, a missing field, a bad date, an unknown name,
// an unreadable or invalid protocol file) is exit 2 with the field or
// file:line in the message; a deny is a decision, so exit 0.
#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "command.h"
#include "schakel/base/file.h"
#include "schakel/config/protocol_file.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"
#include "schakel/formats/scenario.h"

namespace schakel::cli {
namespace {

struct PolicyOptions {
  std::string policy_file;  // --policy
};

// Reads all of `in`, refusing more than max_bytes.
Result<std::string> ReadAllLimited(std::istream& in, size_t max_bytes) {
  std::string data;
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return Status::InvalidInput("stdin: the scenario is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) return Status::IoError("stdin: read error");
  return data;
}

// --policy FILE, else the [policy] file of the node in --dir (when that is a
// node directory), else the built-in protocol.
Result<consent::Protocol> ProtocolInForce(const Context& ctx, const PolicyOptions& opts) {
  if (!opts.policy_file.empty()) return config::LoadProtocolFile(opts.policy_file);
  if (!PathExists(ctx.globals.dir + "/schakel.toml")) return consent::DefaultProtocol();
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, config::LoadNodeConfig(ctx.globals.dir));
  return config::LoadProtocolInForce(cfg, ctx.globals.dir);
}

Status RunEval(Context* ctx, const PolicyOptions& opts) {
  SCHAKEL_ASSIGN_OR_RETURN(consent::Protocol protocol, ProtocolInForce(*ctx, opts));
  SCHAKEL_ASSIGN_OR_RETURN(std::string input, ReadAllLimited(ctx->io.in, formats::kMaxScenarioBytes));
  SCHAKEL_ASSIGN_OR_RETURN(consent::Request request, formats::ParseScenario(input));
  consent::Decision decision = consent::Decide(protocol, request);
  ctx->io.out << formats::DecisionToJson(decision) << "\n";
  if (!ctx->io.out) return Status::IoError("stdout: write error");
  return Status::Ok();
}

Status RunShow(Context* ctx, const PolicyOptions& opts) {
  SCHAKEL_ASSIGN_OR_RETURN(consent::Protocol protocol, ProtocolInForce(*ctx, opts));
  ctx->io.out << config::ProtocolToToml(protocol);
  if (!ctx->io.out) return Status::IoError("stdout: write error");
  return Status::Ok();
}

}  // namespace

void AddPolicyCommands(CLI::App& app, Context* ctx) {
  CLI::App* policy =
      app.add_subcommand("policy", "evaluate a scenario against the privacy protocol, or show the protocol");
  policy->require_subcommand(1);
  auto opts = std::make_shared<PolicyOptions>();
  const std::string policy_help =
      "privacy-protocol TOML file (default: the built-in protocol; see docs/privacy-protocol.md)";

  CLI::App* eval = policy->add_subcommand(
      "eval", "read a scenario (JSON) from stdin and print the decision (exit 0 permit or deny)");
  AddCommonOptions(eval, ctx);
  eval->add_option("--policy", opts->policy_file, policy_help);
  eval->callback([ctx, opts] { ctx->action = Action{"policy eval", [ctx, opts] { return RunEval(ctx, *opts); }}; });

  CLI::App* show = policy->add_subcommand("show", "print the privacy protocol in force as TOML");
  AddCommonOptions(show, ctx);
  show->add_option("--policy", opts->policy_file, policy_help);
  show->callback([ctx, opts] { ctx->action = Action{"policy show", [ctx, opts] { return RunShow(ctx, *opts); }}; });
}

}  // namespace schakel::cli
