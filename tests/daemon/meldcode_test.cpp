// Meldcode four eyes (docs/consent.md "Meldcode"): who sees the written
// justification, rejection with a reason by a second coordinator,
// cancellation by the requester, the justification bound into the audit
// chain by its SHA-256, and the auditor's audited reading. A real schakeld
// (school) with a paired Veilig Thuis node that is never started: nothing
// here is delivered.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "federation_support.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/totp.h"
#include "web_client.h"

namespace schakel {
namespace {

using nlohmann::json;
using testing::CaseFixture;
using testing::Federation;
using testing::TempDir;

constexpr const char* kJustification =
    "Signalen van mishandeling; stap 5: melden, besproken met de aandachtsfunctionaris.";
// The justification as stored and approved: the text, then the reason given
// for each category of the report (Wmo 2015 art. 5.2.6: only what is necessary).
const std::string kStored = std::string(kJustification) +
                            "\n\nNoodzakelijk per categorie:"
                            "\n- identificatie: Zodat Veilig Thuis weet om wie het gaat."
                            "\n- gezinssituatie: De signalen thuis, stap 1 van de meldcode.";

std::string Sha256Hex(const std::string& text) {
  return ToHex(crypto::Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
}

// One POST to the local API (plain HTTP on the port after the peer port).
std::pair<int, std::string> ApiPost(int port, const std::string& token, const std::string& target,
                                    const std::string& body) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {res.result_int(), res.body()};
}

class MeldcodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.Add("vt", "veilig-thuis-u", "veilig_thuis");
    ASSERT_NO_FATAL_FAILURE(fed_.Pair("school", "vt"));
    const std::vector<std::pair<std::string, std::string>> users = {{"mentor", "staff"},
                                                                    {"other-mentor", "staff"},
                                                                    {"zorgco", "coordinator"},
                                                                    {"zorgco2", "coordinator"},
                                                                    {"auditor", "auditor"}};
    for (const auto& [user, role] : users) ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", user, role));
    // A console password (and TOTP secret) for the second coordinator.
    auto pw =
        testing::RunSchakel({"user", "passwd", "--dir", fed_["school"].dir, "zorgco2"}, std::string(kPassword) + "\n");
    ASSERT_EQ(pw.code, 0) << pw.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(pw.out, m, std::regex("secret=([A-Z2-7]+)&")));
    totp_secret_ = *crypto::Base32Decode(m[1].str());
    fed_.StartNode("school");
    ASSERT_EQ(fed_.As("school", "zorgco", {"case", "add", "--file", CaseFixture("noor.json")}).code, 0);
  }

  // A pending Meldcode share of Noor's case requested by zorgco.
  std::string Request() {
    auto r = fed_.AsJson("school", "zorgco",
                         {"share", "casus-2026-0155", "--to", "veilig-thuis-u", "--purpose", "meldcode",
                          "--justification", kJustification, "--category", "identificatie", "--reason",
                          "identificatie=Zodat Veilig Thuis weet om wie het gaat.", "--category", "gezinssituatie",
                          "--reason", "gezinssituatie=De signalen thuis, stap 1 van de meldcode."});
    EXPECT_EQ(r["state"], "pending_approval") << r.dump();
    return r["message_id"].get<std::string>();
  }

  json Share(const std::string& id) { return fed_.AsJson("school", "zorgco", {"meldcode", "show", id}); }

  // The entries of the audit log with this action about this share.
  std::vector<json> Entries(const std::string& action, const std::string& id) {
    std::vector<json> out;
    auto log = fed_.AsJson("school", "auditor", {"audit", "query", "--action", action});
    for (const auto& e : log["entries"]) {
      if (e["object"] == id) out.push_back(e);
    }
    return out;
  }

  // The console (HTTPS, the node's port + 3) as zorgco2: signed in with
  // password and TOTP; returns the session cookie's value.
  std::string ConsoleSignIn() {
    auto port = static_cast<uint16_t>(fed_["school"].port + 3);
    const std::string origin = "https://127.0.0.1:" + std::to_string(port);
    auto cookie_of = [](const testing::WebReply& r) {
      std::smatch m;
      std::string set = r.Header("Set-Cookie");
      return std::regex_search(set, m, std::regex("__Host-schakel_sessie=([^;]+)")) ? m[1].str() : std::string();
    };
    auto pending = testing::WebRequestOnce(port, "POST", "/aanmelden", Form(origin, ""),
                                           "naam=zorgco2&wachtwoord=een+heel+lang+wachtwoord");
    EXPECT_EQ(pending.status, 303) << pending.body;
    std::string session = cookie_of(pending);
    auto page = testing::WebRequestOnce(port, "GET", "/aanmelden/code", {{"Cookie", Cookie(session)}});
    std::string code = crypto::FormatOtp(crypto::Hotp(totp_secret_, static_cast<uint64_t>(crypto::TotpStep(NowUtc()))));
    auto done = testing::WebRequestOnce(port, "POST", "/aanmelden/code", Form(origin, session),
                                        "csrf=" + Csrf(page.body) + "&code=" + code);
    EXPECT_EQ(done.status, 303) << done.body;
    return cookie_of(done);
  }
  static std::string Cookie(const std::string& session) { return "__Host-schakel_sessie=" + session; }
  static std::vector<std::pair<std::string, std::string>> Form(const std::string& origin, const std::string& session) {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/x-www-form-urlencoded"},
                                                          {"Origin", origin}};
    if (!session.empty()) h.emplace_back("Cookie", Cookie(session));
    return h;
  }
  static std::string Csrf(const std::string& body) {
    std::smatch m;
    return std::regex_search(body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]{64})\"")) ? m[1].str() : "";
  }

  static constexpr const char* kPassword = "een heel lang wachtwoord";
  std::vector<uint8_t> totp_secret_;
  TempDir tmp_;
  Federation fed_{tmp_};
};

