// IP addresses and networks (config/networks.h): [peer] allowed_networks and
// what a partner's address may be (issue #25 (6); docs/node-card.md).
#include "schakel/config/networks.h"

#include <gtest/gtest.h>

#include <string>

#include "schakel/config/node_config.h"

namespace schakel::config {
namespace {

IpAddress Ip(const std::string& text) {
  auto a = ParseIpAddress(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().message();
  return a.ok() ? *a : IpAddress{};
}

IpNetwork Net(const std::string& text) {
  auto n = ParseIpNetwork(text);
  EXPECT_TRUE(n.ok()) << text << ": " << n.status().message();
  return n.ok() ? *n : IpNetwork{};
}

TEST(Networks, AddressesAreLiteralAndAMappedOneIsItsIPv4Address) {
  EXPECT_EQ(Ip("192.0.2.7").ToString(), "192.0.2.7");
  EXPECT_EQ(Ip("2001:db8::1").ToString(), "2001:db8::1");
  EXPECT_EQ(Ip("::ffff:127.0.0.1"), Ip("127.0.0.1"));
  for (const char* bad : {"", "school.example.nl", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "fe80::1%eth0",
                          "[::1]", " 1.2.3.4", "1.2.3.4 ", "01.2.3.4x"}) {
    EXPECT_FALSE(ParseIpAddress(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseIpAddress(std::string(100, '1')).ok());
}

TEST(Networks, NetworksContainWhatTheirPrefixSays) {
  IpNetwork ten = Net("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains(Ip("10.255.0.1")));
  EXPECT_FALSE(ten.Contains(Ip("11.0.0.1")));
  EXPECT_FALSE(ten.Contains(Ip("2001:db8::1")));
  IpNetwork doc = Net("2001:db8::/32");
  EXPECT_TRUE(doc.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(doc.Contains(Ip("2001:db9::1")));
  EXPECT_FALSE(doc.Contains(Ip("10.0.0.1")));
  EXPECT_TRUE(Net("0.0.0.0/0").Contains(Ip("203.0.113.9")));
  EXPECT_TRUE(Net("192.0.2.7").Contains(Ip("192.0.2.7")));
  EXPECT_FALSE(Net("192.0.2.7").Contains(Ip("192.0.2.8")));
  EXPECT_EQ(Net("192.0.2.7").prefix, 32);
  EXPECT_EQ(Net("10.1.128.0/17").ToString(), "10.1.128.0/17");
  // An IPv4-mapped network is its IPv4 network; a mapped address is in it.
  EXPECT_EQ(Net("::ffff:10.0.0.0/104"), ten);
  EXPECT_TRUE(ten.Contains(Ip("::ffff:10.9.9.9")));
  EXPECT_TRUE(InAllowedNetworks({}, Ip("203.0.113.9")));
  EXPECT_TRUE(InAllowedNetworks({ten, doc}, Ip("2001:db8::5")));
  EXPECT_FALSE(InAllowedNetworks({ten, doc}, Ip("127.0.0.1")));
}

TEST(Networks, ABadNetworkSaysWhatIsWrong) {
  auto host_bits = ParseIpNetwork("10.1.0.0/8");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.status().message().find("did you mean 10.0.0.0/8"), std::string::npos)
      << host_bits.status().message();
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "2001:db8::/129",
                          "::ffff:10.0.0.0/8", "school.example.nl/24", "10.0.0.0/0008", "/8", "10.0.0.0 /8"}) {
    auto n = ParseIpNetwork(bad);
    EXPECT_FALSE(n.ok()) << bad;
  }
  EXPECT_FALSE(ParseIpNetwork(std::string(kMaxNetworkTextBytes + 1, '1')).ok());
}

TEST(Networks, LocalKindsAreNamed) {
  EXPECT_EQ(LocalAddressKind(Ip("127.0.0.1")), "loopback");
  EXPECT_EQ(LocalAddressKind(Ip("127.8.9.10")), "loopback");
  EXPECT_EQ(LocalAddressKind(Ip("::1")), "loopback");
  EXPECT_EQ(LocalAddressKind(Ip("::ffff:127.0.0.1")), "loopback");
  EXPECT_EQ(LocalAddressKind(Ip("169.254.169.254")), "link-local");
  EXPECT_EQ(LocalAddressKind(Ip("fe80::1")), "link-local");
  EXPECT_EQ(LocalAddressKind(Ip("febf::1")), "link-local");
  EXPECT_EQ(LocalAddressKind(Ip("0.0.0.0")), "unspecified");
  EXPECT_EQ(LocalAddressKind(Ip("::")), "unspecified");
  EXPECT_EQ(LocalAddressKind(Ip("224.0.0.1")), "multicast");
  EXPECT_EQ(LocalAddressKind(Ip("ff02::1")), "multicast");
  EXPECT_EQ(LocalAddressKind(Ip("255.255.255.255")), "broadcast");
  for (const char* fine : {"192.0.2.7", "10.0.0.1", "2001:db8::1", "fec0::1", "128.0.0.1", "223.255.255.255"}) {
    EXPECT_EQ(LocalAddressKind(Ip(fine)), "") << fine;
  }
}

constexpr const char* kConfig = R"(
[node]
id = "school-a"
name = "School A"
org_type = "school"

[peer]
listen = "127.0.0.1:7401"
%NETWORKS%

[api]
listen = "127.0.0.1:7402"
)";

Result<NodeConfig> WithNetworks(const std::string& line) {
  std::string text = kConfig;
  text.replace(text.find("%NETWORKS%"), 10, line);
  return ParseNodeConfig(text, "schakel.toml");
}

TEST(Networks, AllowedNetworksAreReadCheckedAndWrittenBack) {
  auto none = WithNetworks("");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->peer_allowed_networks.empty());
  auto some = WithNetworks(R"(allowed_networks = ["10.0.0.0/8", "2001:db8::/32"])");
  ASSERT_TRUE(some.ok()) << some.status().message();
  ASSERT_EQ(some->peer_allowed_networks.size(), 2u);
  EXPECT_EQ(some->peer_allowed_networks[1].ToString(), "2001:db8::/32");
  auto again = ParseNodeConfig(NodeConfigToToml(*some), "written.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->peer_allowed_networks, some->peer_allowed_networks);

  auto bad = WithNetworks(R"(allowed_networks = ["10.0.0.0/8", "10.1.0.0/8"])");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("schakel.toml:9: peer.allowed_networks"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("did you mean 10.0.0.0/8"), std::string::npos);
  EXPECT_FALSE(WithNetworks(R"(allowed_networks = "10.0.0.0/8")").ok());
  EXPECT_FALSE(WithNetworks(R"(allowed_networks = [8])").ok());
  std::string many = "allowed_networks = [";
  for (size_t i = 0; i <= kMaxAllowedNetworks; ++i) many += "\"10.0.0." + std::to_string(i) + "\",";
  many += "]";
  auto too_many = WithNetworks(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("more than 64"), std::string::npos) << too_many.status().message();
}

// [peer] max_buffered_mib (issue #25 (3)): the peer server's budget for
// inbound frames; at least three of the largest frame.
TEST(Networks, MaxBufferedMibIsReadCheckedAndWrittenBack) {
  auto none = WithNetworks("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->peer_max_buffered_mib, 64);
  EXPECT_EQ(NodeConfigToToml(*none).find("max_buffered_mib"), std::string::npos);
  auto more = WithNetworks("max_buffered_mib = 256");
  ASSERT_TRUE(more.ok()) << more.status().message();
  EXPECT_EQ(more->peer_max_buffered_mib, 256);
  auto again = ParseNodeConfig(NodeConfigToToml(*more), "written.toml");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->peer_max_buffered_mib, 256);
  auto small = WithNetworks("max_buffered_mib = 48");
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("peer.max_buffered_mib: must be from 49"), std::string::npos)
      << small.status().message();
  EXPECT_FALSE(WithNetworks("max_buffered_mib = \"64\"").ok());
}

}  // namespace
}  // namespace schakel::config
