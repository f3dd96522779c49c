// Offline verification of exports: a good export verifies; every kind of
// tampering is found at the right first bad seq and line; what cannot be
// found without an anchor (a cut right after a checkpoint) is shown to pass
// without one and fail with one; the parser takes any JSON spelling of the
// same values and refuses anything else.
#include "schakel/audit/verify.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_test_util.h"

namespace schakel::audit {
namespace {

using testing::EntryLine;
using testing::JoinLines;
using testing::LineOf;
using testing::SplitLines;

// Twelve entries, checkpoints at 5, 10 and (by the export) 12. Lines:
//   1-5 entries 1-5, 6 checkpoint 5, 7-11 entries 6-10, 12 checkpoint 10,
//   13-14 entries 11-12, 15 checkpoint 12.
class VerifyTest : public testing::AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    MakeLog({.checkpoint_every_entries = 5});
    AppendRange(1, 12);
    text_ = ExportText();
    lines_ = SplitLines(text_);
    ASSERT_EQ(lines_.size(), 15u);
    card_ = testing::MakeCard(key_);
  }

  VerifyReport Verify(const std::string& text, const VerifyOptions& options = {}) {
    auto in_memory = VerifyExport(text, card_, options);
    EXPECT_TRUE(in_memory.ok()) << in_memory.status().message();
    std::istringstream in(text);
    auto streamed = VerifyExport(in, card_, options);
    EXPECT_TRUE(streamed.ok()) << streamed.status().message();
    if (!in_memory.ok() || !streamed.ok()) return {};
    // Both readers reach the same verdict.
    EXPECT_EQ(in_memory->Describe(), streamed->Describe());
    return *in_memory;
  }

  void ExpectBad(const VerifyReport& r, VerifyProblem problem, int64_t seq, uint64_t line) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(VerifyProblemName(r.problem), VerifyProblemName(problem)) << r.Describe();
    EXPECT_EQ(r.bad_seq, seq) << r.Describe();
    EXPECT_EQ(r.bad_line, line) << r.Describe();
  }

  Hash EntryHash(int64_t seq) { return EntryLine::Parse(lines_[LineOf(lines_, "entry", seq)]).hash; }

  // Line 4 (entry 4) with `from` replaced by `to`.
  std::string Entry4With(const std::string& from, const std::string& to) {
    std::string s = lines_[3];
    auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  }
  struct BadLine {
    std::string line;
    std::string says;
  };
  // Each line in place of entry 4 is malformed at seq 4, line 4, saying `says`.
  void ExpectEachMalformedAtEntry4(const std::vector<BadLine>& cases) {
    for (const auto& c : cases) {
      auto copy = lines_;
      copy[3] = c.line;
      VerifyReport r = Verify(JoinLines(copy));
      ExpectBad(r, VerifyProblem::kMalformedLine, 4, 4);
      EXPECT_NE(r.detail.find(c.says), std::string::npos) << c.line << "\n" << r.detail;
    }
  }

  std::string text_;
  std::vector<std::string> lines_;
  crypto::NodeCard card_;
};

TEST_F(VerifyTest, AGoodExportVerifies) {
  VerifyReport r = Verify(text_);
  EXPECT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.entries, 12);
  EXPECT_EQ(r.checkpoints, 3);
  EXPECT_EQ(r.last_seq, 12);
  EXPECT_EQ(r.last_checkpoint_seq, 12);
  EXPECT_EQ(r.last_checkpoint_hash, EntryHash(12));
  EXPECT_EQ(r.Describe(), "verified 12 entries, 3 checkpoints, last seq 12");
  // Without the final newline it is a cut file (AnEmptyExportOrACutLastLineIsRefused).
  EXPECT_FALSE(Verify(text_.substr(0, text_.size() - 1)).ok);
}

TEST_F(VerifyTest, AChangedFieldIsAHashMismatchAtItsSeq) {
  auto e = EntryLine::Parse(lines_[7]);  // entry 7
  ASSERT_EQ(e.seq, 7);
  e.text[static_cast<size_t>(TextField::kOutcome)] = "deny";
  lines_[7] = e.Line();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kHashMismatch, 7, 8);
}

TEST_F(VerifyTest, AChangedTimestampIsAHashMismatch) {
  auto e = EntryLine::Parse(lines_[1]);
  e.text[0] = "2026-11-23T09:00:02.000Z";
  lines_[1] = e.Line();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kHashMismatch, 2, 2);
}

