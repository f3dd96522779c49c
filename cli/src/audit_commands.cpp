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
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

#include "command.h"
#include "node_access.h"
#include "schakel/audit/verify.h"
#include "schakel/audit/witness.h"
#include "schakel/base/file.h"
#include "schakel/base/json.h"
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

// `audit trace --export A --export B MESSAGE`: the road of one share through
// the Logboek Dataverwerkingen exports of several nodes (docs/audit.md,
// "Following one share across nodes").
struct TraceArgs {
  std::vector<std::string> exports;
  std::string message_id;
};

// What `audit trace` reads, bounded: it holds one share's road in memory,
// never a whole log.
constexpr size_t kMaxLdvLineBytes = 64 * 1024;
constexpr size_t kMaxTraceExports = 64;              // --export files
constexpr uint64_t kMaxLdvExportBytes = 4ull << 30;  // one export file
constexpr size_t kMaxTraceSteps = 100000;            // records of the message's traces, all exports
constexpr size_t kMaxTraces = 64;                    // traces that name the message

// One line (without its '\n') of at most `max` bytes, read without holding
// more: false at the end of the stream with nothing read; *too_long when
// the line has more (the rest is not read).
bool ReadLineLimited(std::istream& in, std::string* line, size_t max, bool* too_long) {
  line->clear();
  *too_long = false;
  std::streambuf* buf = in.rdbuf();
  for (int c = buf->sbumpc(); c != std::char_traits<char>::eof(); c = buf->sbumpc()) {
    if (c == '\n') return true;
    if (line->size() == max) {
      *too_long = true;
      return true;
    }
    line->push_back(static_cast<char>(c));
  }
  return !line->empty();
}

struct TraceStep {
  std::string time, node, name, status, operation, parent, trace, file;
  int64_t seq = 0;
  nlohmann::json foreign;  // null when none
};

