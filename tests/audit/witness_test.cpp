// Witnessing (docs/audit.md "Witnessing"): a partner verifies a node's
// checkpoint, records it in its own log and countersigns it; the node keeps
// the countersignature and exports it; `audit verify --witnesses` then
// catches a rewrite of the log after witnessing, even one made with the
// node's own key. The exchange runs in-process here (no peer connection).
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_test_util.h"
#include "schakel/audit/witness.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"

namespace schakel::audit {
namespace {

using schakel::testing::RunSchakel;
using schakel::testing::WriteAll;
using testing::JoinLines;
using testing::SplitLines;

constexpr const char* kPartnerId = "wijkteam-overvecht";

class Witness : public testing::AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    MakeLog({.checkpoint_every_entries = 5});
    partner_db_ = OpenDb(tmp_ / "partner.db", store::OpenMode::kCreate);
    ASSERT_NE(partner_db_, nullptr);
    auto log = AuditLog::Create(*partner_db_, kPartnerId, partner_key_, clock_);
    ASSERT_TRUE(log.ok()) << log.status().message();
    partner_log_ = std::move(log).value();
    node_card_ = testing::MakeCard(key_);
    partner_card_ = testing::MakeCard(partner_key_, kPartnerId);
    cards_.emplace(kPartnerId, partner_card_);
  }

  // One round of the exchange: the node's latest checkpoint to the partner,
  // its countersignature back. Returns the seq witnessed.
  int64_t Exchange() {
    auto req = NextForWitness(*db_, testing::kNodeId, kPartnerId);
    EXPECT_TRUE(req.ok()) << req.status().message();
    if (!req.ok() || !*req) return 0;
    auto cs = WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, **req, clock_.Now());
    EXPECT_TRUE(cs.ok()) << cs.status().message();
    if (!cs.ok()) return 0;
    Status st = RecordCountersignature(*db_, partner_card_, testing::kNodeId, *cs, clock_.Now());
    EXPECT_TRUE(st.ok()) << st.message();
    return cs->seq;
  }

  VerifyReport Verify(const std::string& text, bool with_witnesses) {
    VerifyOptions options;
    if (with_witnesses) options.witnesses = &cards_;
    auto r = VerifyExport(text, node_card_, options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  // What root with the node key can do: drop the triggers, remove the
  // entries from `from` on with their checkpoints, and append other ones;
  // AuditLog rebuilds the chain and re-signs checkpoints with the node key.
  void RewriteFrom(int from, int last) {
    DropTriggers();
    ASSERT_TRUE(db_->Exec("DELETE FROM audit_log WHERE seq >= " + std::to_string(from) +
                          "; DELETE FROM audit_checkpoints WHERE seq >= " + std::to_string(from) + ";")
                    .ok());
    for (int i = from; i <= last; ++i) {
      AuditEvent e = testing::Event(i);
      e.object = "casus-innocent-" + std::to_string(i);
      auto seq = log_->Append(e);
      ASSERT_TRUE(seq.ok()) << seq.status().message();
      ASSERT_EQ(*seq, i);
    }
  }

  crypto::SigningKeyPair partner_key_ = crypto::GenerateSigningKeyPair();
  std::unique_ptr<store::Database> partner_db_;
  std::unique_ptr<AuditLog> partner_log_;
  crypto::NodeCard node_card_, partner_card_;
  WitnessCards cards_;
};

TEST(WitnessMessageTest, TheCountersignatureInputIsAsDocumented) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i);
  std::string ts = "2026-11-23T10:00:05.000Z";
  std::string expect("schakel/audit-witness/v1\0", 25);
  expect += std::string("\x00\x12", 2) + "wijkteam-overvecht";
  expect += std::string("\x00\x10", 2) + "school-trajectum";
  expect += std::string("\x00\x00\x00\x00\x00\x00\x01\x2c", 8);  // seq 300
  expect += std::string(reinterpret_cast<const char*>(h.data()), h.size());
  expect += std::string("\x00\x18", 2) + ts;
  EXPECT_EQ(WitnessMessage("wijkteam-overvecht", "school-trajectum", 300, h, ts), expect);
  // Domain-separated from the node's own checkpoint signature.
  EXPECT_NE(WitnessMessage("school-trajectum", "school-trajectum", 300, h, ts),
            CheckpointMessage("school-trajectum", 300, h, ts));
  // Each part counts: who witnessed, whose log.
  EXPECT_NE(WitnessMessage("wijkteam-overvecht", "school-trajectum", 300, h, ts),
            WitnessMessage("school-trajectum", "wijkteam-overvecht", 300, h, ts));
}

