#include "schakel/config/node_config.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace schakel::config {
namespace {

constexpr const char* kValid = R"(
[node]
id = "school-trajectum"
name = "Trajectum College"
org_type = "school"

[peer]
listen = "127.0.0.1:7401"

[api]
listen = "127.0.0.1:7402"

[links]
listen = "127.0.0.1:7403"
public_url = "https://127.0.0.1:7403"

[console]
listen = "127.0.0.1:7404"

[policy]
file = ""

[retention]
default_days = 180
)";

TEST(NodeConfig, ParsesTheContractExample) {
  auto c = ParseNodeConfig(kValid, "schakel.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->node_id, "school-trajectum");
  EXPECT_EQ(c->name, "Trajectum College");
  EXPECT_EQ(c->org_type, consent::OrgType::kSchool);
  EXPECT_EQ(c->peer_listen.host, "127.0.0.1");
  EXPECT_EQ(c->peer_listen.port, 7401);
  EXPECT_EQ(c->api_listen.port, 7402);
  ASSERT_TRUE(c->links_listen.has_value());
  EXPECT_EQ(c->links_public_url, "https://127.0.0.1:7403");
  ASSERT_TRUE(c->console_listen.has_value());
  EXPECT_EQ(c->retention_default_days, 180);
  EXPECT_EQ(c->policy_file, "");
  EXPECT_EQ(c->key_file, "secrets/db.key");
}

TEST(NodeConfig, RoundTripsThroughToml) {
  auto c = ParseNodeConfig(kValid, "a.toml");
  ASSERT_TRUE(c.ok());
  auto again = ParseNodeConfig(NodeConfigToToml(*c), "b.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->node_id, c->node_id);
  EXPECT_EQ(again->name, c->name);
  EXPECT_EQ(again->peer_listen.ToString(), c->peer_listen.ToString());
  EXPECT_EQ(again->api_listen.ToString(), c->api_listen.ToString());
  EXPECT_EQ(again->links_public_url, c->links_public_url);
  EXPECT_EQ(again->retention_default_days, c->retention_default_days);
}

TEST(NodeConfig, WebCertificatesAreOptionalAndRoundTrip) {
  auto plain = ParseNodeConfig(kValid, "a.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->links_cert.configured());
  EXPECT_FALSE(plain->console_cert.configured());
  std::string text = kValid;
  text.replace(text.find("public_url = \"https://127.0.0.1:7403\""),
               std::string("public_url = \"https://127.0.0.1:7403\"").size(),
               "public_url = \"https://links.example.nl/schakel/\"\ncert_file = \"tls/links.crt\"\n"
               "key_file = \"/etc/schakel/links.key\"");
  text.replace(text.find("listen = \"127.0.0.1:7404\""), std::string("listen = \"127.0.0.1:7404\"").size(),
               "listen = \"127.0.0.1:7404\"\ncert_file = \"c.crt\"\nkey_file = \"c.key\"");
  auto c = ParseNodeConfig(text, "a.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->links_public_url, "https://links.example.nl/schakel");  // trailing slash dropped
  EXPECT_EQ(c->links_cert.cert_file, "tls/links.crt");
  EXPECT_EQ(c->links_cert.key_file, "/etc/schakel/links.key");
  EXPECT_EQ(c->console_cert.cert_file, "c.crt");
  EXPECT_EQ(c->console_cert.key_file, "c.key");
  auto again = ParseNodeConfig(NodeConfigToToml(*c), "b.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->links_cert.cert_file, "tls/links.crt");
  EXPECT_EQ(again->console_cert.key_file, "c.key");
  EXPECT_EQ(again->links_public_url, c->links_public_url);
}

TEST(NodeConfig, PublicUrlHost) {
  EXPECT_EQ(PublicUrlHost("https://127.0.0.1:7403").value(), "127.0.0.1");
  EXPECT_EQ(PublicUrlHost("https://[::1]:7403/x").value(), "::1");
  EXPECT_EQ(PublicUrlHost("https://links.example.nl").value(), "links.example.nl");
  EXPECT_EQ(PublicUrlHost("https://links.example.nl/a/b").value(), "links.example.nl");
  EXPECT_FALSE(PublicUrlHost("http://x.nl").ok());
  EXPECT_FALSE(PublicUrlHost("https://").ok());
  EXPECT_FALSE(PublicUrlHost("https://x.nl/a b").ok());
  EXPECT_FALSE(PublicUrlHost("https://x.nl:0").ok());
  EXPECT_FALSE(PublicUrlHost("https://bad_host!.nl").ok());
}

// Which web listeners people elsewhere reach with the self-signed
// certificate (the `status` warning): loopback only is the demo and tests;
// a public URL or a non-loopback listen address without cert_file is not.
TEST(NodeConfig, SelfSignedPublicListenersAreThoseOthersReachWithoutACertificate) {
  auto local = ParseNodeConfig(kValid, "a.toml");
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(SelfSignedPublicListeners(*local).empty());

  auto pub = *local;
  pub.links_public_url = "https://links.example.nl/schakel";
  pub.console_listen->host = "0.0.0.0";
  auto warned = SelfSignedPublicListeners(pub);
  ASSERT_EQ(warned.size(), 2U);
  EXPECT_EQ(warned[0].section, "links");
  EXPECT_EQ(warned[0].url, "https://links.example.nl/schakel");
  EXPECT_EQ(warned[1].section, "console");
  EXPECT_EQ(warned[1].url, "https://0.0.0.0:7404");

  auto wide = *local;
  wide.links_public_url.clear();
  wide.links_listen->host = "192.0.2.7";
  ASSERT_EQ(SelfSignedPublicListeners(wide).size(), 1U);
  EXPECT_EQ(SelfSignedPublicListeners(wide)[0].url, "https://192.0.2.7:7403");

  pub.links_cert = {"tls/links.crt", "tls/links.key"};
  pub.console_cert = {"c.crt", "c.key"};
  EXPECT_TRUE(SelfSignedPublicListeners(pub).empty());
  pub.console_listen.reset();
  pub.links_listen.reset();
  EXPECT_TRUE(SelfSignedPublicListeners(pub).empty());
}

// [notify]: e-mail notices through the organisation's SMTP server; read,
// checked and written back; off when the table is absent.
TEST(NodeConfig, NotifyIsReadCheckedAndRoundTrips) {
  auto plain = ParseNodeConfig(kValid, "a.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->notify.enabled());
  const std::string with = std::string(kValid) +
                           "\n[notify]\nsmtp_host = \"smtp.school.example\"\nfrom = \"schakel@school.example\"\n"
                           "console_url = \"https://schakel.school.example:7404\"\nuser = \"schakel\"\n"
                           "password_file = \"/etc/schakel/smtp.pass\"\ncheck_seconds = 30\n";
  auto c = ParseNodeConfig(with, "a.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->notify.enabled());
  EXPECT_EQ(c->notify.smtp_port, 587);
  EXPECT_EQ(c->notify.user, "schakel");
  EXPECT_EQ(c->notify.check_seconds, 30);
  auto again = ParseNodeConfig(NodeConfigToToml(*c), "b.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->notify.smtp_host, "smtp.school.example");
  EXPECT_EQ(again->notify.password_file, "/etc/schakel/smtp.pass");
  EXPECT_EQ(again->notify.console_url, c->notify.console_url);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[notify]\nfrom = \"a@b.nl\"\n", "notify.smtp_host: missing"},
      {"[notify]\nsmtp_host = \"smtp.x.nl\"\nconsole_url = \"https://x.nl\"\n", "notify.from: missing"},
      {"[notify]\nsmtp_host = \"smtp.x.nl\"\nfrom = \"Schakel <a@b.nl>\"\nconsole_url = \"https://x.nl\"\n",
       "notify.from: must be an e-mail address"},
      {"[notify]\nsmtp_host = \"smtp.x.nl\"\nfrom = \"a@b.nl\"\nconsole_url = \"http://x.nl\"\n",
       "notify.console_url: must be the console's https:// address"},
      {"[notify]\nsmtp_host = \"smtp.x.nl\"\nfrom = \"a@b.nl\"\nconsole_url = \"https://x.nl\"\nuser = \"u\"\n",
       "user and password_file go together"},
      {"[notify]\nsmtp_host = \"smtp.x.nl\"\nsmtp_port = 0\nfrom = \"a@b.nl\"\nconsole_url = \"https://x.nl\"\n",
       "notify.smtp_port: must be a port number"},
      {"[notify]\nsmtp_host = \"bad host\"\nfrom = \"a@b.nl\"\nconsole_url = \"https://x.nl\"\n",
       "notify.smtp_host: must be a host name"},
  };
  for (const auto& [table, want] : bad) {
    auto r = ParseNodeConfig(std::string(kValid) + "\n" + table, "a.toml");
    ASSERT_FALSE(r.ok()) << table;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  }
}

// [directory]: how often regions trusted with a URL are fetched, and the
// CAs to trust for it; written back only when not the defaults.
TEST(NodeConfig, DirectoryFetchIsReadCheckedAndRoundTrips) {
  auto plain = ParseNodeConfig(kValid, "a.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->directory_fetch_seconds, 3600);
  EXPECT_EQ(plain->directory_ca_file, "");
  EXPECT_EQ(NodeConfigToToml(*plain).find("[directory]"), std::string::npos);
  auto c =
      ParseNodeConfig(std::string(kValid) + "\n[directory]\nfetch_seconds = 600\nca_file = \"swv-ca.pem\"\n", "a.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->directory_fetch_seconds, 600);
  EXPECT_EQ(c->directory_ca_file, "swv-ca.pem");
  auto again = ParseNodeConfig(NodeConfigToToml(*c), "b.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->directory_fetch_seconds, 600);
  EXPECT_EQ(again->directory_ca_file, "swv-ca.pem");
  auto off = ParseNodeConfig(std::string(kValid) + "\n[directory]\nfetch_seconds = 0\n", "a.toml");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->directory_fetch_seconds, 0);
  for (const char* bad : {"fetch_seconds = 86401", "fetch_seconds = -1", "fetch_seconds = \"1h\"",
                          "url = \"https://x.example/d.json\""}) {
    auto r = ParseNodeConfig(std::string(kValid) + "\n[directory]\n" + bad + "\n", "a.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("directory."), std::string::npos) << r.status().message();
  }
}

struct BadCase {
  const char* name;
  std::string text;
  std::string want;  // substring of the error: "file:line: key: why"
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

TEST(NodeConfig, GateLimitsHaveGenerousDefaultsAndAreRead) {
  auto c = ParseNodeConfig(kValid, "schakel.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->retention_max_days, 730);
  EXPECT_EQ(c->inbound_shares_per_minute, 120);
  EXPECT_EQ(c->inbound_bytes_per_day, 268435456);
  // A default above 730 days raises the default maximum with it.
  auto long_default = ParseNodeConfig(Replace(kValid, "default_days = 180", "default_days = 1000"), "schakel.toml");
  ASSERT_TRUE(long_default.ok()) << long_default.status().message();
  EXPECT_EQ(long_default->retention_max_days, 1000);
  auto set = ParseNodeConfig(Replace(kValid, "default_days = 180", "default_days = 30\nmax_days = 60") +
                                 "\n[limits]\ninbound_shares_per_minute = 3\ninbound_bytes_per_day = 4096\n",
                             "schakel.toml");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->retention_max_days, 60);
  EXPECT_EQ(set->inbound_shares_per_minute, 3);
  EXPECT_EQ(set->inbound_bytes_per_day, 4096);
  auto again = ParseNodeConfig(NodeConfigToToml(*set), "schakel.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->retention_max_days, 60);
  EXPECT_EQ(again->inbound_shares_per_minute, 3);
  EXPECT_EQ(again->inbound_bytes_per_day, 4096);
}

// Besluit verplichte meldcode art. 2: the organisation names the function
// that decides on a report; by default any coordinator (but the requester).
TEST(NodeConfig, TheMeldcodeApproverIsACoordinatorOrAFunction) {
  auto c = ParseNodeConfig(kValid, "schakel.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->meldcode_approver_role, "coordinator");
  auto set = ParseNodeConfig(std::string(kValid) + "\n[meldcode]\napprover_role = \"aandachtsfunctionaris\"\n",
                             "schakel.toml");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->meldcode_approver_role, "aandachtsfunctionaris");
  auto again = ParseNodeConfig(NodeConfigToToml(*set), "schakel.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->meldcode_approver_role, "aandachtsfunctionaris");
  for (const char* bad : {"staff", "admin", "auditor", "none", "Aandacht", "x", "a b", ""}) {
    auto refused =
        ParseNodeConfig(std::string(kValid) + "\n[meldcode]\napprover_role = \"" + bad + "\"\n", "schakel.toml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("meldcode.approver_role"), std::string::npos)
        << refused.status().message();
  }
  EXPECT_FALSE(ParseNodeConfig(std::string(kValid) + "\n[meldcode]\napprover = \"x\"\n", "schakel.toml").ok());
}

class NodeConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(NodeConfigErrors, NamesFileLineAndKey) {
  auto c = ParseNodeConfig(GetParam().text, "node/schakel.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidInput);
  EXPECT_EQ(c.status().ExitCode(), 2);
  EXPECT_NE(c.status().message().find(GetParam().want), std::string::npos) << "got: " << c.status().message();
}

const std::string kV = kValid;
INSTANTIATE_TEST_SUITE_P(
    All, NodeConfigErrors,
    ::testing::Values(
        BadCase{"unknown_key", Replace(kV, "org_type = \"school\"", "org_type = \"school\"\ncolour = \"red\""),
                "node/schakel.toml:6: node.colour: unknown key"},
        BadCase{"unknown_table", kV + "\n[extra]\nx = 1\n", "extra: unknown table"},
        BadCase{"wrong_type", Replace(kV, "default_days = 180", "default_days = \"180\""),
                ":24: retention.default_days: expected an integer"},
        BadCase{"days_range", Replace(kV, "default_days = 180", "default_days = 0"),
                "retention.default_days: must be from 1 to 3650"},
        BadCase{"max_days_range", Replace(kV, "default_days = 180", "default_days = 180\nmax_days = 4000"),
                ":25: retention.max_days: must be from 1 to 3650 days"},
        BadCase{"max_days_below_default", Replace(kV, "default_days = 180", "default_days = 180\nmax_days = 30"),
                ":25: retention.max_days: must not be less than retention.default_days (180)"},
        BadCase{"shares_per_minute_type", kV + "\n[limits]\ninbound_shares_per_minute = \"many\"\n",
                ":27: limits.inbound_shares_per_minute: expected an integer (shares)"},
        BadCase{"shares_per_minute_zero", kV + "\n[limits]\ninbound_shares_per_minute = 0\n",
                "limits.inbound_shares_per_minute: must be from 1 to 1000000 shares"},
        BadCase{"bytes_per_day_small", kV + "\n[limits]\ninbound_bytes_per_day = 10\n",
                "limits.inbound_bytes_per_day: must be from 1024 to 1099511627776 bytes"},
        BadCase{"limits_unknown_key", kV + "\n[limits]\noutbound = 1\n", "limits.outbound: unknown key"},
        BadCase{"missing_id", Replace(kV, "id = \"school-trajectum\"\n", ""), "node.id: missing"},
        BadCase{"missing_peer", Replace(kV, "[peer]\nlisten = \"127.0.0.1:7401\"\n", ""), "peer.listen: missing"},
        BadCase{"bad_id", Replace(kV, "school-trajectum", "School_Trajectum"), ":3: node.id: must be 3 to 64"},
        BadCase{"short_id", Replace(kV, "school-trajectum", "ab"), "node.id"},
        BadCase{"bad_org_type", Replace(kV, "org_type = \"school\"", "org_type = \"bank\""),
                ":5: node.org_type: unknown org type \"bank\""},
        BadCase{"bad_port", Replace(kV, "127.0.0.1:7401", "127.0.0.1:99999"),
                ":8: peer.listen: port must be a number from 1 to 65535"},
        BadCase{"no_port", Replace(kV, "127.0.0.1:7401", "127.0.0.1"), "peer.listen: expected HOST:PORT"},
        BadCase{"bad_ipv4", Replace(kV, "127.0.0.1:7402", "300.1.1.1:7402"), "api.listen: not an IPv4"},
        BadCase{"unbracketed_ipv6", Replace(kV, "127.0.0.1:7402", "::1:7402"), "api.listen: put an IPv6"},
        BadCase{"http_public_url", Replace(kV, "https://127.0.0.1:7403", "http://x:1"),
                "links.public_url: must start with https://"},
        BadCase{"public_url_query", Replace(kV, "https://127.0.0.1:7403", "https://x.nl/?a=1"),
                "links.public_url: must be https://HOST[:PORT][/PATH]"},
        BadCase{"public_url_userinfo", Replace(kV, "https://127.0.0.1:7403", "https://u@x.nl"),
                "links.public_url: must not hold a user name"},
        BadCase{"links_cert_without_key",
                Replace(kV, "public_url = \"https://127.0.0.1:7403\"",
                        "public_url = \"https://127.0.0.1:7403\"\ncert_file = \"web.pem\""),
                ":16: links.key_file: missing: set both links.cert_file and links.key_file"},
        BadCase{"console_key_without_cert",
                Replace(kV, "listen = \"127.0.0.1:7404\"", "listen = \"127.0.0.1:7404\"\nkey_file = \"k.pem\""),
                ":19: console.cert_file: missing"},
        BadCase{"console_cert_empty",
                Replace(kV, "listen = \"127.0.0.1:7404\"",
                        "listen = \"127.0.0.1:7404\"\ncert_file = \"\"\nkey_file = \"k.pem\""),
                ":19: console.cert_file: must not be empty"},
        BadCase{"cert_file_not_string",
                Replace(kV, "listen = \"127.0.0.1:7404\"", "listen = \"127.0.0.1:7404\"\ncert_file = 3"),
                ":19: console.cert_file: expected a string"},
        BadCase{"not_a_table", "node = 3\n", "node: expected a table"},
        BadCase{"syntax", "[node\nid=", "node/schakel.toml:1"}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });

// Issue 16 (5): the plain-HTTP API on loopback only; no wildcard address
// where partners or link recipients would have to dial it.
TEST(NodeConfig, ApiListenOnAWildcardOrOtherAddressIsRefused) {
  for (const char* bad : {"0.0.0.0:7402", "[::]:7402", "192.168.1.10:7402", "node.example.nl:7402"}) {
    auto c = ParseNodeConfig(Replace(kValid, "listen = \"127.0.0.1:7402\"", std::string("listen = \"") + bad + "\""),
                             "schakel.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Code::kInvalidInput);
    EXPECT_NE(c.status().message().find("schakel.toml:11: api.listen:"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("not a loopback address"), std::string::npos) << c.status().message();
  }
  for (const char* good : {"127.0.0.1:7402", "127.0.0.2:7402", "[::1]:7402", "localhost:7402"}) {
    auto c = ParseNodeConfig(Replace(kValid, "listen = \"127.0.0.1:7402\"", std::string("listen = \"") + good + "\""),
                             "schakel.toml");
    EXPECT_TRUE(c.ok()) << good << ": " << c.status().message();
  }
}

TEST(NodeConfig, WildcardPeerListenNeedsAnAdvertisedAddress) {
  std::string wild = Replace(kValid, "listen = \"127.0.0.1:7401\"", "listen = \"0.0.0.0:7401\"");
  auto missing = ParseNodeConfig(wild, "schakel.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("peer.advertise: missing"), std::string::npos)
      << missing.status().message();
  auto ok = ParseNodeConfig(
      Replace(wild, "listen = \"0.0.0.0:7401\"", "listen = \"0.0.0.0:7401\"\nadvertise = \"school.example.nl:7401\""),
      "schakel.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->AdvertisedPeerAddress().ToString(), "school.example.nl:7401");
  auto wild_advertise = ParseNodeConfig(
      Replace(kValid, "listen = \"127.0.0.1:7401\"", "listen = \"127.0.0.1:7401\"\nadvertise = \"[::]:7401\""),
      "schakel.toml");
  ASSERT_FALSE(wild_advertise.ok());
  EXPECT_NE(wild_advertise.status().message().find("peer.advertise: :: is a wildcard"), std::string::npos)
      << wild_advertise.status().message();
  auto wild_url = ParseNodeConfig(Replace(kValid, "https://127.0.0.1:7403", "https://0.0.0.0:7403"), "schakel.toml");
  ASSERT_FALSE(wild_url.ok());
  EXPECT_NE(wild_url.status().message().find("links.public_url: 0.0.0.0 is a wildcard"), std::string::npos)
      << wild_url.status().message();
}

TEST(NodeConfig, WildcardAndLoopbackHosts) {
  EXPECT_TRUE(IsUnspecifiedHost("0.0.0.0"));
  EXPECT_TRUE(IsUnspecifiedHost("::"));
  EXPECT_TRUE(IsUnspecifiedHost("0:0:0:0:0:0:0:0"));
  EXPECT_FALSE(IsUnspecifiedHost("127.0.0.1"));
  EXPECT_FALSE(IsUnspecifiedHost("school.example.nl"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("::"));
}

TEST(Address, ParsesForms) {
  auto v4 = ParseAddress("127.0.0.1:1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ToString(), "127.0.0.1:1");
  auto v6 = ParseAddress("[::1]:7401");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:7401");
  auto dns = ParseAddress("node.school.example:443");
  ASSERT_TRUE(dns.ok());
  EXPECT_FALSE(ParseAddress("host:0").ok());
  EXPECT_FALSE(ParseAddress("host:-1").ok());
  EXPECT_FALSE(ParseAddress("host:12ab").ok());
  EXPECT_FALSE(ParseAddress("ho st:12").ok());
  EXPECT_FALSE(ParseAddress("[::zz]:12").ok());
  EXPECT_FALSE(ParseAddress(":12").ok());
  EXPECT_FALSE(ParseAddress(std::string(400, 'a') + ":1").ok());
}

TEST(NodeConfig, RefusesOversizeFile) {
  std::string big = kV + "\n#" + std::string(kMaxConfigBytes, 'x') + "\n";
  auto c = ParseNodeConfig(big, "big.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("larger than"), std::string::npos);
}

TEST(NodeConfig, MissingFileSaysWhatToDo) {
  auto c = LoadNodeConfig("/nonexistent-schakel-dir");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().ExitCode(), 2);
  EXPECT_NE(c.status().message().find("schakel init"), std::string::npos);
}

}  // namespace
}  // namespace schakel::config
