// Permission requests end to end (issue 17, docs/consent-requests.md): a
// coordinator asks through `schakel consent request`; the parent and the
// young person answer on their own pages over HTTPS (/t/{token}) with their
// own codes; the answers become consents the engine uses, with evidence; a
// share carries exactly what both agreed to; the young person withdraws on
// the management page and the partner's copy is revoked. Also: who is asked
// at 11, 13 and 16, a refusal, the lock, and wrong or replayed form posts.
#include <gtest/gtest.h>

#include <regex>

#include "federation_support.h"
#include "schakel/base/time.h"
#include "schakel/store/database.h"
#include "web_client.h"

namespace schakel::testing {
namespace {

using nlohmann::json;

const std::vector<std::pair<std::string, std::string>> kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

struct GrantLinkSeen {
  std::string role, token, code;
};

// A birth date that makes a student `years` old today (Amsterdam), well away
// from a birthday.
std::string BirthDateForAge(int years) {
  Date today = AmsterdamDate(NowUtc());
  Date d = AddDays(today, -40);
  return FormatDate(Date{d.year() - std::chrono::years(years), d.month(), std::chrono::day(1)});
}

std::string DaysAhead(int days) { return FormatDate(AddDays(AmsterdamDate(NowUtc()), days)); }

class ConsentRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(fed_.AddSchoolAndTeam());
    ASSERT_NO_FATAL_FAILURE(fed_.AddUser("school", "privacy", "auditor"));
    fed_.StartNode("team");
    fed_.StartNode("school");
    port_ = static_cast<uint16_t>(fed_["school"].port + 2);
    ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  }

  void SetAge(const std::string& student, int years) {
    auto r = fed_.As("school", "zorgco", {"student", "set", student, "--birth-date", BirthDateForAge(years)});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  std::vector<GrantLinkSeen> Request(const std::string& student, const std::vector<std::string>& categories) {
    std::vector<std::string> args = {"consent",   "request",        student,   "--to",        "wijkteam-b",
                                     "--purpose", "doorverwijzing", "--until", DaysAhead(180)};
    for (const auto& c : categories) {
      args.push_back("--category");
      args.push_back(c);
    }
    auto r = fed_.As("school", "zorgco", args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<GrantLinkSeen> out;
    std::regex re(
        "(ouder|jongere)(?: \\([^)]*\\))?: https://127\\.0\\.0\\.1:[0-9]+/t/([A-Za-z0-9_-]{43})\n  access code \\(hand "
        "it "
        "over separately\\): ([2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5})");
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), re), end; it != end; ++it) {
      out.push_back({(*it)[1], (*it)[2], (*it)[3]});
    }
    return out;
  }

  WebReply Post(const GrantLinkSeen& g, const std::string& body) {
    return WebRequestOnce(port_, "POST", "/t/" + g.token, kForm, body);
  }
  WebReply Agree(const GrantLinkSeen& g, const std::vector<std::string>& categories, const std::string& name) {
    std::string body = "code=" + g.code + "&action=answer&choice=agree&name=" + name;
    for (const auto& c : categories) body += "&cat_" + c + "=1";
    return Post(g, body);
  }

  // The school (stopped) starts again under `protocol` as its protocol file.
  void UseProtocol(const std::string& protocol) {
    WriteAll(fed_["school"].dir + "/protocol.toml", protocol);
    std::string toml = ReadAll(fed_["school"].dir + "/schakel.toml");
    auto pos = toml.find("file = ''");
    ASSERT_NE(pos, std::string::npos) << toml;
    toml.replace(pos, 9, "file = 'protocol.toml'");
    WriteAll(fed_["school"].dir + "/schakel.toml", toml);
    fed_.StartNode("school");
  }

  json Consents(const std::string& student) {
    return fed_.AsJson("school", "zorgco", {"consent", "list", "--student", student});
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  uint16_t port_ = 0;
};

