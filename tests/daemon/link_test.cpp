// Dossier links end to end: `schakel link create` through the gate, the link
// pages over HTTPS (GET never reveals or uses up, POST with the code), wrong
// codes and the lock, the per-IP limit, new code, revocation, expiry (on a
// manual clock), headers, what the database keeps, and the audit log.
#include <gtest/gtest.h>

#include <regex>

#include "federation_support.h"
#include "schakel/crypto/key_derivation.h"
#include "schakel/store/database.h"
#include "web_client.h"

namespace schakel::testing {
namespace {

constexpr const char* kOuder = R"({"subject_id": "stu-1042", "grantor_role": "ouder",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "contact", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";
constexpr const char* kJongere = R"({"subject_id": "stu-1042", "grantor_role": "jongere",
  "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
  "categories": ["identificatie", "hulpvraag", "gezinssituatie", "afspraken"],
  "valid_from": "2026-01-01", "valid_until": null})";

struct Link {
  std::string url, token, code, id;
};

const std::vector<std::pair<std::string, std::string>> kFormHeaders = {
    {"Content-Type", "application/x-www-form-urlencoded"}};

class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_.Add("school", "school-a", "school");
    fed_.AddUser("school", "mentor", "staff");
    fed_.AddUser("school", "zorgco", "coordinator");
    fed_.AddUser("school", "privacy", "auditor");
    fed_.StartNode("school");
    ASSERT_EQ(fed_.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
    ASSERT_NO_FATAL_FAILURE(fed_.AddConsents("school", "zorgco", {kOuder, kJongere}));
    port_ = static_cast<uint16_t>(fed_["school"].port + 2);
  }

  Link Create(std::vector<std::string> extra = {"--allow-partial"}) {
    std::vector<std::string> args = {"link",   "create",   "casus-2026-0042", "--for",         "dr. A. Jansen",
                                     "--type", "wijkteam", "--purpose",       "doorverwijzing"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = fed_.As("school", "mentor", args);
    EXPECT_EQ(r.code, 0) << r.err;
    Link l;
    l.code = LastLine(r.out);
    std::smatch m;
    std::regex url_re("(https://127\\.0\\.0\\.1:[0-9]+/l/([A-Za-z0-9_-]{43}))");
    if (std::regex_search(r.out, m, url_re)) {
      l.url = m[1];
      l.token = m[2];
    }
    std::regex id_re("link: (l-[0-9a-f]+)");
    if (std::regex_search(r.out, m, id_re)) l.id = m[1];
    EXPECT_FALSE(l.token.empty()) << r.out;
    return l;
  }

  WebReply Post(const Link& l, const std::string& code) {
    return WebRequestOnce(port_, "POST", "/l/" + l.token, kFormHeaders, "code=" + code);
  }

  TempDir tmp_;
  Federation fed_{tmp_};
  uint16_t port_ = 0;
};

TEST_F(LinkTest, GateRefusalsExit3) {
  // No flow for the purpose to this org type.
  auto no_flow =
      fed_.As("school", "mentor",
              {"link", "create", "casus-2026-0042", "--for", "X", "--type", "rmc", "--purpose", "doorverwijzing"});
  EXPECT_EQ(no_flow.code, 3) << no_flow.err;
  // Every category requested, some not consented: refused without --allow-partial.
  auto partial =
      fed_.As("school", "mentor",
              {"link", "create", "casus-2026-0042", "--for", "X", "--type", "wijkteam", "--purpose", "doorverwijzing"});
  EXPECT_EQ(partial.code, 3) << partial.err;
  EXPECT_NE(partial.err.find("--allow-partial"), std::string::npos) << partial.err;
  // The auditor may not create links.
  auto role = fed_.As("school", "privacy",
                      {"link", "create", "casus-2026-0042", "--for", "X", "--type", "wijkteam", "--purpose",
                       "doorverwijzing", "--allow-partial"});
  EXPECT_EQ(role.code, 3);
  // Bad input.
  auto bad = fed_.As("school", "mentor",
                     {"link", "create", "casus-2026-0042", "--for", "X", "--type", "wijkteam", "--purpose",
                      "doorverwijzing", "--expires", "90d"});
  EXPECT_EQ(bad.code, 2);
  // A holder's name is one line: it goes into the audit log as the recipient.
  auto tab = fed_.As("school", "mentor",
                     {"link", "create", "casus-2026-0042", "--for", "dr.\tX", "--type", "wijkteam", "--purpose",
                      "doorverwijzing", "--allow-partial"});
  EXPECT_EQ(tab.code, 2);
  EXPECT_NE(tab.err.find("no tab"), std::string::npos) << tab.err;
}

