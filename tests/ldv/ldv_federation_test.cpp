// Logboek Dataverwerkingen end to end (docs/audit.md "Logboek
// Dataverwerkingen export"): two real nodes on loopback exchange one share;
// the LDV exports of both join on the share's trace id, the recipient's
// inbox.received names the sender's operation as its foreign operation, no
// student id appears in either, and `schakel audit trace` prints the road
// of the share across both in time order.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

std::vector<json> Records(const std::string& text) {
  std::vector<json> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(json::parse(text.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

TEST(LdvFederationTest, TheExportsOfTwoNodesJoinOnTheSharesTraceId) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.Add("team", "wijkteam-b", "wijkteam");
  ASSERT_NO_FATAL_FAILURE(fed.Pair("school", "team"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "mentor", "staff"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "zorgco", "coordinator"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("school", "auditor", "auditor"));
  ASSERT_NO_FATAL_FAILURE(fed.AddReader("team", "gezinswerker", "school"));
  ASSERT_NO_FATAL_FAILURE(fed.AddUser("team", "auditor", "auditor"));
  fed.StartNode("school");
  fed.StartNode("team");
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  fed.AddConsent("school", "zorgco", testing::kSanneOuder);
  fed.AddConsent("school", "zorgco", testing::kSanneJongere);
  auto shared =
      fed.As("school", "mentor",
             {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  std::string msg = testing::LastLine(shared.out);
  ASSERT_TRUE(fed.WaitShareState("school", "mentor", msg, "delivered"));
  ASSERT_EQ(fed.As("team", "gezinswerker", {"inbox", "show", msg}).code, 0);

  auto school = fed.As("school", "auditor", {"audit", "export", "--format", "ldv"});
  ASSERT_EQ(school.code, 0) << school.err;
  auto team = fed.As("team", "auditor", {"audit", "export", "--format", "ldv"});
  ASSERT_EQ(team.code, 0) << team.err;
  // Never the student id (nor the BSN of the fixture) in clear.
  for (const std::string* text : {&school.out, &team.out}) {
    EXPECT_EQ(text->find("stu-1042"), std::string::npos);
    EXPECT_EQ(text->find("111222333"), std::string::npos);
  }

  std::map<std::string, json> at_school, at_team;  // name -> the record about msg
  for (const json& r : Records(school.out)) {
    if (r["attributes"].value("schakel.message_id", "") == msg) at_school[r["name"].get<std::string>()] = r;
  }
  for (const json& r : Records(team.out)) {
    if (r["attributes"].value("schakel.message_id", "") == msg) at_team[r["name"].get<std::string>()] = r;
  }
  ASSERT_TRUE(at_school.count("share.permitted"));
  ASSERT_TRUE(at_school.count("share.delivered"));
  ASSERT_TRUE(at_team.count("inbox.received"));
  ASSERT_TRUE(at_team.count("inbox.read"));
  const json& permitted = at_school["share.permitted"];
  const json& received = at_team["inbox.received"];
  // One trace across both organisations.
  EXPECT_EQ(received["trace_id"], permitted["trace_id"]);
  EXPECT_EQ(at_team["inbox.read"]["trace_id"], permitted["trace_id"]);
  EXPECT_EQ(at_school["share.delivered"]["parent_operation_id"], permitted["operation_id"]);
  // The recipient names the sender's operation (carried on peer protocol 5).
  EXPECT_EQ(received["foreign_operation"]["trace_id"], permitted["trace_id"]);
  EXPECT_EQ(received["foreign_operation"]["operation_id"], permitted["operation_id"]);
  EXPECT_EQ(received["foreign_operation"]["entity_id"], "urn:schakel:node:school-a");
  EXPECT_EQ(at_team["inbox.read"]["parent_operation_id"], received["operation_id"]);
  EXPECT_EQ(permitted["attributes"]["dpl.core.processing_activity_id"], "urn:schakel:purpose:doorverwijzing");
  EXPECT_EQ(permitted["status_code"], "OK");
  // A node's pseudonym is its own: the two nodes' pseudonyms do not link.
  EXPECT_NE(permitted["attributes"]["dpl.core.data_subject_id"], received["attributes"]["dpl.core.data_subject_id"]);

  // Reproducible: a second export gives the same records (plus the second
  // audit.export entry at the end).
  auto again = fed.As("school", "auditor", {"audit", "export", "--format", "ldv"});
  ASSERT_EQ(again.code, 0);
  EXPECT_EQ(again.out.rfind(school.out, 0), 0u);

  std::string a = fed.WriteFile("school-ldv.jsonl", school.out);
  std::string b = fed.WriteFile("team-ldv.jsonl", team.out);
  // Offline: no node, no token.
  auto text = testing::RunSchakel({"audit", "trace", "--export", a, "--export", b, msg});
  ASSERT_EQ(text.code, 0) << text.err;
  size_t p = text.out.find("school-a  share.permitted");
  size_t d = text.out.find("school-a  share.delivered");
  size_t r = text.out.find("wijkteam-b  inbox.received");
  size_t rd = text.out.find("wijkteam-b  inbox.read");
  ASSERT_NE(p, std::string::npos) << text.out;
  ASSERT_NE(r, std::string::npos) << text.out;
  ASSERT_NE(rd, std::string::npos) << text.out;
  ASSERT_NE(d, std::string::npos) << text.out;
  EXPECT_LT(p, r);
  EXPECT_LT(r, rd);
  EXPECT_NE(text.out.find("caused by school-a operation " + permitted["operation_id"].get<std::string>()),
            std::string::npos)
      << text.out;
  auto traced = testing::RunSchakel({"audit", "trace", "--export", a, "--export", b, msg, "--json"});
  ASSERT_EQ(traced.code, 0) << traced.err;
  json doc = json::parse(traced.out);
  ASSERT_GE(doc["steps"].size(), 4u);
  EXPECT_EQ(doc["steps"][0]["name"], "share.permitted");
  EXPECT_EQ(doc["steps"][0]["node"], "school-a");
  std::set<std::string> nodes;
  std::string last;
  for (const json& s : doc["steps"]) {
    nodes.insert(s["node"].get<std::string>());
    EXPECT_LE(last, s["time"].get<std::string>());
    last = s["time"].get<std::string>();
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"school-a", "wijkteam-b"}));
  // A message neither export knows; a file that is not an LDV export.
  EXPECT_EQ(testing::RunSchakel({"audit", "trace", "--export", a, "m-unknown"}).code, 2);
  std::string plain = fed.WriteFile("plain.jsonl", fed.As("school", "auditor", {"audit", "export"}).out);
  auto wrong = testing::RunSchakel({"audit", "trace", "--export", plain, msg});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("not an LDV record"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace schakel
