// The transmit-time re-check: a share waiting in the queue is checked again
// against the consents, the student's age and the protocol as they are when
// it is about to leave. The sender runs in-process on a clock the test moves;
// the recipient is down, so the share waits. Each case ends `cancelled` with
// its reason, nothing at the recipient, and a `share.cancelled` audit entry.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/base/clock.h"
#include "schakel/base/time.h"
#include "schakel/daemon/daemon.h"

namespace schakel {
namespace {

using testing::Federation;
using testing::TempDir;

// Sanne's case (casus-2026-0042, stu-1042) with another birth date.
std::string SanneBornOn(Date birth) {
  std::string c = testing::ReadAll(testing::CaseFixture("sanne.json"));
  auto pos = c.find("\"2012-05-01\"");
  EXPECT_NE(pos, std::string::npos);
  c.replace(pos, 12, "\"" + FormatDate(birth) + "\"");
  return c;
}

std::string Consent(const std::string& role, const std::string& valid_until) {
  return R"({"subject_id": "stu-1042", "grantor_role": ")" + role +
         R"(", "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": )" +
         valid_until + "}";
}

class RecheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam());
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "auditor", "auditor"));
    ASSERT_NO_FATAL_FAILURE(fed_.AddReader("team", "lezer", "school"));
  }

  // Shares Sanne's case with the (stopped) team; returns the message id once
  // the share is queued and its first delivery attempt has failed.
  std::string QueueShare() {
    auto r =
        fed_.As("school", "mentor",
                {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string id = testing::LastLine(r.out);
    EXPECT_TRUE(fed_.WaitShareState("school", "mentor", id, "queued"));
    return id;
  }

  // Waits (bounded) for the share to be cancelled while the clock goes on
  // moving, a minute per look, as time does: an attempt that was under way
  // when the test moved the clock has scheduled its retry after that moment.
  bool WaitCancelled(const std::string& message_id) {
    for (int i = 0; i < 100; ++i) {
      auto shares = fed_.AsJson("school", "mentor", {"shares"});
      for (const auto& s : shares["shares"]) {
        if (s["message_id"] == message_id && s["state"] == "cancelled") return true;
      }
      clock_.Advance(std::chrono::minutes(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "share " << message_id << " not cancelled within 20 s";
    return false;
  }

  // The share's state_reason at the sender.
  std::string Reason(const std::string& message_id) {
    auto shares = fed_.AsJson("school", "mentor", {"shares"});
    for (const auto& s : shares["shares"]) {
      if (s["message_id"] == message_id && s["state_reason"].is_string()) return s["state_reason"];
    }
    return "";
  }

  // After the cancellation: the team, started now, holds nothing, and the
  // school's log has the cancellation with outcome deny.
  void ExpectNothingDeliveredAndAudited(const std::string& message_id) {
    fed_.StartNode("team");
    auto inbox = fed_.AsJson("team", "lezer", {"inbox"});
    EXPECT_TRUE(inbox["messages"].empty()) << inbox.dump();
    auto log = fed_.AsJson("school", "auditor", {"audit", "query", "--action", "share.cancelled"});
    bool found = false;
    for (const auto& e : log["entries"]) {
      if (e["object"] == message_id && e["outcome"] == "deny") found = true;
    }
    EXPECT_TRUE(found) << log.dump();
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  ManualClock clock_{NowUtc()};
};

TEST_F(RecheckTest, ConsentExpiresWhileQueued) {
  Date today = AmsterdamDate(clock_.Now());
  std::string until = "\"" + FormatDate(AddDays(today, 2)) + "\"";
  testing::InProcessDaemon school(fed_["school"].dir, clock_);
  ASSERT_TRUE(school.ok());
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", testing::CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {Consent("ouder", until).c_str()}));
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {Consent("jongere", until).c_str()}));
  std::string id = QueueShare();

  // Past the consents' valid_until: the next attempt (the worker looks at
  // the queue every 2 s) re-checks and cancels.
  clock_.Advance(std::chrono::days(4));
  ASSERT_TRUE(WaitCancelled(id));
  EXPECT_NE(Reason(id).find("consent"), std::string::npos) << Reason(id);
  ExpectNothingDeliveredAndAudited(id);
}

TEST_F(RecheckTest, SixteenthBirthdayWhileQueuedWithOnlyAParentsConsent) {
  // A protocol in which a parent's consent is enough until 16, and from 16
  // only the young person's own counts (the WGBO line without the 12..15 step).
  std::string protocol = R"([ages]
jongere_also_from = 16
jongere_alone_from = 16

[[flow]]
purpose = "doorverwijzing"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
legal_source = "Toestemming: AVG art. 6 lid 1 onder a"
categories = ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"]
)";
  std::string toml = testing::ReadAll(fed_["school"].dir + "/schakel.toml");
  auto pos = toml.find("file = ''");
  ASSERT_NE(pos, std::string::npos) << toml;
  toml.replace(pos, 9, "file = 'protocol.toml'");
  testing::WriteAll(fed_["school"].dir + "/schakel.toml", toml);
  testing::WriteAll(fed_["school"].dir + "/protocol.toml", protocol);

  // Sixteen the day after tomorrow.
  Date today = AmsterdamDate(clock_.Now());
  Date birth = AddDays(today, 2);
  birth = Date{birth.year() - std::chrono::years(16), birth.month(), birth.day()};
  if (!birth.ok()) birth = AddDays(Date{birth.year(), birth.month(), std::chrono::day(1)}, 31);
  ASSERT_EQ(AgeInYears(birth, today), 15);

  testing::InProcessDaemon school(fed_["school"].dir, clock_);
  ASSERT_TRUE(school.ok());
  std::string case_file = fed_.WriteFile("sanne-15.json", SanneBornOn(birth));
  // The register decides the birth date; a coordinator sets it there.
  auto set = fed_.As("school", "zorgco", {"student", "set", "stu-1042", "--birth-date", FormatDate(birth)});
  ASSERT_EQ(set.code, 0) << set.err;
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", case_file}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {Consent("ouder", "null").c_str()}));
  std::string id = QueueShare();

  clock_.Advance(std::chrono::days(5));
  ASSERT_GE(AgeInYears(birth, AmsterdamDate(clock_.Now())), 16);
  ASSERT_TRUE(WaitCancelled(id));
  EXPECT_NE(Reason(id).find("jongere"), std::string::npos) << Reason(id);
  ExpectNothingDeliveredAndAudited(id);
}

TEST_F(RecheckTest, ProtocolWithoutTheFlowAfterARestart) {
  std::string id;
  {
    testing::InProcessDaemon school(fed_["school"].dir, clock_);
    ASSERT_TRUE(school.ok());
    ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", testing::CaseFixture("sanne.json")}).code, 0);
    ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {testing::kSanneOuder, testing::kSanneJongere}));
    id = QueueShare();
  }
  // The privacy officer replaces the protocol: referrals to the wijkteam are
  // no longer in it. The queued share must not leave under the old one.
  std::string toml = testing::ReadAll(fed_["school"].dir + "/schakel.toml");
  auto pos = toml.find("file = ''");
  ASSERT_NE(pos, std::string::npos) << toml;
  toml.replace(pos, 9, "file = 'protocol.toml'");
  testing::WriteAll(fed_["school"].dir + "/schakel.toml", toml);
  testing::WriteAll(fed_["school"].dir + "/protocol.toml", R"([[flow]]
purpose = "verzuimmelding"
from = ["school"]
to = ["lvs"]
legal_basis = "legal_obligation"
legal_source = "Leerplichtwet 1969, art. 18 lid 3 en 21a; Wet register onderwijsdeelnemers, art. 12"
categories = ["identificatie", "bsn", "verzuim"]
)");
  clock_.Advance(std::chrono::minutes(5));
  testing::InProcessDaemon school(fed_["school"].dir, clock_);
  ASSERT_TRUE(school.ok());
  ASSERT_TRUE(WaitCancelled(id));
  EXPECT_FALSE(Reason(id).empty());
  ExpectNothingDeliveredAndAudited(id);
}

}  // namespace
}  // namespace schakel
