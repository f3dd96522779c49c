// Fault tests for the audit policy (docs/audit.md): with audit appends made
// to fail by SCHAKEL_FAULT_FAIL (base/fault_inject.h), an action that must be
// audited does not happen — a dossier link's content is not shown, a share
// is refused and nothing is queued, a case is not shown — while refusals
// still refuse. And a link's wrong-code counter that cannot be written gives
// no answer about the code at all. Real schakeld processes on loopback; see
// docs/fault-tests.md.
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/audit/audit_log.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/totp.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/records.h"
#include "web_client.h"

namespace schakel {
namespace {

using testing::CaseFixture;
using testing::CountEntries;
using testing::ExpectChainIntact;
using testing::Federation;
using testing::LastLine;
using testing::OpenNodeDb;
using testing::TempDir;
using testing::WebReply;
using testing::WebRequestOnce;

using testing::kSanneJongere;
using testing::kSanneOuder;

// The jongere's consent for any wijkteam, as a link's recipient is known
// only by its type (kSanneJongere names wijkteam-b).
constexpr const char* kJongereForLinks = R"({"subject_id": "stu-1042", "grantor_role": "jongere",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";

// node.start is the first audit append of a run: it is written, every one
// after it fails.
const std::vector<std::string> kAuditFailsAfterStart{"SCHAKEL_FAULT_FAIL=audit.append:2"};

const std::vector<std::pair<std::string, std::string>> kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

struct Link {
  std::string token, code, id;
};

class FaultAudit : public ::testing::Test {
 protected:
  // The school and the team, Sanne's case and consents at the school, set up
  // with a healthy audit log; the school is left stopped.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam());
    fed_.StartNode("school");
    ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
    ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kSanneOuder, kSanneJongere, kJongereForLinks}));
    links_port_ = static_cast<uint16_t>(fed_["school"].port + 2);
  }

  Link CreateLink() {
    auto r = fed_.As("school", "mentor",
                     {"link", "create", "casus-2026-0042", "--for", "dr. A. Jansen", "--type", "wijkteam", "--purpose",
                      "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    Link l;
    l.code = LastLine(r.out);
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("/l/([A-Za-z0-9_-]{43})"))) l.token = m[1];
    if (std::regex_search(r.out, m, std::regex("link: (l-[0-9a-f]+)"))) l.id = m[1];
    EXPECT_FALSE(l.token.empty()) << r.out;
    EXPECT_FALSE(l.id.empty()) << r.out;
    return l;
  }

  WebReply Post(const Link& l, const std::string& code) {
    return WebRequestOnce(links_port_, "POST", "/l/" + l.token, kForm, "code=" + code);
  }

  std::string Log(const std::string& node) { return testing::ReadAll(fed_[node].dir + "/daemon.log"); }

  TempDir tmp_;
  Federation fed_{tmp_};
  uint16_t links_port_ = 0;
};

TEST_F(FaultAudit, LinkContentIsNotShownWhenItsReadCannotBeAudited) {
  Link l = CreateLink();
  ASSERT_FALSE(l.token.empty());
  fed_.StopNode("school");
  fed_.StartNode("school", kAuditFailsAfterStart);

  // The code page holds nothing of the case: shown, its entry's loss logged
  // with the action and link id only.
  auto get = WebRequestOnce(links_port_, "GET", "/l/" + l.token);
  EXPECT_EQ(get.status, 200) << get.error;
  EXPECT_EQ(get.body.find("Sanne"), std::string::npos);

  auto right = Post(l, l.code);
  EXPECT_EQ(right.status, 500) << right.body;
  EXPECT_NE(right.body.find("Interne fout"), std::string::npos) << right.body;
  EXPECT_EQ(right.body.find("Sanne"), std::string::npos) << "content shown without its link.read entry";
  EXPECT_EQ(right.body.find("Hulpvraag"), std::string::npos);
  EXPECT_EQ(right.body.find("Toegangscode"), std::string::npos) << "no code form either";

  std::string log = Log("school");
  EXPECT_NE(log.find("audit: entry link.view on " + l.id + " not written"), std::string::npos) << log;
  EXPECT_NE(log.find("cannot record the reading of " + l.id), std::string::npos) << log;
  EXPECT_EQ(log.find("stu-1042"), std::string::npos) << "the student id in the log: " << log;

  fed_.StopNode("school");
  auto db = OpenNodeDb(fed_["school"].dir);
  ASSERT_TRUE(db);
  EXPECT_EQ(CountEntries(*db, "link.read", l.id), 0);
  auto q = db->Prepare("SELECT last_read IS NULL, failed_attempts, state FROM links WHERE link_id = ?;");
  ASSERT_TRUE(q.ok()) << q.status().message();
  q->Bind(1, l.id);
  auto row = q->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q->Int(0), 1) << "last_read written without its audit entry";
  EXPECT_EQ(q->Text(2), "active");
  ASSERT_NO_FATAL_FAILURE(ExpectChainIntact(*db, "school-a"));
  db.reset();

  // With the audit log healthy again the same code opens the link.
  fed_.StartNode("school");
  auto again = Post(l, l.code);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_NE(again.body.find("Sanne"), std::string::npos);
}

