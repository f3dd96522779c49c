// End-to-end: real schakeld processes on loopback, driven through the CLI.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/audit/verify.h"
#include "schakel/audit/witness.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/identity_store.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

using testing::kSanneJongere;
using testing::kSanneOuder;

std::set<std::string> Categories(const json& summary) {
  std::set<std::string> out;
  for (const auto& [k, v] : summary.items()) {
    if (k != "case_id" && k != "student_id" && k != "birth_date" && k != "created" && k != "updated") out.insert(k);
  }
  return out;
}

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("team", "wijkteam-b", "wijkteam");
    fed_.Pair("school", "team");
    fed_.AddUser("school", "mentor", "staff");
    fed_.AddUser("school", "other-mentor", "staff");
    fed_.AddUser("school", "zorgco", "coordinator");
    fed_.AddUser("school", "zorgco2", "coordinator");
    fed_.AddUser("school", "auditor", "auditor");
    fed_.AddUser("school", "admin", "admin");
    fed_.AddReader("team", "gezinswerker", "school");
    fed_.AddUser("team", "teamcoord", "coordinator");
  }

  std::string AddConsent(const std::string& json_text) { return fed_.AddConsent("school", "zorgco", json_text); }

  // How many countersignatures by `witness` the school keeps, once there is
  // one (at most 15 s); -1 when the database cannot be read.
  int64_t SchoolCountersignaturesBy(const std::string& witness) {
    int64_t kept = 0;
    for (int i = 0; i < 60 && kept == 0; ++i) {
      auto db = testing::OpenNodeDb(fed_["school"].dir);
      if (db == nullptr) return -1;
      auto q = db->Prepare("SELECT count(*) FROM audit_witnesses WHERE witness_id = ?;");
      if (!q.ok()) return -1;
      q->Bind(1, witness);
      auto row = q->Step();
      if (!row.ok() || !*row) return -1;
      kept = q->Int(0);
      if (kept == 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return kept;
  }

  std::string ShareSanne(std::vector<std::string> extra = {"--allow-partial"}) {
    std::vector<std::string> args = {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = fed_.As("school", "mentor", args);
    EXPECT_EQ(r.code, 0) << r.err;
    return testing::LastLine(r.out);
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(FederationTest, ShareIsRefusedUntilConsentedThenCarriesOnlyWhatWasConsented) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);

  auto refused = fed_.As("school", "mentor",
                         {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--json"});
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("missing_consent_ouder"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("missing_consent_jongere"), std::string::npos);
  auto decision = json::parse(refused.out)["decision"];
  EXPECT_EQ(decision["decision"], "deny");

  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  // Without --allow-partial a permit that withholds a requested category is refused.
  auto partial =
      fed_.As("school", "mentor", {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing"});
  EXPECT_EQ(partial.code, 3);
  EXPECT_NE(partial.err.find("--allow-partial"), std::string::npos);
  // A dry run asks the gate and queues nothing.
  auto dry = fed_.AsJson("school", "mentor",
                         {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing",
                          "--allow-partial", "--dry-run"});
  EXPECT_EQ(dry["decision"]["decision"], "permit");
  EXPECT_TRUE(fed_.AsJson("school", "mentor", {"shares"})["shares"].empty());

  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  auto received = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(Categories(received["summary"]),
            (std::set<std::string>{"afspraken", "gezinssituatie", "hulpvraag", "identificatie"}));
  EXPECT_EQ(received["summary"]["student_id"], "stu-1042");
  EXPECT_EQ(received["from"], "school-a");
  std::string text = received.dump();
  EXPECT_EQ(text.find("111222333"), std::string::npos);       // bsn not in the flow
  EXPECT_EQ(text.find("Slaapproblemen"), std::string::npos);  // gezondheid not consented
  EXPECT_EQ(text.find("+31 6 12345678"), std::string::npos);  // contact: Sanne did not consent

  // The recipient answers with a terugkoppeling through its own gate: it
  // needs its own consent record, so without one it is refused.
  auto back = fed_.As("team", "gezinswerker", {"case", "add", "--file", CaseFixture("sanne.json")});
  ASSERT_EQ(back.code, 0) << back.err;
  auto fb = fed_.As("team", "gezinswerker",
                    {"share", "casus-2026-0042", "--to", "school-a", "--purpose", "terugkoppeling", "--category",
                     "identificatie", "--category", "afspraken"});
  EXPECT_EQ(fb.code, 3);
  for (const char* role : {"ouder", "jongere"}) {
    std::string c =
        std::string(R"({"subject_id": "stu-1042", "grantor_role": ")") + role +
        R"(", "purposes": ["terugkoppeling"], "recipients": ["school"], "categories": ["identificatie", "afspraken"], "valid_from": "2026-01-01"})";
    ASSERT_EQ(fed_.As("team", "teamcoord", {"consent", "add", "--file", fed_.WriteFile("fb.json", c)}).code, 0);
  }
  auto fb2 = fed_.As("team", "gezinswerker",
                     {"share", "casus-2026-0042", "--to", "school-a", "--purpose", "terugkoppeling", "--category",
                      "identificatie", "--category", "afspraken"});
  ASSERT_EQ(fb2.code, 0) << fb2.err;
  std::string fb_msg = testing::LastLine(fb2.out);
  ASSERT_TRUE(fed_.WaitShareState("team", "gezinswerker", fb_msg, "delivered"));
  // At the school it waits in the coordinators' queue until one assigns it.
  EXPECT_EQ(fed_.As("school", "mentor", {"inbox", "show", fb_msg}).code, 3);
  ASSERT_EQ(fed_.As("school", "zorgco", {"inbox", "assign", fb_msg, "--user", "mentor"}).code, 0);
  auto at_school = fed_.AsJson("school", "mentor", {"inbox", "show", fb_msg});
  EXPECT_EQ(Categories(at_school["summary"]), (std::set<std::string>{"afspraken", "identificatie"}));
}

TEST_F(FederationTest, RolesAreEnforcedByTheDaemon) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  std::string consent_file = fed_.WriteFile("c.json", kSanneOuder);
  struct Refusal {
    const char* user;
    std::vector<std::string> args;
  };
  const std::vector<Refusal> refusals = {
      {"mentor", {"consent", "add", "--file", consent_file}},
      {"other-mentor", {"case", "show", "casus-2026-0042"}},
      {"other-mentor", {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing"}},
      {"auditor", {"case", "show", "casus-2026-0042"}},
      {"auditor", {"case", "list"}},
      {"auditor", {"inbox"}},
      {"admin", {"case", "show", "casus-2026-0042"}},
      {"admin", {"case", "list"}},
      {"admin", {"audit", "export"}},
      {"mentor", {"audit", "export"}},
      {"mentor", {"audit", "query", "--student", "stu-1042"}},
      {"zorgco", {"audit", "subject", "stu-1042"}},
      {"mentor", {"meldcode", "approve", "m-1"}},
  };
  for (const auto& r : refusals) {
    auto res = fed_.As("school", r.user, r.args);
    EXPECT_EQ(res.code, 3) << r.user << " " << r.args[0] << " " << r.args[1] << ": " << res.err;
  }
  // What each role may do.
  EXPECT_EQ(fed_.As("school", "zorgco", {"case", "show", "casus-2026-0042"}).code, 0);
  EXPECT_EQ(fed_.As("school", "mentor", {"case", "show", "casus-2026-0042"}).code, 0);
  EXPECT_EQ(fed_.As("school", "zorgco", {"consent", "add", "--file", consent_file}).code, 0);
  EXPECT_EQ(fed_.As("school", "auditor", {"audit", "query", "--student", "stu-1042"}).code, 0);
  EXPECT_EQ(fed_.As("school", "admin", {"status"}).code, 0);
  // An assigned colleague sees the case.
  EXPECT_EQ(fed_.As("school", "mentor", {"case", "assign", "casus-2026-0042", "--user", "other-mentor"}).code, 0);
  EXPECT_EQ(fed_.As("school", "other-mentor", {"case", "show", "casus-2026-0042"}).code, 0);
  // No or a wrong token: exit 3.
  auto no_token = testing::RunSchakel({"case", "list", "--dir", fed_["school"].dir});
  EXPECT_EQ(no_token.code, 3) << no_token.err;
  fed_["school"].tokens["forged"] = "skl_" + std::string(64, '0');
  EXPECT_EQ(fed_.As("school", "forged", {"case", "list"}).code, 3);
  // Reads of case content and refusals are in the audit log.
  auto log = fed_.AsJson("school", "auditor", {"audit", "query", "--student", "stu-1042"});
  std::set<std::string> seen;
  for (const auto& e : log["entries"])
    seen.insert(e["action"].get<std::string>() + "/" + e["outcome"].get<std::string>());
  EXPECT_TRUE(seen.count("case.read/ok"));
  EXPECT_TRUE(seen.count("case.read/deny"));
  EXPECT_TRUE(seen.count("case.create/ok"));
  EXPECT_TRUE(seen.count("consent.record/ok"));
}

TEST_F(FederationTest, BadInputIsExitTwoNamingTheField) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  struct Bad {
    const char* user;
    std::vector<std::string> args;
    const char* want;
  };
  std::string bad_bsn =
      fed_.WriteFile("bsn.json", R"({"student_id": "s1", "birth_date": "2010-01-01", "bsn": "123456789"})");
  std::string bad_json = fed_.WriteFile("bad.json", R"({"student_id": "s1", )");
  std::string bad_cat = fed_.WriteFile("cat.json", R"({"subject_id": "s1", "grantor_role": "ouder", "purposes": ["x"],
      "recipients": ["wijkteam"], "categories": ["schoenmaat"], "valid_from": "2026-01-01"})");
  std::string bad_role = fed_.WriteFile("role.json", R"({"subject_id": "s1", "grantor_role": "oom", "purposes": ["x"],
      "recipients": ["wijkteam"], "categories": ["identificatie"], "valid_from": "2026-01-01"})");
  const std::vector<Bad> cases = {
      {"mentor", {"case", "add", "--file", bad_bsn}, "bsn"},
      {"mentor", {"case", "add", "--file", bad_json}, "malformed JSON"},
      {"mentor", {"case", "add", "--file", "/nonexistent.json"}, "--file"},
      {"zorgco", {"consent", "add", "--file", bad_cat}, "categories[0]"},
      {"zorgco", {"consent", "add", "--file", bad_role}, "grantor_role"},
      {"mentor", {"share", "casus-2026-0042", "--to", "nobody-here", "--purpose", "doorverwijzing"}, "unknown partner"},
      {"mentor", {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "Door Verwijzing"}, "--purpose"},
      {"mentor",
       {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--category", "schoenmaat"},
       "--category"},
      {"mentor", {"share", "no-such-case", "--to", "wijkteam-b", "--purpose", "doorverwijzing"}, "no case"},
      {"zorgco", {"consent", "withdraw", "c-nope"}, "no consent"},
      {"zorgco", {"consent", "list", "--student", "bad id!"}, "student"},
  };
  for (const auto& b : cases) {
    auto r = fed_.As("school", b.user, b.args);
    EXPECT_EQ(r.code, 2) << b.args[0] << " " << b.args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(b.want), std::string::npos) << r.err;
  }
}

TEST_F(FederationTest, WithdrawalWhileQueuedCancelsAndNothingArrives) {
  fed_.StartNode("school");  // the wijkteam is offline
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  std::string jongere = AddConsent(kSanneJongere);
  std::string msg = ShareSanne();
  auto status = fed_.AsJson("school", "admin", {"status"});
  EXPECT_EQ(status["outbox_depth"], 1);
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", jongere});
  EXPECT_EQ(w["cancelled"], json::array({msg}));
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "cancelled"));
  EXPECT_EQ(fed_.AsJson("school", "admin", {"status"})["outbox_depth"], 0);
  fed_.StartNode("team");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(fed_.AsJson("team", "gezinswerker", {"inbox"})["inbox"].empty());
}

