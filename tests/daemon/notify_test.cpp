// E-mail notices ([notify], docs/console.md "What is new") with real
// schakeld processes and a local SMTP server (python3-aiosmtpd) on loopback:
// a share that arrives is noticed by mail to the colleague it is routed to
// and to the coordinator, over STARTTLS with AUTH, saying only that
// something waits, with the console's address — no name, student, category,
// purpose or organisation; nothing new, no second mail; each notice audited
// without the address. A password file that cannot be read stops the start
// with a clear error.
#include <sys/stat.h>

#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "smtp_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::LocalSmtp;
using testing::TempDir;

constexpr const char* kConsoleUrl = "https://schakel.wijkteam.example:7404";

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam());
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("team", "teamaudit", "auditor"));
  }

  // [notify] for the team's node, sending through `smtp`.
  void ConfigureNotify(const LocalSmtp& smtp, const std::string& password_file) {
    const std::string dir = fed_["team"].dir;
    std::string cfg = testing::ReadAll(dir + "/schakel.toml");
    cfg += "\n[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = " + std::to_string(smtp.port()) +
           "\nfrom = \"schakel@wijkteam.example\"\nconsole_url = \"" + kConsoleUrl + "\"\nuser = \"" +
           LocalSmtp::kUser + "\"\npassword_file = \"" + password_file + "\"\nca_file = \"" + smtp.ca_file() +
           "\"\ncheck_seconds = 1\n";
    testing::WriteAll(dir + "/schakel.toml", cfg);
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(NotifyTest, AShareThatArrivesIsNoticedByMailWithoutAnyPersonalData) {
  LocalSmtp smtp(tmp_, /*tls=*/true);
  ASSERT_TRUE(smtp.ready()) << smtp.log();
  const std::string team = fed_["team"].dir;
  for (const auto& [user, address] : std::vector<std::pair<std::string, std::string>>{
           {"gezinswerker", "gezinswerker@wijkteam.example"}, {"routing-co", "coordinator@wijkteam.example"}}) {
    auto r = testing::RunSchakel({"user", "set-email", "--dir", team, user, address});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  testing::WriteAll(team + "/smtp.pass", std::string(LocalSmtp::kPassword) + "\n");
  ::chmod((team + "/smtp.pass").c_str(), 0600);
  ConfigureNotify(smtp, "smtp.pass");
  fed_.StartNode("school");
  fed_.StartNode("team");

  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere});
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", testing::LastLine(shared.out), "delivered"));

  ASSERT_TRUE(smtp.WaitFor(2, std::chrono::seconds(30))) << testing::ReadAll(team + "/daemon.log") << smtp.log();
  auto mails = smtp.Received();
  std::set<std::string> to;
  for (const auto& m : mails) {
    to.insert(m.envelope["to"][0].get<std::string>());
    EXPECT_TRUE(m.envelope["tls"].get<bool>());
    EXPECT_TRUE(m.envelope["auth"].get<bool>());
    EXPECT_NE(m.text.find("Subject: Er wacht iets voor u in Schakel"), std::string::npos) << m.text;
    EXPECT_NE(m.text.find(kConsoleUrl), std::string::npos) << m.text;
    for (const char* personal : {"Sanne", "Vries", "stu-1042", "casus-", "hulpvraag", "gezinssituatie", "identificatie",
                                 "doorverwijzing", "Org school", "school-a", "gezinswerker@"}) {
      if (m.envelope["to"][0] == "gezinswerker@wijkteam.example" && std::string(personal) == "gezinswerker@") {
        continue;  // its own address is in its To: header
      }
      EXPECT_EQ(m.text.find(personal), std::string::npos) << personal << " in\n" << m.text;
    }
  }
  EXPECT_EQ(to, (std::set<std::string>{"gezinswerker@wijkteam.example", "coordinator@wijkteam.example"}));

  // Nothing new since: no second notice (the notifier looks every second).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(smtp.Received().size(), 2U);
  // Each notice is in the log, by user id, without the address.
  json audited = fed_.AsJson("team", "teamaudit", {"audit", "query", "--action", "notice.sent"});
  ASSERT_EQ(audited["entries"].size(), 2U) << audited.dump();
  EXPECT_EQ(audited.dump().find("@wijkteam.example"), std::string::npos);
}

TEST_F(NotifyTest, APasswordFileThatCannotBeReadStopsTheStartWithAClearError) {
  LocalSmtp smtp(tmp_, /*tls=*/true);
  ASSERT_TRUE(smtp.ready()) << smtp.log();
  ConfigureNotify(smtp, "missing.pass");
  const std::string team = fed_["team"].dir;
  testing::Child daemon({testing::BinaryPath("schakeld"), "--dir", team}, {}, team + "/start.log");
  const int code = daemon.Wait(std::chrono::seconds(20));
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1) << "schakeld kept running";
  EXPECT_NE(testing::ReadAll(team + "/start.log").find("notify.password_file: cannot read"), std::string::npos)
      << testing::ReadAll(team + "/start.log");
}

}  // namespace
}  // namespace schakel