TEST_F(FaultAudit, ShareIsRefusedAndNothingQueuedWhenItCannotBeAudited) {
  fed_.StopNode("school");
  fed_.StartNode("team");
  fed_.StartNode("school", kAuditFailsAfterStart);
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  EXPECT_NE(shared.code, 0) << shared.out;
  EXPECT_EQ(shared.out.find("m-"), std::string::npos) << "a message id was handed out: " << shared.out;

  // Give a wrongly queued share the time to arrive (fast retries), bounded.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});
  EXPECT_EQ(inbox["inbox"].size(), 0u) << inbox.dump();

  fed_.StopNode("school");
  fed_.StopNode("team");
  auto db = OpenNodeDb(fed_["school"].dir);
  ASSERT_TRUE(db);
  auto queued = store::CountOutgoing(*db);
  ASSERT_TRUE(queued.ok()) << queued.status().message();
  EXPECT_EQ(*queued, 0);
  auto shares = store::ListShares(*db);
  ASSERT_TRUE(shares.ok()) << shares.status().message();
  EXPECT_TRUE(shares->empty()) << shares->size() << " share(s) stored";
  ASSERT_NO_FATAL_FAILURE(ExpectChainIntact(*db, "school-a"));
}

TEST_F(FaultAudit, ReadsAndChangesFailButRefusalsStillRefuse) {
  fed_.StopNode("school");
  fed_.StartNode("school", kAuditFailsAfterStart);
  // A read of the case must be audited: refused, nothing of it printed.
  auto shown = fed_.As("school", "mentor", {"case", "show", "casus-2026-0042"});
  EXPECT_NE(shown.code, 0);
  EXPECT_EQ(shown.out.find("Sanne"), std::string::npos) << shown.out;
  // A new case is not stored.
  nlohmann::json other = nlohmann::json::parse(testing::ReadAll(CaseFixture("sanne.json")));
  other["case_id"] = "casus-2026-0043";
  auto added = fed_.As("school", "zorgco", {"case", "add", "--file", fed_.WriteFile("other.json", other.dump())});
  EXPECT_NE(added.code, 0);
  // A link is not made: no URL, no code.
  auto link = fed_.As("school", "mentor",
                      {"link", "create", "casus-2026-0042", "--for", "X", "--type", "wijkteam", "--purpose",
                       "doorverwijzing", "--allow-partial"});
  EXPECT_NE(link.code, 0);
  EXPECT_EQ(link.out.find("/l/"), std::string::npos) << link.out;
  // A refusal is still a refusal (exit 3), its entry's loss only logged.
  auto refused =
      fed_.As("school", "mentor",
              {"link", "create", "casus-2026-0042", "--for", "X", "--type", "rmc", "--purpose", "doorverwijzing"});
  EXPECT_EQ(refused.code, 3) << refused.err;

  fed_.StopNode("school");
  auto db = OpenNodeDb(fed_["school"].dir);
  ASSERT_TRUE(db);
  auto links = db->Prepare("SELECT count(*) FROM links;");
  ASSERT_TRUE(links.ok());
  auto row = links->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(links->Int(0), 0);
  auto cases = db->Prepare("SELECT count(*) FROM cases;");
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  row = cases->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(cases->Int(0), 1);
  ASSERT_NO_FATAL_FAILURE(ExpectChainIntact(*db, "school-a"));
}