TEST_F(MeldcodeTest, ApproverSeesTheJustificationStaffWhoDidNotAskDoNot) {
  std::string id = Request();
  // The second coordinator, who decides, reads it (and the reading is on record).
  auto seen = fed_.AsJson("school", "zorgco2", {"meldcode", "show", id});
  EXPECT_EQ(seen["justification"], kStored) << seen.dump();
  EXPECT_EQ(seen["justification_sha256"], Sha256Hex(kStored));
  auto reads = Entries("share.justification_read", id);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0]["reason"], "justification_sha256=" + Sha256Hex(kStored));
  // Staff assigned to the case see the share, not its justification.
  ASSERT_EQ(fed_.As("school", "zorgco", {"case", "assign", "casus-2026-0155", "--user", "other-mentor"}).code, 0);
  auto staff = fed_.AsJson("school", "other-mentor", {"meldcode", "show", id});
  EXPECT_TRUE(staff["justification"].is_null()) << staff.dump();
  EXPECT_EQ(staff["justification_sha256"], Sha256Hex(kStored));
  EXPECT_EQ(Entries("share.justification_read", id).size(), 1u);
  // Staff without the case see nothing of it; the list never carries it.
  EXPECT_EQ(fed_.As("school", "mentor", {"meldcode", "show", id}).code, 3);
  auto list = fed_.As("school", "zorgco2", {"shares", "--json"});
  EXPECT_EQ(list.out.find("mishandeling"), std::string::npos) << list.out;
  // Auditors read it through the audited read, not the share view.
  EXPECT_EQ(fed_.As("school", "auditor", {"meldcode", "show", id}).code, 3);
}

