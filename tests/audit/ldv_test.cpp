// The Logboek Dataverwerkingen export (audit/ldv.h, docs/audit.md "Logboek
// Dataverwerkingen export"): the record's shape, ids derived from what is
// stored, pseudonymous subjects, the W3C traceparent parser.
#include "schakel/audit/ldv.h"

#include <sstream>

#include "audit_test_util.h"

namespace schakel::audit::testing {
namespace {

using nlohmann::json;

class LdvTest : public AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    MakeLog();
  }

  void Append(AuditEvent e) {
    clock_.Advance(std::chrono::seconds(1));
    auto seq = log_->Append(e);
    ASSERT_TRUE(seq.ok()) << seq.status().message();
  }

  std::vector<json> Ldv(const std::string& node_id = kNodeId) {
    std::istringstream in(ExportText());
    std::ostringstream out;
    crypto::SecureBuffer key = LdvSubjectKey(key_);
    Status st = ExportLdv(in, LdvOptions{node_id, key.span()}, out);
    EXPECT_TRUE(st.ok()) << st.message();
    last_text_ = out.str();
    std::vector<json> records;
    for (const std::string& line : SplitLines(out.str())) records.push_back(json::parse(line));
    return records;
  }

  static AuditEvent ShareEvent(const std::string& action, const std::string& outcome) {
    AuditEvent e = Event(1);
    e.action = action;
    e.subject = "stu-4711";
    e.object = "m-abc123";
    e.purpose = "doorverwijzing";
    e.outcome = outcome;
    e.recipient = "wijkteam-overvecht";
    return e;
  }

  std::string last_text_;
};

// A plain export holds checkpoints and partners' countersignatures beside
// the entries (docs/audit.md "Witnessing"): neither is a processing action.
TEST_F(LdvTest, CheckpointAndWitnessLinesAreNoRecords) {
  Append(ShareEvent("share.permitted", "permit"));
  std::string plain = ExportText();
  auto lines = SplitLines(plain);
  ASSERT_EQ(lines.size(), 2u);  // the entry and its checkpoint
  AppendWitnessLine(kNodeId, 1, "2026-11-23T10:00:01.000Z", Hash{}, "wijkteam-overvecht", crypto::Signature{}, &plain);
  std::istringstream in(plain);
  std::ostringstream out;
  crypto::SecureBuffer key = LdvSubjectKey(key_);
  Status st = ExportLdv(in, LdvOptions{kNodeId, key.span()}, out);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(SplitLines(out.str()).size(), 1u);
}

TEST_F(LdvTest, OneRecordPerEntryWithTheStandardsFields) {
  Append(ShareEvent("share.permitted", "permit"));
  Append(ShareEvent("share.delivered", "ok"));
  AuditEvent denied = Event(5);  // outcome deny
  Append(denied);
  std::vector<json> r = Ldv();
  ASSERT_EQ(r.size(), 3u);  // checkpoints are left out
  for (const json& rec : r) {
    EXPECT_EQ(rec["trace_id"].get<std::string>().size(), 32u);
    EXPECT_EQ(rec["operation_id"].get<std::string>().size(), 16u);
    EXPECT_EQ(rec["start_time"], rec["end_time"]);
    EXPECT_EQ(rec["resource"]["entity_id"], "urn:schakel:node:school-trajectum");
    EXPECT_EQ(rec["attributes"]["schakel.node_id"], kNodeId);
  }
  EXPECT_EQ(r[0]["name"], "share.permitted");
  EXPECT_EQ(r[0]["status_code"], "OK");
  EXPECT_EQ(r[0]["start_time"].get<std::string>().size(), 24u);
  EXPECT_EQ(r[0]["attributes"]["dpl.core.processing_activity_id"], "urn:schakel:purpose:doorverwijzing");
  EXPECT_EQ(r[0]["attributes"]["schakel.message_id"], "m-abc123");
  EXPECT_EQ(r[0]["attributes"]["schakel.seq"], 1);
  // The share's first entry is its root operation, known before it was
  // written (it travels in the trace context); later ones are its children.
  EXPECT_EQ(r[0]["trace_id"], ToHex(ShareTraceId(kNodeId, "m-abc123")));
  EXPECT_EQ(r[0]["operation_id"], ToHex(ShareOperationId(kNodeId, "m-abc123")));
  EXPECT_FALSE(r[0].contains("parent_operation_id"));
  EXPECT_EQ(r[1]["trace_id"], r[0]["trace_id"]);
  EXPECT_EQ(r[1]["parent_operation_id"], r[0]["operation_id"]);
  EXPECT_EQ(r[1]["operation_id"], r[1]["attributes"]["schakel.entry_hash"].get<std::string>().substr(0, 16));
  EXPECT_FALSE(r[1].contains("foreign_operation"));
  // Not about a share: a trace of its own, ERROR for a refusal.
  EXPECT_EQ(r[2]["status_code"], "ERROR");
  EXPECT_NE(r[2]["trace_id"], r[0]["trace_id"]);
  EXPECT_FALSE(r[2]["attributes"].contains("schakel.message_id"));
}

TEST_F(LdvTest, ReproducibleFromWhatIsStored) {
  Append(ShareEvent("share.permitted", "permit"));
  Append(Event(2));
  std::vector<json> first = Ldv();
  std::vector<json> second = Ldv();  // Export signs a checkpoint; the records stay the same
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], second[i]);
}