bool IsHexId(const nlohmann::json& v, size_t digits) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() == digits &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Text(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// Reads one LDV export record by record; `visit` gets each, with its line.
// kInvalidInput naming FILE:LINE for anything that is not an LDV record.
Status ForEachLdvRecord(const std::string& path, const std::function<void(const nlohmann::json&)>& visit) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::InvalidInput(path + ": no such file");
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxLdvExportBytes) {
    return Status::InvalidInput(path + ": larger than 4 GiB; export a shorter period");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidInput(path + ": cannot open the export");
  std::string line;
  int64_t n = 0;
  bool too_long = false;
  while (ReadLineLimited(in, &line, kMaxLdvLineBytes + 1, &too_long)) {
    ++n;
    auto bad = [&](const std::string& what) {
      return Status::InvalidInput(path + ":" + std::to_string(n) + ": not an LDV record (" + what +
                                  "); write one with `schakel audit export --format ldv`");
    };
    if (too_long) return bad("longer than 64 KiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto parsed = ParseJsonLimited(line, JsonLimits{kMaxLdvLineBytes, 8});
    if (!parsed.ok() || !parsed->is_object()) return bad("not a JSON object");
    nlohmann::json& rec = *parsed;
    if (!IsHexId(rec["trace_id"], 32)) return bad("trace_id");
    if (!IsHexId(rec["operation_id"], 16)) return bad("operation_id");
    if (Text(rec, "name").empty() || Text(rec, "start_time").empty()) return bad("name, start_time");
    if (!rec["attributes"].is_object() || Text(rec["attributes"], "schakel.node_id").empty()) {
      return bad("attributes.schakel.node_id");
    }
    visit(rec);
  }
  if (in.bad()) return Status::InvalidInput(path + ": read error");
  return Status::Ok();
}

Status RunAuditTrace(Context* ctx, const TraceArgs& args) {
  if (!IsValidObjectId(args.message_id)) return Status::InvalidInput("MESSAGE: not a message id");
  if (args.exports.size() > kMaxTraceExports) {
    return Status::InvalidInput("--export: at most " + std::to_string(kMaxTraceExports) + " exports");
  }
  // Pass 1: the traces that name the message; pass 2: every record of them.
  std::set<std::string> traces;
  for (const std::string& path : args.exports) {
    SCHAKEL_RETURN_IF_ERROR(ForEachLdvRecord(path, [&](const nlohmann::json& rec) {
      if (Text(rec["attributes"], "schakel.message_id") == args.message_id) traces.insert(Text(rec, "trace_id"));
    }));
    if (traces.size() > kMaxTraces) {
      return Status::InvalidInput("message " + args.message_id + " is named in more than " +
                                  std::to_string(kMaxTraces) + " traces: these are not exports of Schakel nodes");
    }
  }
  if (traces.empty()) return Status::NotFound("no record of message " + args.message_id + " in the exports");
  std::vector<TraceStep> steps;
  for (const std::string& path : args.exports) {
    SCHAKEL_RETURN_IF_ERROR(ForEachLdvRecord(path, [&](const nlohmann::json& rec) {
      if (!traces.count(Text(rec, "trace_id")) || steps.size() > kMaxTraceSteps) return;
      TraceStep s;
      s.time = Text(rec, "start_time");
      s.node = Text(rec["attributes"], "schakel.node_id");
      s.name = Text(rec, "name");
      s.status = Text(rec, "status_code");
      s.operation = Text(rec, "operation_id");
      s.parent = Text(rec, "parent_operation_id");
      s.trace = Text(rec, "trace_id");
      s.file = path;
      const nlohmann::json& attrs = rec["attributes"];
      if (auto seq = attrs.find("schakel.seq"); seq != attrs.end() && seq->is_number_integer()) {
        s.seq = seq->get<int64_t>();
      }
      if (rec.contains("foreign_operation") && rec["foreign_operation"].is_object())
        s.foreign = rec["foreign_operation"];
      steps.push_back(std::move(s));
    }));
  }
  if (steps.size() > kMaxTraceSteps) {
    return Status::InvalidInput("the traces of message " + args.message_id + " hold more than " +
                                std::to_string(kMaxTraceSteps) + " records: these are not one share's road");
  }
  std::stable_sort(steps.begin(), steps.end(), [](const TraceStep& a, const TraceStep& b) {
    return std::tie(a.time, a.node, a.seq) < std::tie(b.time, b.node, b.seq);
  });
  // Which node wrote an operation, to name the foreign operation's node.
  std::map<std::string, std::string> op_node;
  for (const TraceStep& s : steps) op_node[s.operation] = s.node;
  if (ctx->globals.json) {
    nlohmann::json doc = {{"message_id", args.message_id}, {"trace_ids", traces}, {"steps", nlohmann::json::array()}};
    for (const TraceStep& s : steps) {
      nlohmann::json j = {{"time", s.time},      {"node", s.node},
                          {"name", s.name},      {"status_code", s.status},
                          {"trace_id", s.trace}, {"operation_id", s.operation},
                          {"seq", s.seq},        {"export", s.file}};
      if (!s.parent.empty()) j["parent_operation_id"] = s.parent;
      if (!s.foreign.is_null()) j["foreign_operation"] = s.foreign;
      doc["steps"].push_back(std::move(j));
    }
    PrintJson(ctx, doc);
    return Status::Ok();
  }
  std::set<std::string> nodes;
  for (const TraceStep& s : steps) nodes.insert(s.node);
  ctx->io.out << "message " << args.message_id << ": " << steps.size() << " steps on " << nodes.size()
              << (nodes.size() == 1 ? " node" : " nodes") << " (trace " << *traces.begin()
              << (traces.size() > 1 ? ", +" + std::to_string(traces.size() - 1) + " more" : "") << ")\n";
  for (const TraceStep& s : steps) {
    ctx->io.out << s.time << "  " << s.node << "  " << s.name << "  " << s.status << "  op " << s.operation;
    if (!s.parent.empty()) ctx->io.out << " (after " << s.parent << ")";
    if (!s.foreign.is_null()) {
      std::string fop = Text(s.foreign, "operation_id");
      auto it = op_node.find(fop);
      ctx->io.out << " caused by " << (it != op_node.end() ? it->second : Text(s.foreign, "entity_id")) << " operation "
                  << fop;
    }
    ctx->io.out << "\n";
  }
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

  auto trace = std::make_shared<TraceArgs>();
  CLI::App* tr = group->add_subcommand(
      "trace", "follow one share through the LDV exports of several nodes (audit export --format ldv), in time order");
  AddCommonOptions(tr, ctx);
  tr->add_option("--export", trace->exports, "an LDV export (JSON Lines); repeat, one per node")
      ->required()
      ->allow_extra_args(false);
  tr->add_option("MESSAGE", trace->message_id, "the share's message id")->required();
  tr->callback([ctx, trace] { ctx->action = {"audit trace", [ctx, trace] { return RunAuditTrace(ctx, *trace); }}; });

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