TEST_F(VerifyTest, AChangedEntryWithItsHashRecomputedBreaksTheChainAtTheNext) {
  auto e = EntryLine::Parse(lines_[7]);
  e.text[static_cast<size_t>(TextField::kActorUser)] = "u-someone-else";
  e.Rehash();
  lines_[7] = e.Line();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kBrokenChain, 8, 9);
}

TEST_F(VerifyTest, ARewrittenChainFailsAtTheNextCheckpoint) {
  // Without the key, an attacker rewrites entry 7 and every hash after it.
  Hash prev = EntryHash(6);
  for (int64_t seq = 7; seq <= 12; ++seq) {
    size_t i = LineOf(lines_, "entry", seq);
    auto e = EntryLine::Parse(lines_[i]);
    if (seq == 7) e.text[static_cast<size_t>(TextField::kReason)] = "nothing to see";
    e.prev = prev;
    e.Rehash();
    lines_[i] = e.Line();
    prev = e.hash;
  }
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kCheckpointHashMismatch, 10, 12);
  // Putting the new hash into the checkpoint breaks its signature instead.
  auto cp = nlohmann::json::parse(lines_[11]);
  cp["hash"] = ToHex(EntryLine::Parse(lines_[10]).hash);
  lines_[11] = cp.dump();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kBadCheckpointSignature, 10, 12);
}

TEST_F(VerifyTest, ADeletedEntryIsAGapAtItsSeq) {
  lines_.erase(lines_.begin() + 7);  // entry 7
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kSeqOutOfOrder, 7, 8);
  auto r = Verify(JoinLines(lines_));
  EXPECT_NE(r.detail.find("expected seq 7, found seq 8"), std::string::npos) << r.detail;
}

TEST_F(VerifyTest, DeletingTheFirstEntryIsFound) {
  lines_.erase(lines_.begin());
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kSeqOutOfOrder, 1, 1);
}

TEST_F(VerifyTest, ReorderedEntriesAreFoundAtTheFirstMovedSeq) {
  std::swap(lines_[7], lines_[8]);  // entries 7 and 8
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kSeqOutOfOrder, 7, 8);
}

TEST_F(VerifyTest, ARepeatedEntryIsFound) {
  lines_.insert(lines_.begin() + 8, lines_[7]);  // entry 7 twice
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kSeqOutOfOrder, 7, 9);
}

TEST_F(VerifyTest, ADroppedLastCheckpointLeavesEntriesNotCovered) {
  lines_.pop_back();  // checkpoint 12
  VerifyReport r = Verify(JoinLines(lines_));
  ExpectBad(r, VerifyProblem::kNotCovered, 11, 0);
  EXPECT_EQ(r.entries, 12);
  EXPECT_EQ(r.last_checkpoint_seq, 10);
  EXPECT_NE(r.Describe().find("entries 11 to 12 are not covered by a checkpoint"), std::string::npos) << r.Describe();
}

TEST_F(VerifyTest, AForgedEntryAppendedAtTheEndIsNotCovered) {
  // Hash-correct, but no key to sign a checkpoint for it.
  EntryLine e = EntryLine::Parse(lines_[13]);  // entry 12
  e.prev = e.hash;
  e.seq = 13;
  e.text[static_cast<size_t>(TextField::kAction)] = "case.delete";
  e.Rehash();
  lines_.push_back(e.Line());
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kNotCovered, 13, 0);
}

TEST_F(VerifyTest, DroppingEntriesBeforeTheLastCheckpointMisplacesIt) {
  lines_.erase(lines_.begin() + 13);  // entry 12: checkpoint 12 now follows entry 11
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kCheckpointMisplaced, 12, 14);
}

TEST_F(VerifyTest, ACutRightAfterACheckpointNeedsAnAnchor) {
  // Drop checkpoint 12 and the entries after checkpoint 10: the export alone
  // cannot tell (docs/audit.md "What verification proves").
  Hash h5 = EntryHash(5), h10 = EntryHash(10), h12 = EntryHash(12);
  lines_.resize(12);
  std::string cut = JoinLines(lines_);
  VerifyReport alone = Verify(cut);
  EXPECT_TRUE(alone.ok) << alone.Describe();
  EXPECT_EQ(alone.last_seq, 10);
  // An anchor kept from an earlier export finds it.
  VerifyOptions options;
  options.anchor = VerifyAnchor{12, h12};
  ExpectBad(Verify(cut, options), VerifyProblem::kTruncatedBeforeAnchor, 12, 0);  // names the anchor
  // An older anchor is satisfied.
  options.anchor = VerifyAnchor{10, h10};
  EXPECT_TRUE(Verify(cut, options).ok);
  options.anchor = VerifyAnchor{5, h5};
  EXPECT_TRUE(Verify(text_, options).ok);
}

