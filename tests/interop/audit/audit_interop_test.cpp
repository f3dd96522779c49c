// The conformance kit of docs/audit.md: audit_reader.py, a reader written
// from the document alone (Python's hashlib and json, the `cryptography`
// package; no libsodium, no C++), must agree with the C++ verifier on the
// known-answer exports, on fresh exports of the C++ AuditLog, and on every
// case of a tampering corpus: the same verdict, and for a refusal the same
// problem, seq and line. The vectors it writes are the ones the document
// shows (tools/check_doc_vectors.py) and the ones the C++ code reproduces
// (tests/audit/format_test.cpp).
//
// Python with `cryptography` is a test dependency (./dev installs
// python3-cryptography): without it these tests fail, they do not skip.
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../audit/audit_test_util.h"
#include "../../crypto/seeded_key.h"

namespace schakel::audit {
namespace {

const std::string kDir = std::string(SCHAKEL_SOURCE_DIR) + "/tests/interop/audit";

std::string ReadFile(const std::string& path) { return schakel::testing::ReadAll(path); }
void WriteFile(const std::string& path, const std::string& text) { schakel::testing::WriteAll(path, text); }

Hash HashOf(const std::string& hex) {
  Hash h{};
  auto bytes = FromHex(hex);
  if (bytes && bytes->size() == h.size()) std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::string HexOf(std::string_view bytes) {
  return ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

struct ReaderRun {
  int code = -1;
  std::string out;
};

// Runs the reader with a bound on its time (timeout(1)); its first line of
// output is the verdict.
ReaderRun Reader(const std::string& args, const std::string& tmp) {
  std::string out = tmp + "/reader.out";
  std::string cmd = "timeout 60 " + Quote(SCHAKEL_PYTHON3) + " " + Quote(kDir + "/audit_reader.py") + " " + args +
                    " > " + Quote(out) + " 2>&1";
  int rc = std::system(cmd.c_str());
  ReaderRun r;
  r.code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = ReadFile(out);
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r;
}

// "seq X (line L): problem" of a refusal, or the report of a success up to
// what the reader prints ("verified N entries, ...").
std::string Verdict(const VerifyReport& r) {
  std::string d = r.Describe();
  if (r.ok) return d;
  size_t colon = d.find(": ");
  size_t second = d.find(": ", colon + 2);
  return d.substr(0, second);
}

class AuditInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = dir_.path();
    key_ = crypto::kat::SeededKey();
    card_ = testing::MakeCard(key_);
    WriteFile(tmp_ + "/card.json", crypto::NodeCardToJson(card_));
    v2_ = ReadFile(kDir + "/export_v2.jsonl");
    ASSERT_FALSE(v2_.empty());
  }

  // Both readers on one export; they must agree. Returns the verdict.
  std::string Both(const std::string& name, const std::string& text, const std::string& anchor = "") {
    std::string path = tmp_ + "/" + name + ".jsonl";
    WriteFile(path, text);
    VerifyOptions options;
    if (!anchor.empty()) {
      VerifyAnchor a;
      a.seq = std::stoll(anchor.substr(0, anchor.find(':')));
      a.hash = HashOf(anchor.substr(anchor.find(':') + 1));
      options.anchor = a;
    }
    auto ours = VerifyExport(text, card_, options);
    EXPECT_TRUE(ours.ok()) << name;
    if (!ours.ok()) return "";
    ReaderRun theirs = Reader(
        "check " + Quote(path) + " " + Quote(tmp_ + "/card.json") + (anchor.empty() ? "" : " --anchor " + anchor),
        tmp_);
    std::string want = Verdict(*ours);
    EXPECT_EQ(theirs.code, ours->ok ? 0 : 1) << name << ": " << theirs.out;
    // The reader prints the problem's detail in its own words after the
    // problem's name; the C++ success line may say more than the reader's.
    if (ours->ok) {
      // The reader's own success line, not an empty prefix of any text.
      EXPECT_EQ(theirs.out.rfind("verified ", 0), 0u) << name << ": " << theirs.out;
      EXPECT_EQ(want.rfind(theirs.out, 0), 0u) << name << "\n  C++:    " << want << "\n  Python: " << theirs.out;
    } else {
      EXPECT_EQ(theirs.out.rfind(want + ":", 0), 0u)
          << name << "\n  C++:    " << ours->Describe() << "\n  Python: " << theirs.out;
    }
    return want;
  }

  std::vector<std::string> Lines() const { return testing::SplitLines(v2_); }
  static std::string Join(const std::vector<std::string>& lines) { return testing::JoinLines(lines); }
  // Line `n` (1-based) of the export with `from` replaced by `to`.
  std::string With(size_t n, const std::string& from, const std::string& to) const {
    auto lines = Lines();
    std::string& l = lines.at(n - 1);
    size_t at = l.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) l.replace(at, from.size(), to);
    return Join(lines);
  }
  std::string Resigned(const std::string& line, const std::string& new_hash_hex) const {
    auto cp = nlohmann::json::parse(line);
    Hash h = HashOf(new_hash_hex);
    cp["hash"] = new_hash_hex;
    cp["sig"] = crypto::Base64Encode(crypto::Sign(
        key_,
        CheckpointMessage(cp["node_id"].get<std::string>(), cp["seq"].get<int64_t>(), h, cp["ts"].get<std::string>())));
    return cp.dump();
  }