TEST_F(LinkTest, CodePageThenWrongThenRightCode) {
  Link l = Create();
  EXPECT_TRUE(std::regex_match(l.code, std::regex("[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}"))) << l.code;
  EXPECT_EQ(l.url.find("https://127.0.0.1:" + std::to_string(port_) + "/l/"), 0u);

  for (int i = 0; i < 3; ++i) {  // a mail scanner and a preview: nothing revealed, nothing used up
    auto get = WebRequestOnce(port_, "GET", "/l/" + l.token);
    ASSERT_EQ(get.status, 200) << get.error;
    EXPECT_NE(get.body.find("Toegangscode"), std::string::npos);
    EXPECT_NE(get.body.find("autocomplete=\"off\""), std::string::npos);
    EXPECT_NE(get.body.find("<label for=\"code\">"), std::string::npos);
    EXPECT_EQ(get.body.find("Sanne"), std::string::npos);
    EXPECT_EQ(get.body.find("<script"), std::string::npos);
    EXPECT_NE(get.Header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(get.Header("Cache-Control"), "no-store");
    EXPECT_EQ(get.Header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(get.Header("X-Frame-Options"), "DENY");
    EXPECT_EQ(get.Header("Strict-Transport-Security"), "max-age=31536000");
    EXPECT_EQ(get.Header("X-Content-Type-Options"), "nosniff");
  }
  auto wrong = Post(l, "AAAAA-AAAAA");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_NE(wrong.body.find("nog 4 pogingen"), std::string::npos) << wrong.body;
  EXPECT_EQ(wrong.body.find("Sanne"), std::string::npos);

  // Cross-site posts are refused before any attempt is counted.
  auto cross = WebRequestOnce(
      port_, "POST", "/l/" + l.token,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "https://evil.example"}}, "code=" + l.code);
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(cross.body.find("Sanne"), std::string::npos);
  auto not_form = WebRequestOnce(port_, "POST", "/l/" + l.token, {{"Content-Type", "text/plain"}}, "code=" + l.code);
  EXPECT_EQ(not_form.status, 415);

  // Lower case, without the dash: accepted.
  std::string typed = l.code.substr(0, 5) + l.code.substr(6);
  for (auto& ch : typed) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto right = Post(l, typed);
  ASSERT_EQ(right.status, 200) << right.body;
  EXPECT_NE(right.body.find("Sanne de Vries"), std::string::npos);  // identificatie
  EXPECT_NE(right.body.find("<h2>Hulpvraag</h2>"), std::string::npos);
  EXPECT_NE(right.body.find("<h2>Gezinssituatie</h2>"), std::string::npos);
  EXPECT_EQ(right.body.find("Slaapproblemen"), std::string::npos);  // gezondheid withheld
  EXPECT_EQ(right.body.find("111222333"), std::string::npos);       // bsn withheld
  EXPECT_EQ(right.body.find("+31 6 12345678"), std::string::npos);  // contact withheld (jongere)
  EXPECT_NE(right.body.find("Niet gedeeld"), std::string::npos);
  EXPECT_EQ(right.Header("Cache-Control"), "no-store");
  // Reading does not use the link up either.
  EXPECT_EQ(Post(l, l.code).status, 200);

  // The audit log has the view, the wrong code and the read, about the student.
  auto audit = fed_.As("school", "privacy", {"audit", "query", "--student", "stu-1042", "--json"});
  ASSERT_EQ(audit.code, 0) << audit.err;
  for (const char* action : {"link.created", "link.view", "link.wrong_code", "link.read"}) {
    EXPECT_NE(audit.out.find(action), std::string::npos) << action;
  }
  EXPECT_EQ(audit.out.find("127.0.0.1"), std::string::npos);  // no client IP in the audit log
  // Each link entry says to whom and what: the holder, the categories, the consents.
  auto entries = nlohmann::json::parse(audit.out)["entries"];
  int link_entries = 0;
  for (const auto& e : entries) {
    if (e["action"].get<std::string>().rfind("link.", 0) != 0) continue;
    ++link_entries;
    EXPECT_EQ(e["recipient"].get<std::string>().rfind("dr. A. Jansen (", 0), 0u) << e.dump();
    EXPECT_NE(e["categories"].get<std::string>().find("hulpvraag"), std::string::npos) << e.dump();
    EXPECT_EQ(e["consents"].get<std::string>().rfind("c-", 0), 0u) << e.dump();
  }
  EXPECT_GE(link_entries, 4);

  // The database keeps neither the token nor the code nor the content in clear.
  fed_.StopNode("school");
  auto key = crypto::ReadKeyFile(fed_["school"].dir + "/secrets/db.key");
  ASSERT_TRUE(key.ok());
  auto db = store::Database::Open(fed_["school"].dir + "/data/node.db", *key, store::OpenMode::kExisting);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto s = (*db)->Prepare("SELECT * FROM links;");
  ASSERT_TRUE(s.ok());
  std::string everything;
  int rows = 0;
  while (*s->Step()) {
    ++rows;
    for (int col = 0; col < 23; ++col) {
      if (s->IsNull(col)) continue;
      auto blob = s->Blob(col);
      everything.append(blob.begin(), blob.end());
      everything += '\n';
    }
  }
  EXPECT_EQ(rows, 1);
  EXPECT_EQ(everything.find(l.token), std::string::npos);
  EXPECT_EQ(everything.find(l.code), std::string::npos);
  EXPECT_EQ(everything.find(l.code.substr(0, 5) + l.code.substr(6)), std::string::npos);
  EXPECT_EQ(everything.find("Sanne"), std::string::npos);
  EXPECT_NE(everything.find("dr. A. Jansen"), std::string::npos);  // metadata is kept, as it should
}

