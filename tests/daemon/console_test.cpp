// The staff console over real HTTPS against an in-process schakeld with a
// manual clock: sign-in with password and TOTP, cookie flags, session
// fixation, CSRF and cross-site refusals, idle time-out, sign-out, TOTP
// replay, lockout, and each role's refusals.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <regex>
#include <set>

#include "federation_support.h"
#include "schakel/crypto/totp.h"

namespace schakel::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

constexpr const char* kPassword = "een heel lang wachtwoord";
const std::string kCookie = "__Host-schakel_sessie";

struct Resp {
  int status = 0;
  std::string body;
  std::vector<std::string> set_cookies;
  std::string location;
  std::string content_type;
  std::string csp;
  // The session id this response sets, "" if none.
  std::string SessionId() const {
    for (const auto& c : set_cookies) {
      if (c.rfind(kCookie + "=", 0) == 0) return c.substr(kCookie.size() + 1, c.find(';') - kCookie.size() - 1);
    }
    return "";
  }
  std::string Csrf() const {
    std::smatch m;
    static const std::regex re("name=\"csrf\" value=\"([0-9a-f]{64})\"");
    return std::regex_search(body, m, re) ? m[1].str() : "";
  }
};

struct Req {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::string session;          // cookie value
  std::string origin = "same";  // "same": https://host; "": none; else as given
  std::string sec_fetch_site;
  std::string from;  // the client's source address; "" lets the kernel choose (127.0.0.1)
};

Resp Send(int port, const Req& r) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);  // the console's self-signed certificate
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(20));
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port));
  if (!r.from.empty()) {  // any 127.0.0.0/8 address is this machine: a second client address
    auto& socket = beast::get_lowest_layer(stream).socket();
    socket.open(asio::ip::tcp::v4());
    socket.bind(asio::ip::tcp::endpoint(asio::ip::make_address(r.from), 0));
    socket.connect(ep);
  } else {
    beast::get_lowest_layer(stream).connect(ep);
  }
  stream.handshake(ssl::stream_base::client);
  http::request<http::string_body> req{r.method == "POST" ? http::verb::post : http::verb::get, r.target, 11};
  std::string host = "127.0.0.1:" + std::to_string(port);
  req.set(http::field::host, host);
  if (!r.session.empty()) req.set(http::field::cookie, kCookie + "=" + r.session);
  if (r.method == "POST") {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    if (r.origin == "same")
      req.set(http::field::origin, "https://" + host);
    else if (!r.origin.empty())
      req.set(http::field::origin, r.origin);
  }
  if (!r.sec_fetch_site.empty()) req.set("Sec-Fetch-Site", r.sec_fetch_site);
  req.body() = r.body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  Resp out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    if (f.name() == http::field::set_cookie) out.set_cookies.emplace_back(f.value());
  }
  out.location = std::string(res[http::field::location]);
  out.content_type = std::string(res[http::field::content_type]);
  out.csp = std::string(res["Content-Security-Policy"]);
  beast::error_code ec;
  stream.shutdown(ec);
  return out;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
      out.push_back(static_cast<char>(c));
    else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_ / "school";
    port_ = FreePortBase();
    auto r = RunSchakel({"init", "--dir", dir_, "--name", "School A", "--org-id", "school-a", "--org-type", "school",
                         "--listen", "127.0.0.1:" + std::to_string(port_)});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_NO_FATAL_FAILURE(LoadRoster(dir_));
    // The coordinator first: it is the node's bootstrap coordinator, who
    // confirms the staff member (store/accounts.h).
    for (const char* role : {"coordinator", "staff", "auditor", "admin"}) AddUser(std::string("u") + role, role);
    daemon_ = std::make_unique<InProcessDaemon>(dir_, clock_);
    ASSERT_TRUE(daemon_->ok());
    console_ = (*daemon_)->console_port();
    ASSERT_NE(console_, 0);
  }

  void AddUser(const std::string& name, const std::string& role) {
    auto add = RunSchakel({"user", "add", "--dir", dir_, "--name", name, "--role", role});
    ASSERT_EQ(add.code, 0) << add.err;
    tokens_[name] = LastLine(add.out);
    if (add.out.find("cannot sign in until") != std::string::npos) {
      WriteAll(dir_ + "/coord.token", tokens_.at("ucoordinator"));
      auto c = RunSchakel({"user", "confirm", name, "--offline", "--dir", dir_, "--token-file", dir_ + "/coord.token"});
      ASSERT_EQ(c.code, 0) << c.err;
    }
    auto pw = RunSchakel({"user", "passwd", "--dir", dir_, name}, std::string(kPassword) + "\n");
    ASSERT_EQ(pw.code, 0) << pw.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(pw.out, m, std::regex("secret=([A-Z2-7]+)&")));
    secrets_[name] = *crypto::Base32Decode(m[1].str());
  }

  std::string Code(const std::string& name, int step_offset = 0) {
    int64_t step = crypto::TotpStep(clock_.Now()) + step_offset;
    return crypto::FormatOtp(crypto::Hotp(secrets_[name], static_cast<uint64_t>(step)));
  }

  Resp Post(const std::string& target, const std::string& body, const std::string& session = "") {
    Req r;
    r.method = "POST";
    r.target = target;
    r.body = body;
    r.session = session;
    return Send(console_, r);
  }
  Resp Get(const std::string& target, const std::string& session = "") {
    Req r;
    r.target = target;
    r.session = session;
    return Send(console_, r);
  }

  // Password step; returns the pending session id.
  std::string Password(const std::string& name, const std::string& password = kPassword, const std::string& from = "") {
    Req req;
    req.method = "POST";
    req.target = "/aanmelden";
    req.body = "naam=" + UrlEncode(name) + "&wachtwoord=" + UrlEncode(password);
    req.from = from;
    Resp r = Send(console_, req);
    if (r.status != 303) return "";
    EXPECT_EQ(r.location, "/aanmelden/code");
    return r.SessionId();
  }
  // Both steps; returns the signed-in session id.
  std::string SignIn(const std::string& name) {
    std::string pending = Password(name);
    EXPECT_FALSE(pending.empty());
    Resp page = Get("/aanmelden/code", pending);
    EXPECT_EQ(page.status, 200);
    Resp done = Post("/aanmelden/code", "csrf=" + page.Csrf() + "&code=" + Code(name), pending);
    EXPECT_EQ(done.status, 303) << done.body;
    clock_.Advance(std::chrono::seconds(30));  // the next sign-in uses a new code
    return done.SessionId();
  }
  std::string CsrfOf(const std::string& session) { return Get("/dossiers", session).Csrf(); }

  TempDir tmp_;
  std::string dir_;
  int port_ = 0;
  int console_ = 0;
  ManualClock clock_{NowUtc()};
  std::map<std::string, std::vector<uint8_t>> secrets_;
  std::map<std::string, std::string> tokens_;  // user name -> bearer token
  std::unique_ptr<InProcessDaemon> daemon_;
};