TEST_F(ConsentRequestTest, ThirteenYearOldTheShareCarriesWhatBothAgreedToUntilTheYoungPersonWithdraws) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 13));
  auto links = Request("stu-1042", {"identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"});
  ASSERT_EQ(links.size(), 2u);
  const GrantLinkSeen& ouder = links[0].role == "ouder" ? links[0] : links[1];
  const GrantLinkSeen& jongere = links[0].role == "jongere" ? links[0] : links[1];
  ASSERT_EQ(ouder.role, "ouder");
  ASSERT_EQ(jongere.role, "jongere");

  // A preview or mail scanner: nothing revealed, nothing used up.
  for (int i = 0; i < 2; ++i) {
    auto get = WebRequestOnce(port_, "GET", "/t/" + ouder.token);
    ASSERT_EQ(get.status, 200) << get.error;
    EXPECT_NE(get.body.find("Toegangscode"), std::string::npos);
    EXPECT_EQ(get.body.find("Sanne"), std::string::npos);
  }
  auto wrong = Post(ouder, "code=AAAAA-AAAAA");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_NE(wrong.body.find("nog 4 pogingen"), std::string::npos) << wrong.body;
  EXPECT_EQ(wrong.body.find("Sanne"), std::string::npos);
  // A page for the young person uses the code of the parent: refused too.
  EXPECT_EQ(Post(jongere, "code=" + ouder.code).status, 403);

  // The right code: the question, in Dutch, nothing ticked.
  auto question = Post(ouder, "code=" + ouder.code);
  ASSERT_EQ(question.status, 200) << question.body;
  EXPECT_NE(question.body.find("Sanne de Vries"), std::string::npos);
  EXPECT_NE(question.body.find("Org team"), std::string::npos) << "the recipient is named";
  EXPECT_NE(question.body.find("uw kind"), std::string::npos);
  EXPECT_NE(question.body.find("name=\"cat_contact\""), std::string::npos);
  EXPECT_EQ(question.body.find("checked"), std::string::npos) << "nothing is pre-ticked";
  auto young_question = Post(jongere, "code=" + jongere.code);
  ASSERT_EQ(young_question.status, 200);
  EXPECT_NE(young_question.body.find("jou"), std::string::npos) << "the young person is spoken to directly";

  // The parent agrees to three of five; the young person to two of those.
  auto answered = Agree(ouder, {"identificatie", "hulpvraag", "afspraken"}, "M.+de+Vries");
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_NE(answered.body.find("Dank"), std::string::npos);
  auto replayed = Agree(ouder, {"identificatie", "hulpvraag", "afspraken", "contact"}, "M.+de+Vries");
  EXPECT_EQ(replayed.status, 410) << "a replayed form changes nothing";
  EXPECT_NE(replayed.body.find("al geantwoord"), std::string::npos);
  ASSERT_EQ(Agree(jongere, {"hulpvraag", "afspraken"}, "Sanne").status, 200);

  // The consents, with evidence.
  json consents = Consents("stu-1042");
  ASSERT_EQ(consents["consents"].size(), 2u) << consents.dump();
  for (const auto& c : consents["consents"]) {
    json evidence = json::parse(c["evidence"].get<std::string>());
    EXPECT_EQ(evidence["kind"], "consent_request");
    EXPECT_EQ(evidence["text_version"], "toestemming-1");
    EXPECT_EQ(evidence["text_sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(evidence["grantor_role"], c["grantor_role"]);
  }
  auto requests = fed_.As("school", "zorgco", {"consent", "requests", "stu-1042"});
  ASSERT_EQ(requests.code, 0) << requests.err;
  EXPECT_NE(requests.out.find("ouder: agreed (afspraken,hulpvraag,identificatie)"), std::string::npos) << requests.out;

  // A share carries exactly what both agreed to.
  auto shared =
      fed_.As("school", "mentor",
              {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  const std::string msg = LastLine(shared.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", std::chrono::seconds(30)));
  json shown = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_TRUE(shown["summary"].contains("hulpvraag")) << shown.dump();
  EXPECT_TRUE(shown["summary"].contains("afspraken"));
  EXPECT_FALSE(shown["summary"].contains("identificatie")) << "the young person did not agree to it";
  EXPECT_FALSE(shown["summary"].contains("contact"));
  EXPECT_FALSE(shown["summary"].contains("gezinssituatie"));

  // The young person withdraws on the management page; the partner's copy
  // goes (revoked, then purged once the partner confirms; the test waits
  // for the confirmation, the revoked state may pass too fast to see).
  auto manage = Post(jongere, "code=" + jongere.code);
  ASSERT_EQ(manage.status, 200);
  EXPECT_NE(manage.body.find("Toestemming intrekken"), std::string::npos);
  auto withdrawn = Post(jongere, "code=" + jongere.code + "&action=withdraw");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_NE(withdrawn.body.find("ingetrokken"), std::string::npos);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged", std::chrono::seconds(30)));
  EXPECT_EQ(Post(jongere, "code=" + jongere.code).status, 410) << "withdrawn: the page is gone";
  json after = Consents("stu-1042");
  int withdrawn_count = 0;
  for (const auto& c : after["consents"]) withdrawn_count += c["withdrawn_at"].is_null() ? 0 : 1;
  EXPECT_EQ(withdrawn_count, 1);

  // The parent's inzage link shows all of it, in Dutch, naming no staff member.
  auto inzage = fed_.As("school", "zorgco", {"consent", "inzage", "stu-1042", "--for", "ouder"});
  ASSERT_EQ(inzage.code, 0) << inzage.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(inzage.out, m, std::regex("/i/([A-Za-z0-9_-]{43})"))) << inzage.out;
  const std::string inzage_token = m[1];
  const std::string inzage_code = LastLine(inzage.out);
  auto closed = WebRequestOnce(port_, "GET", "/i/" + inzage_token);
  EXPECT_EQ(closed.status, 200);
  EXPECT_EQ(closed.body.find("Sanne"), std::string::npos);
  EXPECT_EQ(WebRequestOnce(port_, "POST", "/i/" + inzage_token, kForm, "code=AAAAA-AAAAA").status, 403);
  auto report = WebRequestOnce(port_, "POST", "/i/" + inzage_token, kForm, "code=" + inzage_code);
  ASSERT_EQ(report.status, 200) << report.body;
  for (const char* text : {"Sanne de Vries", "Gedeeld met Org team: Afspraken, Hulpvraag", "Grondslag: toestemming",
                           "ondertekend als", "M. de Vries", "ja gezegd, later ingetrokken", "Ingetrokken bij Org team",
                           "ouder: ja, voor Afspraken, Hulpvraag, Identificatie"}) {
    EXPECT_NE(report.body.find(text), std::string::npos) << text << " in\n" << report.body;
  }
  for (const char* english : {"consent_withdrawn", "share.permitted", "doorverwijzing to", "mentor", "zorgco"}) {
    EXPECT_EQ(report.body.find(english), std::string::npos) << english;
  }

  // Audited.
  json audit = fed_.AsJson("school", "privacy", {"audit", "query", "--student", "stu-1042"});
  std::string actions;
  for (const auto& e : audit["entries"]) actions += e["action"].get<std::string>() + " ";
  for (const char* a :
       {"consent_request.created", "consent_request.page_view", "consent_request.wrong_code", "consent_request.opened",
        "consent.record", "consent.withdraw", "share.revoked", "inzage.created", "inzage.wrong_code", "inzage.read"}) {
    EXPECT_NE(actions.find(a), std::string::npos) << a << " in " << actions;
  }
}

TEST_F(ConsentRequestTest, WithdrawingSomeCategoriesEndsOnlyWhatCarriedThem) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 16));
  auto links = Request("stu-1042", {"identificatie", "hulpvraag", "afspraken"});
  ASSERT_EQ(links.size(), 1u);
  const GrantLinkSeen& jongere = links[0];
  ASSERT_EQ(Agree(jongere, {"identificatie", "hulpvraag", "afspraken"}, "Sanne").status, 200);
  auto share = [&](const std::vector<std::string>& categories) {
    std::vector<std::string> args = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                     "--purpose", "doorverwijzing",  "--allow-partial"};
    for (const auto& c : categories) {
      args.push_back("--category");
      args.push_back(c);
    }
    auto r = fed_.As("school", "mentor", args);
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string msg = LastLine(r.out);
    EXPECT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", std::chrono::seconds(30))) << msg;
    return msg;
  };
  const std::string with_id = share({"identificatie", "hulpvraag"});
  const std::string without_id = share({"hulpvraag", "afspraken"});

  // The management page offers each category that stands.
  auto manage = Post(jongere, "code=" + jongere.code);
  ASSERT_EQ(manage.status, 200);
  EXPECT_NE(manage.body.find("name=\"wcat_identificatie\""), std::string::npos) << manage.body;
  // "Some" with nothing ticked, or a category that does not stand: asked again.
  EXPECT_EQ(Post(jongere, "code=" + jongere.code + "&action=withdraw&scope=some").status, 400);
  auto bad = Post(jongere, "code=" + jongere.code + "&action=withdraw&scope=some&wcat_contact=1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Kies alleen"), std::string::npos) << bad.body;

  auto narrowed = Post(jongere, "code=" + jongere.code + "&action=withdraw&scope=some&wcat_identificatie=1");
  ASSERT_EQ(narrowed.status, 200) << narrowed.body;
  EXPECT_NE(narrowed.body.find("een deel van je toestemming ingetrokken"), std::string::npos) << narrowed.body;
  EXPECT_EQ(narrowed.body.find("wcat_identificatie"), std::string::npos) << "no longer offered";
  // The share that carried identificatie goes; the other stays, now on the
  // narrowed copy.
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", with_id, "purged", std::chrono::seconds(30)));
  json consents = Consents("stu-1042");
  ASSERT_EQ(consents["consents"].size(), 2u) << consents.dump();
  std::string narrowed_id;
  for (const auto& c : consents["consents"]) {
    if (!c["withdrawn_at"].is_null()) continue;
    narrowed_id = c["id"];
    EXPECT_EQ(c["categories"], json({"afspraken", "hulpvraag"})) << c.dump();
    json evidence = json::parse(c["evidence"].get<std::string>());
    EXPECT_EQ(evidence["withdrawn_categories"], json({"identificatie"}));
    EXPECT_EQ(evidence["typed_name"], "Sanne") << "the original answer is kept";
    ASSERT_EQ(c["shares"].size(), 1u) << c.dump();
    EXPECT_EQ(c["shares"][0]["message_id"], without_id);
  }
  ASSERT_FALSE(narrowed_id.empty()) << consents.dump();
  auto requests = fed_.As("school", "zorgco", {"consent", "requests", "stu-1042"});
  EXPECT_NE(requests.out.find("jongere: agreed (afspraken,hulpvraag)"), std::string::npos) << requests.out;
  json outbox = fed_.AsJson("school", "mentor", {"shares"});
  for (const auto& s : outbox["shares"]) {
    if (s["message_id"] == without_id) {
      EXPECT_EQ(s["state"], "delivered") << s.dump();
    }
  }

  // A new share carries only what stands; the rest is withheld.
  auto again = fed_.As(
      "school", "mentor",
      {"share", "casus-2026-0042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--allow-partial", "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["decision"]["categories"], json({"afspraken", "hulpvraag"})) << again.out;

  // Withdrawing the rest ends it all; the link is then gone.
  auto all = Post(jongere, "code=" + jongere.code + "&action=withdraw&scope=all");
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", without_id, "purged", std::chrono::seconds(30)));
  EXPECT_EQ(Post(jongere, "code=" + jongere.code).status, 410);
}

// At 11 the parent's yes on the page is enough for a share; at 16 it is not
// (the young person decides alone): a parent's consent, even recorded, does
// not carry the share until the young person agrees on their own page.
TEST_F(ConsentRequestTest, AtElevenTheParentDecidesAtSixteenTheYoungPerson) {
  const std::vector<std::string> share = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                          "--purpose", "doorverwijzing",  "--allow-partial"};
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 11));
  auto eleven = Request("stu-1042", {"hulpvraag"});
  ASSERT_EQ(eleven.size(), 1u);
  ASSERT_EQ(Agree(eleven[0], {"hulpvraag"}, "M.+de+Vries").status, 200);
  auto shared = fed_.As("school", "mentor", share);
  ASSERT_EQ(shared.code, 0) << shared.err;

  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 16));
  auto refused = fed_.As("school", "mentor", share);
  EXPECT_EQ(refused.code, 3) << "the parent's consent is no longer enough: " << refused.out;
  EXPECT_NE(refused.err.find("missing_consent_jongere"), std::string::npos) << refused.err;
  auto sixteen = Request("stu-1042", {"hulpvraag"});
  ASSERT_EQ(sixteen.size(), 1u);
  EXPECT_EQ(sixteen[0].role, "jongere") << "no parent is asked at 16";
  ASSERT_EQ(Agree(sixteen[0], {"hulpvraag"}, "Sanne").status, 200);
  EXPECT_EQ(fed_.As("school", "mentor", share).code, 0);
}