// The race the issue names: the recipient is frozen (SIGSTOP) while a share
// is on the wire to it; the consent is withdrawn; the recipient resumes and
// stores the share and answers with its receipt. The sender had already
// queued a revocation (the share was `sending`, not `queued`), keeps the
// late receipt as evidence and the revocation follows: the recipient's copy
// is purged and the sender's share ends `purged`.
TEST_F(FederationTest, WithdrawalWhileOnTheWireRevokesAndThePartnerPurges) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  std::string ouder = AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  const std::vector<std::string> before = fed_.DeliverTwoInTurn("school", "mentor", [this] { return ShareSanne(); });
  ASSERT_EQ(before.size(), 2u);

  fed_.SignalNode("team", SIGSTOP);
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "sending"));
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["cancelled"], json::array());
  EXPECT_EQ(w["revoked"], json::array({before[0], before[1], msg}));
  fed_.SignalNode("team", SIGCONT);

  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged", std::chrono::seconds(30)));
  for (const std::string& id : before) {
    ASSERT_TRUE(fed_.WaitShareState("school", "mentor", id, "purged", std::chrono::seconds(30)));
  }
  auto tomb = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(tomb["state"], "purged");
  EXPECT_TRUE(tomb["summary"].is_null());
  EXPECT_EQ(tomb["purge_reason"], "consent_withdrawn");
  // The sender's log says what happened, in order: sent, revoked, the late
  // receipt, the purge.
  auto entries = fed_.AsJson("school", "auditor", {"audit", "query", "--student", "stu-1042"});
  std::vector<std::string> about_msg;
  for (const auto& e : entries["entries"]) {
    if (e["object"] == msg) about_msg.push_back(e["action"].get<std::string>() + ":" + e["reason"].get<std::string>());
  }
  EXPECT_NE(std::find(about_msg.begin(), about_msg.end(), "share.revoked:consent_withdrawn"), about_msg.end());
  EXPECT_NE(std::find(about_msg.begin(), about_msg.end(), "share.purged:purge_confirmed_by_recipient"),
            about_msg.end());
}

