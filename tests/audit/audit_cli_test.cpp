// `schakel audit verify`: exit 0 with the one-line summary, 1 naming the
// first bad seq, 2 for input it cannot read; --json and --anchor.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_test_util.h"

namespace schakel::audit {
namespace {

using schakel::testing::RunSchakel;
using schakel::testing::WriteAll;
using testing::JoinLines;
using testing::SplitLines;

class AuditCli : public testing::AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    MakeLog({.checkpoint_every_entries = 5});
    AppendRange(1, 12);
    export_ = tmp_ / "export.jsonl";
    card_ = tmp_ / "node-card.json";
    text_ = ExportText();
    WriteAll(export_, text_);
    WriteAll(card_, crypto::NodeCardToJson(testing::MakeCard(key_)));
  }
  std::string export_, card_, text_;
};

TEST_F(AuditCli, AGoodExportVerifies) {
  auto r = RunSchakel({"audit", "verify", "--export", export_, "--card", card_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("verified 12 entries, 3 checkpoints, last seq 12; last checkpoint signed ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  std::string anchor = "12:" + ToHex(testing::EntryLine::Parse(SplitLines(text_)[13]).hash);
  EXPECT_NE(r.out.find("--anchor " + anchor), std::string::npos) << r.out;
}

TEST_F(AuditCli, JsonOutput) {
  auto r = RunSchakel({"audit", "verify", "--json", "--export", export_, "--card", card_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["node_id"], testing::kNodeId);
  EXPECT_EQ(j["entries"], 12);
  EXPECT_EQ(j["checkpoints"], 3);
  EXPECT_EQ(j["last_seq"], 12);
  EXPECT_EQ(j["last_checkpoint"]["seq"], 12);
  EXPECT_EQ(j["last_checkpoint"]["anchor"].get<std::string>().rfind("12:", 0), 0u);
}

TEST_F(AuditCli, TamperingExitsOneNamingTheFirstBadSeq) {
  auto lines = SplitLines(text_);
  auto e = testing::EntryLine::Parse(lines[7]);
  e.text[static_cast<size_t>(TextField::kObject)] = "casus-other";
  lines[7] = e.Line();
  WriteAll(export_, JoinLines(lines));
  auto r = RunSchakel({"audit", "verify", "--export", export_, "--card", card_});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("schakel: audit verify: seq 7 (line 8): hash_mismatch: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);

  auto j = RunSchakel({"audit", "verify", "--json", "--export", export_, "--card", card_});
  EXPECT_EQ(j.code, 1);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["problem"], "hash_mismatch");
  EXPECT_EQ(doc["bad_seq"], 7);
  EXPECT_EQ(doc["bad_line"], 8);
  EXPECT_EQ(doc["entries"], 6);
  EXPECT_EQ(doc["last_checkpoint"]["seq"], 5);
}

TEST_F(AuditCli, AnEmptyOrCutExportIsNotVerified) {
  // An empty file handed to an auditor must not read as verified.
  WriteAll(export_, "");
  auto empty = RunSchakel({"audit", "verify", "--export", export_, "--card", card_});
  EXPECT_EQ(empty.code, 1);
  EXPECT_EQ(empty.err.rfind("schakel: audit verify: seq 0: empty_export: ", 0), 0u) << empty.err;
  WriteAll(export_, text_.substr(0, text_.size() - 1));
  auto cut = RunSchakel({"audit", "verify", "--json", "--export", export_, "--card", card_});
  EXPECT_EQ(cut.code, 1);
  auto doc = nlohmann::json::parse(cut.out);
  EXPECT_EQ(doc["problem"], "missing_final_newline");
  EXPECT_EQ(doc["bad_line"], testing::SplitLines(text_).size());
}

TEST_F(AuditCli, AnAnchorCatchesACut) {
  auto first = RunSchakel({"audit", "verify", "--json", "--export", export_, "--card", card_});
  ASSERT_EQ(first.code, 0);
  std::string anchor = nlohmann::json::parse(first.out)["last_checkpoint"]["anchor"];
  auto lines = SplitLines(text_);
  lines.resize(12);  // up to checkpoint 10
  WriteAll(export_, JoinLines(lines));
  auto alone = RunSchakel({"audit", "verify", "--export", export_, "--card", card_});
  EXPECT_EQ(alone.code, 0) << alone.err;
  auto anchored = RunSchakel({"audit", "verify", "--export", export_, "--card", card_, "--anchor", anchor});
  EXPECT_EQ(anchored.code, 1);
  EXPECT_EQ(anchored.err.rfind("schakel: audit verify: seq 12: truncated_before_anchor: ", 0), 0u) << anchored.err;
}

TEST_F(AuditCli, ADroppedCheckpointIsReported) {
  auto lines = SplitLines(text_);
  lines.pop_back();
  WriteAll(export_, JoinLines(lines));
  auto r = RunSchakel({"audit", "verify", "--export", export_, "--card", card_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("seq 11: not_covered: entries 11 to 12 are not covered by a checkpoint"), std::string::npos)
      << r.err;
}

TEST_F(AuditCli, UnreadableInputExitsTwo) {
  auto missing = RunSchakel({"audit", "verify", "--export", tmp_ / "nope.jsonl", "--card", card_});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.jsonl"), std::string::npos) << missing.err;
  auto dir = RunSchakel({"audit", "verify", "--export", tmp_.path(), "--card", card_});
  EXPECT_EQ(dir.code, 2) << dir.err;
  auto no_card = RunSchakel({"audit", "verify", "--export", export_, "--card", tmp_ / "nope.json"});
  EXPECT_EQ(no_card.code, 2);
  EXPECT_NE(no_card.err.find("nope.json"), std::string::npos) << no_card.err;
  // A card whose signature does not verify is not a card.
  auto card = nlohmann::json::parse(crypto::NodeCardToJson(testing::MakeCard(key_)));
  card["name"] = "Someone Else";
  WriteAll(tmp_ / "forged-card.json", card.dump());
  auto forged = RunSchakel({"audit", "verify", "--export", export_, "--card", tmp_ / "forged-card.json"});
  EXPECT_EQ(forged.code, 2);
  EXPECT_NE(forged.err.find("forged-card.json: node card: "), std::string::npos) << forged.err;
  auto bad_anchor = RunSchakel({"audit", "verify", "--export", export_, "--card", card_, "--anchor", "12:zz"});
  EXPECT_EQ(bad_anchor.code, 2);
  EXPECT_NE(bad_anchor.err.find("--anchor"), std::string::npos) << bad_anchor.err;
  auto usage = RunSchakel({"audit", "verify", "--export", export_});
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.err.find("--card"), std::string::npos) << usage.err;
  auto nothing = RunSchakel({"audit"});
  EXPECT_EQ(nothing.code, 2);
}

}  // namespace
}  // namespace schakel::audit