TEST_F(ConsentRequestTest, WhoIsAskedFollowsTheAge) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-3155", 11));
  auto eleven = Request("stu-3155", {"hulpvraag"});
  ASSERT_EQ(eleven.size(), 1u);
  EXPECT_EQ(eleven[0].role, "ouder");
  // The parent agrees; later a coordinator withdraws the consent (on the
  // parent's word by phone): the management page says so and offers nothing.
  ASSERT_EQ(Agree(eleven[0], {"hulpvraag"}, "F.+El+Amrani").status, 200);
  json given = Consents("stu-3155");
  ASSERT_EQ(given["consents"].size(), 1u);
  EXPECT_EQ(given["consents"][0]["request_id"].get<std::string>().rfind("cr-", 0), 0u) << given.dump();
  auto withdrawn = fed_.As("school", "zorgco", {"consent", "withdraw", given["consents"][0]["id"].get<std::string>()});
  ASSERT_EQ(withdrawn.code, 0) << withdrawn.err;
  auto manage = Post(eleven[0], "code=" + eleven[0].code);
  EXPECT_EQ(manage.status, 410);
  EXPECT_NE(manage.body.find("ingetrokken"), std::string::npos) << manage.body;
  EXPECT_EQ(manage.body.find("Toestemming intrekken"), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(SetAge("stu-2207", 16));
  auto sixteen = Request("stu-2207", {"hulpvraag"});
  ASSERT_EQ(sixteen.size(), 1u);
  EXPECT_EQ(sixteen[0].role, "jongere");

  // A refusal is recorded, not guessed at: no consent, the request says no.
  auto refused = Post(sixteen[0], "code=" + sixteen[0].code + "&action=answer&choice=refuse&name=Daan");
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_NE(refused.body.find("geen toestemming"), std::string::npos);
  EXPECT_TRUE(Consents("stu-2207")["consents"].empty());
  auto listed = fed_.As("school", "zorgco", {"consent", "requests", "stu-2207"});
  EXPECT_NE(listed.out.find("jongere: refused"), std::string::npos) << listed.out;
}