TEST_F(LdvTest, SubjectIsAPseudonymNeverTheStudentId) {
  Append(ShareEvent("share.permitted", "permit"));
  AuditEvent other = ShareEvent("case.read", "permit");
  other.object = "casus-1";
  Append(other);
  AuditEvent bsn = Event(3);
  bsn.subject = "123456782";  // a BSN-shaped reference
  Append(bsn);
  std::vector<json> r = Ldv();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(last_text_.find("stu-4711"), std::string::npos);
  EXPECT_EQ(last_text_.find("123456782"), std::string::npos);
  std::string p = r[0]["attributes"]["dpl.core.data_subject_id"];
  EXPECT_EQ(p.rfind("urn:schakel:pseudonym:", 0), 0u);
  EXPECT_EQ(p.size(), std::string("urn:schakel:pseudonym:").size() + 32);
  EXPECT_EQ(r[1]["attributes"]["dpl.core.data_subject_id"], p);  // one student, one pseudonym on this node
  EXPECT_NE(r[2]["attributes"]["dpl.core.data_subject_id"], p);
  // Another node's key gives another pseudonym.
  crypto::SigningKeyPair other_node = crypto::GenerateSigningKeyPair();
  crypto::SecureBuffer k1 = LdvSubjectKey(key_), k2 = LdvSubjectKey(other_node);
  EXPECT_NE(PseudonymOf("stu-4711", k1.span()), PseudonymOf("stu-4711", k2.span()));
  EXPECT_EQ(PseudonymOf("stu-4711", k1.span()), p);
}

TEST_F(LdvTest, InboxReceivedNamesTheSendersOperationAsForeign) {
  TraceContext sent = ShareTraceContext("wijkteam-overvecht", "m-777");
  AuditEvent rec = ShareEvent("inbox.received", "ok");
  rec.actor_user = rec.actor_org = "wijkteam-overvecht";
  rec.actor_role = "peer";
  rec.object = "m-777";
  rec.reason = std::string(kTraceReasonPrefix) + FormatTraceparent(sent);
  rec.source = "peer:wijkteam-overvecht";
  Append(rec);
  AuditEvent read = ShareEvent("inbox.read", "ok");
  read.object = "m-777";
  Append(read);
  // A partner one version behind sent no trace context.
  AuditEvent old = rec;
  old.object = "m-888";
  old.reason = "";
  Append(old);
  std::vector<json> r = Ldv();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["trace_id"], ToHex(sent.trace_id));
  EXPECT_EQ(r[0]["foreign_operation"]["trace_id"], ToHex(sent.trace_id));
  EXPECT_EQ(r[0]["foreign_operation"]["operation_id"], ToHex(sent.operation_id));
  EXPECT_EQ(r[0]["foreign_operation"]["entity_id"], "urn:schakel:node:wijkteam-overvecht");
  EXPECT_EQ(r[1]["trace_id"], r[0]["trace_id"]);
  EXPECT_EQ(r[1]["parent_operation_id"], r[0]["operation_id"]);
  EXPECT_FALSE(r[2].contains("foreign_operation"));
  // Still the same trace as the sender's records: derived from sender and message.
  EXPECT_EQ(r[2]["trace_id"], ToHex(ShareTraceId("wijkteam-overvecht", "m-888")));
}

TEST_F(LdvTest, RefusesAMalformedPlainExport) {
  std::istringstream in("{\"type\":\"entry\",\"seq\":1}\nnot json\n");
  std::ostringstream out;
  crypto::SecureBuffer key = LdvSubjectKey(key_);
  Status st = ExportLdv(in, LdvOptions{kNodeId, key.span()}, out);
  EXPECT_EQ(st.code(), Code::kInvalidInput);
  EXPECT_NE(st.message().find("line 1"), std::string::npos) << st.message();
}

TEST(TraceparentTest, RoundTripAndStrictForm) {
  TraceContext tc = ShareTraceContext("school-a", "m-1");
  std::string text = FormatTraceparent(tc);
  EXPECT_EQ(text.size(), kTraceparentBytes);
  auto back = ParseTraceparent(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->trace_id, tc.trace_id);
  EXPECT_EQ(back->operation_id, tc.operation_id);
  EXPECT_EQ(back->flags, 1);
  // The W3C example.
  auto w3c = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(w3c.ok());
  EXPECT_EQ(ToHex(w3c->operation_id), "00f067aa0ba902b7");
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
                          "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
                          "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"}) {
    EXPECT_EQ(ParseTraceparent(bad).status().code(), Code::kInvalidInput) << bad;
  }
  EXPECT_FALSE(TraceFromReason("missing_consent"));
  EXPECT_TRUE(TraceFromReason(std::string(kTraceReasonPrefix) + text));
}

TEST(LdvIdsTest, ProcessingActivityIdEscapesOddPurposes) {
  EXPECT_EQ(ProcessingActivityId("kernteamoverleg"), "urn:schakel:purpose:kernteamoverleg");
  EXPECT_EQ(ProcessingActivityId("a b/c"), "urn:schakel:purpose:a%20b%2Fc");
}

}  // namespace
}  // namespace schakel::audit::testing
