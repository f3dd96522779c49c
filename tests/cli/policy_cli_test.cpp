// `schakel policy eval` and `schakel policy show`, run in-process through
// RunCli: exit codes, stdout/stderr, --policy files.
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process_support.h"
#include "schakel/cli/cli.h"
#include "test_support.h"

namespace schakel {
namespace {

using Json = nlohmann::json;

using CliRun = testing::CliResult;

// `schakel policy ARGS...`, in-process like every other CLI test.
CliRun Policy(std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), "policy");
  return testing::RunSchakel(std::move(args), stdin_text);
}

Json Scenario() {
  return Json::parse(R"({
    "now": "2026-11-23T10:00:00Z",
    "subject": {"id": "stu-1", "birth_date": "2012-02-01"},
    "sender": {"org_id": "school-trajectum", "org_type": "school"},
    "recipient": {"org_id": "wijkteam-overvecht", "org_type": "wijkteam"},
    "purpose": "doorverwijzing",
    "categories": ["identificatie", "hulpvraag", "gezinssituatie"],
    "consents": [
      {"id": "c1", "subject_id": "stu-1", "grantor_role": "ouder",
       "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
       "categories": ["identificatie", "hulpvraag", "gezinssituatie"],
       "valid_from": "2026-09-01", "valid_until": "2027-07-31", "withdrawn_at": null},
      {"id": "c2", "subject_id": "stu-1", "grantor_role": "jongere",
       "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
       "categories": ["identificatie", "hulpvraag"],
       "valid_from": "2026-09-01", "valid_until": null, "withdrawn_at": null}
    ],
    "override": null
  })");
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/schakel-policy-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PolicyEval, PermitPrintsTheDecisionAndExitsZero) {
  CliRun r = Policy({"eval"}, Scenario().dump());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  Json d = Json::parse(r.out);
  EXPECT_EQ(d["decision"], "permit");
  EXPECT_EQ(d["legal_basis"], "consent");
  EXPECT_EQ(d["categories"], Json({"hulpvraag", "identificatie"}));
  EXPECT_EQ(d["withheld"], Json({"gezinssituatie"}));
  EXPECT_EQ(d["consents_used"], Json({"c1", "c2"}));
  EXPECT_EQ(d["reasons"][0]["code"], "category_not_consented");
}

TEST(PolicyEval, DenyIsStillExitZero) {
  Json s = Scenario();
  s["consents"].erase(1);
  CliRun r = Policy({"eval"}, s.dump());
  ASSERT_EQ(r.code, 0) << r.err;
  Json d = Json::parse(r.out);
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(d["legal_basis"].is_null());
  EXPECT_EQ(d["reasons"][0]["code"], "missing_consent_jongere");
}

TEST(PolicyEval, BadInputIsExitTwoNamingTheField) {
  Json s = Scenario();
  s["consents"][1]["valid_from"] = "2026-9-1";
  CliRun r = Policy({"eval"}, s.dump());
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err, "schakel: policy eval: consents[1].valid_from: expected a date YYYY-MM-DD\n");

  CliRun empty = Policy({"eval"}, "");
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("schakel: policy eval: malformed JSON"), std::string::npos) << empty.err;

  s = Scenario();
  s["recipient"]["org_type"] = "politie";
  CliRun type = Policy({"eval"}, s.dump());
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.err.find("recipient.org_type: unknown org type \"politie\""), std::string::npos) << type.err;

  CliRun big = Policy({"eval"}, std::string((1 << 20) + 10, ' '));
  EXPECT_EQ(big.code, 2);
  EXPECT_NE(big.err.find("larger than"), std::string::npos) << big.err;
}

TEST(PolicyEval, PolicyFileChangesTheDecision) {
  // A protocol where the young person decides alone from 12.
  TempFile policy(R"([ages]
jongere_also_from = 12
jongere_alone_from = 12

[[flow]]
purpose = "doorverwijzing"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
categories = ["identificatie", "hulpvraag", "gezinssituatie"]
)");
  Json s = Scenario();
  s["consents"].erase(0);  // only the young person's consent
  CliRun def = Policy({"eval"}, s.dump());
  ASSERT_EQ(def.code, 0) << def.err;
  EXPECT_EQ(Json::parse(def.out)["decision"], "deny");
  CliRun custom = Policy({"eval", "--policy", policy.path()}, s.dump());
  ASSERT_EQ(custom.code, 0) << custom.err;
  EXPECT_EQ(Json::parse(custom.out)["decision"], "permit");
}

