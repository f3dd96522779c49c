// `schakel audit ...`: the auditor's commands (CONTRACT.md "Commands",
// "Audit export"; docs/audit.md).
//
// `audit verify --export F --card C [--anchor SEQ:HASH]` is offline: it
// needs the export and the node's card, not the node directory nor the
// daemon, so an auditor can run it anywhere. Exit 0 when every entry is
// covered by a checkpoint that verifies; exit 1 (kCorruption) naming the
// first bad seq; exit 2 when an input cannot be read or is not a card.
// The online commands (query, export, subject) go through the daemon's
// API and join this group there.
#include <sys/stat.h>

#include <fstream>
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/audit/verify.h"
#include "schakel/base/file.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/node_card.h"

namespace schakel::cli {
namespace {

struct VerifyArgs {
  std::string export_file;
  std::string card_file;
  std::string anchor;
};

// "1500:<64 hex digits>", as `audit verify` prints after a good run.
Result<audit::VerifyAnchor> ParseAnchor(const std::string& text) {
  auto bad = Status::InvalidInput("--anchor: expected SEQ:HASH (a seq, a colon, 64 hex digits)");
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon > 18) return bad;
  audit::VerifyAnchor anchor;
  for (size_t i = 0; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9') return bad;
    anchor.seq = anchor.seq * 10 + (text[i] - '0');
  }
  auto hash = FromHex(std::string_view(text).substr(colon + 1));
  if (anchor.seq < 1 || !hash || hash->size() != anchor.hash.size()) return bad;
  std::copy(hash->begin(), hash->end(), anchor.hash.begin());
  return anchor;
}

// Read failures of the inputs are bad input (exit 2), whatever their cause.
Status Unreadable(const Status& st, const std::string& path) {
  if (st.code() == Code::kInvalidInput) return st;
  std::string msg = st.message();
  if (msg.rfind(path, 0) != 0) msg = path + ": " + msg;
  return Status::InvalidInput(msg);
}

Status RunAuditVerify(Context* ctx, const VerifyArgs& args) {
  auto card_text = ReadFileLimited(args.card_file, crypto::kMaxNodeCardBytes);
  if (!card_text.ok()) return Unreadable(card_text.status(), args.card_file);
  auto card = crypto::ParseNodeCard(*card_text);
  if (!card.ok()) return card.status().WithContext(args.card_file);
  audit::VerifyOptions options;
  if (!args.anchor.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(audit::VerifyAnchor anchor, ParseAnchor(args.anchor));
    options.anchor = anchor;
  }
  struct stat st {};
  if (::stat(args.export_file.c_str(), &st) != 0) {
    return Status::InvalidInput(args.export_file + ": no such file");
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(args.export_file + ": not a regular file");
  std::ifstream in(args.export_file, std::ios::binary);
  if (!in) return Status::InvalidInput(args.export_file + ": cannot open the export");
  auto verified = audit::VerifyExport(in, *card, options);
  if (!verified.ok()) return Unreadable(verified.status(), args.export_file);
  const audit::VerifyReport& r = *verified;

  std::string anchor_text;
  if (r.last_checkpoint_seq > 0) {
    anchor_text = std::to_string(r.last_checkpoint_seq) + ":" + ToHex(r.last_checkpoint_hash);
  }
  if (ctx->globals.json) {
    nlohmann::json doc = {{"ok", r.ok},
                          {"node_id", card->node_id},
                          {"entries", r.entries},
                          {"checkpoints", r.checkpoints},
                          {"last_seq", r.last_seq},
                          {"starts_after_seq", r.starts_after_seq},
                          {"anchor_before_start", r.anchor_before_start}};
    if (r.last_checkpoint_seq > 0) {
      doc["last_checkpoint"] = {{"seq", r.last_checkpoint_seq},
                                {"hash", ToHex(r.last_checkpoint_hash)},
                                {"ts", r.last_checkpoint_ts},
                                {"anchor", anchor_text}};
    } else {
      doc["last_checkpoint"] = nullptr;
    }
    if (!r.ok) {
      doc["problem"] = std::string(audit::VerifyProblemName(r.problem));
      doc["bad_seq"] = r.bad_seq;
      doc["bad_line"] = r.bad_line;
      doc["detail"] = r.detail;
    }
    PrintJson(ctx, doc);
  } else if (r.ok) {
    ctx->io.out << r.Describe();
    if (!anchor_text.empty()) {
      ctx->io.out << "; last checkpoint signed " << r.last_checkpoint_ts << ", keep --anchor " << anchor_text
                  << " for the next verification";
    }
    ctx->io.out << "\n";
  }
  if (!r.ok) return Status::Corruption(r.Describe());
  return Status::Ok();
}

}  // namespace

void AddAuditCommands(CLI::App& app, Context* ctx) {
  CLI::App* group = app.add_subcommand("audit", "the audit log, for auditors");
  group->require_subcommand(1);

  auto args = std::make_shared<VerifyArgs>();
  CLI::App* verify = group->add_subcommand(
      "verify", "verify an audit export offline against the node's card (names the first bad seq)");
  AddCommonOptions(verify, ctx);
  verify->add_option("--export", args->export_file, "the export (JSON Lines)")->required();
  verify->add_option("--card", args->card_file, "the node's node-card.json")->required();
  verify->add_option("--anchor", args->anchor,
                     "SEQ:HASH of a checkpoint kept from an earlier verification; the export "
                     "must extend it (detects truncation and rewriting)");
  verify->callback([ctx, args] { ctx->action = {"audit verify", [ctx, args] { return RunAuditVerify(ctx, *args); }}; });
}

}  // namespace schakel::cli