TEST_F(ConsentRequestTest, BadFormsAreRefusedInDutchAndFiveWrongCodesLock) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-3155", 11));
  auto links = Request("stu-3155", {"hulpvraag", "afspraken"});
  ASSERT_EQ(links.size(), 1u);
  const GrantLinkSeen& g = links[0];
  auto no_categories = Post(g, "code=" + g.code + "&action=answer&choice=agree&name=F.+El+Amrani");
  EXPECT_EQ(no_categories.status, 400);
  EXPECT_NE(no_categories.body.find("Vink aan"), std::string::npos) << no_categories.body;
  auto no_name = Post(g, "code=" + g.code + "&action=answer&choice=agree&cat_hulpvraag=1");
  EXPECT_EQ(no_name.status, 400);
  auto not_asked = Post(g, "code=" + g.code + "&action=answer&choice=agree&name=F&cat_gezondheid=1");
  EXPECT_EQ(not_asked.status, 400);
  auto duplicate = Post(g, "code=" + g.code + "&code=" + g.code);
  EXPECT_EQ(duplicate.status, 400);
  EXPECT_TRUE(Consents("stu-3155")["consents"].empty());
  // An answer with the wrong code is a wrong code.
  auto forged = Post(g, "code=AAAAA-AAAAA&action=answer&choice=agree&name=X&cat_hulpvraag=1");
  EXPECT_EQ(forged.status, 403);
  for (int i = 0; i < 4; ++i) Post(g, "code=BBBBB-BBBBB");
  auto locked = Post(g, "code=" + g.code);
  EXPECT_EQ(locked.status, 410);
  EXPECT_NE(locked.body.find("geblokkeerd"), std::string::npos) << locked.body;
  EXPECT_TRUE(Consents("stu-3155")["consents"].empty());
  // Cross-site and non-form posts never reach the code.
  auto cross = WebRequestOnce(
      port_, "POST", "/t/" + g.token,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "https://evil.example"}}, "code=" + g.code);
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(WebRequestOnce(port_, "GET", "/t/not-a-token").status, 404);
}