TEST(WitnessWireTest, RequestAndCountersignatureRoundTripAndRefuseTheRest) {
  WitnessRequest r;
  r.node_id = "school-trajectum";
  r.seq = 300;
  r.hash[0] = 7;
  r.ts = "2026-11-23T10:00:05.000Z";
  r.sig[63] = 9;
  std::string bytes = EncodeWitnessRequest(r);
  EXPECT_EQ(bytes.size(), 4u + 1 + 1 + 16 + 8 + 32 + 1 + 24 + 64);
  EXPECT_TRUE(IsWitnessRequest(bytes));
  auto back = ParseWitnessRequest(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->node_id, r.node_id);
  EXPECT_EQ(back->seq, 300);
  EXPECT_EQ(back->hash, r.hash);
  EXPECT_EQ(back->ts, r.ts);
  EXPECT_EQ(back->sig, r.sig);
  EXPECT_FALSE(ParseWitnessRequest(bytes + "x").ok());                        // trailing bytes
  EXPECT_FALSE(ParseWitnessRequest(bytes.substr(0, bytes.size() - 1)).ok());  // truncated
  std::string other_version = bytes;
  other_version[4] = 2;
  EXPECT_FALSE(ParseWitnessRequest(other_version).ok());
  r.seq = 0;
  EXPECT_FALSE(ParseWitnessRequest(EncodeWitnessRequest(r)).ok());
  r.seq = 1;
  r.node_id = "NOT-A-NODE";
  EXPECT_FALSE(ParseWitnessRequest(EncodeWitnessRequest(r)).ok());

  Countersignature cs;
  cs.witness_id = kPartnerId;
  cs.node_id = "school-trajectum";
  cs.seq = 12;
  cs.ts = "2026-11-23T10:00:05.000Z";
  cs.witnessed_at = "2026-11-23T10:00:06.000Z";
  cs.sig[1] = 3;
  std::string c = EncodeCountersignature(cs);
  auto cback = ParseCountersignature(c);
  ASSERT_TRUE(cback.ok()) << cback.status().message();
  EXPECT_EQ(EncodeCountersignature(*cback), c);
  EXPECT_FALSE(ParseCountersignature(c + "x").ok());
  EXPECT_FALSE(ParseCountersignature(bytes).ok());  // a request is not an answer
  EXPECT_FALSE(ParseCountersignature(std::string(600, 'S')).ok());
}

