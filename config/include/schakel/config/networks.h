// IP addresses and networks: [peer] allowed_networks, and what a partner's
// address may be (docs/node-card.md "A partner's address"). Literal
// addresses only; nothing here resolves a name.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"

namespace schakel::config {

// An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// its IPv4 address: the rules below must not be dodged by spelling.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in bytes[0..3]
  bool operator==(const IpAddress&) const = default;
  std::string ToString() const;
};

// A literal IPv4 address ("192.0.2.7") or IPv6 address ("2001:db8::1",
// without brackets); kInvalidInput otherwise (a name, a zone id, ...).
Result<IpAddress> ParseIpAddress(std::string_view text);

// An address block in CIDR notation: "10.0.0.0/8", "2001:db8::/32". A bare
// address is its own /32 or /128. The bits after the prefix must be zero
// ("10.1.0.0/8" is refused, saying which network was meant).
struct IpNetwork {
  IpAddress base;
  int prefix = 0;  // 0..32 (IPv4) or 0..128 (IPv6)
  bool operator==(const IpNetwork&) const = default;
  std::string ToString() const;  // "10.0.0.0/8"
  bool Contains(const IpAddress& a) const;
};
inline constexpr size_t kMaxNetworkTextBytes = 64;
Result<IpNetwork> ParseIpNetwork(std::string_view text);

// Why `a` is no address of a partner's node elsewhere: "loopback"
// (127.0.0.0/8, ::1), "link-local" (169.254.0.0/16, fe80::/10),
// "unspecified" (0.0.0.0/8, ::), "multicast" (224.0.0.0/4, ff00::/8) or
// "broadcast" (255.255.255.255); empty when it may be one.
std::string_view LocalAddressKind(const IpAddress& a);

// [peer] allowed_networks: at most this many entries.
inline constexpr size_t kMaxAllowedNetworks = 64;

// Whether `a` lies in one of `networks`; true when `networks` is empty (no
// restriction configured).
bool InAllowedNetworks(const std::vector<IpNetwork>& networks, const IpAddress& a);

}  // namespace schakel::config
