// Need to know inside an organisation (docs/students.md): the student
// register decides which cases can exist and whose birth date counts; staff
// see the received shares assigned to them; coordinators assign and route.
// Real schakeld processes on loopback, driven through the CLI.
#include <gtest/gtest.h>

#include "federation_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

class NeedToKnowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam());
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "auditor", "auditor"));
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamco", "coordinator"));
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "collega", "staff"));
  }

  // Sanne's case, her consents and a share to the team; returns the message id
  // once delivered.
  std::string ShareSanne() {
    EXPECT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
    fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere});
    auto r =
        fed_.As("school", "mentor",
                {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string id = testing::LastLine(r.out);
    EXPECT_TRUE(fed_.WaitShareState("school", "mentor", id, "delivered"));
    return id;
  }

  json AuditEntries(const std::string& student, const std::string& action) {
    return fed_.AsJson("school", "auditor", {"audit", "query", "--student", student, "--action", action});
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(NeedToKnowTest, StaffCannotMakeACaseForAStudentOutsideTheRegister) {
  fed_.StartNode("school");
  json c = json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  c["case_id"] = "casus-self-granted";
  c["student_id"] = "stu-9999";
  auto r = fed_.As("school", "mentor", {"case", "add", "--file", fed_.WriteFile("c.json", c.dump())});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("not in the student register"), std::string::npos) << r.err;
  // Nor with a birth date of their own choosing for a registered student.
  c["student_id"] = "stu-1042";
  c["birth_date"] = "2006-05-01";
  r = fed_.As("school", "mentor", {"case", "add", "--file", fed_.WriteFile("c.json", c.dump())});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("birth_date: the register has 2012-05-01"), std::string::npos) << r.err;
  // Staff do not read or fill the register.
  EXPECT_EQ(fed_.As("school", "mentor", {"student", "list"}).code, 3);
  std::string roster = fed_.WriteFile("r.csv", "student_id,name,birth_date\nstu-9999,Iemand,2010-01-01\n");
  EXPECT_EQ(fed_.As("school", "mentor", {"student", "import", "--file", roster}).code, 3);
  EXPECT_EQ(fed_.As("school", "mentor", {"case", "list", "--json"}).out.find("stu-9999"), std::string::npos);
}

TEST_F(NeedToKnowTest, StaffCannotChangeACasesStudentOrBirthDate) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  json c = json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  c["birth_date"] = "2006-05-01";  // would make Sanne 20: her parents' consent no longer needed
  auto r =
      fed_.As("school", "mentor", {"case", "update", "casus-2026-0042", "--file", fed_.WriteFile("c.json", c.dump())});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only a coordinator changes it"), std::string::npos) << r.err;
  c["birth_date"] = "2012-05-01";
  c["student_id"] = "stu-3155";
  r = fed_.As("school", "mentor", {"case", "update", "casus-2026-0042", "--file", fed_.WriteFile("c.json", c.dump())});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("a case's student does not change"), std::string::npos) << r.err;
}

TEST_F(NeedToKnowTest, ACoordinatorsImportIsWholeOrNothingAndChangesAreAuditedWithOldAndNew) {
  fed_.StartNode("school");
  std::string bad = fed_.WriteFile("bad.csv",
                                   "student_id,name,birth_date,guardian1_name,guardian1_authority\n"
                                   "stu-5001,Eerste Leerling,2011-01-01,,\n"
                                   "stu-1042,Sanne de Vries,2012-06-01,M. de Vries,ja\n"
                                   "stu-5002,Derde Leerling,2011-02-30,,\n");
  auto r = fed_.As("school", "zorgco", {"student", "import", "--file", bad});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("line 4: birth_date"), std::string::npos) << r.err;
  auto list = fed_.AsJson("school", "zorgco", {"student", "list"});
  for (const auto& s : list["students"]) {
    EXPECT_NE(s["student_id"], "stu-5001");
    if (s["student_id"] == "stu-1042") {
      EXPECT_EQ(s["birth_date"], "2012-05-01");
    }
  }
  std::string good = fed_.WriteFile("good.csv",
                                    "student_id,name,birth_date,guardian1_name,guardian1_authority\n"
                                    "stu-5001,Eerste Leerling,2011-01-01,,\n"
                                    "stu-1042,Sanne de Vries,2012-06-01,M. de Vries,ja\n");
  auto imported = fed_.AsJson("school", "zorgco", {"student", "import", "--file", good});
  EXPECT_EQ(imported["added"], 1);
  EXPECT_EQ(imported["updated"], 1);
  auto set = fed_.As("school", "zorgco", {"student", "set", "stu-5001", "--birth-date", "2011-01-02"});
  EXPECT_EQ(set.code, 0) << set.err;
  auto entries = AuditEntries("stu-1042", "student.update");
  ASSERT_EQ(entries["entries"].size(), 1u) << entries.dump();
  std::string reason = entries["entries"][0]["reason"];
  EXPECT_NE(reason.find("birth_date 2012-05-01 -> 2012-06-01"), std::string::npos) << reason;
  EXPECT_NE(reason.find("guardians 2 (2 with gezag) -> 1 (1 with gezag)"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("de Vries"), std::string::npos) << reason;  // no parent's name in the log
  EXPECT_EQ(AuditEntries("stu-5001", "student.update")["entries"].size(), 1u);
  EXPECT_EQ(AuditEntries("stu-5001", "student.add")["entries"].size(), 1u);
}