// A share sent in error is recalled by the one who sent it (or a
// coordinator), with a reason code; the partner purges and confirms.
TEST_F(FederationTest, RecallOfADeliveredShareSentInError) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));

  // A reason is one of the codes, never free text.
  auto free_text = fed_.As("school", "mentor", {"recall", msg, "--reason", "oops, wrong pupil"});
  EXPECT_EQ(free_text.code, 2);
  EXPECT_NE(free_text.err.find("sent_in_error, consent_withdrawn"), std::string::npos) << free_text.err;
  EXPECT_NE(free_text.err.find("--reason"), std::string::npos) << free_text.err;
  // Another staff member cannot recall it, nor learn that it exists.
  auto other = fed_.As("school", "other-mentor", {"recall", msg, "--reason", "sent_in_error"});
  EXPECT_NE(other.code, 0);
  EXPECT_NE(other.err.find("no share"), std::string::npos) << other.err;

  auto r = fed_.AsJson("school", "mentor", {"recall", msg, "--reason", "sent_in_error"});
  EXPECT_EQ(r["state"], "revoked");
  EXPECT_EQ(r["reason"], "sent_in_error");
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged"));
  auto tomb = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(tomb["state"], "purged");
  EXPECT_TRUE(tomb["summary"].is_null());
  EXPECT_EQ(tomb["purge_reason"], "sent_in_error");
  // Once purged there is nothing left to recall.
  auto again = fed_.As("school", "zorgco", {"recall", msg, "--reason", "other"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("already purged"), std::string::npos) << again.err;
  auto entries = fed_.AsJson("school", "auditor", {"audit", "query", "--action", "share.recalled"});
  ASSERT_EQ(entries["entries"].size(), 1u);
  EXPECT_EQ(entries["entries"][0]["object"], msg);
  EXPECT_EQ(entries["entries"][0]["reason"], "sent_in_error");
}

