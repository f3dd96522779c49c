#include "online_support.h"

#include <ostream>

#include "node_access.h"
#include "schakel/base/strings.h"

namespace schakel::cli {

using nlohmann::json;

CLI::App* Online(CLI::App* parent, const std::string& name, const std::string& help, Context* ctx, std::string what,
                 std::function<Status()> run) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  AddCommonOptions(cmd, ctx);
  cmd->add_option("--token-file", ctx->globals.token_file, "file holding your token (default $SCHAKEL_TOKEN)");
  cmd->callback([ctx, cmd, what = std::move(what), run = std::move(run)] {
    if (cmd->get_subcommands().empty()) ctx->action = {what, run};
  });
  return cmd;
}

Status WithFlagHints(const Status& st, const FlagHints& hints) {
  if (st.ok()) return st;
  std::string message = st.message();
  for (const auto& [field, flag] : hints) {
    if (field == "allow_partial") {
      static const std::string kAdvice = "allow a partial share to send only what is allowed";
      auto at = message.find(kAdvice);
      if (at != std::string::npos) {
        message.replace(at, kAdvice.size(), "add " + flag + " to send only what is allowed");
      }
    } else if (message.rfind(field + ": ", 0) == 0) {
      message.replace(0, field.size(), flag);
    }
  }
  return Status::FromCodeName(st.CodeName(), std::move(message));
}

CLI::App* Online(CLI::App* parent, const std::string& name, const std::string& help, Context* ctx, std::string what,
                 FlagHints hints, std::function<Status()> run) {
  return Online(parent, name, help, ctx, std::move(what),
                [hints = std::move(hints), run = std::move(run)] { return WithFlagHints(run(), hints); });
}

Result<std::string> InboxPath(const std::string& message_id, const std::string& from, const std::string& suffix) {
  if (!IsValidObjectId(message_id)) return Status::InvalidInput("MSG_ID: \"" + message_id + "\" is not a message id");
  if (!from.empty() && !IsValidNodeId(from)) return Status::InvalidInput("--from: \"" + from + "\" is not a node id");
  std::string path = "/v1/inbox/" + message_id + suffix;
  if (!from.empty()) path += "?from=" + from;
  return path;
}

std::string JsonText(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

std::string JsonNames(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (!out.empty()) out += ",";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out.empty() ? "-" : out;
}

Status PrintResult(Context* ctx, const json& body, const std::function<void(std::ostream&)>& human) {
  if (ctx->globals.json) {
    PrintJson(ctx, body);
  } else {
    human(ctx->io.out);
  }
  return Status::Ok();
}

}  // namespace schakel::cli