TEST_F(ConsoleTest, SignInWithTotpSetsAFreshStrictCookie) {
  Resp form = Get("/");
  EXPECT_EQ(form.status, 303);
  EXPECT_EQ(form.location, "/aanmelden");
  Resp page = Get("/aanmelden");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<label for=\"wachtwoord\">"), std::string::npos);
  EXPECT_NE(page.csp.find("script-src 'self'"), std::string::npos);

  // A cookie planted before sign-in is not adopted.
  const std::string planted(64, 'a');
  Req r;
  r.method = "POST";
  r.target = "/aanmelden";
  r.body = std::string("naam=ustaff&wachtwoord=") + UrlEncode(kPassword);
  r.session = planted;
  Resp pw = Send(console_, r);
  ASSERT_EQ(pw.status, 303);
  std::string pending = pw.SessionId();
  ASSERT_EQ(pending.size(), 64u);
  EXPECT_NE(pending, planted);
  ASSERT_EQ(pw.set_cookies.size(), 1u);
  const std::string& cookie = pw.set_cookies[0];
  EXPECT_EQ(cookie.rfind("__Host-schakel_sessie=", 0), 0u);
  for (const char* flag : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"}) {
    EXPECT_NE(cookie.find(flag), std::string::npos) << flag << " in " << cookie;
  }
  EXPECT_EQ(cookie.find("Domain"), std::string::npos);
  // The pending session does not open pages.
  EXPECT_EQ(Get("/dossiers", pending).status, 303);
  EXPECT_EQ(Get("/dossiers", planted).status, 303);

  Resp code_page = Get("/aanmelden/code", pending);
  ASSERT_EQ(code_page.status, 200);
  Resp wrong = Post("/aanmelden/code", "csrf=" + code_page.Csrf() + "&code=000000", pending);
  EXPECT_EQ(wrong.status, 401);
  Resp done = Post("/aanmelden/code", "csrf=" + code_page.Csrf() + "&code=" + Code("ustaff"), pending);
  ASSERT_EQ(done.status, 303);
  EXPECT_EQ(done.location, "/");
  std::string session = done.SessionId();
  ASSERT_EQ(session.size(), 64u);
  EXPECT_NE(session, pending);  // a fresh id at sign-in
  Resp home = Get("/", session);
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("Aangemeld als ustaff"), std::string::npos);
  EXPECT_EQ(Get("/", pending).status, 303);  // the pending id is dead
}

TEST_F(ConsoleTest, TotpCodeIsRefusedWhenReplayed) {
  std::string pending = Password("ustaff");
  Resp page = Get("/aanmelden/code", pending);
  std::string code = Code("ustaff");
  ASSERT_EQ(Post("/aanmelden/code", "csrf=" + page.Csrf() + "&code=" + code, pending).status, 303);
  // Same code, same 30 s window, a new password step.
  std::string again = Password("ustaff");
  Resp page2 = Get("/aanmelden/code", again);
  Resp replay = Post("/aanmelden/code", "csrf=" + page2.Csrf() + "&code=" + code, again);
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("al gebruikt"), std::string::npos);
  EXPECT_TRUE(replay.SessionId().empty());
}

TEST_F(ConsoleTest, CsrfAndCrossSiteRequestsAreRefused) {
  std::string s = SignIn("ustaff");
  std::string csrf = CsrfOf(s);
  ASSERT_EQ(csrf.size(), 64u);
  const std::string fields = "student_id=stu-1&birth_date=2014-03-02&id_name=Sanne";
  EXPECT_EQ(Post("/dossiers", fields, s).status, 403);  // missing
  std::string wrong = csrf;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Post("/dossiers", "csrf=" + wrong + "&" + fields, s).status, 403);
  Req cross;
  cross.method = "POST";
  cross.target = "/dossiers";
  cross.body = "csrf=" + csrf + "&" + fields;
  cross.session = s;
  cross.origin = "https://evil.example";
  EXPECT_EQ(Send(console_, cross).status, 403);
  cross.origin = "";
  cross.sec_fetch_site = "cross-site";
  EXPECT_EQ(Send(console_, cross).status, 403);
  cross.origin = "null";  // an opaque origin (sandboxed frame, data: URL) without Sec-Fetch-Site
  cross.sec_fetch_site = "";
  EXPECT_EQ(Send(console_, cross).status, 403);
  // Another session's token does not work either.
  std::string other = SignIn("ucoordinator");
  EXPECT_EQ(Post("/dossiers", "csrf=" + CsrfOf(other) + "&" + fields, s).status, 403);
  // Nothing was created by the refused requests.
  EXPECT_EQ(Get("/dossiers", s).body.find("stu-1"), std::string::npos);
  Resp ok = Post("/dossiers", "csrf=" + csrf + "&" + fields, s);
  EXPECT_EQ(ok.status, 303) << ok.body;
  EXPECT_NE(Get("/dossiers", s).body.find("stu-1"), std::string::npos);
}