TEST_F(NeedToKnowTest, AReceivedShareWaitsForACoordinatorWhoAssignsIt) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  std::string id = ShareSanne();
  // Routed on arrival to the gezinswerker (AddSchoolAndTeam's route).
  auto mine = fed_.AsJson("team", "gezinswerker", {"inbox"});
  ASSERT_EQ(mine["inbox"].size(), 1u);
  EXPECT_EQ(mine["inbox"][0]["assigned_by"], "route");
  // A colleague sees nothing and cannot open it, and the attempt is logged.
  EXPECT_TRUE(fed_.AsJson("team", "collega", {"inbox"})["inbox"].empty());
  auto denied = fed_.As("team", "collega", {"inbox", "show", id});
  EXPECT_EQ(denied.code, 3);
  EXPECT_NE(denied.err.find("not assigned to you"), std::string::npos) << denied.err;
  // The coordinator sees it and gives it to the colleague; then the colleague reads it.
  EXPECT_EQ(fed_.AsJson("team", "teamco", {"inbox"})["inbox"].size(), 1u);
  EXPECT_EQ(fed_.As("team", "collega", {"inbox", "assign", id, "--user", "collega"}).code, 3);
  auto assigned = fed_.As("team", "teamco", {"inbox", "assign", id, "--user", "collega"});
  EXPECT_EQ(assigned.code, 0) << assigned.err;
  EXPECT_EQ(fed_.As("team", "collega", {"inbox", "show", id}).code, 0);
  EXPECT_EQ(fed_.As("team", "gezinswerker", {"inbox", "show", id}).code, 3);
  // Nobody can be given what their role may not read.
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "admin", "admin"));
  auto to_admin = fed_.As("team", "teamco", {"inbox", "assign", id, "--user", "admin"});
  EXPECT_EQ(to_admin.code, 2);
  EXPECT_NE(to_admin.err.find("may not read received shares"), std::string::npos) << to_admin.err;
}