TEST_F(FaultAudit, UncountableCodeAttemptsGetNoAnswer) {
  Link l = CreateLink();
  ASSERT_FALSE(l.token.empty());
  fed_.StopNode("school");
  fed_.StartNode("school", {"SCHAKEL_FAULT_FAIL=links.wrong_code_update"});
  // More tries than the lock allows: none is answered "wrong", none is
  // counted, and not even the right code is tried.
  for (int i = 0; i < 7; ++i) {
    auto wrong = Post(l, "AAAAA-AAAAA");
    EXPECT_EQ(wrong.status, 500) << wrong.body;
    EXPECT_EQ(wrong.body.find("onjuist"), std::string::npos) << wrong.body;
    EXPECT_EQ(wrong.body.find("poging"), std::string::npos) << wrong.body;
  }
  auto right = Post(l, l.code);
  EXPECT_EQ(right.status, 500) << right.body;
  EXPECT_EQ(right.body.find("Sanne"), std::string::npos) << right.body;

  fed_.StopNode("school");
  fed_.StartNode("school");
  auto wrong = Post(l, "AAAAA-AAAAA");
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  EXPECT_NE(wrong.body.find("nog 4 pogingen"), std::string::npos) << wrong.body;
  auto opened = Post(l, l.code);
  EXPECT_EQ(opened.status, 200) << opened.body;
  EXPECT_NE(opened.body.find("Sanne"), std::string::npos);
}