TEST_F(ConsoleTest, IdleTimeoutAndSignOut) {
  std::string s = SignIn("ustaff");
  clock_.Advance(std::chrono::minutes(14));
  ASSERT_EQ(Get("/", s).status, 200);
  clock_.Advance(std::chrono::minutes(16));
  Resp expired = Get("/", s);
  EXPECT_EQ(expired.status, 303);
  EXPECT_EQ(expired.location, "/aanmelden");

  std::string s2 = SignIn("ustaff");
  std::string csrf = CsrfOf(s2);
  EXPECT_EQ(Post("/afmelden", "", s2).status, 403);  // sign-out needs the token too
  Resp out = Post("/afmelden", "csrf=" + csrf, s2);
  EXPECT_EQ(out.status, 303);
  ASSERT_EQ(out.set_cookies.size(), 1u);
  EXPECT_NE(out.set_cookies[0].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Get("/", s2).status, 303);
}

TEST_F(ConsoleTest, EachRoleIsRefusedOtherRolesPages) {
  std::string staff = SignIn("ustaff");
  std::string auditor = SignIn("uauditor");
  std::string admin = SignIn("uadmin");
  std::string coordinator = SignIn("ucoordinator");
  for (const char* page :
       {"/audit", "/audit?leerling=stu-1", "/audit/export", "/audit/inzage?leerling=stu-1", "/beheer"}) {
    EXPECT_EQ(Get(page, staff).status, 403) << page;
    EXPECT_EQ(Get(page, coordinator).status, 403) << page;
  }
  EXPECT_EQ(Post("/audit/controleren", "csrf=" + Get("/", staff).Csrf(), staff).status, 403);
  // A refusal of the role is Dutch; one the service gives (its words are
  // English) is explained in Dutch first, its own words after as the detail
  // for IT.
  EXPECT_NE(Get("/audit", staff).body.find("Uw rol mag deze pagina niet gebruiken."), std::string::npos);
  Resp missing = Get("/dossiers/casus-bestaat-niet", staff);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("Dit bestaat niet (meer), of u mag het niet zien."), std::string::npos) << missing.body;
  EXPECT_NE(missing.body.find("Technische melding (voor de beheerder)"), std::string::npos) << missing.body;
  for (const char* page : {"/dossiers", "/inbox", "/delingen", "/beheer"}) {
    EXPECT_EQ(Get(page, auditor).status, 403) << page;
  }
  // An auditor reads consents and their evidence, but records or withdraws none.
  EXPECT_EQ(Get("/toestemmingen?leerling=stu-1", auditor).status, 200);
  for (const char* page : {"/dossiers", "/inbox", "/audit", "/audit/export"}) {
    EXPECT_EQ(Get(page, admin).status, 403) << page;
  }
  // Staff may not record consents.
  std::string csrf = Get("/", staff).Csrf();
  EXPECT_EQ(Post("/toestemmingen",
                 "csrf=" + csrf +
                     "&leerling=stu-1&grantor_role=ouder&purpose=doorverwijzing"
                     "&recipients=wijkteam&cat_identificatie=1&valid_from=2026-01-01&evidence=formulier",
                 staff)
                .status,
            403);
  // And each role's own pages open.
  EXPECT_EQ(Get("/audit?leerling=stu-1", auditor).status, 200);
  Resp exported = Get("/audit/export", auditor);
  EXPECT_EQ(exported.status, 200);
  EXPECT_NE(exported.body.find("console.signin"), std::string::npos);
  EXPECT_EQ(Get("/beheer", admin).status, 200);
  EXPECT_EQ(Get("/dossiers", staff).status, 200);
  EXPECT_EQ(Get("/toestemmingen?leerling=stu-1", coordinator).status, 200);
}

// POST /v1/users/NAME/unlock on the node's API with `token`: status, body.
std::pair<int, std::string> ApiUnlock(int port, const std::string& token, const std::string& name) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(20));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  http::request<http::string_body> req{http::verb::post, "/v1/users/" + name + "/unlock", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

// The audit entries of the node with this action and reason.
int64_t CountAudit(const std::string& dir, const std::string& action, const std::string& reason) {
  auto db = OpenNodeDb(dir);
  if (!db) return -1;
  auto q = db->Prepare("SELECT count(*) FROM audit_log WHERE action = ? AND reason = ?;");
  EXPECT_TRUE(q.ok()) << q.status().message();
  if (!q.ok()) return -1;
  q->Bind(1, action).Bind(2, reason);
  auto row = q->Step();
  return row.ok() && *row ? q->Int(0) : -1;
}

// Issue 16 (7): failures wait per (user, address), not per user name.
TEST_F(ConsoleTest, FailuresFromOneAddressMakeThatAddressWaitNotTheUser) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Password("ustaff", "verkeerd wachtwoord 123"), "") << i;
  Resp waiting = Post("/aanmelden", std::string("naam=ustaff&wachtwoord=") + UrlEncode(kPassword));
  EXPECT_EQ(waiting.status, 429);
  EXPECT_TRUE(waiting.SessionId().empty());
  EXPECT_NE(waiting.body.find("Probeer het over 2 seconden opnieuw"), std::string::npos) << waiting.body;
  // The same user from another address is not held up, nor is another user
  // from the first address.
  EXPECT_FALSE(Password("ustaff", kPassword, "127.0.0.2").empty());
  EXPECT_FALSE(Password("ucoordinator").empty());
  // The wait is over after 2 s.
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_FALSE(Password("ustaff").empty());
  EXPECT_EQ(CountAudit(dir_, "console.signin", "throttled"), 1);
}