TEST_F(NeedToKnowTest, ACoordinatorsRouteAssignsOnArrival) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  // The coordinator routes Sanne to the colleague instead (replacing the
  // harness's route); staff cannot route.
  auto routed = fed_.As("team", "teamco",
                        {"inbox", "route", "--sender", "school-a", "--student", "stu-1042", "--user", "collega"});
  ASSERT_EQ(routed.code, 0) << routed.err;
  EXPECT_EQ(fed_.As("team", "gezinswerker",
                    {"inbox", "route", "--sender", "school-a", "--student", "stu-1042", "--user", "gezinswerker"})
                .code,
            3);
  std::string id = ShareSanne();
  EXPECT_EQ(fed_.AsJson("team", "collega", {"inbox"})["inbox"].size(), 1u);
  EXPECT_TRUE(fed_.AsJson("team", "gezinswerker", {"inbox"})["inbox"].empty());
  auto routes = fed_.AsJson("team", "teamco", {"inbox", "routes"});
  bool found = false;
  for (const auto& r : routes["routes"]) found |= r["student"] == "stu-1042" && r["sender"] == "school-a";
  EXPECT_TRUE(found) << routes.dump();
  // Unknown partners and users are refused with what to fix.
  auto bad =
      fed_.As("team", "teamco", {"inbox", "route", "--sender", "nobody-x", "--student", "s", "--user", "collega"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown partner"), std::string::npos) << bad.err;
  auto show = fed_.AsJson("team", "collega", {"inbox", "show", id});
  EXPECT_FALSE(show["summary"].is_null());
}

TEST(NeedToKnow, WithoutARouteAReceivedShareIsSeenByCoordinatorsOnly) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.Add("team", "wijkteam-b", "wijkteam");
  ASSERT_NO_FATAL_FAILURE(fed.Pair("school", "team"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("team", "gezinswerker", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("team", "teamco", "coordinator"));
  fed.StartNode("school");
  fed.StartNode("team");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
  auto r = fed.As("school", "mentor",
                  {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = testing::LastLine(r.out);
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", id, "delivered"));
  EXPECT_TRUE(fed.AsJson("team", "gezinswerker", {"inbox"})["inbox"].empty());
  EXPECT_EQ(fed.As("team", "gezinswerker", {"inbox", "show", id}).code, 3);
  auto queue = fed.AsJson("team", "teamco", {"inbox"});
  ASSERT_EQ(queue["inbox"].size(), 1u);
  EXPECT_TRUE(queue["inbox"][0]["assigned_to"].is_null());
}

TEST_F(NeedToKnowTest, ListsAreAudited) {
  fed_.StartNode("school");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "list"}).code, 0);
  ASSERT_EQ(fed_.As("school", "mentor", {"shares"}).code, 0);
  ASSERT_EQ(fed_.As("school", "mentor", {"inbox"}).code, 0);
  for (const char* action : {"case.list", "share.list", "inbox.list"}) {
    auto log = fed_.AsJson("school", "auditor", {"audit", "query", "--action", action});
    ASSERT_EQ(log["entries"].size(), 1u) << action;
    EXPECT_EQ(log["entries"][0]["actor"]["name"], "mentor") << action;
    EXPECT_EQ(log["entries"][0]["actor"]["org_name"], "Org school") << action;
  }
  // The auditor reads names, not only ids.
  auto text = fed_.As("school", "auditor", {"audit", "query", "--action", "case.list"});
  EXPECT_NE(text.out.find("\tmentor (u-"), std::string::npos) << text.out;
}

// "What went to whom": a share's entries name the partner, the categories
// and the consents it rested on, on both sides; `schakel audit query` prints
// them; an auditor reads the consents behind them (an audited read).
TEST_F(NeedToKnowTest, AuditorsSeeWhatWentToWhomAndTheConsentsBehindIt) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  std::string id = ShareSanne();
  json permitted = AuditEntries("stu-1042", "share.permitted")["entries"];
  ASSERT_EQ(permitted.size(), 1u) << permitted.dump();
  const json& e = permitted[0];
  EXPECT_EQ(e["object"], id);
  EXPECT_EQ(e["format"], 2);
  EXPECT_EQ(e["recipient"], "wijkteam-b");
  EXPECT_EQ(e["recipient_name"], "Org team");
  EXPECT_EQ(e["legal_basis"], "consent");
  std::string categories = e["categories"].get<std::string>();
  EXPECT_FALSE(categories.empty());
  EXPECT_NE(categories.find("hulpvraag"), std::string::npos) << categories;
  std::string consents = e["consents"].get<std::string>();
  EXPECT_EQ(consents.rfind("c-", 0), 0u) << consents;
  // The share's own record agrees with its entry.
  auto share = fed_.AsJson("school", "mentor", {"meldcode", "show", id});
  std::string recorded, relied;
  for (const auto& c : share["categories"]) recorded += (recorded.empty() ? "" : ",") + c.get<std::string>();
  for (const auto& c : share["consents"]) relied += (relied.empty() ? "" : ",") + c.get<std::string>();
  EXPECT_EQ(categories, recorded) << share.dump();
  EXPECT_EQ(consents, relied) << share.dump();
  // Delivered: the same three on the delivery entry.
  json delivered = AuditEntries("stu-1042", "share.delivered")["entries"];
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]["recipient"], "wijkteam-b");
  EXPECT_EQ(delivered[0]["categories"], categories);
  EXPECT_EQ(delivered[0]["consents"], consents);

  // The text the auditor reads.
  auto text = fed_.As("school", "auditor", {"audit", "query", "--action", "share.permitted"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("\tto Org team (wijkteam-b)\tcategories " + categories + "\tconsents " + consents),
            std::string::npos)
      << text.out;

  // The recipient's log: received (no one assigned yet, routed on arrival),
  // assigned to the gezinswerker, read by her, each with categories and consents.
  ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamaudit", "auditor"));
  ASSERT_EQ(fed_.As("team", "gezinswerker", {"inbox", "show", id}).code, 0);
  auto team_log = [&](const char* action) {
    return fed_.AsJson("team", "teamaudit", {"audit", "query", "--student", "stu-1042", "--action", action})["entries"];
  };
  json received = team_log("inbox.received");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["categories"], categories);
  EXPECT_EQ(received[0]["consents"], consents);
  json assigned = team_log("inbox.assign");
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0]["recipient_name"], "gezinswerker");
  json read = team_log("inbox.read");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0]["actor"]["name"], "gezinswerker");
  EXPECT_EQ(read[0]["recipient_name"], "gezinswerker");
  EXPECT_EQ(read[0]["categories"], categories);

  // The auditor opens the consents the share rested on, evidence included;
  // the read is on record. Recording or withdrawing stays the coordinator's.
  auto held = fed_.AsJson("school", "auditor", {"consent", "list", "--student", "stu-1042"});
  ASSERT_FALSE(held["consents"].empty()) << held.dump();
  bool found = false;
  for (const auto& c : held["consents"]) {
    std::string cid = c["id"].get<std::string>();
    if (consents.find(cid) != std::string::npos) {
      found = true;
      EXPECT_FALSE(c["evidence"].get<std::string>().empty()) << c.dump();
    }
  }
  EXPECT_TRUE(found) << held.dump();
  json reads = AuditEntries("stu-1042", "consent.read")["entries"];
  ASSERT_FALSE(reads.empty());
  EXPECT_EQ(reads.back()["actor"]["name"], "auditor");
  std::string first = consents.substr(0, consents.find(','));
  EXPECT_EQ(fed_.As("school", "auditor", {"consent", "withdraw", first}).code, 3);
}

}  // namespace
}  // namespace schakel