TEST_F(LinkTest, FiveWrongCodesLockThenNewCodeWorks) {
  Link l = Create({"--category", "identificatie", "--category", "hulpvraag"});
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(Post(l, "AAAAA-AAAAA").status, 403) << i;
  auto fifth = Post(l, "AAAAA-AAAAA");
  EXPECT_EQ(fifth.status, 410);
  EXPECT_NE(fifth.body.find("geblokkeerd"), std::string::npos);
  EXPECT_EQ(Post(l, l.code).status, 410);  // even the right code
  EXPECT_EQ(WebRequestOnce(port_, "GET", "/l/" + l.token).status, 410);

  auto list = fed_.As("school", "mentor", {"link", "list"});
  EXPECT_NE(list.out.find("locked"), std::string::npos) << list.out;
  auto fresh = fed_.As("school", "mentor", {"link", "new-code", l.id});
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  std::string code = LastLine(fresh.out);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(fresh.out, m, std::regex("/l/([A-Za-z0-9_-]{43})")));
  Link again{"", m[1], code, l.id};
  EXPECT_EQ(WebRequestOnce(port_, "GET", "/l/" + l.token).status, 404);  // the old URL is gone
  auto ok = Post(again, code);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("Sanne de Vries"), std::string::npos);
  auto audit = fed_.As("school", "privacy", {"audit", "query", "--action", "link.locked"});
  EXPECT_NE(audit.out.find("link.locked"), std::string::npos) << audit.out << audit.err;
}