TEST_F(MeldcodeTest, TheRequesterCannotApproveOrRejectTheirOwn) {
  std::string id = Request();
  auto approve = fed_.As("school", "zorgco", {"meldcode", "approve", id});
  EXPECT_EQ(approve.code, 3) << approve.err;
  auto reject = fed_.As("school", "zorgco", {"meldcode", "reject", id, "--reason", "toch niet"});
  EXPECT_EQ(reject.code, 3) << reject.err;
  EXPECT_NE(reject.err.find("second person"), std::string::npos) << reject.err;
  EXPECT_EQ(Share(id)["state"], "pending_approval");
  // Staff may neither approve nor reject.
  EXPECT_EQ(fed_.As("school", "mentor", {"meldcode", "reject", id, "--reason", "x"}).code, 3);
  auto denied = Entries("share.reject", id);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["outcome"], "deny");
}

// Besluit verplichte meldcode art. 2: the organisation names the function
// that decides. With [meldcode] approver_role set, a coordinator without
// that function may neither approve nor reject (audited); one holding it
// approves. A function is only for coordinators.
TEST_F(MeldcodeTest, OnlyTheFunctionTheOrganisationNamedDecides) {
  std::string id = Request();
  const std::string dir = fed_["school"].dir;
  fed_.StopNode("school");
  const std::string path = dir + "/schakel.toml";
  std::string cfg = testing::ReadAll(path);
  const std::string line = "approver_role = 'coordinator'";
  size_t at = cfg.find(line);
  ASSERT_NE(at, std::string::npos) << "schakel init writes the [meldcode] table:\n" << cfg;
  cfg.replace(at, line.size(), "approver_role = 'aandachtsfunctionaris'");
  testing::WriteAll(path, cfg);
  auto staff = testing::RunSchakel({"user", "set-function", "--dir", dir, "mentor", "aandachtsfunctionaris"});
  EXPECT_EQ(staff.code, 2);
  EXPECT_NE(staff.err.find("held by a coordinator"), std::string::npos) << staff.err;
  EXPECT_EQ(testing::RunSchakel({"user", "set-function", "--dir", dir, "zorgco2", "Aandacht!"}).code, 2);
  fed_.StartNode("school");

  auto approve = fed_.As("school", "zorgco2", {"meldcode", "approve", id});
  EXPECT_EQ(approve.code, 3);
  EXPECT_NE(approve.err.find("holding the function aandachtsfunctionaris"), std::string::npos) << approve.err;
  EXPECT_EQ(fed_.As("school", "zorgco2", {"meldcode", "reject", id, "--reason", "niet nodig"}).code, 3);
  EXPECT_EQ(Share(id)["state"], "pending_approval");
  auto denied = Entries("share.approve", id);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["outcome"], "deny");
  EXPECT_EQ(denied[0]["reason"].get<std::string>().rfind("not_approver_role,", 0), 0u) << denied[0].dump();

  fed_.StopNode("school");
  auto given = testing::RunSchakel({"user", "set-function", "--dir", dir, "zorgco2", "aandachtsfunctionaris"});
  ASSERT_EQ(given.code, 0) << given.err;
  auto users = testing::RunSchakel({"user", "list", "--dir", dir});
  EXPECT_NE(users.out.find("function=aandachtsfunctionaris"), std::string::npos) << users.out;
  fed_.StartNode("school");
  auto ok = fed_.As("school", "zorgco2", {"meldcode", "approve", id});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(Share(id)["state"], "pending_approval");
  EXPECT_EQ(Entries("share.approved", id).size(), 1u);
}