// A recall before the share left cancels it: nothing reaches the partner.
TEST_F(FederationTest, RecallOfAQueuedShareCancelsIt) {
  fed_.StartNode("school");  // the wijkteam is offline
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::string msg = ShareSanne();
  auto r = fed_.AsJson("school", "zorgco", {"recall", msg, "--reason", "wrong_recipient"});
  EXPECT_EQ(r["state"], "cancelled");
  EXPECT_EQ(fed_.AsJson("school", "admin", {"status"})["outbox_depth"], 0);
  fed_.StartNode("team");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(fed_.AsJson("team", "gezinswerker", {"inbox"})["inbox"].empty());
}

TEST_F(FederationTest, WithdrawalAfterDeliveryPurgesTheRecipientsCopy) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  std::string ouder = AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  // The consent list shows which shares relied on it.
  auto consents = fed_.AsJson("school", "zorgco", {"consent", "list", "--student", "stu-1042"});
  bool relied = false;
  for (const auto& c : consents["consents"]) {
    for (const auto& s : c["shares"]) relied |= s["message_id"] == msg;
  }
  EXPECT_TRUE(relied);
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["revoked"], json::array({msg}));
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged"));
  auto tomb = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(tomb["state"], "purged");
  EXPECT_TRUE(tomb["summary"].is_null());
  EXPECT_EQ(tomb["purge_reason"], "consent_withdrawn");
  // Withdrawing twice is an error, not a second revocation.
  EXPECT_EQ(fed_.As("school", "zorgco", {"consent", "withdraw", ouder}).code, 2);
}