// `[consent] parents = "all_with_authority"`: each parent with authority on
// the register gets a link of their own; one parent's yes is not enough;
// when one withdraws, the other's consent on that request falls too.
TEST_F(ConsentRequestTest, TwoParentsWithAuthorityBothDecide) {
  fed_.StopNode("school");
  auto shown = RunSchakel({"policy", "show", "--dir", fed_["school"].dir});
  ASSERT_EQ(shown.code, 0) << shown.err;
  std::string protocol = shown.out;
  auto at = protocol.find("parents = \"one\"");
  ASSERT_NE(at, std::string::npos) << protocol;
  protocol.replace(at, 15, "parents = \"all_with_authority\"");
  ASSERT_NO_FATAL_FAILURE(UseProtocol(protocol));

  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 9));
  auto r = fed_.As("school", "zorgco",
                   {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "doorverwijzing", "--category",
                    "hulpvraag", "--category", "afspraken", "--until", DaysAhead(90)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ouder (M. de Vries): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ouder (P. de Vries): "), std::string::npos) << r.out;
  std::vector<GrantLinkSeen> links;
  std::regex re(
      "ouder \\(([^)]*)\\): https://127\\.0\\.0\\.1:[0-9]+/t/([A-Za-z0-9_-]{43})\n  access code "
      "\\(hand it over separately\\): ([2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5})");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), re), end; it != end; ++it) {
    links.push_back({(*it)[1], (*it)[2], (*it)[3]});
  }
  ASSERT_EQ(links.size(), 2u) << r.out;
  auto question = Post(links[0], "code=" + links[0].code);
  EXPECT_NE(question.body.find("(" + links[0].role + ")"), std::string::npos) << "the parent is addressed by name";

  const std::vector<std::string> share = {"share",     "casus-2026-0042", "--to",           "wijkteam-b",
                                          "--purpose", "doorverwijzing",  "--allow-partial"};
  ASSERT_EQ(Agree(links[0], {"hulpvraag", "afspraken"}, "M.+de+Vries").status, 200);
  auto one = fed_.As("school", "mentor", share);
  EXPECT_EQ(one.code, 3) << "one parent of two is not enough: " << one.out << one.err;
  EXPECT_NE(one.err.find("missing_consent_ouder"), std::string::npos) << one.err;

  ASSERT_EQ(Agree(links[1], {"hulpvraag"}, "P.+de+Vries").status, 200);
  auto both = fed_.As("school", "mentor", share);
  ASSERT_EQ(both.code, 0) << both.err;
  const std::string msg = LastLine(both.out);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "delivered", std::chrono::seconds(30)));
  json received = fed_.AsJson("team", "gezinswerker", {"inbox", "show", msg});
  EXPECT_TRUE(received["summary"].contains("hulpvraag"));
  EXPECT_FALSE(received["summary"].contains("afspraken")) << "only what both parents agreed to";

  // The father withdraws: the mother's consent on the request falls with it.
  ASSERT_EQ(Post(links[1], "code=" + links[1].code + "&action=withdraw").status, 200);
  ASSERT_TRUE(fed_.WaitShareState("school", "mentor", msg, "purged", std::chrono::seconds(30)));
  auto again = fed_.As("school", "mentor", share);
  EXPECT_EQ(again.code, 3) << again.out;
}