TEST(PolicyEval, YouthAloneFromLetsTheYoungPersonConsentAloneForThatFlowOnly) {
  // UAVG art. 5 lid 6: the wijkteam's own help, offered directly to the
  // young person, rests on their consent alone from 12; a referral by the
  // school still needs the parent as well.
  TempFile policy(R"([[flow]]
purpose = "eigen_hulpvraag"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
categories = ["identificatie", "hulpvraag"]
youth_alone_from = 12

[[flow]]
purpose = "doorverwijzing"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
categories = ["identificatie", "hulpvraag", "gezinssituatie"]
)");
  Json s = Scenario();     // the student is 14
  s["consents"].erase(0);  // only the young person's consent
  s["consents"][0]["purposes"] = Json::array({"eigen_hulpvraag", "doorverwijzing"});
  s["categories"] = Json::array({"identificatie", "hulpvraag"});
  s["purpose"] = "eigen_hulpvraag";
  CliRun own = Policy({"eval", "--policy", policy.path()}, s.dump());
  ASSERT_EQ(own.code, 0) << own.err;
  Json d = Json::parse(own.out);
  EXPECT_EQ(d["decision"], "permit") << own.out;
  EXPECT_EQ(d["consents_used"], Json::array({"c2"}));
  s["purpose"] = "doorverwijzing";
  CliRun referral = Policy({"eval", "--policy", policy.path()}, s.dump());
  ASSERT_EQ(referral.code, 0) << referral.err;
  d = Json::parse(referral.out);
  EXPECT_EQ(d["decision"], "deny") << referral.out;
  EXPECT_NE(referral.out.find("missing_consent_ouder"), std::string::npos) << referral.out;
  // Under 12 the parent decides, for this flow too.
  s["purpose"] = "eigen_hulpvraag";
  s["subject"]["birth_date"] = "2016-02-01";
  CliRun young = Policy({"eval", "--policy", policy.path()}, s.dump());
  EXPECT_EQ(Json::parse(young.out)["decision"], "deny") << young.out;
  // The key is printed back by `show`.
  CliRun shown = Policy({"show", "--policy", policy.path()});
  EXPECT_NE(shown.out.find("youth_alone_from = 12"), std::string::npos) << shown.out;
}

TEST(PolicyEval, YouthAloneFromIsCheckedInTheFile) {
  TempFile low(
      "[[flow]]\npurpose = \"a\"\nfrom = [\"school\"]\nto = [\"wijkteam\"]\nlegal_basis = \"consent\"\n"
      "categories = [\"identificatie\"]\nyouth_alone_from = 11\n");
  CliRun r = Policy({"eval", "--policy", low.path()}, Scenario().dump());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("flow[0].youth_alone_from"), std::string::npos) << r.err;
  TempFile obligation(
      "[[flow]]\npurpose = \"a\"\nfrom = [\"school\"]\nto = [\"lvs\"]\n"
      "legal_basis = \"legal_obligation\"\nlegal_source = \"Lpw\"\n"
      "categories = [\"identificatie\"]\nyouth_alone_from = 12\n");
  r = Policy({"eval", "--policy", obligation.path()}, Scenario().dump());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("youth_alone_from"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("only a consent flow"), std::string::npos) << r.err;
}

TEST(PolicyEval, AMeldcodeReportAskingTheBsnHasItWithheld) {
  Json s = Scenario();
  s["purpose"] = "meldcode";
  s["recipient"] = Json{{"org_id", "veilig-thuis-utrecht"}, {"org_type", "veilig_thuis"}};
  s["categories"] = Json::array({"identificatie", "bsn", "gezinssituatie"});
  s["consents"] = Json::array();
  s["override"] = Json{{"requested_by", "u-mentor"}, {"approved_by", "u-zorgco"}, {"justification", "Stap 5."}};
  CliRun r = Policy({"eval"}, s.dump());
  ASSERT_EQ(r.code, 0) << r.err;
  Json d = Json::parse(r.out);
  EXPECT_EQ(d["decision"], "permit") << r.out;
  EXPECT_EQ(d["withheld"], Json::array({"bsn"})) << r.out;
  EXPECT_NE(r.out.find("category_not_in_flow"), std::string::npos) << r.out;
  EXPECT_EQ(d["categories"], Json::array({"gezinssituatie", "identificatie"})) << r.out;
}