TEST_F(ConsoleTest, TheWaitGrowsWithEachFailureUpToFifteenMinutes) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Password("ustaff", "verkeerd wachtwoord 123"), "") << i;
  // Each failure after a wait doubles it: 2, 4, 8, ... s.
  std::chrono::seconds wait(2);
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(wait - std::chrono::seconds(1));
    EXPECT_EQ(Post("/aanmelden", "naam=ustaff&wachtwoord=x").status, 429) << i;
    clock_.Advance(std::chrono::seconds(1));
    EXPECT_EQ(Password("ustaff", "verkeerd wachtwoord 123", ""), "") << i;  // a failure: 401
    wait = std::min<std::chrono::seconds>(wait * 2, std::chrono::minutes(15));
  }
  EXPECT_EQ(wait, std::chrono::minutes(15));
  clock_.Advance(std::chrono::minutes(15) - std::chrono::seconds(1));
  Resp still = Post("/aanmelden", std::string("naam=ustaff&wachtwoord=") + UrlEncode(kPassword));
  EXPECT_EQ(still.status, 429);
  EXPECT_NE(still.body.find("Probeer het over 1 seconde opnieuw"), std::string::npos) << still.body;
  // Every wait that started is audited.
  EXPECT_EQ(CountAudit(dir_, "console.signin", "throttled"), 13);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(Password("ustaff").empty());
}

TEST_F(ConsoleTest, AnAdminUnlocksAWaitingUserOverTheApiAudited) {
  for (int i = 0; i < 7; ++i) (void)Password("ustaff", "verkeerd wachtwoord 123");
  EXPECT_EQ(Post("/aanmelden", std::string("naam=ustaff&wachtwoord=") + UrlEncode(kPassword)).status, 429);
  int api = (*daemon_)->api_port();
  // Only an admin may unlock.
  auto staff = ApiUnlock(api, tokens_["ustaff"], "ustaff");
  EXPECT_EQ(staff.first, 403) << staff.second;
  auto unknown = ApiUnlock(api, tokens_["uadmin"], "nobody");
  EXPECT_EQ(unknown.first, 404) << unknown.second;
  EXPECT_EQ(CountAudit(dir_, "user.unlock", "console_signin_waits_cleared"), 0);
  auto done = ApiUnlock(api, tokens_["uadmin"], "ustaff");
  ASSERT_EQ(done.first, 200) << done.second;
  auto j = nlohmann::json::parse(done.second);
  EXPECT_EQ(j["unlocked"], true);
  EXPECT_EQ(j["addresses"], 1);
  EXPECT_FALSE(SignIn("ustaff").empty());
  EXPECT_EQ(CountAudit(dir_, "user.unlock", "console_signin_waits_cleared"), 1);
}

// ---- accounts end (issue 16): disable, enable, rotate, expiry, roles ------

