// Issue 24, "Retention that fits the recipient's law": a wijkteam takes a
// received summary into its own dossier (Jeugdwet art. 7.3.8); the school's
// later revocation is answered "adopted into dossier", audited on both
// sides, and the copy stays. Real schakeld processes on loopback, through
// the CLI.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

class AdoptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("team", "wijkteam-b", "wijkteam");
    fed_.Pair("school", "team");
    fed_.AddUser("school", "mentor", "staff");
    fed_.AddUser("school", "zorgco", "coordinator");
    fed_.AddUser("school", "auditor", "auditor");
    fed_.AddReader("team", "gezinswerker", "school");
    fed_.AddUser("team", "teamcoord", "coordinator");
    fed_.AddUser("team", "teamaudit", "auditor");
  }

  std::string AddConsent(const std::string& json_text) { return fed_.AddConsent("school", "zorgco", json_text); }

  json Entries(const std::string& node, const std::string& auditor, const std::string& action) {
    return fed_.AsJson(node, auditor, {"audit", "query", "--action", action})["entries"];
  }

  // The school's record of the share, once its state_reason starts with
  // `prefix` (bounded wait); null when it never does.
  json WaitReason(const std::string& msg, const std::string& prefix) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const json all = fed_.AsJson("school", "mentor", {"shares"});  // kept alive for the loop
      for (const auto& s : all["shares"]) {
        if (s["message_id"] == msg && s["state_reason"].is_string() &&
            s["state_reason"].get<std::string>().rfind(prefix, 0) == 0) {
          return s;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }

  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(AdoptTest, AnAdoptedShareIsKeptAfterARevocationAndTheSenderIsTold) {
  fed_.StartNode("school");
  fed_.StartNode("team");
  ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  std::string ouder = AddConsent(testing::kSanneOuder);
  AddConsent(testing::kSanneJongere);
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  std::string msg = testing::LastLine(shared.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered"));

  // Only a coordinator adopts, and only with a basis that is one line.
  EXPECT_EQ(fed_.As("team", "gezinswerker", {"inbox", "adopt", msg, "--basis", "Jeugdwet art. 7.3.8"}).code, 3);
  auto no_basis = fed_.As("team", "teamcoord", {"inbox", "adopt", msg, "--basis", ""});
  EXPECT_EQ(no_basis.code, 2);
  EXPECT_NE(no_basis.err.find("basis"), std::string::npos) << no_basis.err;
  auto adopted = fed_.AsJson("team", "teamcoord", {"inbox", "adopt", msg, "--basis", "Jeugdwet art. 7.3.8"});
  EXPECT_EQ(adopted["basis"], "Jeugdwet art. 7.3.8");
  // Twice is an error, not a second adoption.
  EXPECT_NE(fed_.As("team", "teamcoord", {"inbox", "adopt", msg, "--basis", "Jeugdwet art. 7.3.8"}).code, 0);

  // The school withdraws the consent: its revocation is answered "kept".
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["revoked"], json::array({msg}));
  json share = WaitReason(msg, "adopted_into_dossier");
  ASSERT_FALSE(share.is_null()) << "the school never recorded the wijkteam's answer";
  EXPECT_EQ(share["state"], "revoked");
  EXPECT_EQ(share["state_reason"], "adopted_into_dossier: Jeugdwet art. 7.3.8");

  // The copy is kept, readable by the one it is assigned to.
  auto copy = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_EQ(copy["state"], "received");
  EXPECT_FALSE(copy["summary"].is_null());
  EXPECT_EQ(copy["adopted_basis"], "Jeugdwet art. 7.3.8");

  // Audited on both sides.
  json kept = Entries("school", "auditor", "share.kept_by_recipient");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["object"], msg);
  EXPECT_EQ(kept[0]["reason"], "adopted into dossier: Jeugdwet art. 7.3.8");
  json adoption = Entries("team", "teamaudit", "inbox.adopted");
  ASSERT_EQ(adoption.size(), 1u);
  EXPECT_EQ(adoption[0]["legal_basis"], "Jeugdwet art. 7.3.8");
  json answered = Entries("team", "teamaudit", "inbox.revocation_kept");
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0]["object"], msg);
  EXPECT_EQ(answered[0]["reason"].get<std::string>().rfind("revoked: consent_withdrawn; kept", 0), 0u)
      << answered[0].dump();
  EXPECT_TRUE(Entries("team", "teamaudit", "inbox.purged").empty());
}

}  // namespace
}  // namespace schakel