TEST_F(MeldcodeTest, RejectionWithAReasonCancelsAndIsAuditedWithTheJustificationsHash) {
  std::string id = Request();
  const std::string hash = Sha256Hex(kStored);
  auto r = fed_.AsJson("school", "zorgco2",
                       {"meldcode", "reject", id, "--reason", "Eerst stap 3 (overleg met Veilig Thuis), dan melden."});
  EXPECT_EQ(r["state"], "cancelled");
  EXPECT_EQ(r["state_reason"], "meldcode_rejected");
  auto s = Share(id);
  EXPECT_EQ(s["state"], "cancelled");
  EXPECT_EQ(s["state_reason"], "meldcode_rejected");
  // The request's entry and the rejection's bind the justification by hash;
  // the rejection's reason is kept after "reason=".
  auto requested = Entries("share.pending_approval", id);
  ASSERT_EQ(requested.size(), 1u);
  EXPECT_NE(requested[0]["reason"].get<std::string>().find(",justification_sha256=" + hash), std::string::npos)
      << requested[0].dump();
  auto rejected = Entries("share.rejected", id);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["reason"], "meldcode_rejected,justification_sha256=" + hash +
                                       ",reason=Eerst stap 3 (overleg met Veilig Thuis), dan melden.");
  EXPECT_NE(rejected[0]["actor"]["user"], requested[0]["actor"]["user"]);  // four eyes
  // Nothing left to approve.
  EXPECT_EQ(fed_.As("school", "zorgco2", {"meldcode", "approve", id}).code, 2);
}

TEST_F(MeldcodeTest, AnApprovalsEntryCarriesTheHashToo) {
  std::string id = Request();
  ASSERT_EQ(fed_.As("school", "zorgco2", {"meldcode", "approve", id}).code, 0);
  auto approved = Entries("share.approved", id);
  ASSERT_EQ(approved.size(), 1u);
  EXPECT_EQ(approved[0]["reason"], "meldcode_second_approval,justification_sha256=" + Sha256Hex(kStored));
}

TEST_F(MeldcodeTest, AnEmptyOrOversizeReasonIsRefusedWith400) {
  std::string id = Request();
  const int port = fed_["school"].port + 1;  // the local API
  const std::string token = fed_["school"].tokens.at("zorgco2");
  const std::string target = "/v1/shares/" + id + "/reject";
  auto empty = ApiPost(port, token, target, R"({"reason": ""})");
  EXPECT_EQ(empty.first, 400);
  EXPECT_NE(empty.second.find("reason: must not be empty"), std::string::npos) << empty.second;
  auto missing = ApiPost(port, token, target, "{}");
  EXPECT_EQ(missing.first, 400);
  EXPECT_NE(missing.second.find("reason: missing"), std::string::npos) << missing.second;
  auto oversize = ApiPost(port, token, target, json{{"reason", std::string(501, 'x')}}.dump());
  EXPECT_EQ(oversize.first, 400);
  EXPECT_NE(oversize.second.find("reason: longer than 500 bytes"), std::string::npos) << oversize.second;
  auto control = ApiPost(port, token, target, json{{"reason", "twee\nregels"}}.dump());
  EXPECT_EQ(control.first, 400);
  EXPECT_NE(control.second.find("reason: 1 to 500 bytes of printable text"), std::string::npos) << control.second;
  // 500 bytes is accepted; the CLI says the same as the API (exit 2 for 400).
  auto cli = fed_.As("school", "zorgco2", {"meldcode", "reject", id, "--reason", ""});
  EXPECT_EQ(cli.code, 2) << cli.err;
  EXPECT_EQ(Share(id)["state"], "pending_approval");
  auto ok = ApiPost(port, token, target, json{{"reason", std::string(500, 'x')}}.dump());
  EXPECT_EQ(ok.first, 200) << ok.second;
}

TEST_F(MeldcodeTest, TheRequesterCancelsOthersCannot) {
  std::string id = Request();
  EXPECT_EQ(fed_.As("school", "zorgco2", {"meldcode", "cancel", id}).code, 3);
  EXPECT_EQ(fed_.As("school", "mentor", {"meldcode", "cancel", id}).code, 3);
  EXPECT_EQ(fed_.As("school", "auditor", {"meldcode", "cancel", id}).code, 3);
  EXPECT_EQ(Share(id)["state"], "pending_approval");
  EXPECT_EQ(Entries("share.cancel", id).size(), 2u);  // the two refusals past the role check
  auto r = fed_.AsJson("school", "zorgco", {"meldcode", "cancel", id});
  EXPECT_EQ(r["state"], "cancelled");
  EXPECT_EQ(r["state_reason"], "cancelled_by_requester");
  auto cancelled = Entries("share.cancelled", id);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0]["reason"], "cancelled_by_requester,justification_sha256=" + Sha256Hex(kStored));
  EXPECT_EQ(fed_.As("school", "zorgco", {"meldcode", "cancel", id}).code, 2);  // no longer pending
}

