// `schakel audit ...`: the auditor's commands (CONTRACT.md "Commands",
// "Audit export"; docs/audit.md).
//
// `audit verify --export F --card C [--anchor SEQ:HASH]` is offline: it
// needs the export and the node's card, not the node directory nor the
// daemon, so an auditor can run it anywhere. Exit 0 when every entry is
// covered by a checkpoint that verifies; exit 1 (kCorruption) naming the
// first bad seq; exit 2 when an input cannot be read or is not a card.
// With `--witnesses DIR` it also checks the partners' countersignatures in
// the export against their cards in DIR (docs/audit.md "Witnessing").
// `audit witness --node ID` reads the node of --dir offline: the latest
// checkpoint of partner ID that this node witnessed.
// The online commands (query, export, subject) go through the daemon's
// API and join this group there.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/audit/verify.h"
#include "schakel/audit/witness.h"
#include "schakel/base/file.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/node_card.h"

namespace schakel::cli {
namespace {

struct VerifyArgs {
  std::string export_file;
  std::string card_file;
  std::string anchor;
  std::string witnesses_dir;
};

// Read failures of the inputs are bad input (exit 2), whatever their cause.
Status Unreadable(const Status& st, const std::string& path) {
  if (st.code() == Code::kInvalidInput) return st;
  std::string msg = st.message();
  if (msg.rfind(path, 0) != 0) msg = path + ": " + msg;
  return Status::InvalidInput(msg);
}

// At most this many cards in a --witnesses directory.
constexpr size_t kMaxWitnessCards = 1000;

// Every `*.json` file in `dir` as a verified node card, by node id. A file
// that is not a card, two cards of one node, or too many files: bad input.
Result<audit::WitnessCards> ReadWitnessCards(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::InvalidInput(dir + ": not a directory");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec) || e.path().extension() != ".json") continue;
    if (files.size() == kMaxWitnessCards) {
      return Status::InvalidInput(dir + ": more than " + std::to_string(kMaxWitnessCards) + " cards");
    }
    files.push_back(e.path().string());
  }
  if (ec) return Status::InvalidInput(dir + ": cannot list the directory");
  std::sort(files.begin(), files.end());
  audit::WitnessCards cards;
  for (const auto& f : files) {
    auto text = ReadFileLimited(f, crypto::kMaxNodeCardBytes);
    if (!text.ok()) return Unreadable(text.status(), f);
    auto card = crypto::ParseNodeCard(*text);
    if (!card.ok()) return Status::InvalidInput(f + ": " + card.status().message());
    std::string id = card->node_id;
    if (!cards.emplace(id, std::move(card).value()).second) {
      return Status::InvalidInput(f + ": a second card of " + id);
    }
  }
  return cards;
}

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
  audit::WitnessCards witness_cards;
  if (!args.witnesses_dir.empty()) {
    SCHAKEL_ASSIGN_OR_RETURN(witness_cards, ReadWitnessCards(args.witnesses_dir));
    options.witnesses = &witness_cards;
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
                          {"last_seq", r.last_seq}};
    if (r.last_checkpoint_seq > 0) {
      doc["last_checkpoint"] = {{"seq", r.last_checkpoint_seq},
                                {"hash", ToHex(r.last_checkpoint_hash)},
                                {"ts", r.last_checkpoint_ts},
                                {"anchor", anchor_text}};
    } else {
      doc["last_checkpoint"] = nullptr;
    }
    if (r.witnesses_checked) {
      doc["witness_lines"] = r.witness_lines;
      doc["witnessed"] = r.witnessed;
      doc["last_witnessed_seq"] = r.last_witnessed_seq;
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

// `audit witness --node ID`, on a partner: the latest checkpoint of ID
// this node witnessed and its countersignature.
Status RunAuditWitness(Context* ctx, const std::string& node_id) {
  if (!IsValidNodeId(node_id)) return Status::InvalidInput("--node: expected a node id [a-z0-9-]{3,64}");
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<audit::Countersignature> cs,
                           audit::LatestWitnessed(*node.db, node.config.node_id, node_id));
  if (!cs) return Status::NotFound("this node has witnessed no checkpoint of " + node_id);
  std::string sig = crypto::Base64Encode(cs->sig);
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", cs->node_id},
                    {"witness", cs->witness_id},
                    {"seq", cs->seq},
                    {"hash", ToHex(cs->hash)},
                    {"ts", cs->ts},
                    {"witnessed_at", cs->witnessed_at},
                    {"sig", sig},
                    {"anchor", std::to_string(cs->seq) + ":" + ToHex(cs->hash)}});
  } else {
    ctx->io.out << "witnessed checkpoint of " << cs->node_id << ": seq " << cs->seq << ", hash " << ToHex(cs->hash)
                << ", signed " << cs->ts << "; countersigned by " << cs->witness_id << " at " << cs->witnessed_at
                << ": " << sig << "\n";
  }
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
  verify->add_option("--witnesses", args->witnesses_dir,
                     "a directory of partners' node cards (*.json): check the partners' countersignatures in "
                     "the export and that the export agrees with every checkpoint they witnessed");
  verify->callback([ctx, args] { ctx->action = {"audit verify", [ctx, args] { return RunAuditVerify(ctx, *args); }}; });

  auto witness_node = std::make_shared<std::string>();
  CLI::App* witness = group->add_subcommand(
      "witness", "on a partner: the latest checkpoint of a node that this node witnessed, with its countersignature");
  AddCommonOptions(witness, ctx);
  witness->add_option("--node", *witness_node, "the node whose checkpoint was witnessed")->required();
  witness->callback([ctx, witness_node] {
    ctx->action = {"audit witness", [ctx, witness_node] { return RunAuditWitness(ctx, *witness_node); }};
  });
}

}  // namespace schakel::cli
