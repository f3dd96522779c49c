// The byte formats of docs/audit.md: the known-answer export written by the
// independent Python implementation (tests/interop/audit/) must come out of
// the C++ AuditLog byte for byte and verify (the Python reader's own checks
// run in tests/interop/audit). Plus the properties of the encoding the page
// promises.
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

const std::string kDataDir = std::string(SCHAKEL_SOURCE_DIR) + "/tests/interop/audit";

// The events of tests/interop/audit/audit_reader.py, in the same order: the fields of
// format 1, then recipient, categories and consents.
std::vector<AuditEvent> KatEvents() {
  auto ev = [](std::vector<std::string> f) {
    AuditEvent e;
    std::string* fields[] = {&e.actor_user, &e.actor_role, &e.actor_org,   &e.action,  &e.subject,
                             &e.object,     &e.purpose,    &e.legal_basis, &e.outcome, &e.reason,
                             &e.source,     &e.recipient,  &e.categories,  &e.consents};
    EXPECT_EQ(f.size(), std::size(fields));
    for (size_t i = 0; i < f.size() && i < std::size(fields); ++i) *fields[i] = std::move(f[i]);
    return e;
  };
  return {
      ev({"u-1", "staff", "school-trajectum", "case.create", "stu-1", "casus-2026-0042", "", "", "ok", "", "api", "",
          "", ""}),
      ev({"u-1", "staff", "school-trajectum", "share.create", "stu-1", "msg-0001", "doorverwijzing", "consent",
          "permit", "", "api", "wijkteam-overvecht", "school,gezin", "c-0001,c-0002"}),
      ev({"u-2", "coordinator", "school-trajectum", "share.create", "stu-1", "msg-0002", "kernteamoverleg", "", "deny",
          "missing_consent_jongere,consent_expired", "api", "wijkteam-overvecht", "school", ""}),
      ev({"system", "peer", "wijkteam-overvecht", "receipt.received", "stu-1", "msg-0001", "doorverwijzing", "consent",
          "ok", "", "peer:wijkteam-overvecht", "wijkteam-overvecht", "", ""}),
      ev({"u-3", "coordinator", "school-trajectum", "share.create", "stu-2", "msg-0003", "meldcode", "meldcode",
          "permit", "justification ref \"MC-7\" \\ zorg \xe2\x80\x94 \xc3\xa9\xc3\xa8 \xf0\x9f\x98\x80", "cli",
          "veilig-thuis", "school,gezondheid", ""}),
      ev({"u-9", "auditor", "school-trajectum", "audit.export", "", "", "", "", "ok", "", "api", "", "", ""}),
      ev({"anon", "link", "", "link.view", "stu-1", "link-5", "doorverwijzing", "consent", "deny", "bad_access_code",
          "link:192.0.2.7", "J. de Vries (huisarts) \xc3\xa9", "gezondheid", "c-0003"}),
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
  std::string kat = ReadAll(kDataDir + "/export_v2.jsonl");
  ASSERT_FALSE(kat.empty());
  EXPECT_EQ(out.str(), kat);

  auto r = VerifyExport(kat, testing::MakeCard(key));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->Describe();
  EXPECT_EQ(r->Describe(), "verified 7 entries, 3 checkpoints, last seq 7");
  EXPECT_EQ(r->entries_format1, 0);
  EXPECT_TRUE((*log)->VerifyStored().ok());
}

// Exports of releases before entry format 2 stay verifiable: the format-1
// known answer, rebuilt from the format functions byte for byte, verifies
// with today's verifier.
TEST(AuditFormat, FormatOneKnownAnswerIsStillWrittenAndVerified) {
  crypto::SigningKeyPair key = SeedKey();
  Instant t = ParseInstant("2026-11-23T10:00:00.000Z").value();
  std::string out;
  Hash prev{};
  int64_t seq = 0;
  std::string ts;
  for (AuditEvent e : KatEvents()) {
    e.recipient.clear();
    e.categories.clear();
    e.consents.clear();
    t += std::chrono::milliseconds(1500);
    ts = FormatInstantMs(t);
    ++seq;
    Hash h = ComputeEntryHash(kEntryFormat1, seq, TextOf(e, ts), prev);
    AppendEntryLine(kEntryFormat1, seq, TextOf(e, ts), prev, h, &out);
    if (seq % 3 == 0)
      AppendCheckpointLine("school-trajectum", seq, ts, h,
                           crypto::Sign(key, CheckpointMessage("school-trajectum", seq, h, ts)), &out);
    prev = h;
  }
  ts = FormatInstantMs(t + std::chrono::milliseconds(250));
  AppendCheckpointLine("school-trajectum", seq, ts, prev,
                       crypto::Sign(key, CheckpointMessage("school-trajectum", seq, prev, ts)), &out);
  std::string kat = ReadAll(kDataDir + "/export_v1.jsonl");
  ASSERT_FALSE(kat.empty());
  EXPECT_EQ(out, kat);
  auto r = VerifyExport(kat, testing::MakeCard(key));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->Describe();
  EXPECT_EQ(r->Describe(), "verified 7 entries, 3 checkpoints, last seq 7");
  EXPECT_EQ(r->entries_format1, 7);
}

// A format-1 line cannot pass as format 2 or the other way round: the label
// differs, so the hash does; an unknown format is named.
TEST(AuditFormat, EntryFormatsAreNotInterchangeable) {
  crypto::SigningKeyPair key = SeedKey();
  auto lines = testing::SplitLines(ReadAll(kDataDir + "/export_v2.jsonl"));
  auto verify = [&](const std::vector<std::string>& ls) {
    auto r = VerifyExport(testing::JoinLines(ls), testing::MakeCard(key));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : VerifyReport{};
  };
  size_t first = testing::LineOf(lines, "entry", 1);
  // Entry 1's format-2 fields are empty; written as format 1 it holds the
  // same text, but its hash is no longer the one given.
  auto e = testing::EntryLine::Parse(lines[first]);
  e.format = kEntryFormat1;
  auto changed = lines;
  changed[first] = e.Line();
  VerifyReport r = verify(changed);
  EXPECT_EQ(r.problem, VerifyProblem::kHashMismatch) << r.Describe();
  EXPECT_EQ(r.bad_seq, 1);
  // An unknown format.
  changed = lines;
  std::string& l = changed[first];
  l.replace(l.find("\"format\":2"), 10, "\"format\":3");
  r = verify(changed);
  EXPECT_EQ(r.problem, VerifyProblem::kMalformedLine);
  EXPECT_NE(r.detail.find("entry format 3 is not one this schakel reads"), std::string::npos) << r.detail;
  // "format":1 is never written: a format-1 entry has no format field.
  changed = testing::SplitLines(ReadAll(kDataDir + "/export_v1.jsonl"));
  changed[0].replace(0, 16, "{\"type\":\"entry\",\"format\":1,");
  r = verify(changed);
  EXPECT_EQ(r.problem, VerifyProblem::kMalformedLine) << r.Describe();
  // A format-2 entry without its recipient.
  changed = lines;
  std::string& m = changed[first];
  m.erase(m.find(",\"recipient\":\"\""), 15);
  r = verify(changed);
  EXPECT_EQ(r.problem, VerifyProblem::kMalformedLine);
  EXPECT_NE(r.detail.find("missing field recipient"), std::string::npos) << r.detail;
}

TEST(AuditFormat, EveryFieldAndItsBoundaryIsHashed) {
  AuditEvent e = testing::Event(1);
  e.recipient = "wijkteam-overvecht";
  e.categories = "school,gezin";
  e.consents = "c-1";
  std::string ts = "2026-11-23T10:00:00.000Z";
  Hash prev{};
  for (int format : {kEntryFormat1, kEntryFormat2}) {
    SCOPED_TRACE("format " + std::to_string(format));
    size_t count = TextFieldCount(format);
    Hash base = ComputeEntryHash(format, 1, TextOf(e, ts), prev);
    // Moving a byte from one field to the next changes the hash (lengths are
    // encoded), as does each field, the seq and prev_hash.
    AuditEvent moved = e;
    moved.purpose = "kernteamoverle";
    moved.legal_basis = "g" + e.legal_basis;
    EXPECT_NE(ComputeEntryHash(format, 1, TextOf(moved, ts), prev), base);
    EntryText text = TextOf(e, ts);
    for (size_t f = 0; f < kTextFieldCount; ++f) {
      EntryText changed = text;
      std::string other = std::string(text[f]) + "x";
      changed[f] = other;
      // Format 1 does not have the last three fields: they are not hashed.
      if (f < count) {
        EXPECT_NE(ComputeEntryHash(format, 1, changed, prev), base) << TextFieldName(static_cast<TextField>(f));
      } else {
        EXPECT_EQ(ComputeEntryHash(format, 1, changed, prev), base) << TextFieldName(static_cast<TextField>(f));
      }
    }
    EXPECT_NE(ComputeEntryHash(format, 2, text, prev), base);
    Hash prev2{};
    prev2[31] = 1;
    EXPECT_NE(ComputeEntryHash(format, 1, text, prev2), base);
    // The definition, spelt out.
    std::string label = format == kEntryFormat1 ? std::string("schakel/audit-entry/v1\0", 23)
                                                : std::string("schakel/audit-entry/v2\0", 23);
    std::string m = label + std::string("\0\0\0\0\0\0\0\1", 8);
    for (size_t f = 0; f < count; ++f) {
      m.push_back(static_cast<char>(text[f].size() >> 8));
      m.push_back(static_cast<char>(text[f].size() & 0xff));
      m += text[f];
    }
    m += std::string(32, '\0');
    EXPECT_EQ(base, crypto::Sha256({reinterpret_cast<const uint8_t*>(m.data()), m.size()}));
    // Large fields go through the hash writer's spill path the same way.
    EntryText big = text;
    std::string huge(5000, 'h');
    big[10] = huge;
    std::string m2 = label + std::string("\0\0\0\0\0\0\0\1", 8);
    for (size_t f = 0; f < count; ++f) {
      m2.push_back(static_cast<char>(big[f].size() >> 8));
      m2.push_back(static_cast<char>(big[f].size() & 0xff));
      m2 += big[f];
    }
    m2 += std::string(32, '\0');
    EXPECT_EQ(ComputeEntryHash(format, 1, big, prev),
              crypto::Sha256({reinterpret_cast<const uint8_t*>(m2.data()), m2.size()}));
  }
  // The two formats never share a hash, even with the last three fields empty.
  AuditEvent plain = testing::Event(1);
  EXPECT_NE(ComputeEntryHash(kEntryFormat1, 1, TextOf(plain, ts), prev),
            ComputeEntryHash(kEntryFormat2, 1, TextOf(plain, ts), prev));
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
  e.recipient = "J. \"de\" Vries";
  AppendEntryLine(kEntryFormat2, 1, TextOf(e, ts), prev, hash, &line);
  EXPECT_EQ(line.rfind(R"({"type":"entry","format":2,"seq":1,)", 0), 0u) << line;
  EXPECT_NE(line.find(R"("recipient":"J. \"de\" Vries","categories":"","consents":"")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("reason":"a\"b\\c/é")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("object":"x\u0001y")"), std::string::npos) << line;
  EXPECT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["reason"], e.reason);
  EXPECT_EQ(j["object"], e.object);
  EXPECT_EQ(j["recipient"], e.recipient);
  std::string v1;
  AppendEntryLine(kEntryFormat1, 1, TextOf(e, ts), prev, hash, &v1);
  EXPECT_EQ(v1.find("recipient"), std::string::npos) << v1;
  EXPECT_EQ(v1.find("format"), std::string::npos) << v1;
}

}  // namespace
}  // namespace schakel::audit