// A flow for help offered directly to the young person (UAVG art. 5 lid 6,
// youth_alone_from = 12): a 13-year-old is asked alone, no parent.
TEST_F(ConsentRequestTest, HelpOfferedDirectlyToTheYoungPersonAsksThemAlone) {
  fed_.StopNode("school");
  auto shown = RunSchakel({"policy", "show", "--dir", fed_["school"].dir});
  ASSERT_EQ(shown.code, 0) << shown.err;
  std::string protocol = shown.out;
  auto at = protocol.find("purpose = \"doorverwijzing\"");
  ASSERT_NE(at, std::string::npos) << protocol;
  protocol.insert(protocol.find('\n', at) + 1, "youth_alone_from = 12\n");
  ASSERT_NO_FATAL_FAILURE(UseProtocol(protocol));
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-1042", 13));
  auto alone = Request("stu-1042", {"hulpvraag"});
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].role, "jongere");
  // For another purpose the parent is asked as well.
  auto r = fed_.As("school", "zorgco",
                   {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "kernteamoverleg",
                    "--category", "hulpvraag", "--until", DaysAhead(30)});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ouder: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jongere: "), std::string::npos) << r.out;
}

TEST_F(ConsentRequestTest, AnUnansweredLinkExpiresWithItsRequest) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-3155", 11));
  auto links = Request("stu-3155", {"hulpvraag"});
  ASSERT_EQ(links.size(), 1u);
  // The request's answer period ends (the database is moved, not the clock).
  fed_.StopNode("school");
  {
    auto db = OpenNodeDb(fed_["school"].dir);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->Exec("UPDATE consent_requests SET expires = '2020-01-01T00:00:00.000Z';").ok());
  }
  fed_.StartNode("school");
  auto visit = WebRequestOnce(port_, "GET", "/t/" + links[0].token);
  EXPECT_EQ(visit.status, 410);
  EXPECT_NE(visit.body.find("verlopen"), std::string::npos) << visit.body;
  auto late = Post(links[0], "code=" + links[0].code + "&action=answer&choice=agree&name=F&cat_hulpvraag=1");
  EXPECT_EQ(late.status, 410);
  EXPECT_TRUE(Consents("stu-3155")["consents"].empty());
  auto listed = fed_.As("school", "zorgco", {"consent", "requests", "stu-3155"});
  EXPECT_NE(listed.out.find("ouder: expired"), std::string::npos) << listed.out;
}