TEST(PolicyEval, BadPolicyFileIsExitTwoWithFileAndLine) {
  TempFile policy("[[flow]]\npurpose = \"a\"\ncolour = \"red\"\n");
  CliRun r = Policy({"eval", "--policy", policy.path()}, Scenario().dump());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "schakel: policy eval: " + policy.path() + ":3: flow[0].colour: unknown key\n");
  CliRun missing = Policy({"eval", "--policy", "/nonexistent/policy.toml"}, Scenario().dump());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/policy.toml"), std::string::npos) << missing.err;
}

TEST(PolicyShow, PrintsTheDefaultProtocolAsToml) {
  CliRun r = Policy({"show"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* purpose : {"kernteamoverleg", "doorverwijzing", "overdracht_rmc", "verzuimmelding", "vsv_melding",
                              "terugkoppeling", "meldcode"}) {
    EXPECT_NE(r.out.find("purpose = \"" + std::string(purpose) + "\""), std::string::npos) << purpose;
  }
  EXPECT_NE(r.out.find("Leerplichtwet 1969, art. 18 lid 3 en 21a"), std::string::npos);
  // What `show` prints is a valid --policy file giving the same decisions.
  TempFile shown(r.out);
  CliRun again = Policy({"show", "--policy", shown.path()});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, r.out);
  CliRun eval = Policy({"eval", "--policy", shown.path()}, Scenario().dump());
  CliRun eval_default = Policy({"eval"}, Scenario().dump());
  EXPECT_EQ(eval.out, eval_default.out);
}

TEST(PolicyShow, UsageErrors) {
  CliRun none = Policy({});
  EXPECT_EQ(none.code, 2);
  CliRun unknown = Policy({"frobnicate"});
  EXPECT_EQ(unknown.code, 2);
}

}  // namespace
}  // namespace schakel

namespace schakel {
namespace {

TEST(PolicyInForce, TheNodesPolicyFileIsUsedAndChecked) {
  testing::TempDir tmp;
  std::string dir = tmp / "node";
  ASSERT_EQ(
      testing::RunSchakel({"init", "--dir", dir, "--name", "S", "--org-id", "school-p", "--org-type", "school"}).code,
      0);
  // A regional protocol with one purpose only.
  testing::WriteAll(dir + "/regio.toml", R"([[flow]]
purpose = "zorgoverleg_regio"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
categories = ["identificatie", "hulpvraag"]
)");
  std::string cfg = testing::ReadAll(dir + "/schakel.toml");
  auto pos = cfg.find("file = ''");
  ASSERT_NE(pos, std::string::npos);
  cfg.replace(pos, 9, "file = 'regio.toml'");
  testing::WriteAll(dir + "/schakel.toml", cfg);
  auto show = testing::RunSchakel({"policy", "show", "--dir", dir});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("zorgoverleg_regio"), std::string::npos);
  EXPECT_EQ(show.out.find("verzuimmelding"), std::string::npos);
  // Without a node directory the built-in protocol is shown.
  auto builtin = testing::RunSchakel({"policy", "show", "--dir", tmp.path()});
  EXPECT_NE(builtin.out.find("verzuimmelding"), std::string::npos);
  // A broken protocol file fails --check-config with file:line.
  testing::WriteAll(dir + "/regio.toml", "[[flow]]\npurpose = \"x\"\nfrom = [\"bank\"]\n");
  testing::Child check({testing::BinaryPath("schakeld"), "--dir", dir, "--check-config"}, {}, tmp / "check.log");
  EXPECT_EQ(check.Wait(std::chrono::seconds(10)), 2);
  EXPECT_NE(testing::ReadAll(tmp / "check.log").find("regio.toml:"), std::string::npos)
      << testing::ReadAll(tmp / "check.log");
}

}  // namespace
}  // namespace schakel
