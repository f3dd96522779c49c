// The byte formats of docs/audit.md: the known-answer export written by the
// independent Python implementation (tests/audit/data/) must come out of
// the C++ AuditLog byte for byte and verify; when python3 with the
// `cryptography` package is installed, the Python verifier accepts a C++
// export and names the same first bad seq for a tampered one. Plus the
// properties of the encoding the page promises.
#include "schakel/audit/format.h"

#include <sodium.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "audit_test_util.h"

namespace schakel::audit {
namespace {

using schakel::testing::ReadAll;
using schakel::testing::TempDir;
using schakel::testing::WriteAll;

const std::string kDataDir = std::string(SCHAKEL_SOURCE_DIR) + "/tests/audit/data";

// The events of audit_export_v1_reference.py, in the same order.
std::vector<AuditEvent> KatEvents() {
  auto ev = [](std::string user, std::string role, std::string org, std::string action, std::string subject,
               std::string object, std::string purpose, std::string basis, std::string outcome, std::string reason,
               std::string source) {
    return AuditEvent{std::move(user),    std::move(role),   std::move(org),     std::move(action),
                      std::move(subject), std::move(object), std::move(purpose), std::move(basis),
                      std::move(outcome), std::move(reason), std::move(source)};
  };
  return {
      ev("u-1", "staff", "school-trajectum", "case.create", "stu-1", "casus-2026-0042", "", "", "ok", "", "api"),
      ev("u-1", "staff", "school-trajectum", "share.create", "stu-1", "msg-0001", "doorverwijzing", "consent", "permit",
         "", "api"),
      ev("u-2", "coordinator", "school-trajectum", "share.create", "stu-1", "msg-0002", "kernteamoverleg", "", "deny",
         "missing_consent_jongere,consent_expired", "api"),
      ev("system", "peer", "wijkteam-overvecht", "receipt.received", "stu-1", "msg-0001", "doorverwijzing", "consent",
         "ok", "", "peer:wijkteam-overvecht"),
      ev("u-3", "coordinator", "school-trajectum", "share.create", "stu-2", "msg-0003", "meldcode", "meldcode",
         "permit", "justification ref \"MC-7\" \\ zorg \xe2\x80\x94 \xc3\xa9\xc3\xa8 \xf0\x9f\x98\x80", "cli"),
      ev("u-9", "auditor", "school-trajectum", "audit.export", "", "", "", "", "ok", "", "api"),
      ev("anon", "link", "", "link.view", "stu-1", "link-5", "doorverwijzing", "consent", "deny", "bad_access_code",
         "link:192.0.2.7"),
  };
}

crypto::SigningKeyPair SeedKey() {
  uint8_t seed[32];
  for (int i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(i);
  uint8_t pk[32], sk[64];
  crypto_sign_seed_keypair(pk, sk, seed);
  auto key = crypto::SigningKeyPairFromSecret(std::span<const uint8_t>(sk, 64));
  sodium_memzero(sk, sizeof sk);
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

TEST(AuditFormat, KnownAnswerExportComesOutByteForByte) {
  TempDir tmp;
  auto db = store::Database::Open(tmp / "node.db", crypto::SecureBuffer::Random(32), store::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  crypto::SigningKeyPair key = SeedKey();
  EXPECT_EQ(ToHex(key.public_key), "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
  ManualClock clock(ParseInstant("2026-11-23T10:00:00.000Z").value());
  auto log = AuditLog::Create(**db, "school-trajectum", key, clock, {.checkpoint_every_entries = 3});
  ASSERT_TRUE(log.ok());
  for (const auto& e : KatEvents()) {
    clock.Advance(std::chrono::milliseconds(1500));
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  clock.Advance(std::chrono::milliseconds(250));
  ASSERT_TRUE((*log)->Close().ok());
  std::ostringstream out;
  ASSERT_TRUE((*log)->Export(out).ok());
  std::string kat = ReadAll(kDataDir + "/audit_export_v1.jsonl");
  ASSERT_FALSE(kat.empty());
  EXPECT_EQ(out.str(), kat);

  auto r = VerifyExport(kat, testing::MakeCard(key));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->Describe();
  EXPECT_EQ(r->Describe(), "verified 7 entries, 3 checkpoints, last seq 7");
  EXPECT_TRUE((*log)->VerifyStored().ok());
}

TEST(AuditFormat, TheReferenceVerifierAgrees) {
  if (std::system("python3 -c 'import cryptography' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 with the cryptography package is not installed";
  }
  TempDir tmp;
  auto db = store::Database::Open(tmp / "node.db", crypto::SecureBuffer::Random(32), store::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  crypto::SigningKeyPair key = crypto::GenerateSigningKeyPair();
  ManualClock clock(ParseInstant("2026-11-23T10:00:00Z").value());
  auto log = AuditLog::Create(**db, testing::kNodeId, key, clock, {.checkpoint_every_entries = 4});
  ASSERT_TRUE(log.ok());
  for (int i = 1; i <= 10; ++i) {
    clock.Advance(std::chrono::milliseconds(1234));
    AuditEvent e = testing::Event(i);
    if (i == 3) e.reason = "\"q\" \\ \xc3\xa9 \xf0\x9f\x98\x80";
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  std::ostringstream out;
  ASSERT_TRUE((*log)->Export(out).ok());
  WriteAll(tmp / "card.json", crypto::NodeCardToJson(testing::MakeCard(key)));
  WriteAll(tmp / "good.jsonl", out.str());
  auto lines = testing::SplitLines(out.str());
  auto e = testing::EntryLine::Parse(lines[testing::LineOf(lines, "entry", 6)]);
  e.text[static_cast<size_t>(TextField::kPurpose)] = "iets anders";
  lines[testing::LineOf(lines, "entry", 6)] = e.Line();
  WriteAll(tmp / "bad.jsonl", testing::JoinLines(lines));

  std::string script = kDataDir + "/audit_export_v1_reference.py";
  auto run = [&](const std::string& file) {
    std::string cmd =
        "python3 '" + script + "' check '" + file + "' '" + tmp / "card.json" + "' > '" + tmp / "out.txt" + "' 2>&1";
    int rc = std::system(cmd.c_str());
    return std::make_pair(WEXITSTATUS(rc), ReadAll(tmp / "out.txt"));
  };
  auto good = run(tmp / "good.jsonl");
  EXPECT_EQ(good.first, 0) << good.second;
  EXPECT_EQ(good.second, "verified 10 entries, 3 checkpoints, last seq 10\n");
  auto bad = run(tmp / "bad.jsonl");
  EXPECT_EQ(bad.first, 1) << bad.second;
  EXPECT_EQ(bad.second, "seq 6 (line 7): hash_mismatch\n");
  auto ours = VerifyExport(ReadAll(tmp / "bad.jsonl"), testing::MakeCard(key));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->bad_seq, 6);
  EXPECT_EQ(ours->bad_line, 7u);
}

TEST(AuditFormat, EveryFieldAndItsBoundaryIsHashed) {
  AuditEvent e = testing::Event(1);
  std::string ts = "2026-11-23T10:00:00.000Z";
  Hash prev{};
  Hash base = ComputeEntryHash(1, TextOf(e, ts), prev);
  // Moving a byte from one field to the next changes the hash (lengths are
  // encoded), as does each field, the seq and prev_hash.
  AuditEvent moved = e;
  moved.purpose = "kernteamoverle";
  moved.legal_basis = "g" + e.legal_basis;
  EXPECT_NE(ComputeEntryHash(1, TextOf(moved, ts), prev), base);
  EntryText text = TextOf(e, ts);
  for (size_t f = 0; f < kTextFieldCount; ++f) {
    EntryText changed = text;
    std::string other = std::string(text[f]) + "x";
    changed[f] = other;
    EXPECT_NE(ComputeEntryHash(1, changed, prev), base) << TextFieldName(static_cast<TextField>(f));
  }
  EXPECT_NE(ComputeEntryHash(2, text, prev), base);
  Hash prev2{};
  prev2[31] = 1;
  EXPECT_NE(ComputeEntryHash(1, text, prev2), base);
  // The definition, spelt out.
  std::string m("schakel/audit-entry/v1\0", 23);
  m += std::string("\0\0\0\0\0\0\0\1", 8);
  for (auto v : text) {
    m.push_back(static_cast<char>(v.size() >> 8));
    m.push_back(static_cast<char>(v.size() & 0xff));
    m += v;
  }
  m += std::string(32, '\0');
  EXPECT_EQ(base, crypto::Sha256({reinterpret_cast<const uint8_t*>(m.data()), m.size()}));
  // Large fields go through the hash writer's spill path the same way.
  EntryText big = text;
  std::string huge(5000, 'h');
  big[10] = huge;
  std::string m2("schakel/audit-entry/v1\0", 23);
  m2 += std::string("\0\0\0\0\0\0\0\1", 8);
  for (auto v : big) {
    m2.push_back(static_cast<char>(v.size() >> 8));
    m2.push_back(static_cast<char>(v.size() & 0xff));
    m2 += v;
  }
  m2 += std::string(32, '\0');
  EXPECT_EQ(ComputeEntryHash(1, big, prev), crypto::Sha256({reinterpret_cast<const uint8_t*>(m2.data()), m2.size()}));
}

TEST(AuditFormat, CheckpointMessageLayout) {
  Hash h{};
  h[0] = 0xab;
  std::string m = CheckpointMessage("node-a", 258, h, "2026-11-23T10:00:00.000Z");
  std::string want("schakel/audit-checkpoint/v1\0", 28);
  want += std::string("\0\6node-a", 8);
  want += std::string("\0\0\0\0\0\0\1\2", 8);
  want += std::string(reinterpret_cast<const char*>(h.data()), 32);
  want += std::string("\0\x18", 2) + "2026-11-23T10:00:00.000Z";
  EXPECT_EQ(m, want);
}

TEST(AuditFormat, CanonicalTimestamps) {
  EXPECT_TRUE(IsCanonicalTimestamp("2026-11-23T10:00:00.000Z"));
  EXPECT_TRUE(IsCanonicalTimestamp(FormatInstantMs(ParseInstant("2030-01-02T03:04:05.678Z").value())));
  EXPECT_FALSE(IsCanonicalTimestamp("2026-11-23T10:00:00Z"));
  EXPECT_FALSE(IsCanonicalTimestamp("2026-11-23T10:00:00.000+00:00"));
  EXPECT_FALSE(IsCanonicalTimestamp("2026-11-23t10:00:00.000Z"));
  EXPECT_FALSE(IsCanonicalTimestamp("2026-11-23T10:00:00.00xZ"));
  EXPECT_FALSE(IsCanonicalTimestamp(""));
}

TEST(AuditFormat, ExportLinesEscapeOnlyWhatJsonRequires) {
  AuditEvent e = testing::Event(1);
  e.reason = "a\"b\\c/\xc3\xa9";
  e.object = std::string("x\x01y", 3);  // never appended, but the writer stays valid JSON
  std::string ts = "2026-11-23T10:00:00.000Z";
  std::string line;
  Hash prev{}, hash{};
  AppendEntryLine(1, TextOf(e, ts), prev, hash, &line);
  EXPECT_NE(line.find(R"("reason":"a\"b\\c/é")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("object":"x\u0001y")"), std::string::npos) << line;
  EXPECT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["reason"], e.reason);
  EXPECT_EQ(j["object"], e.object);
}

}  // namespace
}  // namespace schakel::audit