TEST_F(Witness, ThePartnerRecordsAndCountersignsAndTheExportCarriesIt) {
  AppendRange(1, 5);
  ASSERT_EQ(Exchange(), 5);
  // Nothing new to send until the next checkpoint.
  auto again = NextForWitness(*db_, testing::kNodeId, kPartnerId);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());

  // The partner's own log holds the audit.witnessed entry.
  AuditFilter f;
  f.action = "audit.witnessed";
  auto entries = partner_log_->Query(f);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].subject, testing::kNodeId);
  EXPECT_EQ((*entries)[0].object, "checkpoint:5");
  EXPECT_EQ((*entries)[0].source, std::string("peer:") + testing::kNodeId);
  EXPECT_EQ((*entries)[0].reason.rfind("hash=", 0), 0u);
  EXPECT_TRUE(partner_log_->VerifyStored().ok());

  // ... and answers which checkpoint it witnessed last.
  auto latest = LatestWitnessed(*partner_db_, kPartnerId, testing::kNodeId);
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->seq, 5);
  EXPECT_TRUE(crypto::Verify(partner_key_.public_key,
                             WitnessMessage(kPartnerId, testing::kNodeId, 5, (*latest)->hash, (*latest)->ts),
                             (*latest)->sig));

  AppendRange(6, 12);
  ASSERT_EQ(Exchange(), 10);
  std::string text = ExportText();
  auto lines = SplitLines(text);
  size_t cp5 = testing::LineOf(lines, "checkpoint", 5);
  auto w = nlohmann::json::parse(lines[cp5 + 1]);
  EXPECT_EQ(w["type"], "witness");
  EXPECT_EQ(w["witness"], kPartnerId);
  EXPECT_EQ(w["seq"], 5);

  VerifyReport plain = Verify(text, false);
  EXPECT_TRUE(plain.ok) << plain.Describe();
  EXPECT_EQ(plain.Describe(), "verified 12 entries, 3 checkpoints, last seq 12");
  EXPECT_EQ(plain.witness_lines, 2);
  VerifyReport witnessed = Verify(text, true);
  EXPECT_TRUE(witnessed.ok) << witnessed.Describe();
  EXPECT_EQ(witnessed.witnessed, 2);
  EXPECT_EQ(witnessed.last_witnessed_seq, 10);
}

TEST_F(Witness, ARewriteWithTheNodesOwnKeyIsCaughtAtTheFirstContradictedCheckpoint) {
  AppendRange(1, 5);
  ASSERT_EQ(Exchange(), 5);
  AppendRange(6, 10);
  ASSERT_EQ(Exchange(), 10);
  AppendRange(11, 12);
  ASSERT_NO_FATAL_FAILURE(RewriteFrom(7, 14));
  // The rewritten log is whole in itself: the node's key signed it all.
  EXPECT_TRUE(log_->VerifyStored().ok());
  std::string text = ExportText();

  VerifyReport plain = Verify(text, false);
  EXPECT_TRUE(plain.ok) << plain.Describe();
  VerifyReport r = Verify(text, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, VerifyProblem::kWitnessContradicted);
  EXPECT_EQ(r.bad_seq, 10);
  EXPECT_EQ(r.witnessed, 1);  // seq 5, before the rewrite, agrees
  EXPECT_NE(r.Describe().find("witness_contradicted: wijkteam-overvecht witnessed another hash for seq 10"),
            std::string::npos)
      << r.Describe();

  // The partner, offered the re-signed checkpoint at 10, refuses it.
  auto req = LatestCheckpoint(*db_, testing::kNodeId);
  ASSERT_TRUE(req.ok() && req->has_value());
  auto cp10 = db_->Prepare("SELECT hash, ts, sig FROM audit_checkpoints WHERE seq = 10;");
  ASSERT_TRUE(cp10.ok());
  ASSERT_TRUE(cp10->Step().value());
  WitnessRequest forged = **req;
  forged.seq = 10;
  auto hash = cp10->Blob(0);
  auto sig = cp10->Blob(2);
  std::copy(hash.begin(), hash.end(), forged.hash.begin());
  std::copy(sig.begin(), sig.end(), forged.sig.begin());
  forged.ts = cp10->Text(1);
  auto refused = WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, forged, clock_.Now());
  EXPECT_EQ(refused.status().code(), Code::kCorruption) << refused.status().message();
  AuditFilter f;
  f.action = "audit.witness_contradicted";
  EXPECT_EQ(partner_log_->Query(f)->size(), 1u);
}