TEST_F(FaultAudit, ADeliveryWhoseEntryFailsIsKeptAndDeliveredOnce) {
  // Queued while the team is away, with a healthy audit log.
  auto shared =
      fed_.AsJson("school", "mentor",
                  {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_TRUE(shared.contains("message_id")) << shared.dump();
  const std::string msg = shared["message_id"];
  fed_.StopNode("school");

  // The receipt comes back but share.delivered cannot be written: the share
  // stays in the queue and is sent again, bounded by the test's wait.
  fed_.StartNode("team");
  fed_.StartNode("school", kAuditFailsAfterStart);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline &&
         Log("school").find("kept in the queue after a local error") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(Log("school").find("delivery: share " + msg + " kept in the queue after a local error"), std::string::npos)
      << Log("school");
  fed_.StopNode("school");
  {
    auto db = OpenNodeDb(fed_["school"].dir);
    ASSERT_TRUE(db);
    auto share = store::FindShare(*db, msg);
    ASSERT_TRUE(share.ok() && *share);
    // It went out (the partner has it), so it is `sending`, not `queued`.
    EXPECT_EQ((*share)->state, store::ShareState::kSending);
    auto queued = store::CountOutgoing(*db);
    ASSERT_TRUE(queued.ok());
    EXPECT_EQ(*queued, 1) << "the share left the queue without its entry";
    EXPECT_EQ(CountEntries(*db, "share.delivered", msg), 0);
    ASSERT_NO_FATAL_FAILURE(ExpectChainIntact(*db, "school-a"));
  }

  // Healthy again: delivered, once.
  fed_.StartNode("school");
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", std::chrono::seconds(20)));
  auto inbox = fed_.AsJson("team", "gezinswerker", {"inbox"});
  ASSERT_EQ(inbox["inbox"].size(), 1u) << inbox.dump();
  fed_.StopNode("school");
  fed_.StopNode("team");
  auto school_db = OpenNodeDb(fed_["school"].dir);
  auto team_db = OpenNodeDb(fed_["team"].dir);
  ASSERT_TRUE(school_db && team_db);
  EXPECT_EQ(CountEntries(*school_db, "share.delivered", msg), 1);
  EXPECT_EQ(CountEntries(*team_db, "inbox.received", msg), 1);
}

// The console session cookie a reply sets ("name=value"), "" if none.
std::string SessionCookie(const WebReply& r) {
  auto [from, to] = r.headers.equal_range("Set-Cookie");
  for (auto it = from; it != to; ++it) {
    if (it->second.rfind("__Host-schakel_sessie=", 0) == 0) return it->second.substr(0, it->second.find(';'));
  }
  return "";
}

std::string CsrfIn(const std::string& html) {
  std::smatch m;
  static const std::regex re("name=\"csrf\" value=\"([0-9a-f]{64})\"");
  return std::regex_search(html, m, re) ? m[1].str() : "";
}

// A share is sealed without the node lock; a consent withdrawn meanwhile
// makes the gate decide again when the lock is taken back, and the share is
// refused: nothing stored, nothing queued. The API answers one request at a
// time, so the withdrawal comes through the console, which has its own
// thread.
TEST_F(FaultAudit, ConsentWithdrawnWhileSealingRefusesTheShare) {
  constexpr const char* kPassword = "een heel lang wachtwoord";
  fed_.StopNode("school");
  auto pw =
      testing::RunSchakel({"user", "passwd", "--dir", fed_["school"].dir, "zorgco"}, std::string(kPassword) + "\n");
  ASSERT_EQ(pw.code, 0) << pw.err;
  std::smatch secret;
  ASSERT_TRUE(std::regex_search(pw.out, secret, std::regex("secret=([A-Z2-7]+)&")));
  std::vector<uint8_t> totp = *crypto::Base32Decode(secret[1].str());
  fed_.StartNode("school", {"SCHAKEL_FAULT_FAIL=share.slow_seal"});
  const auto console = static_cast<uint16_t>(fed_["school"].port + 3);

  // The coordinator signs in to the console and opens Sanne's consents.
  WebReply step1 = WebRequestOnce(console, "POST", "/aanmelden", kForm,
                                  std::string("naam=zorgco&wachtwoord=") + "een+heel+lang+wachtwoord");
  ASSERT_EQ(step1.status, 303) << step1.body;
  std::vector<std::pair<std::string, std::string>> pending = {{"Cookie", SessionCookie(step1)}};
  WebReply code_page = WebRequestOnce(console, "GET", "/aanmelden/code", pending);
  auto with_form = pending;
  with_form.insert(with_form.end(), kForm.begin(), kForm.end());
  std::string code = crypto::FormatOtp(crypto::Hotp(totp, static_cast<uint64_t>(crypto::TotpStep(NowUtc()))));
  WebReply step2 =
      WebRequestOnce(console, "POST", "/aanmelden/code", with_form, "csrf=" + CsrfIn(code_page.body) + "&code=" + code);
  ASSERT_EQ(step2.status, 303) << step2.body;
  std::vector<std::pair<std::string, std::string>> session = {{"Cookie", SessionCookie(step2)}};
  WebReply consents = WebRequestOnce(console, "GET", "/toestemmingen?leerling=stu-1042", session);
  ASSERT_EQ(consents.status, 200) << consents.body;
  auto listed = fed_.AsJson("school", "zorgco", {"consent", "list", "--student", "stu-1042"});
  std::string ouder_id;
  for (const auto& c : listed["consents"]) {
    if (c["grantor_role"] == "ouder") ouder_id = c["id"].get<std::string>();
  }
  ASSERT_FALSE(ouder_id.empty()) << listed.dump();

  testing::CliResult shared;
  std::thread share([&] {
    shared =
        fed_.As("school", "mentor",
                {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // decided, now sealing (2 s)
  auto with_session = session;
  with_session.insert(with_session.end(), kForm.begin(), kForm.end());
  WebReply withdrawn = WebRequestOnce(console, "POST", "/toestemmingen/" + ouder_id + "/intrekken", with_session,
                                      "csrf=" + CsrfIn(consents.body) + "&leerling=stu-1042");
  share.join();
  EXPECT_EQ(withdrawn.status, 303) << withdrawn.body;
  EXPECT_EQ(shared.code, 3) << shared.out << shared.err;
  EXPECT_NE(shared.err.find("missing_consent_ouder"), std::string::npos) << shared.err;
  EXPECT_TRUE(fed_.AsJson("school", "mentor", {"shares"})["shares"].empty());
  EXPECT_EQ(fed_.AsJson("school", "mentor", {"status"})["outbox_depth"], 0);
}

}  // namespace
}  // namespace schakel
