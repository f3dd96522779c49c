// An https:// URL (config/https_url.h): where a regional directory is
// fetched from (`directory trust --url`, docs/region.md).
#include "schakel/config/https_url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace schakel::config {
namespace {

TEST(HttpsUrl, HostPortAndTargetAreReadAndWrittenBack) {
  struct Case {
    std::string text, host;
    uint16_t port;
    std::string target, written;
  };
  const std::vector<Case> cases = {
      {"https://swv-oost.example/dir/swv-oost.json", "swv-oost.example", 443, "/dir/swv-oost.json",
       "https://swv-oost.example/dir/swv-oost.json"},
      {"https://swv-oost.example", "swv-oost.example", 443, "/", "https://swv-oost.example/"},
      {"https://192.0.2.7:8443/d.json?v=3", "192.0.2.7", 8443, "/d.json?v=3", "https://192.0.2.7:8443/d.json?v=3"},
      {"https://[2001:db8::1]/d.json", "2001:db8::1", 443, "/d.json", "https://[2001:db8::1]/d.json"},
      {"https://[2001:db8::1]:9443?x", "2001:db8::1", 9443, "/?x", "https://[2001:db8::1]:9443/?x"},
      {"https://h.example:443/a", "h.example", 443, "/a", "https://h.example/a"},
  };
  for (const Case& c : cases) {
    auto url = ParseHttpsUrl(c.text);
    ASSERT_TRUE(url.ok()) << c.text << ": " << url.status().message();
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->target, c.target) << c.text;
    EXPECT_EQ(url->ToString(), c.written) << c.text;
  }
}

TEST(HttpsUrl, AnythingElseIsRefusedSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"http://swv-oost.example/d.json", "http:// is refused: use https://"},
      {"ftp://swv-oost.example/d.json", "expected https://HOST[:PORT]/PATH"},
      {"swv-oost.example/d.json", "expected https://"},
      {"https://", "no host"},
      {"https:///d.json", "no host"},
      {"https://user:pw@swv-oost.example/d.json", "user info"},
      {"https://swv-oost.example/d.json#part", "fragment"},
      {"https://swv-oost.example:0/d.json", "URL: "},
      {"https://swv-oost.example:70000/d.json", "URL: "},
      {"https://swv oost.example/d.json", "printable ASCII without spaces"},
      {"https://swv-oost.example/d\x01.json", "printable ASCII"},
      {"https://0.0.0.0/d.json", "wildcard"},
      {"https://[::]/d.json", "wildcard"},
      {"https://[2001:db8::1/d.json", "URL: "},
      {"https://swv-oost.example/" + std::string(kMaxUrlBytes, 'a'), "longer than 2048 bytes"},
  };
  for (const auto& [text, want] : bad) {
    auto url = ParseHttpsUrl(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.status().code(), Code::kInvalidInput) << text;
    EXPECT_NE(url.status().message().find(want), std::string::npos) << text << ": " << url.status().message();
  }
}

}  // namespace
}  // namespace schakel::config