TEST_F(Witness, ALogCutAfterWitnessingIsCaught) {
  AppendRange(1, 10);
  ASSERT_EQ(Exchange(), 10);
  DropTriggers();
  ASSERT_TRUE(db_->Exec("DELETE FROM audit_log WHERE seq >= 8; DELETE FROM audit_checkpoints WHERE seq >= 8;").ok());
  std::string text = ExportText();  // re-signs a checkpoint at 7
  EXPECT_TRUE(Verify(text, false).ok);
  VerifyReport r = Verify(text, true);
  EXPECT_EQ(r.problem, VerifyProblem::kWitnessContradicted);
  EXPECT_EQ(r.bad_seq, 10);
  EXPECT_NE(r.detail.find("the export has no entry 10"), std::string::npos) << r.detail;
}

TEST_F(Witness, ABadCountersignatureIsRefusedAndReported) {
  AppendRange(1, 5);
  auto req = NextForWitness(*db_, testing::kNodeId, kPartnerId);
  ASSERT_TRUE(req.ok() && req->has_value());
  auto cs = WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, **req, clock_.Now());
  ASSERT_TRUE(cs.ok());
  Countersignature bad = *cs;
  bad.sig[0] ^= 1;
  EXPECT_EQ(RecordCountersignature(*db_, partner_card_, testing::kNodeId, bad, clock_.Now()).code(),
            Code::kUnauthenticated);
  EXPECT_EQ(Count("audit_witnesses"), 0);
  // Countersigned by someone else's key under the partner's name.
  crypto::SigningKeyPair other = crypto::GenerateSigningKeyPair();
  bad = *cs;
  bad.sig = crypto::Sign(other, WitnessMessage(kPartnerId, testing::kNodeId, bad.seq, bad.hash, bad.ts));
  EXPECT_EQ(RecordCountersignature(*db_, partner_card_, testing::kNodeId, bad, clock_.Now()).code(),
            Code::kUnauthenticated);

  // In an export: bad_witness_signature.
  ASSERT_TRUE(RecordCountersignature(*db_, partner_card_, testing::kNodeId, *cs, clock_.Now()).ok());
  auto lines = SplitLines(ExportText());
  size_t wl = testing::LineOf(lines, "checkpoint", 5) + 1;
  auto w = nlohmann::json::parse(lines[wl]);
  ASSERT_EQ(w["type"], "witness");
  w["sig"] = crypto::Base64Encode(bad.sig);
  lines[wl] = w.dump();
  VerifyReport r = Verify(JoinLines(lines), true);
  EXPECT_EQ(r.problem, VerifyProblem::kBadWitnessSignature);
  EXPECT_EQ(r.bad_seq, 5);
  EXPECT_TRUE(Verify(JoinLines(lines), false).ok);
}

TEST_F(Witness, AnUnknownPartnerCardIsReported) {
  AppendRange(1, 5);
  ASSERT_EQ(Exchange(), 5);
  std::string text = ExportText();
  // No card for the partner that countersigned.
  WitnessCards none;
  none.emplace("rmc-utrecht", testing::MakeCard(crypto::GenerateSigningKeyPair(), "rmc-utrecht"));
  VerifyOptions options;
  options.witnesses = &none;
  auto r = VerifyExport(text, node_card_, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->problem, VerifyProblem::kUnknownWitness);
  EXPECT_EQ(r->bad_seq, 5);
  // A countersignature checked against the card of another node is refused.
  auto cs = LatestWitnessed(*partner_db_, kPartnerId, testing::kNodeId);
  ASSERT_TRUE(cs.ok() && cs->has_value());
  EXPECT_EQ(RecordCountersignature(*db_, none.begin()->second, testing::kNodeId, **cs, clock_.Now()).code(),
            Code::kInvalidInput);
}