// The [links] listener has one limit on code attempts per client address:
// attempts on dossier links count against the permission pages too.
TEST_F(ConsentRequestTest, CodeAttemptsCountTogetherWithTheDossierLinks) {
  ASSERT_NO_FATAL_FAILURE(SetAge("stu-3155", 11));
  auto links = Request("stu-3155", {"hulpvraag"});
  ASSERT_EQ(links.size(), 1u);
  const std::string unknown(43, 'A');  // a dossier-link token of the right shape that opens nothing
  for (int i = 0; i < 20; ++i) {
    EXPECT_NE(WebRequestOnce(port_, "POST", "/l/" + unknown, kForm, "code=AAAAA-AAAAA").status, 429) << i;
  }
  auto limited = Post(links[0], "code=" + links[0].code);
  EXPECT_EQ(limited.status, 429) << "limited even with the right code";
  EXPECT_EQ(limited.body.find("Noor"), std::string::npos);
}

TEST_F(ConsentRequestTest, AnInzageLinkLocksAfterFiveWrongCodes) {
  auto made = fed_.As("school", "zorgco", {"consent", "inzage", "stu-1042", "--for", "jongere", "--days", "3"});
  ASSERT_EQ(made.code, 0) << made.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(made.out, m, std::regex("/i/([A-Za-z0-9_-]{43})"))) << made.out;
  const std::string target = "/i/" + m[1].str();
  const std::string code = LastLine(made.out);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(WebRequestOnce(port_, "POST", target, kForm, "code=BBBBB-BBBBB").status, 403);
  auto locked = WebRequestOnce(port_, "POST", target, kForm, "code=BBBBB-BBBBB");
  EXPECT_EQ(locked.status, 410);
  EXPECT_NE(locked.body.find("geblokkeerd"), std::string::npos) << locked.body;
  auto right = WebRequestOnce(port_, "POST", target, kForm, "code=" + code);
  EXPECT_EQ(right.status, 410) << "locked: the right code opens nothing";
  EXPECT_EQ(right.body.find("Sanne"), std::string::npos);
  EXPECT_EQ(fed_.As("school", "zorgco", {"consent", "inzage", "stu-1042", "--for", "buurman"}).code, 2);
  EXPECT_EQ(fed_.As("school", "zorgco", {"consent", "inzage", "stu-1042", "--for", "ouder", "--days", "31"}).code, 2);
}