TEST_F(VerifyTest, AnAnchorWithAnotherHashIsARewrite) {
  VerifyOptions options;
  options.anchor = VerifyAnchor{5, EntryHash(4)};
  ExpectBad(Verify(text_, options), VerifyProblem::kAnchorMismatch, 5, 5);
}

TEST_F(VerifyTest, AForgedCheckpointSignatureIsFound) {
  auto cp = nlohmann::json::parse(lines_[11]);  // checkpoint 10
  auto sig = crypto::Base64Decode(cp["sig"].get<std::string>(), 64).value();
  sig[10] ^= 0x01;
  cp["sig"] = crypto::Base64Encode(sig);
  lines_[11] = cp.dump();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kBadCheckpointSignature, 10, 12);
}

TEST_F(VerifyTest, ACheckpointSignedByAnotherKeyIsFound) {
  auto other = crypto::GenerateSigningKeyPair();
  auto cp = nlohmann::json::parse(lines_[11]);
  std::string ts = cp["ts"];
  auto sig = crypto::Sign(other, CheckpointMessage(testing::kNodeId, 10, EntryHash(10), ts));
  cp["sig"] = crypto::Base64Encode(sig);
  lines_[11] = cp.dump();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kBadCheckpointSignature, 10, 12);
}

TEST_F(VerifyTest, ACheckpointWithAChangedTimeIsFound) {
  auto cp = nlohmann::json::parse(lines_[11]);
  cp["ts"] = "2027-01-01T00:00:00.000Z";
  lines_[11] = cp.dump();
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kBadCheckpointSignature, 10, 12);
}

TEST_F(VerifyTest, ASignatureHasOneSpellingOnly) {
  // libsodium's base64 decoder reads any byte >= 0x80 as '/'; the verifier
  // must not accept such an alias of a good signature.
  auto cp = nlohmann::json::parse(lines_[11]);  // checkpoint 10
  std::string sig_text;
  for (int ms = 0; sig_text.find('/') == std::string::npos; ++ms) {
    std::string ts = "2026-11-23T10:00:10." +
                     std::string(ms < 10    ? "00"
                                 : ms < 100 ? "0"
                                            : "") +
                     std::to_string(ms) + "Z";
    ASSERT_LT(ms, 1000);
    sig_text = crypto::Base64Encode(crypto::Sign(key_, CheckpointMessage(testing::kNodeId, 10, EntryHash(10), ts)));
    cp["ts"] = ts;
  }
  cp["sig"] = sig_text;
  lines_[11] = cp.dump();
  ASSERT_TRUE(Verify(JoinLines(lines_)).ok);
  std::string line = lines_[11];
  size_t at = line.find(sig_text) + sig_text.find('/');
  // A lone 0xa8 is not UTF-8: the line is refused before it is read, and
  // names the seq expected next.
  line[at] = '\xa8';
  lines_[11] = line;
  VerifyReport r = Verify(JoinLines(lines_));
  ExpectBad(r, VerifyProblem::kMalformedLine, 11, 12);
  EXPECT_NE(r.detail.find("not UTF-8"), std::string::npos) << r.detail;
  // A byte of the URL-safe alphabet is text, so the checkpoint's value is
  // refused, naming the seq it covers.
  line[at] = '_';
  lines_[11] = line;
  r = Verify(JoinLines(lines_));
  ExpectBad(r, VerifyProblem::kMalformedLine, 10, 12);
  EXPECT_NE(r.detail.find("sig: expected the base64"), std::string::npos) << r.detail;
}

TEST_F(VerifyTest, TheWrongCardIsRefused) {
  auto other = crypto::GenerateSigningKeyPair();
  card_ = testing::MakeCard(other);
  ExpectBad(Verify(text_), VerifyProblem::kBadCheckpointSignature, 5, 6);
  card_ = testing::MakeCard(key_, "school-elsewhere");
  ExpectBad(Verify(text_), VerifyProblem::kCheckpointWrongNode, 5, 6);
}