TEST_F(Witness, ThePartnerRefusesACheckpointItsCardDoesNotSign) {
  AppendRange(1, 5);
  auto req = NextForWitness(*db_, testing::kNodeId, kPartnerId);
  ASSERT_TRUE(req.ok() && req->has_value());
  // The card of the same node id with another key: a forger's.
  crypto::NodeCard wrong = testing::MakeCard(crypto::GenerateSigningKeyPair());
  auto cs = WitnessCheckpoint(*partner_db_, *partner_log_, wrong, partner_key_, **req, clock_.Now());
  EXPECT_EQ(cs.status().code(), Code::kUnauthenticated);
  WitnessRequest bad_ts = **req;
  bad_ts.ts = "yesterday";
  EXPECT_EQ(
      WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, bad_ts, clock_.Now()).status().code(),
      Code::kInvalidInput);
  EXPECT_EQ(Count("audit_witnessed"), 0);  // the node's own db: none either
  auto count = partner_db_->Prepare("SELECT count(*) FROM audit_witnessed;");
  ASSERT_TRUE(count.ok() && count->Step().value());
  EXPECT_EQ(count->Int(0), 0);
  // The same checkpoint twice: one entry, the same countersignature.
  auto a = WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, **req, clock_.Now());
  auto b = WitnessCheckpoint(*partner_db_, *partner_log_, node_card_, partner_key_, **req, clock_.Now());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sig, b->sig);
  AuditFilter f;
  f.action = "audit.witnessed";
  EXPECT_EQ(partner_log_->Query(f)->size(), 1u);
}

TEST_F(Witness, TheCliNamesTheFirstContradictedCheckpoint) {
  AppendRange(1, 5);
  ASSERT_EQ(Exchange(), 5);
  AppendRange(6, 10);
  ASSERT_EQ(Exchange(), 10);
  ASSERT_NO_FATAL_FAILURE(RewriteFrom(3, 12));
  std::string export_file = tmp_ / "export.jsonl";
  std::string card_file = tmp_ / "node-card.json";
  std::string dir = tmp_ / "witnesses";
  WriteAll(export_file, ExportText());
  WriteAll(card_file, crypto::NodeCardToJson(node_card_));
  std::filesystem::create_directories(dir);
  WriteAll(dir + "/wijkteam-overvecht.json", crypto::NodeCardToJson(partner_card_));

  auto plain = RunSchakel({"audit", "verify", "--export", export_file, "--card", card_file});
  EXPECT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(plain.out.rfind("verified 12 entries, 3 checkpoints, last seq 12; last checkpoint signed ", 0), 0u)
      << plain.out;

  auto r = RunSchakel({"audit", "verify", "--export", export_file, "--card", card_file, "--witnesses", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("seq 5 (line "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("witness_contradicted: wijkteam-overvecht witnessed another hash for seq 5"), std::string::npos)
      << r.err;
  auto j = RunSchakel({"audit", "verify", "--json", "--export", export_file, "--card", card_file, "--witnesses", dir});
  EXPECT_EQ(j.code, 1);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["problem"], "witness_contradicted");
  EXPECT_EQ(doc["bad_seq"], 5);
  EXPECT_EQ(doc["witnessed"], 0);

  // A directory holding something that is not a card: exit 2.
  WriteAll(dir + "/junk.json", "{}");
  auto junk = RunSchakel({"audit", "verify", "--export", export_file, "--card", card_file, "--witnesses", dir});
  EXPECT_EQ(junk.code, 2) << junk.err;
  EXPECT_NE(junk.err.find("junk.json"), std::string::npos) << junk.err;
}

// `schakel audit witness --node ID` on a partner's node directory.
TEST_F(Witness, ThePartnerAnswersTheLatestCheckpointItWitnessed) {
  std::string dir = tmp_ / "team";
  ASSERT_NO_FATAL_FAILURE(schakel::testing::InitNode(dir, "wijkteam-b", "wijkteam", 7471));
  auto none = RunSchakel({"audit", "witness", "--dir", dir, "--node", testing::kNodeId});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("witnessed no checkpoint of school-trajectum"), std::string::npos) << none.err;

  AppendRange(1, 5);
  Countersignature cs;
  {
    store::NodePaths paths(dir);
    auto db = store::OpenNodeDatabase(paths, store::KeySource{paths.key_file, "", {}});
    ASSERT_TRUE(db.ok()) << db.status().message();
    auto identity = store::LoadIdentity(**db);
    ASSERT_TRUE(identity.ok()) << identity.status().message();
    auto log = AuditLog::Create(**db, "wijkteam-b", *identity, clock_);
    ASSERT_TRUE(log.ok());
    auto req = NextForWitness(*db_, testing::kNodeId, "wijkteam-b");
    ASSERT_TRUE(req.ok() && req->has_value());
    auto witnessed = WitnessCheckpoint(**db, **log, node_card_, *identity, **req, clock_.Now());
    ASSERT_TRUE(witnessed.ok()) << witnessed.status().message();
    cs = *witnessed;
    ASSERT_TRUE((*log)->Close().ok());
  }
  auto text = RunSchakel({"audit", "witness", "--dir", dir, "--node", testing::kNodeId});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("witnessed checkpoint of school-trajectum: seq 5, hash " + ToHex(cs.hash), 0), 0u)
      << text.out;
  EXPECT_NE(text.out.find("countersigned by wijkteam-b at "), std::string::npos) << text.out;
  auto json = RunSchakel({"audit", "witness", "--json", "--dir", dir, "--node", testing::kNodeId});
  ASSERT_EQ(json.code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["node_id"], testing::kNodeId);
  EXPECT_EQ(doc["witness"], "wijkteam-b");
  EXPECT_EQ(doc["seq"], 5);
  EXPECT_EQ(doc["hash"], ToHex(cs.hash));
  EXPECT_EQ(doc["ts"], cs.ts);
  EXPECT_EQ(doc["sig"], crypto::Base64Encode(cs.sig));
  EXPECT_EQ(doc["anchor"], "5:" + ToHex(cs.hash));
  auto bad = RunSchakel({"audit", "witness", "--dir", dir, "--node", "Not A Node"});
  EXPECT_EQ(bad.code, 2);
}