TEST_F(LinkTest, RevokedAndUnknownLinks) {
  Link l = Create();
  auto other = fed_.As("school", "privacy", {"link", "revoke", l.id});
  EXPECT_EQ(other.code, 3);
  auto r = fed_.As("school", "mentor", {"link", "revoke", l.id});
  ASSERT_EQ(r.code, 0) << r.err;
  auto gone = WebRequestOnce(port_, "GET", "/l/" + l.token);
  EXPECT_EQ(gone.status, 410);
  EXPECT_NE(gone.body.find("ingetrokken"), std::string::npos);
  EXPECT_EQ(Post(l, l.code).status, 410);
  EXPECT_EQ(WebRequestOnce(port_, "GET", "/l/" + std::string(43, 'A')).status, 404);
  EXPECT_EQ(WebRequestOnce(port_, "GET", "/l/short").status, 404);
  auto audit = fed_.As("school", "privacy", {"audit", "query", "--action", "link.revoked"});
  EXPECT_NE(audit.out.find("link.revoked"), std::string::npos);
}

TEST_F(LinkTest, WithdrawingAConsentRevokesTheLinksThatReliedOnIt) {
  Link l = Create();
  std::string ouder;
  const nlohmann::json list = fed_.AsJson("school", "zorgco", {"consent", "list", "--student", "stu-1042"});
  for (const auto& c : list["consents"]) {
    if (c["grantor_role"] == "ouder") ouder = c["id"];
  }
  ASSERT_FALSE(ouder.empty());
  auto w = fed_.AsJson("school", "zorgco", {"consent", "withdraw", ouder});
  EXPECT_EQ(w["links_revoked"], nlohmann::json::array({l.id})) << w.dump();
  // The link is gone at once, also for someone holding the URL and the code.
  auto gone = WebRequestOnce(port_, "GET", "/l/" + l.token);
  EXPECT_EQ(gone.status, 410);
  auto post = Post(l, l.code);
  EXPECT_EQ(post.status, 410);
  EXPECT_EQ(post.body.find("Sanne"), std::string::npos);
  auto audit = fed_.As("school", "privacy", {"audit", "query", "--action", "link.revoked", "--json"});
  EXPECT_NE(audit.out.find("consent_withdrawn"), std::string::npos) << audit.out;
  // The consent list shows the link beside the shares that relied on it.
  const nlohmann::json after = fed_.AsJson("school", "zorgco", {"consent", "list", "--student", "stu-1042"});
  bool listed = false;
  for (const auto& c : after["consents"]) {
    if (c["id"] != ouder) continue;
    for (const auto& link : c["links"]) listed |= link["link_id"] == l.id && link["state"] == "revoked";
  }
  EXPECT_TRUE(listed) << after.dump();
  // Its sealed content is deleted.
  fed_.StopNode("school");
  auto key = crypto::ReadKeyFile(fed_["school"].dir + "/secrets/db.key");
  ASSERT_TRUE(key.ok());
  auto db = store::Database::Open(fed_["school"].dir + "/data/node.db", *key, store::OpenMode::kExisting);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto s = (*db)->Prepare("SELECT state, state_reason, ciphertext IS NULL FROM links WHERE link_id = ?;");
  ASSERT_TRUE(s.ok());
  s->Bind(1, l.id);
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->Text(0), "revoked");
  EXPECT_EQ(s->Text(1), "consent_withdrawn");
  EXPECT_EQ(s->Int(2), 1);
}