TEST_F(VerifyTest, AMovedCheckpointIsMisplaced) {
  std::swap(lines_[5], lines_[6]);  // checkpoint 5 after entry 6
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kCheckpointMisplaced, 5, 7);
  std::swap(lines_[5], lines_[6]);
  lines_.insert(lines_.begin() + 12, lines_[11]);  // checkpoint 10 twice
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kCheckpointMisplaced, 10, 13);
}

TEST_F(VerifyTest, MalformedLinesAreNamedByLineNumber) {
  std::string e4 = lines_[3];
  auto replace = [&](const std::string& from, const std::string& to) { return Entry4With(from, to); };
  ExpectEachMalformedAtEntry4({
      {"not json", "expected '{'"},
      {"[1,2]", "expected '{'"},
      {"", "empty line"},
      {e4 + " x", "text after the end"},
      {replace("\"source\":\"api\"", "\"source\":\"api\",\"note\":\"x\""), "unknown field \"note\""},
      {replace("\"source\":\"api\"", "\"source\":\"api\",\"source\":\"api\""), "source appears twice"},
      {replace(",\"source\":\"api\"", ""), "missing field source"},
      {replace("\"org\":\"school-trajectum\"", "\"org\":\"school-trajectum\",\"x\":\"y\""), "unknown field \"x\""},
      {replace(",\"org\":\"school-trajectum\"", ""), "missing field actor.org"},
      {replace("\"seq\":4", "\"seq\":04"), "seq: expected a positive integer"},
      {replace("\"seq\":4", "\"seq\":\"4\""), "seq: expected a positive integer"},
      {replace("\"seq\":4", "\"seq\":-4"), "seq: expected a positive integer"},
      {replace("\"seq\":4", "\"seq\":4.0"), "seq: expected a positive integer"},
      {replace("\"source\":\"api\"", "\"source\":null"), "source: expected a string"},
      {replace("\"type\":\"entry\"", "\"type\":\"entries\""), "type: expected"},
      {replace("\"type\":\"entry\",", ""), "no type field"},
      {replace("\"ts\":\"2026-11-23T10:00:04.000Z\"", "\"ts\":\"2026-11-23T10:00:04Z\""), "ts: expected"},
      {replace("\"hash\":\"", "\"hash\":\"A"), "hash: expected 64 lower-case hex"},
      {replace("\"source\":\"api\"", "\"source\":\"a\tpi\""), "control character"},
      {replace("\"source\":\"api\"", "\"source\":\"a\\qpi\""), "bad escape"},
      {replace("\"source\":\"api\"", "\"source\":\"\\ud800\""), "surrogate"},
      {e4.substr(0, e4.size() - 10), "unterminated string"},
      {replace("\"source\":\"api\"", "\"source\":\"" + std::string(257, 'a') + "\""), "source: longer than 256"},
      {replace("\"actor\":{", "\"actor\":\"x\",\"y\":{"), "actor: expected an object"},
      {replace("\"type\":\"entry\"", "\"type\":\"checkpoint\""), "does not belong"},
  });
  // A checkpoint line with a bad signature encoding.
  auto copy = lines_;
  auto cp = nlohmann::json::parse(copy[5]);
  cp["sig"] = "AAAA";
  copy[5] = cp.dump();
  VerifyReport r = Verify(JoinLines(copy));
  ExpectBad(r, VerifyProblem::kMalformedLine, 5, 6);  // the seq it covers (docs/audit.md)
  EXPECT_NE(r.detail.find("sig: expected the base64"), std::string::npos) << r.detail;
}