TEST_F(ConsentRequestTest, OnlyCoordinatorsAskAndBadRequestsAreNamed) {
  auto staff = fed_.As("school", "mentor",
                       {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "doorverwijzing",
                        "--category", "hulpvraag", "--until", DaysAhead(30)});
  EXPECT_EQ(staff.code, 3) << staff.err;
  auto unknown = fed_.As("school", "zorgco",
                         {"consent", "request", "stu-9999", "--to", "wijkteam-b", "--purpose", "doorverwijzing",
                          "--category", "hulpvraag", "--until", DaysAhead(30)});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("stu-9999"), std::string::npos) << unknown.err;
  auto bad_category = fed_.As("school", "zorgco",
                              {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "doorverwijzing",
                               "--category", "schoenmaat", "--until", DaysAhead(30)});
  EXPECT_EQ(bad_category.code, 2);
  EXPECT_NE(bad_category.err.find("schoenmaat"), std::string::npos) << bad_category.err;
  auto past = fed_.As("school", "zorgco",
                      {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "doorverwijzing",
                       "--category", "hulpvraag", "--until", "2020-01-01"});
  EXPECT_EQ(past.code, 2);
  auto no_flow = fed_.As("school", "zorgco",
                         {"consent", "request", "stu-1042", "--to", "wijkteam-b", "--purpose", "overdracht_rmc",
                          "--category", "hulpvraag", "--until", DaysAhead(30)});
  EXPECT_EQ(no_flow.code, 2);
  EXPECT_NE(no_flow.err.find("no flow of the privacy protocol allows overdracht_rmc"), std::string::npos)
      << no_flow.err;
  auto not_consent = fed_.As("school", "zorgco",
                             {"consent", "request", "stu-1042", "--to", "lvs", "--purpose", "verzuimmelding",
                              "--category", "verzuim", "--until", DaysAhead(30)});
  EXPECT_EQ(not_consent.code, 2);
  EXPECT_NE(not_consent.err.find("rests on legal_obligation, not on consent"), std::string::npos) << not_consent.err;
  auto stranger = fed_.As("school", "zorgco",
                          {"consent", "request", "stu-1042", "--to", "rmc-z", "--purpose", "doorverwijzing",
                           "--category", "hulpvraag", "--until", DaysAhead(30)});
  EXPECT_EQ(stranger.code, 2);
  EXPECT_NE(stranger.err.find("no partner"), std::string::npos) << stranger.err;
}

}  // namespace
}  // namespace schakel::testing