class AccountsTest : public ConsoleTest {
 protected:
  // An online command as `user` (their token in a file).
  CliResult Api(const std::string& user, std::vector<std::string> args) {
    std::string f = dir_ + "/tok-" + user;
    WriteAll(f, tokens_.at(user));
    args.insert(args.end(), {"--dir", dir_, "--token-file", f});
    return RunSchakel(args);
  }
  CliResult Offline(std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir_});
    return RunSchakel(args);
  }
  std::string IdOf(const std::string& name) {
    auto r = Offline({"user", "list", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    const nlohmann::json all = nlohmann::json::parse(r.out);  // kept alive for the loop
    for (const auto& u : all["users"]) {
      if (u["name"] == name) return u["user_id"];
    }
    return "";
  }
  // The audit entries with this action, read as the auditor.
  nlohmann::json Audited(const std::string& action) {
    auto r = Api("uauditor", {"audit", "query", "--action", action, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? nlohmann::json::parse(r.out)["entries"] : nlohmann::json::array();
  }
};

// AVG art. 15 and CJEU C-579/21: the report for the family says which
// organisation did what, when and why, not which staff member; the
// auditor's internal report keeps the user ids.
TEST_F(AccountsTest, TheFamilysAccessReportNamesNoStaffMemberTheInternalOneDoes) {
  std::string coordinator = SignIn("ucoordinator");
  ASSERT_EQ(Get("/toestemmingen?leerling=stu-1", coordinator).status, 200);  // audited, subject stu-1
  // A consent the coordinator records: in the family's report, by no name.
  std::string consent_file = dir_ + "/consent.json";
  WriteAll(consent_file, R"({"subject_id": "stu-1", "grantor_role": "ouder", "purposes": ["doorverwijzing"],
    "recipients": ["wijkteam"], "categories": ["identificatie"], "valid_from": "2026-01-01", "valid_until": null})");
  auto added = Api("ucoordinator", {"consent", "add", "--file", consent_file});
  ASSERT_EQ(added.code, 0) << added.err;
  std::string auditor = SignIn("uauditor");
  Resp family = Get("/audit/inzage?leerling=stu-1", auditor);
  ASSERT_EQ(family.status, 200);
  // The same Dutch report a parent reads on an inzage link.
  EXPECT_NE(family.body.find("Wat er is gebeurd"), std::string::npos) << family.body.substr(0, 3000);
  EXPECT_NE(family.body.find("Toestemming vastgelegd."), std::string::npos) << family.body.substr(0, 3000);
  const std::string coordinator_id = IdOf("ucoordinator");
  ASSERT_FALSE(coordinator_id.empty());
  EXPECT_EQ(family.body.find(coordinator_id), std::string::npos) << family.body.substr(0, 3000);
  EXPECT_EQ(family.body.find("ucoordinator"), std::string::npos);
  EXPECT_NE(family.body.find("De namen van medewerkers staan er niet in"), std::string::npos);
  Resp internal = Get("/audit/inzage?leerling=stu-1&intern=1", auditor);
  ASSERT_EQ(internal.status, 200);
  // In Dutch, with the users' names: who recorded the consent, as what.
  EXPECT_NE(internal.body.find("<td>ucoordinator, zorgcoördinator"), std::string::npos)
      << internal.body.substr(0, 6000);
  EXPECT_NE(internal.body.find("<td>toestemming vastgelegd</td>"), std::string::npos);
  EXPECT_EQ(internal.body.find(">consent.record<"), std::string::npos);
  EXPECT_EQ(internal.body.find(coordinator_id), std::string::npos);  // a name, not the id
  EXPECT_NE(internal.body.find("Intern verslag"), std::string::npos);
  // The same from the command line (through the API).
  auto cli_family = Api("uauditor", {"audit", "subject", "stu-1"});
  ASSERT_EQ(cli_family.code, 0) << cli_family.err;
  EXPECT_EQ(cli_family.out.find(coordinator_id), std::string::npos) << cli_family.out;
  // In Dutch too: words for the action, the organisation's name, Amsterdam time.
  EXPECT_NE(cli_family.out.find("Inzageverslag (AVG art. 15) over leerling stu-1"), std::string::npos)
      << cli_family.out;
  EXPECT_NE(cli_family.out.find("toestemming vastgelegd"), std::string::npos) << cli_family.out;
  EXPECT_NE(cli_family.out.find("door: zorgcoördinator van "), std::string::npos) << cli_family.out;
  EXPECT_EQ(cli_family.out.find("consent.record"), std::string::npos) << cli_family.out;
  EXPECT_EQ(cli_family.out.find("ucoordinator"), std::string::npos) << cli_family.out;
  auto cli_internal_text = Api("uauditor", {"audit", "subject", "stu-1", "--internal"});
  ASSERT_EQ(cli_internal_text.code, 0) << cli_internal_text.err;
  EXPECT_NE(cli_internal_text.out.find("Intern verslag"), std::string::npos) << cli_internal_text.out;
  EXPECT_NE(cli_internal_text.out.find("door: ucoordinator, zorgcoördinator van "), std::string::npos)
      << cli_internal_text.out;
  auto cli_internal = Api("uauditor", {"audit", "subject", "stu-1", "--internal", "--json"});
  ASSERT_EQ(cli_internal.code, 0) << cli_internal.err;
  auto doc = nlohmann::json::parse(cli_internal.out);
  EXPECT_FALSE(doc["for_family"].get<bool>());
  EXPECT_TRUE(doc["entries"][0]["actor"].contains("user"));
  // Each report is itself in the log, saying which it was.
  auto made = Audited("audit.subject_report");
  ASSERT_EQ(made.size(), 5u);
  EXPECT_EQ(made[0]["reason"], "for the family (Dutch page)");
  EXPECT_EQ(made[1]["reason"], "internal (staff named)");
}

TEST_F(AccountsTest, DisabledUsersTokenAndConsoleSessionEndAtOnceAndEnableRestores) {
  std::string s = SignIn("ustaff");
  ASSERT_EQ(Get("/dossiers", s).status, 200);
  ASSERT_EQ(Api("ustaff", {"status"}).code, 0);

  auto d = Offline({"user", "disable", "ustaff"});
  ASSERT_EQ(d.code, 0) << d.err;
  auto refused = Api("ustaff", {"status"});
  EXPECT_EQ(refused.code, 3);  // 401
  EXPECT_NE(refused.err.find("disabled"), std::string::npos) << refused.err;
  Resp ended = Get("/dossiers", s);
  EXPECT_EQ(ended.status, 303);
  EXPECT_EQ(ended.location, "/aanmelden");
  EXPECT_EQ(Password("ustaff"), "");  // no new console session either

  ASSERT_EQ(Offline({"user", "enable", "ustaff"}).code, 0);
  EXPECT_EQ(Api("ustaff", {"status"}).code, 0);
  EXPECT_EQ(Get("/dossiers", s).status, 303);  // the old session stays ended
  EXPECT_EQ(Get("/dossiers", SignIn("ustaff")).status, 200);
  EXPECT_EQ(Audited("user.disable").size(), 1u);
  EXPECT_EQ(Audited("user.enable").size(), 1u);
}

TEST_F(AccountsTest, NewPasswordEndsConsoleSessionsThatBeganBefore) {
  std::string s = SignIn("ustaff");
  ASSERT_EQ(Get("/dossiers", s).status, 200);
  auto pw = Offline({"user", "passwd", "ustaff"});
  (void)pw;  // stdin empty: refused, nothing changed
  EXPECT_EQ(Get("/dossiers", s).status, 200);
  auto again = RunSchakel({"user", "passwd", "--dir", dir_, "ustaff"}, std::string(kPassword) + "\n");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Get("/dossiers", s).status, 303);
}

TEST_F(AccountsTest, RotateTokenRefusesTheOldTokenAndTheNewOneWorks) {
  std::string old = tokens_.at("ustaff");
  auto r = Offline({"user", "rotate-token", "ustaff"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string fresh = LastLine(r.out);
  EXPECT_TRUE(std::regex_match(fresh, std::regex("skl_[0-9a-f]{64}"))) << fresh;
  EXPECT_NE(fresh, old);
  EXPECT_EQ(Api("ustaff", {"status"}).code, 3);
  tokens_["ustaff"] = fresh;
  EXPECT_EQ(Api("ustaff", {"status"}).code, 0);
  EXPECT_EQ(Audited("user.rotate_token").size(), 1u);
}

TEST_F(AccountsTest, ExpiredTokenIsRefusedAndStatusWarnsAWeekBefore) {
  auto quiet = Api("uadmin", {"status", "--json"});
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_TRUE(nlohmann::json::parse(quiet.out)["expiring_tokens"].empty());
  // Its web listeners are on loopback: no self-signed warning.
  EXPECT_TRUE(nlohmann::json::parse(quiet.out)["self_signed_public_listeners"].empty());
  // token_days is 90: 84 days on, every token expires within the week.
  clock_.Advance(std::chrono::hours(24 * 84));
  auto warn = Api("uadmin", {"status"});
  ASSERT_EQ(warn.code, 0) << warn.err;
  EXPECT_NE(warn.out.find("warning: the token of ustaff expires"), std::string::npos) << warn.out << warn.err;
  auto rot = Offline({"user", "rotate-token", "ustaff"});
  ASSERT_EQ(rot.code, 0);
  tokens_["ustaff"] = LastLine(rot.out);
  // The system clock made the new expiry; the test clock is 84 days on: move
  // past the others' expiry only.
  clock_.Advance(std::chrono::hours(24 * 7));
  auto expired = Api("uadmin", {"status"});
  EXPECT_EQ(expired.code, 3);
  EXPECT_NE(expired.err.find("token expired on"), std::string::npos) << expired.err;
  EXPECT_NE(expired.err.find("schakel user rotate-token uadmin"), std::string::npos) << expired.err;
}

TEST_F(AccountsTest, AdminMadeCoordinatorWaitsForAnotherCoordinatorsConfirmation) {
  auto add = Offline({"user", "add", "--name", "zorg2", "--role", "coordinator"});
  ASSERT_EQ(add.code, 0) << add.err;
  EXPECT_NE(add.out.find("cannot sign in until"), std::string::npos);
  tokens_["zorg2"] = LastLine(add.out);
  auto pending = Api("zorg2", {"status"});
  EXPECT_EQ(pending.code, 3);
  EXPECT_NE(pending.err.find("waits for a coordinator"), std::string::npos) << pending.err;
  // The admin may not confirm; neither may the pending account itself.
  EXPECT_EQ(Api("uadmin", {"user", "confirm", "zorg2"}).code, 3);
  auto list = Api("ucoordinator", {"user", "pending", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  auto p = nlohmann::json::parse(list.out)["pending"];
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["name"], "zorg2");
  EXPECT_EQ(p[0]["pending_role"], "coordinator");
  auto ok = Api("ucoordinator", {"user", "confirm", "zorg2"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(Api("zorg2", {"status"}).code, 0);
  EXPECT_EQ(Api("zorg2", {"case", "list"}).code, 0);
  EXPECT_GE(Audited("user.grant_requested").size(), 2u);  // ustaff at set-up, zorg2
  EXPECT_GE(Audited("user.grant_confirmed").size(), 2u);
}

TEST_F(AccountsTest, ConfirmByANameThatIsNoPathSegmentGoesByTheUserId) {
  auto add = Offline({"user", "add", "--name", "J. de Vries", "--role", "staff"});
  ASSERT_EQ(add.code, 0) << add.err;
  tokens_["J. de Vries"] = LastLine(add.out);
  EXPECT_EQ(Api("J. de Vries", {"case", "list"}).code, 3);
  auto ok = Api("ucoordinator", {"user", "confirm", "J. de Vries"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(Api("J. de Vries", {"case", "list"}).code, 0);
  EXPECT_EQ(Api("ucoordinator", {"user", "confirm", "J. de Vries"}).code, 2);  // nothing waits any more
}

TEST_F(AccountsTest, SetRoleToAContentRoleWaitsAndTheRequesterCannotConfirmIt) {
  // The admin asks in the console for the auditor to become staff.
  std::string admin = SignIn("uadmin");
  std::string csrf = Get("/beheer", admin).Csrf();
  std::string id = IdOf("uauditor");
  EXPECT_EQ(Post("/beheer/gebruikers/" + id + "/rol", "rol=staff", admin).status, 403);  // no CSRF token
  Resp asked = Post("/beheer/gebruikers/" + id + "/rol", "csrf=" + csrf + "&rol=staff", admin);
  ASSERT_EQ(asked.status, 303) << id << " " << asked.body;
  EXPECT_EQ(Api("uauditor", {"case", "list"}).code, 3);  // still an auditor
  // A coordinator who then asks... cannot: only admins change roles. The
  // requester (the admin) is no coordinator and may not confirm.
  EXPECT_EQ(Api("uadmin", {"user", "confirm", "uauditor"}).code, 3);
  // The coordinator confirms in the console.
  std::string coord = SignIn("ucoordinator");
  Resp page = Get("/gebruikers/wachtend", coord);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("uauditor"), std::string::npos);
  Resp confirmed = Post("/gebruikers/" + id + "/bevestigen", "csrf=" + page.Csrf(), coord);
  ASSERT_EQ(confirmed.status, 303) << confirmed.body;
  EXPECT_EQ(Api("uauditor", {"case", "list"}).code, 0);
  EXPECT_EQ(Get("/gebruikers/wachtend", admin).status, 403);
}

TEST_F(AccountsTest, AdminConsoleDisablesRemovesAndChangesRolesAtOnce) {
  std::string staff = SignIn("ustaff");
  std::string admin = SignIn("uadmin");
  std::string csrf = Get("/beheer", admin).Csrf();
  std::string id = IdOf("ustaff");
  // A direct role: the staff member's session continues with it.
  ASSERT_EQ(Post("/beheer/gebruikers/" + id + "/rol", "csrf=" + csrf + "&rol=auditor", admin).status, 303);
  EXPECT_EQ(Get("/dossiers", staff).status, 403);
  EXPECT_EQ(Get("/audit", staff).status, 200);
  ASSERT_EQ(Post("/beheer/gebruikers/" + id + "/uitschakelen", "csrf=" + csrf, admin).status, 303);
  EXPECT_EQ(Get("/audit", staff).status, 303);
  EXPECT_NE(Get("/beheer", admin).body.find("uitgeschakeld"), std::string::npos);
  ASSERT_EQ(Post("/beheer/gebruikers/" + id + "/verwijderen", "csrf=" + csrf, admin).status, 303);
  EXPECT_EQ(Api("ustaff", {"status"}).code, 3);
  // Removed for good: not enabled again; the name stays taken.
  EXPECT_EQ(Offline({"user", "enable", "ustaff"}).code, 2);
  EXPECT_EQ(Offline({"user", "add", "--name", "ustaff", "--role", "auditor"}).code, 2);
  EXPECT_EQ(Audited("user.set_role").size(), 1u);
  EXPECT_EQ(Audited("user.remove").size(), 1u);
  // The last coordinator cannot be removed.
  EXPECT_EQ(Offline({"user", "remove", "ucoordinator"}).code, 3);
}

TEST_F(ConsoleTest, TheAuditPageNamesWhoDidIt) {
  std::string staff = SignIn("ustaff");
  ASSERT_EQ(Get("/dossiers", staff).status, 200);  // audited case.list
  std::string auditor = SignIn("uauditor");
  Resp page = Get("/audit?actie=case.list", auditor);
  ASSERT_EQ(page.status, 200);
  // The user's name, with the id to search by.
  EXPECT_NE(page.body.find("ustaff <code>u-"), std::string::npos) << page.body.substr(0, 2000);
}

// ---- every route, every role ------------------------------------------------

// One HTTP request to the local API; returns the status.
http::response<http::string_body> ApiAnswer(int port, const std::string& method, const std::string& target,
                                            const std::string& token, const std::string& body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(20));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (method != "GET") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return res;
}

int ApiStatus(int port, const std::string& method, const std::string& target, const std::string& token,
              const std::string& body) {
  return static_cast<int>(ApiAnswer(port, method, target, token, body).result_int());
}

// Per role (staff, coordinator, auditor, admin): 'A' gets past the role and
// need-to-know checks (any answer but 401 and 403: an unknown id gives 404,
// an empty body 400), 'D' is refused with 403. Anonymous callers get 401 (API)
// or the sign-in page (console). Ids in patterns ("*") become "x"; a query
// is added where the route needs one.
struct RouteRow {
  const char* route;  // "METHOD PATTERN" as ApiRoutes()/ConsoleRoutes() give it
  const char* roles;  // four letters: staff, coordinator, auditor, admin
  const char* query = "";
};

// Staff see consents only for students of their cases (they have none here);
// auditors read consents and their evidence (an audited read).
constexpr RouteRow kApiTable[] = {
    {"GET /v1/status", "AAAA"},
    {"POST /v1/cases", "AADD"},
    {"GET /v1/cases", "AADD"},
    {"GET /v1/cases/*", "AADD"},
    {"PUT /v1/cases/*", "AADD"},
    {"POST /v1/cases/*/assign", "AADD"},
    {"POST /v1/consents", "DADD"},
    {"GET /v1/consents", "DAAD", "?student=stu-1"},
    {"POST /v1/consents/*/withdraw", "DADD"},
    {"POST /v1/shares", "AADD"},
    {"GET /v1/shares", "AADD"},
    {"GET /v1/shares/*", "AADD"},
    {"POST /v1/shares/*/approve", "DADD"},
    {"POST /v1/shares/*/recall", "AADD"},
    {"POST /v1/shares/*/reject", "DADD"},
    {"POST /v1/shares/*/cancel", "AADD"},
    {"GET /v1/shares/*/justification", "DAAD"},
    {"GET /v1/audit/export", "DDAD"},
    {"GET /v1/audit/subject/*", "DDAD"},
    {"GET /v1/audit/entries", "DDAD"},
    {"GET /v1/inbox", "AADD"},
    {"GET /v1/inbox/*", "AADD"},
    {"POST /v1/inbox/*/assign", "DADD"},
    {"POST /v1/inbox/*/adopt", "DADD"},
    {"GET /v1/inbox-routes", "DADD"},
    {"POST /v1/inbox-routes", "DADD"},
    {"POST /v1/students/import", "DADD"},
    {"GET /v1/students", "DADD"},
    {"GET /v1/students/*", "DADD"},
    {"PUT /v1/students/*", "DADD"},
    {"GET /v1/links", "AADD"},
    {"POST /v1/links", "AADD"},
    {"POST /v1/links/*/revoke", "AADD"},
    {"POST /v1/links/*/new-code", "AADD"},
    {"POST /v1/consent-requests", "DADD"},
    {"GET /v1/consent-requests", "DAAD", "?student=stu-1"},
    {"POST /v1/inzage-links", "DADD"},
    {"POST /v1/users/*/unlock", "DDDA"},
    {"GET /v1/users/pending", "DADD"},
    {"POST /v1/users/*/confirm", "DADD"},
    {"GET /metrics", "DDDA"},
};

constexpr RouteRow kConsoleTable[] = {
    {"GET /", "AAAA"},
    {"GET /dossiers", "AADD"},
    {"POST /dossiers", "AADD"},
    {"GET /dossiers/*", "AADD"},
    {"POST /dossiers/*", "AADD"},
    {"POST /dossiers/*/link", "AADD"},
    {"POST /dossiers/*/link/toets", "AADD"},
    {"GET /dossiers/*/export", "AADD"},
    {"POST /delen/voorbeeld", "AADD"},
    {"POST /delen/toets", "AADD"},
    {"POST /delen", "AADD"},
    {"GET /delingen", "AADD"},
    {"GET /delingen/*", "AADD"},
    {"POST /delingen/*/goedkeuren", "DADD"},
    {"POST /delingen/*/afwijzen", "DADD"},
    {"POST /delingen/*/annuleren", "AADD"},
    {"GET /inbox", "AADD"},
    {"GET /inbox/*", "AADD"},
    {"POST /inbox/*/terugkoppeling", "AADD"},
    {"POST /inbox/*/toewijzen", "DADD"},
    {"POST /inbox/*/opnemen", "DADD"},
    {"GET /leerlingen", "DADD"},
    {"POST /leerlingen", "DADD"},
    {"GET /toestemmingen", "DAAD", "?leerling=stu-1"},
    {"POST /toestemmingen", "DADD"},
    {"POST /toestemmingen/*/intrekken", "DADD"},
    {"POST /toestemmingen/verzoek", "DADD"},
    {"GET /audit", "DDAD"},
    {"POST /audit/controleren", "DDAD"},
    {"GET /audit/export", "DDAD"},
    {"GET /audit/inzage", "DDAD", "?leerling=stu-1"},
    {"GET /beheer", "DDDA"},
    {"POST /beheer/gebruikers/*/*", "DDDA"},
    {"GET /gebruikers/wachtend", "DADD"},
    {"POST /gebruikers/*/bevestigen", "DADD"},
};

std::pair<std::string, std::string> SplitRoute(const std::string& route, const char* query) {
  auto sp = route.find(' ');
  std::string path = route.substr(sp + 1);
  for (auto star = path.find('*'); star != std::string::npos; star = path.find('*')) path.replace(star, 1, "x");
  return {route.substr(0, sp), path + query};
}

template <size_t N>
void ExpectTableCovers(const RouteRow (&table)[N], const std::vector<std::string>& served, const char* what) {
  std::set<std::string> rows;
  for (const auto& r : table) rows.insert(r.route);
  for (const auto& route : served) {
    EXPECT_TRUE(rows.count(route)) << what << " route " << route << " has no row in the role table";
  }
  std::set<std::string> live(served.begin(), served.end());
  for (const auto& r : table) EXPECT_TRUE(live.count(r.route)) << what << " row " << r.route << " is not served";
}

TEST_F(ConsoleTest, EveryApiRouteAndConsolePageWithEveryRoleAndAnonymous) {
  const std::array<std::string, 4> users = {"ustaff", "ucoordinator", "uauditor", "uadmin"};
  ExpectTableCovers(kApiTable, daemon::ApiRoutes(), "API");
  ExpectTableCovers(kConsoleTable, daemon::ConsoleRoutes(), "console");

  const int api = (*daemon_)->api_port();
  for (const auto& row : kApiTable) {
    auto [method, target] = SplitRoute(row.route, row.query);
    EXPECT_EQ(ApiStatus(api, method, target, "", "{}"), 401) << row.route << " anonymous";
    for (size_t k = 0; k < users.size(); ++k) {
      int status = ApiStatus(api, method, target, tokens_.at(users[k]), "{}");
      if (row.roles[k] == 'D') {
        EXPECT_EQ(status, 403) << row.route << " as " << users[k];
      } else {
        EXPECT_NE(status, 403) << row.route << " as " << users[k];
        EXPECT_NE(status, 401) << row.route << " as " << users[k];
      }
    }
  }

  std::array<std::string, 4> sessions;
  std::array<std::string, 4> csrf;
  for (size_t k = 0; k < users.size(); ++k) {
    sessions[k] = SignIn(users[k]);
    csrf[k] = Get("/", sessions[k]).Csrf();
    ASSERT_FALSE(csrf[k].empty()) << users[k];
  }
  for (const auto& row : kConsoleTable) {
    auto [method, target] = SplitRoute(row.route, row.query);
    Resp anonymous = method == "GET" ? Get(target) : Post(target, "");
    if (method == "GET") {
      EXPECT_EQ(anonymous.status, 303) << row.route << " anonymous";
      EXPECT_EQ(anonymous.location, "/aanmelden") << row.route << " anonymous";
    } else {
      EXPECT_TRUE(anonymous.status == 303 || anonymous.status == 403) << row.route << " anonymous";
    }
    for (size_t k = 0; k < users.size(); ++k) {
      Resp r = method == "GET" ? Get(target, sessions[k]) : Post(target, "csrf=" + csrf[k], sessions[k]);
      if (row.roles[k] == 'D') {
        EXPECT_EQ(r.status, 403) << row.route << " as " << users[k];
      } else {
        EXPECT_NE(r.status, 403) << row.route << " as " << users[k] << ": " << r.body.substr(0, 300);
        EXPECT_NE(r.location, "/aanmelden") << row.route << " as " << users[k];
      }
    }
  }
}

// RFC 6750 and RFC 9110: a 401 names the scheme (and an invalid token), a
// path served for other methods answers 405 with Allow, and a path only
// resembling a route is no route.
TEST_F(ConsoleTest, TheApiSaysHowToAuthenticateAndWhichMethodsAPathServes) {
  const int api = (*daemon_)->api_port();
  auto anonymous = ApiAnswer(api, "GET", "/v1/status", "", "");
  EXPECT_EQ(anonymous.result_int(), 401u);
  EXPECT_EQ(anonymous[http::field::www_authenticate], "Bearer realm=\"schakel\"");
  auto wrong = ApiAnswer(api, "GET", "/v1/status", "not-a-token", "");
  EXPECT_EQ(wrong.result_int(), 401u);
  EXPECT_EQ(wrong[http::field::www_authenticate], "Bearer realm=\"schakel\", error=\"invalid_token\"");

  const std::string& token = tokens_.at("ucoordinator");
  auto put = ApiAnswer(api, "PUT", "/v1/status", token, "{}");
  EXPECT_EQ(put.result_int(), 405u);
  EXPECT_EQ(put[http::field::allow], "GET");
  EXPECT_EQ(nlohmann::json::parse(put.body())["error"]["code"], "method_not_allowed") << put.body();
  auto del = ApiAnswer(api, "DELETE", "/v1/cases", token, "");
  EXPECT_EQ(del.result_int(), 405u);
  EXPECT_EQ(del[http::field::allow], "POST, GET");
  EXPECT_EQ(ApiStatus(api, "GET", "/v1/linksfoo", token, ""), 404);
  EXPECT_EQ(ApiStatus(api, "GET", "/v1/links/x/y/z", token, ""), 404);
}

}  // namespace
}  // namespace schakel::testing