TEST_F(MeldcodeTest, AuditorsReadTheJustificationAndTheReadingIsAudited) {
  std::string id = Request();
  auto r = fed_.AsJson("school", "auditor", {"meldcode", "justification", id});
  EXPECT_EQ(r["justification"], kStored);
  EXPECT_EQ(r["sha256"], Sha256Hex(kStored));
  // The hash read matches the one the request's entry put in the chain.
  auto requested = Entries("share.pending_approval", id);
  ASSERT_EQ(requested.size(), 1u);
  EXPECT_NE(requested[0]["reason"].get<std::string>().find("justification_sha256=" + r["sha256"].get<std::string>()),
            std::string::npos);
  auto reads = Entries("share.justification_read", id);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0]["actor"]["role"], "auditor");
  EXPECT_EQ(reads[0]["outcome"], "ok");
  // Coordinators may too; staff may not.
  EXPECT_EQ(fed_.As("school", "zorgco2", {"meldcode", "justification", id}).code, 0);
  EXPECT_EQ(fed_.As("school", "mentor", {"meldcode", "justification", id}).code, 3);
  EXPECT_EQ(Entries("share.justification_read", id).size(), 2u);
}

// A Meldcode report carries only what is necessary (Wmo 2015 art. 5.2.6):
// no category is chosen for the requester, each has its reason, and the BSN
// never goes (Veilig Thuis finds it itself).
TEST_F(MeldcodeTest, AReportNamesEachCategoryWithItsReasonAndNeverTheBsn) {
  const std::vector<std::string> base = {"share",    "casus-2026-0155", "--to",        "veilig-thuis-u", "--purpose",
                                         "meldcode", "--justification", kJustification};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return fed_.As("school", "zorgco", args);
  };
  auto none = with({});
  EXPECT_EQ(none.code, 2) << none.err;
  EXPECT_NE(none.err.find("only what is necessary"), std::string::npos) << none.err;
  auto no_reason =
      with({"--category", "identificatie", "--category", "gezinssituatie", "--reason", "identificatie=Wie het is."});
  EXPECT_EQ(no_reason.code, 2) << no_reason.err;
  EXPECT_NE(no_reason.err.find("why gezinssituatie is necessary"), std::string::npos) << no_reason.err;
  auto stray = with({"--category", "identificatie", "--reason", "identificatie=Wie.", "--reason", "gezondheid=Ziek."});
  EXPECT_EQ(stray.code, 2) << stray.err;
  EXPECT_NE(stray.err.find("gezondheid is not among"), std::string::npos) << stray.err;
  auto malformed = with({"--category", "identificatie", "--reason", "identificatie"});
  EXPECT_EQ(malformed.code, 2) << malformed.err;
  EXPECT_NE(malformed.err.find("CATEGORY=TEXT"), std::string::npos) << malformed.err;
  EXPECT_TRUE(
      fed_.AsJson("school", "auditor", {"audit", "query", "--action", "share.pending_approval"})["entries"].empty());

  // The BSN asked for is withheld; without --allow-partial nothing goes.
  auto bsn = with({"--category", "identificatie", "--reason", "identificatie=Wie.", "--category", "bsn", "--reason",
                   "bsn=Voor de zekerheid."});
  EXPECT_EQ(bsn.code, 3) << bsn.err;
  EXPECT_NE(bsn.err.find("bsn"), std::string::npos) << bsn.err;
  auto partial =
      fed_.AsJson("school", "zorgco",
                  {"share", "casus-2026-0155", "--to", "veilig-thuis-u", "--purpose", "meldcode", "--justification",
                   kJustification, "--category", "identificatie", "--reason", "identificatie=Wie.", "--category", "bsn",
                   "--reason", "bsn=Voor de zekerheid.", "--allow-partial"});
  EXPECT_EQ(partial["state"], "pending_approval") << partial.dump();
  EXPECT_EQ(partial["decision"]["withheld"], json::array({"bsn"})) << partial.dump();
  EXPECT_EQ(partial["decision"]["categories"], json::array({"identificatie"})) << partial.dump();

  // Reasons belong to a Meldcode report only.
  auto other = fed_.As("school", "zorgco",
                       {"share", "casus-2026-0155", "--to", "veilig-thuis-u", "--purpose", "doorverwijzing",
                        "--category", "identificatie", "--reason", "identificatie=Wie."});
  EXPECT_EQ(other.code, 2) << other.err;
  EXPECT_NE(other.err.find("only a Meldcode report"), std::string::npos) << other.err;
}