TEST_F(VerifyTest, EveryFieldRuleOfTheDocumentIsEnforced) {
  // Each value breaks one rule of docs/audit.md "Entries". The verifier
  // refuses it as malformed at the entry's own seq, before its hash is
  // looked at (so a re-hashed rewrite is caught here, not only at the next
  // checkpoint).
  auto with = [&](const std::string& from, const std::string& to) { return Entry4With(from, to); };
  const std::string ts = "\"ts\":\"2026-11-23T10:00:04.000Z\"";
  ExpectEachMalformedAtEntry4({
      {with(ts, "\"ts\":\"2026-02-30T10:00:04.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2025-02-29T10:00:04.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2026-13-01T10:00:04.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2026-11-23T24:00:04.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2026-11-23T10:60:04.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2026-11-23T10:00:60.000Z\""), "ts: expected a real UTC time"},
      {with(ts, "\"ts\":\"2026-11-00T10:00:04.000Z\""), "ts: expected a real UTC time"},
      {with("\"action\":\"", "\"action\":\"Case"), "action: expected a token"},
      {with("\"action\":\"share.create\"", "\"action\":\"\""), "action: expected a token"},
      {with("\"outcome\":\"", "\"outcome\":\"ok "), "outcome: expected a token"},
      {with("\"subject\":\"", "\"subject\":\"Jan de Vries "), "subject: expected a student reference"},
      {with("\"source\":\"api\"", "\"source\":\"\""), "source: must not be empty"},
      {with("\"source\":\"api\"", "\"source\":\"a\\u0007pi\""), "source: must be printable"},
      {with("\"source\":\"api\"", "\"source\":\"a\\tpi\""), "source: must be printable"},
      {with("\"source\":\"api\"", "\"source\":\"a\\u0085pi\""), "source: must be printable"},
      {with("\"source\":\"api\"", "\"source\":\"a\x7fpi\""), "not UTF-8 text, or a control character"},
      {with("\"source\":\"api\"", "\"source\":\"a\xc3pi\""), "not UTF-8 text"},
      {with("\"source\":\"api\"", "\"source\":\"a\xc0\xafpi\""), "not UTF-8 text"},
  });
  // A checkpoint with an impossible time names the seq it covers.
  auto copy = lines_;
  auto cp = nlohmann::json::parse(copy[11]);
  cp["ts"] = "2026-02-29T10:00:10.000Z";
  copy[11] = cp.dump();
  ExpectBad(Verify(JoinLines(copy)), VerifyProblem::kMalformedLine, 10, 12);
}

TEST_F(VerifyTest, AnEmptyExportOrACutLastLineIsRefused) {
  ExpectBad(Verify(""), VerifyProblem::kEmptyExport, 0, 0);
  // The whole export without its last newline: every line verifies, but a
  // file that does not end as the format says was cut or edited.
  std::string cut = text_.substr(0, text_.size() - 1);
  VerifyReport r = Verify(cut);
  ExpectBad(r, VerifyProblem::kMissingFinalNewline, 12, 15);
  EXPECT_EQ(r.Describe().rfind("seq 12 (line 15): missing_final_newline: ", 0), 0u) << r.Describe();
  // A CRLF export ends with "\r\n"; a last "\r" alone is still cut.
  ExpectBad(Verify(cut + "\r"), VerifyProblem::kMissingFinalNewline, 12, 15);
}

TEST_F(VerifyTest, OtherJsonSpellingsOfTheSameValuesVerify) {
  // Field order, white space, \u escapes, \/ and CRLF line ends do not
  // matter; the values do.
  std::string respelled;
  for (const auto& line : lines_) {
    std::string dumped = nlohmann::json::parse(line).dump(1, ' ', /*ensure_ascii=*/true);
    for (char& c : dumped) {
      if (c == '\n') c = ' ';
    }
    respelled += dumped + "\r\n";
  }
  EXPECT_TRUE(Verify(respelled).ok) << Verify(respelled).Describe();
  // Escaped spellings of plain characters.
  auto e = lines_[0];
  auto at = e.find("\"source\":\"api\"");
  ASSERT_NE(at, std::string::npos);
  lines_[0] = e.replace(at, 14, "\"source\":\"\\u0061p\\/i\"");
  ExpectBad(Verify(JoinLines(lines_)), VerifyProblem::kHashMismatch, 1, 1);  // "ap/i" != "api"
  lines_[0] = e.replace(at, std::string("\"source\":\"\\u0061p\\/i\"").size(), "\"source\":\"\\u0061p\\u0069\"");
  EXPECT_TRUE(Verify(JoinLines(lines_)).ok);
}

TEST_F(VerifyTest, NonAsciiValuesWithSurrogatePairsVerify) {
  AuditEvent ev = testing::Event(13);
  ev.reason = "\"quoted\" \\ back — é 😀";
  ASSERT_TRUE(log_->Append(ev).ok());
  std::string text = ExportText();
  EXPECT_NE(text.find(R"(\"quoted\" \\ back — é 😀)"), std::string::npos);
  EXPECT_TRUE(Verify(text).ok);
  std::string ascii;
  for (const auto& line : SplitLines(text)) {
    ascii += nlohmann::json::parse(line).dump(-1, ' ', true) + "\n";
  }
  EXPECT_NE(ascii.find("\\ud83d\\ude00"), std::string::npos);
  EXPECT_TRUE(Verify(ascii).ok) << Verify(ascii).Describe();
}