  schakel::testing::TempDir dir_;
  std::string tmp_;
  crypto::SigningKeyPair key_;
  crypto::NodeCard card_;
  std::string v2_;
};

TEST_F(AuditInterop, TheReaderWritesTheKnownAnswersTheDocumentShows) {
  // generate and vectors reproduce the files byte for byte; the document's
  // copies are checked against these files by check_doc_vectors.py.
  for (const auto& [args, file] : std::vector<std::pair<std::string, std::string>>{
           {"generate 1", "export_v1.jsonl"}, {"generate 2", "export_v2.jsonl"}, {"vectors", "export_v2_head.kat"}}) {
    std::string out = tmp_ + "/gen.out";
    std::string cmd = "timeout 60 " + Quote(SCHAKEL_PYTHON3) + " " + Quote(kDir + "/audit_reader.py") + " " + args +
                      " > " + Quote(out) + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << args;
    EXPECT_EQ(ReadFile(out), ReadFile(kDir + "/" + file)) << args;
  }
  // The document's short export is the head of the known-answer export.
  std::string head = ReadFile(kDir + "/export_v2_head.jsonl");
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(v2_.rfind(head, 0), 0u);
}

TEST_F(AuditInterop, TheHexVectorsAreWhatTheCppCodeComputes) {
  // export_v2_head.kat: the entry hash inputs hash to the C++ entry hashes,
  // and the checkpoint message is CheckpointMessage's bytes, its signature
  // the C++ signature (Ed25519 is deterministic).
  std::map<std::string, std::string> kat;
  std::istringstream in(ReadFile(kDir + "/export_v2_head.kat"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t last = line.rfind(' ');
    kat[line.substr(0, last)] = line.substr(last + 1);
  }
  EXPECT_EQ(kat["sign_pk_base64"], crypto::Base64Encode(key_.public_key));
  auto lines = Lines();
  for (int seq = 1; seq <= 3; ++seq) {
    SCOPED_TRACE("entry " + std::to_string(seq));
    auto entry = testing::EntryLine::Parse(lines[testing::LineOf(lines, "entry", seq)]);
    auto input = FromHex(kat["entry " + std::to_string(seq) + " hash_input"]);
    ASSERT_TRUE(input.has_value());
    auto digest = crypto::Sha256(*input);
    EXPECT_TRUE(std::equal(digest.begin(), digest.end(), entry.hash.begin()));
    EXPECT_EQ(ToHex(entry.hash), kat["entry " + std::to_string(seq) + " hash"]);
    EntryText text{};
    for (size_t i = 0; i < kTextFieldCount; ++i) text[i] = entry.text[i];
    EXPECT_EQ(ComputeEntryHash(kEntryFormat2, seq, text, entry.prev), entry.hash);
  }
  auto cp = nlohmann::json::parse(lines[3]);
  Hash h = HashOf(cp["hash"].get<std::string>());
  std::string message = CheckpointMessage(testing::kNodeId, 3, h, cp["ts"].get<std::string>());
  EXPECT_EQ(HexOf(message), kat["checkpoint 3 message"]);
  auto sig = crypto::Sign(key_, message);
  EXPECT_EQ(ToHex(sig), kat["checkpoint 3 sig"]);
}

TEST_F(AuditInterop, BothAcceptTheKnownAnswerAndFreshExports) {
  EXPECT_EQ(Both("v1", ReadFile(kDir + "/export_v1.jsonl")), "verified 7 entries, 3 checkpoints, last seq 7");
  EXPECT_EQ(Both("v2", v2_), "verified 7 entries, 3 checkpoints, last seq 7");
  // Another JSON spelling of the same values, and CRLF line ends.
  std::string crlf;
  for (const auto& l : Lines()) crlf += nlohmann::json::parse(l).dump(-1, ' ', true) + "\r\n";
  EXPECT_EQ(Both("ascii-crlf", crlf), "verified 7 entries, 3 checkpoints, last seq 7");

  // A fresh export of the C++ AuditLog under a random key, both formats'
  // fields, escapes and non-ASCII text.
  auto db = store::Database::Open(tmp_ + "/node.db", crypto::SecureBuffer::Random(32), store::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  crypto::SigningKeyPair key = crypto::GenerateSigningKeyPair();
  ManualClock clock(ParseInstant("2026-11-23T10:00:00Z").value());
  auto log = AuditLog::Create(**db, testing::kNodeId, key, clock, {.checkpoint_every_entries = 4});
  ASSERT_TRUE(log.ok());
  for (int i = 1; i <= 10; ++i) {
    clock.Advance(std::chrono::milliseconds(1234));
    AuditEvent e = testing::Event(i);
    if (i == 3) e.reason = "\"q\" \\ \xc3\xa9 \xf0\x9f\x98\x80";
    if (i % 2 == 0) {
      e.recipient = "wijkteam-overvecht";
      e.categories = "school,gezin";
      e.consents = "c-" + std::to_string(i);
    }
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  std::ostringstream out;
  ASSERT_TRUE((*log)->Export(out).ok());
  card_ = testing::MakeCard(key);
  WriteFile(tmp_ + "/card.json", crypto::NodeCardToJson(card_));
  EXPECT_EQ(Both("fresh", out.str()), "verified 10 entries, 3 checkpoints, last seq 10");
}

TEST_F(AuditInterop, BothReadARetentionStartAndWitnessLines) {
  // Lines 4.. of the known answer: the checkpoint of seq 3 first, as after
  // a retention pass that deleted entries 1-3.
  auto lines = Lines();
  std::vector<std::string> tail(lines.begin() + 3, lines.end());
  EXPECT_EQ(Both("start", Join(tail)).rfind("verified 4 entries, 3 checkpoints, last seq 7", 0), 0u);
  // The same start with another signature: refused at its seq.
  auto forged = tail;
  forged[0] = Resigned(forged[0], std::string(64, 'a'));
  auto cp = nlohmann::json::parse(tail[0]);
  auto f = nlohmann::json::parse(forged[0]);
  f["hash"] = cp["hash"];
  forged[0] = f.dump();
  EXPECT_EQ(Both("forged-start", Join(forged)), "seq 3 (line 1): bad_checkpoint_signature");
  // A countersignature line after checkpoint 3: only its shape is read
  // without the partners' cards.
  auto w = nlohmann::json::parse(lines[3]);
  w["type"] = "witness";
  w["witness"] = "wijkteam-overvecht";
  auto with_witness = lines;
  with_witness.insert(with_witness.begin() + 4, w.dump());
  EXPECT_EQ(Both("witness", Join(with_witness)), "verified 7 entries, 3 checkpoints, last seq 7");
  w["witness"] = "Wijkteam";
  with_witness[4] = w.dump();
  EXPECT_EQ(Both("bad-witness", Join(with_witness)), "seq 3 (line 5): malformed_line");
}

TEST_F(AuditInterop, BothRefuseEveryCaseOfTheTamperingCorpus) {
  auto lines = Lines();
  // Line numbers of export_v2.jsonl: 1-3 entries 1-3, 4 checkpoint 3,
  // 5-7 entries 4-6, 8 checkpoint 6, 9 entry 7, 10 checkpoint 7.
  struct Case {
    std::string name;
    std::string text;
    std::string verdict;
    std::string anchor;
  };
  auto drop = [&](std::initializer_list<size_t> ns) {
    std::vector<std::string> l;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (std::find(ns.begin(), ns.end(), i + 1) == ns.end()) l.push_back(lines[i]);
    }
    return Join(l);
  };
  auto swap = [&](size_t a, size_t b) {
    auto l = lines;
    std::swap(l[a - 1], l[b - 1]);
    return Join(l);
  };
  auto replace_line = [&](size_t n, const std::string& text) {
    auto l = lines;
    l[n - 1] = text;
    return Join(l);
  };
  std::string e5 = nlohmann::json::parse(lines[5])["hash"];
  std::string sig3 = nlohmann::json::parse(lines[3])["sig"];
  std::string sig3_flipped = sig3;
  sig3_flipped[10] = sig3_flipped[10] == 'A' ? 'B' : 'A';
  // The last data character before "==" carries 4 bits of padding: a
  // non-zero value there is another spelling of (nearly) the same bytes.
  std::string sig3_padding = sig3;
  sig3_padding[85] = sig3_padding[85] == 'A' ? 'B' : static_cast<char>(sig3_padding[85] + 1);
  std::string h6 = nlohmann::json::parse(lines[7])["hash"];
  // A line of its shape names its own seq, even a wrong one.
  auto feb30 = lines;
  feb30[2] = nlohmann::json::parse(lines[2]).dump();
  for (auto [from, to] : {std::pair{R"("seq":3)", R"("seq":9)"}, std::pair{"2026-11-23T", "2026-02-30T"}}) {
    feb30[2].replace(feb30[2].find(from), std::string(from).size(), to);
  }
  std::string seq9_feb30 = Join(feb30);
  std::vector<Case> cases = {
      {"empty", "", "seq 0: empty_export", ""},
      {"no final newline", v2_.substr(0, v2_.size() - 1), "seq 7 (line 10): missing_final_newline", ""},
      {"changed purpose", With(2, "doorverwijzing", "kernteamoverleg"), "seq 2 (line 2): hash_mismatch", ""},
      {"control character", With(3, R"("reason":")", R"("reason":"\u0007)"), "seq 3 (line 3): malformed_line", ""},
      {"C1 control", With(3, R"("reason":")", R"("reason":"\u0085)"), "seq 3 (line 3): malformed_line", ""},
      {"30 February", With(2, "2026-11-23T", "2026-02-30T"), "seq 2 (line 2): malformed_line", ""},
      {"29 February 2026", With(2, "2026-11-23T", "2026-02-29T"), "seq 2 (line 2): malformed_line", ""},
      {"hour 24", With(2, "T10:00:03", "T24:00:03"), "seq 2 (line 2): malformed_line", ""},
      {"action upper case", With(2, "share.create", "Share.create"), "seq 2 (line 2): malformed_line", ""},
      {"outcome empty", With(2, R"("outcome":"permit")", R"("outcome":"")"), "seq 2 (line 2): malformed_line", ""},
      {"subject a name", With(2, R"("subject":"stu-1")", R"("subject":"Jan de Vries")"),
       "seq 2 (line 2): malformed_line", ""},
      {"source empty", With(2, R"("source":"api")", R"("source":"")"), "seq 2 (line 2): malformed_line", ""},
      {"reason too long", With(2, R"("reason":"")", R"("reason":")" + std::string(1025, 'x') + "\""),
       "seq 2 (line 2): malformed_line", ""},
      {"not UTF-8", With(2, "doorverwijzing", "doorverwijz\xc3ng"), "seq 2 (line 2): malformed_line", ""},
      {"raw DEL", With(2, "doorverwijzing", "doorverwijz\x7fng"), "seq 2 (line 2): malformed_line", ""},
      {"lone surrogate", With(2, "doorverwijzing", R"(doorverwijz\ud800ng)"), "seq 2 (line 2): malformed_line", ""},
      {"unknown field", With(2, R"("source":"api")", R"("source":"api","note":"x")"), "seq 2 (line 2): malformed_line",
       ""},
      {"repeated field", With(2, R"("source":"api")", R"("source":"api","source":"api")"),
       "seq 2 (line 2): malformed_line", ""},
      {"missing field", With(2, R"(,"source":"api")", ""), "seq 2 (line 2): malformed_line", ""},
      {"seq a string", With(2, R"("seq":2)", R"("seq":"2")"), "seq 2 (line 2): malformed_line", ""},
      {"seq zero", With(2, R"("seq":2)", R"("seq":0)"), "seq 2 (line 2): malformed_line", ""},
      {"seq a fraction", With(2, R"("seq":2)", R"("seq":2.0)"), "seq 2 (line 2): malformed_line", ""},
      {"format 3", With(2, R"("format":2)", R"("format":3)"), "seq 2 (line 2): malformed_line", ""},
      {"format 3 without seq", With(3, R"("format":2,"seq":3)", R"("format":3)"), "seq 3 (line 3): malformed_line", ""},
      {"seq 9 with a repeated field", With(3, R"("seq":3,)", R"("seq":9,"outcome":"X",)"),
       "seq 3 (line 3): malformed_line", ""},
      {"seq 9 on 30 February", seq9_feb30, "seq 9 (line 3): malformed_line", ""},
      {"upper-case hash", With(2, R"("hash":")", R"("hash":"A)"), "seq 2 (line 2): malformed_line", ""},
      {"not JSON", replace_line(2, "not json"), "seq 2 (line 2): malformed_line", ""},
      {"an array", replace_line(2, "[1,2]"), "seq 2 (line 2): malformed_line", ""},
      {"empty line", replace_line(2, ""), "seq 2 (line 2): malformed_line", ""},
      {"deleted entry", drop({2}), "seq 2 (line 2): seq_out_of_order", ""},
      {"reordered entries", swap(2, 3), "seq 2 (line 2): seq_out_of_order", ""},
      {"broken chain", With(2, R"("prev_hash":"5)", R"("prev_hash":"4)"), "seq 2 (line 2): broken_chain", ""},
      {"bad checkpoint signature", With(4, sig3, sig3_flipped), "seq 3 (line 4): bad_checkpoint_signature", ""},
      {"signature in another alphabet", With(4, sig3, "_" + sig3.substr(1)), "seq 3 (line 4): malformed_line", ""},
      {"signature with padding bits", With(4, sig3, sig3_padding), "seq 3 (line 4): malformed_line", ""},
      {"checkpoint of another node", With(4, R"("node_id":"school-trajectum")", R"("node_id":"school-elders")"),
       "seq 3 (line 4): checkpoint_wrong_node", ""},
      {"checkpoint 30 February", With(4, "2026-11-23T", "2026-02-30T"), "seq 3 (line 4): malformed_line", ""},
      {"moved checkpoint", swap(4, 5), "seq 3 (line 5): checkpoint_misplaced", ""},
      {"repeated checkpoint", replace_line(5, lines[3]), "seq 3 (line 5): checkpoint_misplaced", ""},
      {"re-signed other hash", replace_line(8, Resigned(lines[7], e5)), "seq 6 (line 8): checkpoint_hash_mismatch", ""},
      {"last checkpoint dropped", drop({10}), "seq 7: not_covered", ""},
      {"cut after checkpoint 6, anchor 7", drop({9, 10}), "seq 7: truncated_before_anchor",
       "7:" + std::string(nlohmann::json::parse(lines[9])["hash"])},
      {"anchor with another hash", v2_, "seq 6 (line 7): anchor_mismatch", "6:" + std::string(64, '0')},
      {"anchor kept", v2_, "verified 7 entries, 3 checkpoints, last seq 7", "6:" + h6},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Both(c.name, c.text, c.anchor), c.verdict);
  }
}

}  // namespace
}  // namespace schakel::audit