TEST_F(FederationTest, OfflineRecipientGetsEverythingWhenItReturns) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::vector<std::string> msgs;
  for (int i = 0; i < 5; ++i) msgs.push_back(ShareSanne());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // a few failed attempts
  auto shares = fed_.AsJson("school", "mentor", {"shares"});
  for (const auto& s : shares["shares"]) EXPECT_EQ(s["state"], "queued");
  // The sender restarts while the queue is full: the queue is durable.
  fed_.StopNode("school");
  fed_.StartNode("school");
  fed_.StartNode("team");
  for (const auto& m : msgs) EXPECT_TRUE(fed_.WaitShareState("school", "mentor", m, "delivered"));
  // The team's coordinator sees all it received (some may have arrived
  // before the harness's route, so not every one is the gezinswerker's).
  auto inbox = fed_.AsJson("team", "teamcoord", {"inbox"});
  EXPECT_EQ(inbox["inbox"].size(), msgs.size());
}

TEST_F(FederationTest, RecipientKilledMidStreamEndsWithEveryMessageExactlyOnce) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  std::vector<std::string> msgs;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 6; ++i) msgs.push_back(ShareSanne());
    std::this_thread::sleep_for(std::chrono::milliseconds(40 * (round + 1)));
    fed_.StopNode("team", /*kill=*/true);  // SIGKILL while deliveries are under way
    fed_.StartNode("team");
  }
  for (const auto& m : msgs) EXPECT_TRUE(fed_.WaitShareState("school", "mentor", m, "delivered"));
  auto inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});
  std::multiset<std::string> got;
  for (const auto& r : inbox["inbox"]) got.insert(r["message_id"].get<std::string>());
  EXPECT_EQ(got.size(), msgs.size());
  for (const auto& m : msgs) EXPECT_EQ(got.count(m), 1u) << m;
}