// A restore keeps the countersignatures that arrived after the backup:
// CarryTail copies them even when no entry was written after it, and the
// restored log's export then verifies with the witnesses.
TEST_F(Witness, ARestoreKeepsTheCountersignaturesThatCameAfterTheBackup) {
  AppendRange(1, 5);
  ASSERT_TRUE(log_->Checkpoint().ok());
  const std::string backup = tmp_ / "backup.db";
  ASSERT_TRUE(db_->BackupTo(backup, db_key_).ok());
  ASSERT_EQ(Exchange(), 5);  // countersigned after the backup
  auto restored = OpenDb(backup, store::OpenMode::kExisting);
  ASSERT_NE(restored, nullptr);
  auto carried = CarryTail(*db_, *restored);
  ASSERT_TRUE(carried.ok()) << carried.status().message();
  EXPECT_EQ(carried->carried, 0);
  EXPECT_EQ(carried->witness_rows, 1);
  EXPECT_FALSE(carried->diverged);
  auto log = AuditLog::Create(*restored, testing::kNodeId, key_, clock_);
  ASSERT_TRUE(log.ok());
  std::ostringstream out;
  ASSERT_TRUE((*log)->Export(out).ok());
  VerifyReport report = Verify(out.str(), /*with_witnesses=*/true);
  EXPECT_TRUE(report.ok) << report.Describe();
  EXPECT_EQ(report.witnessed, 1);
  // Carrying again adds nothing twice.
  auto again = CarryTail(*db_, *restored);
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto q = restored->Prepare("SELECT count(*) FROM audit_witnesses;");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->Step().value());
  EXPECT_EQ(q->Int(0), 1);
}

}  // namespace
}  // namespace schakel::audit