// The console's page of a pending Meldcode share shows the second
// coordinator the justification, HTML-escaped, with the approve and reject
// forms; rejecting through the form ends the share meldcode_rejected.
TEST_F(MeldcodeTest, TheConsoleShowsTheJustificationEscapedAndRejectsWithAReason) {
  const std::string tricky = "Zie <script>alert(1)</script> & \"stap 4\"";
  auto r =
      fed_.AsJson("school", "zorgco",
                  {"share", "casus-2026-0155", "--to", "veilig-thuis-u", "--purpose", "meldcode", "--justification",
                   tricky, "--category", "identificatie", "--reason", "identificatie=<b>wie</b>"});
  const std::string stored = tricky + "\n\nNoodzakelijk per categorie:\n- identificatie: <b>wie</b>";
  std::string id = r["message_id"];
  std::string session = ConsoleSignIn();
  ASSERT_FALSE(session.empty());
  auto port = static_cast<uint16_t>(fed_["school"].port + 3);
  auto list = testing::WebRequestOnce(port, "GET", "/delingen", {{"Cookie", Cookie(session)}});
  EXPECT_NE(list.body.find("/delingen/" + id), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("alert(1)"), std::string::npos);  // the list shows no justification
  auto page = testing::WebRequestOnce(port, "GET", "/delingen/" + id, {{"Cookie", Cookie(session)}});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Zie &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;stap 4&quot;"), std::string::npos)
      << page.body;
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.body.find(Sha256Hex(stored)), std::string::npos);
  EXPECT_NE(page.body.find("identificatie: &lt;b&gt;wie&lt;/b&gt;"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("action=\"/delingen/" + id + "/goedkeuren\""), std::string::npos);
  EXPECT_NE(page.body.find("<label for=\"reason\">"), std::string::npos);
  auto rejected = testing::WebRequestOnce(port, "POST", "/delingen/" + id + "/afwijzen",
                                          Form("https://127.0.0.1:" + std::to_string(port), session),
                                          "csrf=" + Csrf(page.body) + "&reason=Eerst+stap+3+afronden");
  EXPECT_EQ(rejected.status, 303) << rejected.body;
  auto s = Share(id);
  EXPECT_EQ(s["state"], "cancelled");
  EXPECT_EQ(s["state_reason"], "meldcode_rejected");
  auto entries = Entries("share.rejected", id);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0]["reason"].get<std::string>().find(",reason=Eerst stap 3 afronden"), std::string::npos)
      << entries[0].dump();
}