TEST_F(LinkTest, AttemptsAreLimitedPerClientAddress) {
  // 20 code attempts per client IP per 15 minutes, over all links.
  std::vector<Link> links;
  for (int i = 0; i < 5; ++i) links.push_back(Create({"--category", "identificatie"}));
  int refused = 0;
  for (int i = 0; i < 21; ++i) {
    auto r = Post(links[static_cast<size_t>(i / 4) % links.size()], "AAAAA-AAAAA");
    if (r.status == 429) ++refused;
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(Post(links[4], links[4].code).status, 429);  // limited even with the right code
}

TEST(LinkExpiry, ExpiredLinksAnswer410AndMaintenancePurgesThem) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.AddUser("school", "mentor", "staff");
  fed.AddUser("school", "zorgco", "coordinator");
  fed.AddUser("school", "privacy", "auditor");
  ManualClock clock(NowUtc());
  InProcessDaemon d(fed["school"].dir, clock);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {kOuder, kJongere}));
  auto port = static_cast<uint16_t>(fed["school"].port + 2);
  std::vector<std::string> tokens;
  for (const char* days : {"1d", "2d"}) {
    auto r = fed.As("school", "mentor",
                    {"link", "create", "casus-2026-0042", "--for", "J. Jansen", "--type", "wijkteam", "--purpose",
                     "doorverwijzing", "--allow-partial", "--expires", days});
    ASSERT_EQ(r.code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("/l/([A-Za-z0-9_-]{43})")));
    tokens.push_back(m[1]);
  }
  EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + tokens[0]).status, 200);
  clock.Advance(std::chrono::hours(25));
  auto first = WebRequestOnce(port, "GET", "/l/" + tokens[0]);
  EXPECT_EQ(first.status, 410);
  EXPECT_NE(first.body.find("verlopen"), std::string::npos);
  EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + tokens[1]).status, 200);
  clock.Advance(std::chrono::hours(24));
  d->RunMaintenanceNow();
  auto list = fed.As("school", "mentor", {"link", "list", "--json"});
  auto j = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << list.out;
  ASSERT_EQ(j["links"].size(), 2u);
  for (const auto& x : j["links"]) EXPECT_EQ(x["state"], "expired");
  EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + tokens[1]).status, 410);
  auto audit = fed.As("school", "privacy", {"audit", "query", "--action", "link.expired"});
  EXPECT_NE(audit.out.find("link.expired"), std::string::npos) << audit.out << audit.err;
}

// Issue #25 (2): anyone may ask for a dead or locked link again and again.
// 300 views of a locked link add one entry, and once the hour has ended one
// more with the count (audit/repeats.h); views of a live link stay audited
// one by one; the count survives a restart.
TEST(LinkRepeats, ThreeHundredViewsOfALockedLinkAddTwoEntries) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.AddUser("school", "mentor", "staff");
  fed.AddUser("school", "zorgco", "coordinator");
  fed.AddUser("school", "privacy", "auditor");
  // The start of an hour, so the views below all fall in it.
  ManualClock clock(std::chrono::floor<std::chrono::hours>(NowUtc()) + std::chrono::minutes(1));
  auto d = std::make_unique<InProcessDaemon>(fed["school"].dir, clock);
  ASSERT_TRUE(d->ok());
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {kOuder, kJongere}));
  auto port = static_cast<uint16_t>(fed["school"].port + 2);
  auto create = [&] {
    auto r = fed.As("school", "mentor",
                    {"link", "create", "casus-2026-0042", "--for", "J. Jansen", "--type", "wijkteam", "--purpose",
                     "doorverwijzing", "--allow-partial"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("/l/([A-Za-z0-9_-]{43})")));
    return std::string(m[1]);
  };
  const std::string locked = create();
  const std::string live = create();
  for (int i = 0; i < 5; ++i) {
    WebRequestOnce(port, "POST", "/l/" + locked, kFormHeaders, "code=AAAAA-AAAAA");
  }
  auto views = [&](const std::string& outcome) {
    auto j = fed.AsJson("school", "privacy", {"audit", "query", "--action", "link.view"});
    std::vector<nlohmann::json> out;
    for (const auto& e : j["entries"]) {
      if (e["outcome"] == outcome) out.push_back(e);
    }
    return out;
  };
  ASSERT_TRUE(views("deny").empty());

  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(WebRequestOnce(port, "GET", "/l/" + locked).status, 410) << i;
    if (i % 60 == 59) clock.Advance(std::chrono::seconds(1));
  }
  auto denied = views("deny");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["reason"], "locked,too_many_wrong_codes");
  // A live link's code page: each view an entry.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + live).status, 200);
  EXPECT_EQ(views("ok").size(), 3u);

  // Restarted within the hour: the count is in the database.
  d.reset();
  d = std::make_unique<InProcessDaemon>(fed["school"].dir, clock);
  ASSERT_TRUE(d->ok());
  EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + locked).status, 410);
  (*d)->RunMaintenanceNow();
  EXPECT_EQ(views("deny").size(), 1u) << "flushed before the hour ended";

  clock.Advance(std::chrono::hours(1));
  (*d)->RunMaintenanceNow();
  denied = views("deny");
  ASSERT_EQ(denied.size(), 2u);
  const std::string reason = denied[1]["reason"];
  EXPECT_EQ(reason.rfind("locked,too_many_wrong_codes; repeated 300 more times from ", 0), 0u) << reason;
  (*d)->RunMaintenanceNow();
  EXPECT_EQ(views("deny").size(), 2u) << "flushed twice";
  // A new hour: the first view is an entry again.
  EXPECT_EQ(WebRequestOnce(port, "GET", "/l/" + locked).status, 410);
  EXPECT_EQ(views("deny").size(), 3u);
}