TEST_F(VerifyTest, EmptyExports) {
  VerifyReport r = Verify("");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.Describe().rfind("seq 0: empty_export: ", 0), 0u) << r.Describe();
  VerifyOptions options;
  options.anchor = VerifyAnchor{1, EntryHash(1)};
  ExpectBad(Verify("", options), VerifyProblem::kEmptyExport, 0, 0);
  ExpectBad(Verify("\n"), VerifyProblem::kMalformedLine, 1, 1);
}

TEST_F(VerifyTest, LimitsAreKept) {
  VerifyOptions options;
  options.max_total_bytes = text_.size() - 1;
  EXPECT_EQ(VerifyExport(text_, card_, options).status().code(), Code::kInvalidInput);
  std::istringstream in(text_);
  EXPECT_EQ(VerifyExport(in, card_, options).status().code(), Code::kInvalidInput);

  options = {};
  options.max_line_bytes = 300;  // shorter than an entry line
  ExpectBad(Verify(text_, options), VerifyProblem::kMalformedLine, 1, 1);
  EXPECT_NE(Verify(text_, options).detail.find("longer than 300 bytes"), std::string::npos);

  // A stream of one endless line stops at the limit.
  std::string endless(3 << 20, 'x');
  std::istringstream big(endless);
  auto r = VerifyExport(big, card_);
  ASSERT_TRUE(r.ok());
  ExpectBad(*r, VerifyProblem::kMalformedLine, 1, 1);

  options = {};
  options.anchor = VerifyAnchor{0, {}};
  EXPECT_EQ(VerifyExport(text_, card_, options).status().code(), Code::kInvalidInput);
}

TEST_F(VerifyTest, EverySingleByteChangeIsFound) {
  // Any byte of the canonical export changed to any other value: a value
  // (hash), a key or structure (malformed), a seq (order), a signature.
  std::mt19937 rng(20261123);
  for (int round = 0; round < 1500; ++round) {
    std::string t = text_;
    size_t at = std::uniform_int_distribution<size_t>(0, t.size() - 1)(rng);
    auto old = static_cast<unsigned char>(t[at]);
    auto delta = std::uniform_int_distribution<int>(1, 255)(rng);
    t[at] = static_cast<char>((old + delta) & 0xff);
    VerifyReport r = Verify(t);
    EXPECT_FALSE(r.ok) << "byte " << at << " changed from " << int{old} << " to "
                       << int{static_cast<unsigned char>(t[at])};
  }
}

TEST_F(VerifyTest, ACutExportVerifiesOnlyWhenItEndsRightAfterACheckpoint) {
  // Every third byte, and every line end and the byte before it.
  std::vector<size_t> cuts;
  for (size_t cut = 0; cut < text_.size(); cut += 3) cuts.push_back(cut);
  for (size_t at = text_.find('\n'); at != std::string::npos; at = text_.find('\n', at + 1)) {
    cuts.push_back(at);
    cuts.push_back(at + 1);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  size_t good = 0;
  for (size_t cut : cuts) {
    std::string t = text_.substr(0, cut);
    VerifyReport r = Verify(t);
    bool after_checkpoint =
        !t.empty() && t.back() == '\n' && SplitLines(t).back().find("\"checkpoint\"") != std::string::npos;
    EXPECT_EQ(r.ok, after_checkpoint) << "cut at " << cut << ": " << r.Describe();
    good += r.ok ? 1 : 0;
  }
  EXPECT_EQ(good, 3u);  // right after each checkpoint's newline
}

TEST_F(VerifyTest, AnExportLargerThanTheReadBufferStreams) {
  store::Transaction tx(*db_);
  ASSERT_TRUE(tx.Begin().ok());
  for (int i = 13; i <= 6000; ++i) ASSERT_TRUE(log_->Append(testing::Event(i)).ok());
  ASSERT_TRUE(tx.Commit().ok());
  std::string text = ExportText();
  ASSERT_GT(text.size(), size_t{2} << 20);
  VerifyReport r = Verify(text);
  EXPECT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.entries, 6000);
  auto lines = SplitLines(text);
  size_t i = LineOf(lines, "entry", 4321);
  auto e = EntryLine::Parse(lines[i]);
  e.text[static_cast<size_t>(TextField::kSubject)] = "stu-x";
  lines[i] = e.Line();
  ExpectBad(Verify(JoinLines(lines)), VerifyProblem::kHashMismatch, 4321, i + 1);
}

}  // namespace
}  // namespace schakel::audit