// The share form's "Toets per categorie" before anything is chosen: each
// category the case holds says whether it may go (a Meldcode report as if a
// second person approved; the BSN never), nothing is ticked for the
// requester, nothing is shared, and the check is audited as a dry run. A
// purpose without a flow to Veilig Thuis: nothing may go, and why.
TEST_F(MeldcodeTest, TheShareFormSaysPerCategoryWhatMayGoBeforeAnythingIsSent) {
  std::string session = ConsoleSignIn();
  ASSERT_FALSE(session.empty());
  auto port = static_cast<uint16_t>(fed_["school"].port + 3);
  const auto form = Form("https://127.0.0.1:" + std::to_string(port), session);
  auto kase = testing::WebRequestOnce(port, "GET", "/dossiers/casus-2026-0155", {{"Cookie", Cookie(session)}});
  ASSERT_EQ(kase.status, 200) << kase.body;
  EXPECT_NE(kase.body.find("formaction=\"/delen/toets\""), std::string::npos);
  EXPECT_EQ(kase.body.find(" checked>"), std::string::npos);  // nothing ticked beforehand
  const std::string csrf = Csrf(kase.body);
  auto check = testing::WebRequestOnce(
      port, "POST", "/delen/toets", form,
      "csrf=" + csrf + "&case_id=casus-2026-0155&to=veilig-thuis-u&purpose=meldcode&cat_gezinssituatie=1");
  ASSERT_EQ(check.status, 200) << check.body;
  const std::string& page = check.body;
  EXPECT_NE(page.find("<h1>Delen: wat mag er mee</h1>"), std::string::npos) << page;
  // Each box's label carries its verdict.
  auto label_of = [&](const std::string& cat) {
    size_t at = page.find("<label for=\"deel-" + cat + "\">");
    return at == std::string::npos ? std::string() : page.substr(at, page.find("</label>", at) - at);
  };
  EXPECT_NE(label_of("bsn").find("mag niet mee: Deze categorie hoort volgens het privacyprotocol niet bij dit doel"),
            std::string::npos)
      << label_of("bsn");
  for (const char* cat : {"identificatie", "gezinssituatie", "hulpvraag"}) {
    EXPECT_NE(label_of(cat).find("mag mee (na akkoord van een tweede persoon)"), std::string::npos) << label_of(cat);
  }
  // The form comes back as posted: partner, purpose, the one ticked box.
  EXPECT_NE(page.find("<option value=\"veilig-thuis-u\" selected>"), std::string::npos);
  EXPECT_NE(page.find("<option value=\"meldcode\" selected>"), std::string::npos);
  EXPECT_NE(page.find("id=\"deel-gezinssituatie\" name=\"cat_gezinssituatie\" value=\"1\" checked>"),
            std::string::npos);
  size_t ticked = 0;
  for (size_t at = page.find(" checked>"); at != std::string::npos; at = page.find(" checked>", at + 1)) ++ticked;
  EXPECT_EQ(ticked, 1u);
  // Nothing was shared; the check is in the log as a dry run.
  EXPECT_TRUE(fed_.AsJson("school", "zorgco", {"shares"})["shares"].empty());
  EXPECT_EQ(Entries("share.evaluated", "casus-2026-0155->veilig-thuis-u").size(), 1u);

  auto none =
      testing::WebRequestOnce(port, "POST", "/delen/toets", form,
                              "csrf=" + csrf + "&case_id=casus-2026-0155&to=veilig-thuis-u&purpose=doorverwijzing");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_NE(none.body.find("Niets mag mee: Het privacyprotocol kent geen gegevensstroom"), std::string::npos)
      << none.body;
  EXPECT_EQ(none.body.find("\u2014 mag mee"), std::string::npos);
  // Someone else's choice of case is not this form's to reveal.
  auto unknown =
      testing::WebRequestOnce(port, "POST", "/delen/toets", form,
                              "csrf=" + csrf + "&case_id=casus-bestaat-niet&to=veilig-thuis-u&purpose=meldcode");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
}

}  // namespace
}  // namespace schakel