TEST_F(FederationTest, MeldcodeNeedsJustificationAndASecondCoordinator) {
  fed_.Add("vt", "veilig-thuis-u", "veilig_thuis");
  fed_.Pair("school", "vt");
  ASSERT_NO_FATAL_FAILURE(fed_.AddReader("vt", "vt-medewerker", "school"));
  fed_.StartNode("school");
  fed_.StartNode("vt");
  ASSERT_EQ(fed_.As("school", "zorgco", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  const std::vector<std::string> necessary = {"--category", "identificatie", "--reason", "identificatie=Wie het is.",
                                              "--category", "gezondheid",    "--reason", "gezondheid=Het letsel."};
  std::vector<std::string> ask = {"share", "casus-2026-0155", "--to", "veilig-thuis-u", "--purpose", "meldcode"};
  ask.insert(ask.end(), necessary.begin(), necessary.end());
  auto missing = fed_.As("school", "zorgco", ask);
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("override_missing"), std::string::npos) << missing.err;
  ask.insert(ask.end(), {"--justification", "Signalen van mishandeling; stap 5."});
  auto pending = fed_.AsJson("school", "zorgco", ask);
  EXPECT_EQ(pending["state"], "pending_approval");
  std::string msg = pending["message_id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(fed_.AsJson("vt", "vt-medewerker", {"inbox"})["inbox"].empty());
  auto self = fed_.As("school", "zorgco", {"meldcode", "approve", msg});
  EXPECT_EQ(self.code, 3) << self.err;
  ASSERT_EQ(fed_.As("school", "zorgco2", {"meldcode", "approve", msg}).code, 0);
  ASSERT_TRUE(fed_.WaitShareState("school", "zorgco", msg, "delivered"));
  auto got = fed_.AsJson("vt", "vt-medewerker", {"inbox", "show", msg});
  EXPECT_TRUE(Categories(got["summary"]).count("gezondheid"));
}

// One purpose grammar ([a-z0-9_-]{1,64}, IsValidPurpose in base/strings.h):
// a protocol purpose with a digit and a dash passes the gate, is sealed into
// the envelope's header and opened at the recipient.
TEST_F(FederationTest, PurposeWithDigitAndDashIsSealedAndDelivered) {
  // Both sides: the recipient's own gate needs the flow too.
  for (const char* node : {"school", "team"}) {
    std::string toml = testing::ReadAll(fed_[node].dir + "/schakel.toml");
    auto pos = toml.find("file = ''");
    ASSERT_NE(pos, std::string::npos) << toml;
    toml.replace(pos, 9, "file = 'protocol.toml'");
    testing::WriteAll(fed_[node].dir + "/schakel.toml", toml);
    testing::WriteAll(fed_[node].dir + "/protocol.toml", R"([[flow]]
purpose = "stap-2"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
legal_source = "Toestemming: AVG art. 6 lid 1 onder a"
categories = ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"]
)");
  }
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  for (const char* c : {kSanneOuder, kSanneJongere}) {
    std::string text = c;
    text.replace(text.find("doorverwijzing"), 14, "stap-2");
    AddConsent(text);
  }
  auto r = fed_.As("school", "mentor",
                   {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "stap-2", "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string msg = testing::LastLine(r.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  auto got = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(got["purpose"], "stap-2") << got.dump();
  EXPECT_TRUE(Categories(got["summary"]).count("hulpvraag")) << got.dump();
}

TEST_F(FederationTest, EveryActionLeavesItsAuditEntryAndTheMessageIdTracesBothLogs) {
  fed_.AddUser("team", "team-auditor", "auditor");
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "show", "casus-2026-0042"}).code, 0);
  ASSERT_EQ(
      fed_.As("school", "mentor", {"case", "update", "casus-2026-0042", "--file", CaseFixture("sanne.json")}).code, 0);
  EXPECT_EQ(
      fed_.As("school", "mentor", {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing"})
          .code,
      3);
  AddConsent(kSanneOuder);
  std::string jongere = AddConsent(kSanneJongere);
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  ASSERT_EQ(fed_.As("team", "gezinswerker", {"inbox", "show", msg}).code, 0);
  ASSERT_EQ(fed_.As("school", "zorgco", {"consent", "withdraw", jongere}).code, 0);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged"));

  auto school = fed_.AsJson("school", "auditor", {"audit", "query"});
  auto team = fed_.AsJson("team", "team-auditor", {"audit", "query"});
  std::set<std::string> school_actions, team_actions;
  for (const auto& e : school["entries"]) school_actions.insert(e["action"].get<std::string>());
  for (const auto& e : team["entries"]) team_actions.insert(e["action"].get<std::string>());
  for (const char* a :
       {"user.create", "partner.add", "node.start", "case.create", "case.read", "case.update", "share.denied",
        "consent.record", "share.permitted", "share.delivered", "consent.withdraw", "share.revoked", "share.purged"}) {
    EXPECT_TRUE(school_actions.count(a)) << "school log lacks " << a;
  }
  for (const char* a : {"inbox.received", "inbox.read", "inbox.purged"}) {
    EXPECT_TRUE(team_actions.count(a)) << "team log lacks " << a;
  }
  // The message id is the trace between the two logs.
  auto has = [&](const json& log, const std::string& action) {
    for (const auto& e : log["entries"]) {
      if (e["action"] == action && e["object"] == msg) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(school, "share.delivered"));
  EXPECT_TRUE(has(team, "inbox.received"));
  EXPECT_TRUE(has(team, "inbox.purged"));
  // Reading the log is itself logged; and the log never holds case content.
  auto again = fed_.AsJson("school", "auditor", {"audit", "query", "--action", "audit.query"});
  EXPECT_FALSE(again["entries"].empty());
  for (const auto* log : {&school, &team}) {
    std::string text = log->dump();
    for (const char* secret : {"Sanne", "de Vries", "111222333", "Slaapproblemen", "ploegendienst"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    }
  }
  // Both exports verify offline with the node's card.
  auto export_school = fed_.As("school", "auditor", {"audit", "export"});
  ASSERT_EQ(export_school.code, 0);
  std::string file = fed_.WriteFile("school-audit.jsonl", export_school.out);
  auto verify =
      testing::RunSchakel({"audit", "verify", "--export", file, "--card", fed_["school"].dir + "/node-card.json"});
  EXPECT_EQ(verify.code, 0) << verify.err;
}

// Witnessing over the wire (docs/audit.md "Witnessing"): once the school's
// queue to the team is drained, its latest audit checkpoint goes to the team
// on the same connection (protocol 5); the team records it in its own log and
// countersigns it; the school keeps the countersignature, and its export
// verifies with the team's card as witness.
TEST_F(FederationTest, ThePartnerWitnessesTheLatestCheckpointAfterADelivery) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  fed_.StopNode("school");  // signs a checkpoint on the way down
  fed_.StartNode("school");
  fed_.StartNode("team");
  std::string msg = ShareSanne();
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));
  EXPECT_EQ(SchoolCountersignaturesBy("wijkteam-b"), 1);
  fed_.StopNode("school");
  fed_.StopNode("team");

  auto team_db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(team_db, nullptr);
  auto witnessed = audit::LatestWitnessed(*team_db, "wijkteam-b", "school-a");
  ASSERT_TRUE(witnessed.ok() && witnessed->has_value());
  EXPECT_EQ(testing::CountEntries(*team_db, "audit.witnessed", "checkpoint:" + std::to_string((*witnessed)->seq)), 1);
  team_db.reset();
  auto answer = testing::RunSchakel({"audit", "witness", "--json", "--dir", fed_["team"].dir, "--node", "school-a"});
  ASSERT_EQ(answer.code, 0) << answer.err;
  EXPECT_EQ(json::parse(answer.out)["seq"], (*witnessed)->seq);

  auto school_db = testing::OpenNodeDb(fed_["school"].dir);
  ASSERT_NE(school_db, nullptr);
  auto identity = store::LoadIdentity(*school_db);
  ASSERT_TRUE(identity.ok());
  SystemClock clock;
  auto log = audit::AuditLog::Create(*school_db, "school-a", *identity, clock);
  ASSERT_TRUE(log.ok());
  std::ostringstream exported;
  ASSERT_TRUE((*log)->Export(exported).ok());
  auto school_card = crypto::ParseNodeCard(testing::ReadAll(fed_["school"].dir + "/node-card.json"));
  auto team_card = crypto::ParseNodeCard(testing::ReadAll(fed_["team"].dir + "/node-card.json"));
  ASSERT_TRUE(school_card.ok() && team_card.ok());
  audit::WitnessCards cards{{"wijkteam-b", *team_card}};
  audit::VerifyOptions options;
  options.witnesses = &cards;
  auto report = audit::VerifyExport(exported.str(), *school_card, options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->ok) << report->Describe();
  EXPECT_EQ(report->witnessed, 1);
  EXPECT_EQ(report->last_witnessed_seq, (*witnessed)->seq);
}

// A partner nothing is sent to is asked too: the delivery worker's witness
// pass (DeliveryOptions::witness_interval; the first right after start)
// connects to it only to have the latest checkpoint countersigned.
TEST_F(FederationTest, APartnerThatIsSentNothingStillWitnesses) {
  fed_.StartNode("school");
  fed_.StopNode("school");  // signs a checkpoint on the way down
  fed_.StartNode("team");
  fed_.StartNode("school");
  EXPECT_EQ(SchoolCountersignaturesBy("wijkteam-b"), 1);
  fed_.StopNode("school");
  fed_.StopNode("team");
  auto team_db = testing::OpenNodeDb(fed_["team"].dir);
  ASSERT_NE(team_db, nullptr);
  auto witnessed = audit::LatestWitnessed(*team_db, "wijkteam-b", "school-a");
  ASSERT_TRUE(witnessed.ok() && witnessed->has_value());
}

// The share fault points are about shares: a witness request on the same
// connection passes them by (docs/fault-tests.md). Armed on both sides, the
// witnessing goes through and both nodes live; the share then trips them.
// (A CI run once saw the sender die on the witness request, before the
// share existed.)
TEST_F(FederationTest, AWitnessRequestDoesNotTripTheShareFaultPoints) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  AddConsent(kSanneOuder);
  AddConsent(kSanneJongere);
  fed_.StopNode("school");  // signs a checkpoint on the way down
  fed_.StartNode("team", {"SCHAKEL_FAULT_POINT=peer_server.after_read"});
  fed_.StartNode("school", {"SCHAKEL_FAULT_POINT=peer_client.mid_frame"});
  EXPECT_EQ(SchoolCountersignaturesBy("wijkteam-b"), 1);
  EXPECT_EQ(fed_["school"].daemon->Wait(std::chrono::milliseconds(0)), -1) << "the school died on a witness request";
  EXPECT_EQ(fed_["team"].daemon->Wait(std::chrono::milliseconds(0)), -1) << "the team died on a witness request";
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  EXPECT_TRUE(shared.code == 0 || shared.code == 1) << shared.out << shared.err;
  EXPECT_EQ(fed_["school"].daemon->Wait(std::chrono::seconds(20)), 128 + SIGKILL) << "the share did not trip the point";
  fed_["school"].daemon.reset();
  EXPECT_NE(testing::ReadAll(fed_["school"].dir + "/daemon.log").find("fault point peer_client.mid_frame"),
            std::string::npos);
}

}  // namespace
}  // namespace schakel