// The same re-check after the node was restarted with a protocol that no
// longer has the link's flow: the link is revoked (basis_gone) when opened.
TEST_F(LinkTest, ALinkWhoseFlowLeftTheProtocolIsRevokedWhenOpened) {
  Link l = Create();
  ASSERT_EQ(WebRequestOnce(port_, "GET", "/l/" + l.token).status, 200);
  fed_.StopNode("school");
  std::string toml = ReadAll(fed_["school"].dir + "/schakel.toml");
  auto pos = toml.find("file = ''");
  ASSERT_NE(pos, std::string::npos) << toml;
  toml.replace(pos, 9, "file = 'protocol.toml'");
  WriteAll(fed_["school"].dir + "/schakel.toml", toml);
  WriteAll(fed_["school"].dir + "/protocol.toml", R"([[flow]]
purpose = "kernteamoverleg"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
legal_source = "Toestemming: AVG art. 6 lid 1 onder a"
categories = ["identificatie", "hulpvraag"]
)");
  fed_.StartNode("school");
  auto opened = Post(l, l.code);
  EXPECT_EQ(opened.status, 410);
  EXPECT_NE(opened.body.find("Deze link werkt niet meer"), std::string::npos) << opened.body;
  EXPECT_EQ(opened.body.find("Sanne"), std::string::npos);
  auto audit = fed_.As("school", "privacy", {"audit", "query", "--action", "link.revoked", "--json"});
  EXPECT_NE(audit.out.find("basis_gone,"), std::string::npos) << audit.out << audit.err;
  auto list = nlohmann::json::parse(fed_.As("school", "mentor", {"link", "list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(list.is_object());
  ASSERT_EQ(list["links"].size(), 1u);
  EXPECT_EQ(list["links"][0]["state"], "revoked");
}

// A link is opened through the egress gate: its basis (the consents, the
// student's age, the protocol's flow) is asked again when it is visited and
// when its code is tried. Consents that end the day after tomorrow: four
// days on, the link is revoked (basis_gone), its content deleted, and the
// page answers 410 in plain Dutch, with the right code too.
TEST(LinkBasis, ALinkWhoseConsentsExpiredIsRevokedWhenOpened) {
  TempDir tmp;
  Federation fed(tmp);
  fed.Add("school", "school-a", "school");
  fed.AddUser("school", "mentor", "staff");
  fed.AddUser("school", "zorgco", "coordinator");
  fed.AddUser("school", "privacy", "auditor");
  ManualClock clock(NowUtc());
  InProcessDaemon d(fed["school"].dir, clock);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(fed.As("school", "mentor", {"case", "add", "--file", CaseFixture("sanne.json")}).code, 0);
  const std::string until = "\"" + FormatDate(AddDays(AmsterdamDate(clock.Now()), 2)) + "\"";
  std::string ouder = kOuder, jongere = kJongere;
  for (std::string* c : {&ouder, &jongere}) c->replace(c->find("null"), 4, until);
  ASSERT_NO_FATAL_FAILURE(fed.AddConsents("school", "zorgco", {ouder.c_str(), jongere.c_str()}));
  auto port = static_cast<uint16_t>(fed["school"].port + 2);
  std::vector<std::pair<std::string, std::string>> links;  // token, code
  for (int i = 0; i < 2; ++i) {
    auto r = fed.As("school", "mentor",
                    {"link", "create", "casus-2026-0042", "--for", "J. Jansen", "--type", "wijkteam", "--purpose",
                     "doorverwijzing", "--allow-partial", "--expires", "14d"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("/l/([A-Za-z0-9_-]{43})")));
    links.emplace_back(m[1], LastLine(r.out));
  }
  auto post = [&](const std::pair<std::string, std::string>& l) {
    return WebRequestOnce(port, "POST", "/l/" + l.first, kFormHeaders, "code=" + l.second);
  };
  ASSERT_EQ(post(links[0]).status, 200);  // while the consents hold

  clock.Advance(std::chrono::days(4));
  auto opened = post(links[0]);  // the right code
  EXPECT_EQ(opened.status, 410);
  EXPECT_NE(opened.body.find("Deze link werkt niet meer"), std::string::npos) << opened.body;
  EXPECT_NE(opened.body.find("ingetrokken of verlopen"), std::string::npos) << opened.body;
  EXPECT_EQ(opened.body.find("Sanne"), std::string::npos);
  EXPECT_EQ(post(links[0]).status, 410);
  // The code page re-checks too.
  auto visited = WebRequestOnce(port, "GET", "/l/" + links[1].first);
  EXPECT_EQ(visited.status, 410);
  EXPECT_NE(visited.body.find("Deze link werkt niet meer"), std::string::npos) << visited.body;

  auto audit = fed.As("school", "privacy", {"audit", "query", "--action", "link.revoked", "--json"});
  auto entries = nlohmann::json::parse(audit.out, nullptr, false);
  ASSERT_TRUE(entries.is_object()) << audit.out << audit.err;
  int basis_gone = 0;
  for (const auto& e : entries["entries"]) {
    if (e["reason"].get<std::string>().rfind("basis_gone,", 0) == 0) ++basis_gone;
  }
  EXPECT_EQ(basis_gone, 2) << audit.out;
  auto list = nlohmann::json::parse(fed.As("school", "mentor", {"link", "list", "--json"}).out, nullptr, false);
  ASSERT_TRUE(list.is_object());
  for (const auto& x : list["links"]) EXPECT_EQ(x["state"], "revoked");

  // Their sealed content is deleted.
  d.Stop();
  auto key = crypto::ReadKeyFile(fed["school"].dir + "/secrets/db.key");
  ASSERT_TRUE(key.ok());
  auto db = store::Database::Open(fed["school"].dir + "/data/node.db", *key, store::OpenMode::kExisting);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto s = (*db)->Prepare("SELECT state, state_reason, ciphertext IS NULL FROM links;");
  ASSERT_TRUE(s.ok());
  int rows = 0;
  while (*s->Step()) {
    ++rows;
    EXPECT_EQ(s->Text(0), "revoked");
    EXPECT_EQ(s->Text(1), "basis_gone");
    EXPECT_EQ(s->Int(2), 1);
  }
  EXPECT_EQ(rows, 2);
}

}  // namespace
}  // namespace schakel::testing
