#include "schakel/config/networks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace schakel::config {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int Width(const IpAddress& a) { return a.v6 ? 128 : 32; }

// Whether the first `bits` bits of a and b agree.
bool SamePrefix(const IpAddress& a, const IpAddress& b, int bits) {
  for (int i = 0; i < bits; ++i) {
    const auto byte = static_cast<size_t>(i / 8);
    const int mask = 0x80 >> (i % 8);
    if ((a.bytes[byte] & mask) != (b.bytes[byte] & mask)) return false;
  }
  return true;
}

bool Printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

Result<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45 || !Printable(text)) {
    return Status::InvalidInput("not an IP address");
  }
  const std::string s(text);
  IpAddress out;
  if (s.find(':') == std::string::npos) {
    if (::inet_pton(AF_INET, s.c_str(), out.bytes.data()) != 1) {
      return Status::InvalidInput("\"" + s + "\" is not an IPv4 address");
    }
    return out;
  }
  if (::inet_pton(AF_INET6, s.c_str(), out.bytes.data()) != 1) {
    return Status::InvalidInput("\"" + s + "\" is not an IPv6 address");
  }
  out.v6 = true;
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), out.bytes.begin())) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), out.bytes.data() + 12, 4);
    return v4;
  }
  return out;
}

std::string IpNetwork::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

bool IpNetwork::Contains(const IpAddress& a) const { return a.v6 == base.v6 && SamePrefix(a, base, prefix); }

Result<IpNetwork> ParseIpNetwork(std::string_view text) {
  if (text.size() > kMaxNetworkTextBytes || !Printable(text)) {
    return Status::InvalidInput("not a network (like 10.0.0.0/8 or 2001:db8::/32)");
  }
  const size_t slash = text.find('/');
  IpNetwork out;
  auto base = ParseIpAddress(text.substr(0, slash));
  if (!base.ok()) {
    return Status::InvalidInput("\"" + std::string(text) + "\": " + base.status().message() +
                                " (a network is written like 10.0.0.0/8 or 2001:db8::/32)");
  }
  out.base = *base;
  out.prefix = Width(out.base);
  // An IPv4-mapped base (::ffff:10.0.0.0/104) is its IPv4 network.
  const bool mapped = !out.base.v6 && text.substr(0, slash).find(':') != std::string_view::npos;
  if (slash != std::string_view::npos) {
    const int width = mapped ? 128 : Width(out.base);
    std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || digits.size() > 3 || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix < 0 || prefix > width) {
      return Status::InvalidInput("\"" + std::string(text) + "\": the prefix length must be 0.." +
                                  std::to_string(width));
    }
    if (mapped && prefix < 96) {
      return Status::InvalidInput("\"" + std::string(text) + "\": an IPv4-mapped network needs a prefix of 96..128");
    }
    out.prefix = mapped ? prefix - 96 : prefix;
  }
  IpNetwork meant = out;
  for (int i = out.prefix; i < Width(out.base); ++i)
    meant.base.bytes[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
  if (meant.base != out.base) {
    return Status::InvalidInput("\"" + std::string(text) + "\" has bits set after the prefix; did you mean " +
                                meant.ToString() + "?");
  }
  return out;
}

std::string_view LocalAddressKind(const IpAddress& a) {
  const auto& b = a.bytes;
  if (!a.v6) {
    if (b[0] == 127) return "loopback";
    if (b[0] == 169 && b[1] == 254) return "link-local";
    if (b[0] == 0) return "unspecified";
    if (b[0] >= 224 && b[0] <= 239) return "multicast";
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "broadcast";
    return "";
  }
  const bool zero_but_last = std::all_of(b.begin(), b.end() - 1, [](uint8_t x) { return x == 0; });
  if (zero_but_last && b[15] == 1) return "loopback";
  if (zero_but_last && b[15] == 0) return "unspecified";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xff) return "multicast";
  return "";
}

bool InAllowedNetworks(const std::vector<IpNetwork>& networks, const IpAddress& a) {
  if (networks.empty()) return true;
  return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.Contains(a); });
}

}  // namespace schakel::config
