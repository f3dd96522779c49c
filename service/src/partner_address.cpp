#include "schakel/service/partner_address.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

namespace schakel::service {
namespace {

constexpr size_t kMaxResolved = 32;

std::optional<config::IpAddress> FromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  config::IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    // Through the parser, so an IPv4-mapped address is its IPv4 address.
    a.v6 = true;
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    auto parsed = config::ParseIpAddress(a.ToString());
    if (parsed.ok()) return *parsed;
    return a;
  }
  return std::nullopt;
}

bool Contains(const std::vector<config::IpAddress>& list, const config::IpAddress& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

// The addresses one of this node's listeners answers on: a wildcard one
// answers on every address of this machine.
std::vector<config::IpAddress> ListenerAddresses(const config::Address& listener,
                                                 const std::vector<config::IpAddress>& own_addresses) {
  if (config::IsUnspecifiedHost(listener.host)) return own_addresses;
  auto resolved = ResolveHost(listener.host);
  return resolved.ok() ? *resolved : std::vector<config::IpAddress>{};
}

}  // namespace

Result<std::vector<config::IpAddress>> ResolveHost(const std::string& host) {
  auto literal = config::ParseIpAddress(host);
  if (literal.ok()) return std::vector<config::IpAddress>{*literal};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve \"" + host + "\": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  std::vector<config::IpAddress> out;
  for (const addrinfo* ai = found; ai != nullptr && out.size() < kMaxResolved; ai = ai->ai_next) {
    auto a = FromSockaddr(ai->ai_addr);
    if (a && !Contains(out, *a)) out.push_back(*a);
  }
  if (out.empty()) return Status::Unavailable("\"" + host + "\" resolves to no IP address");
  return out;
}

std::vector<config::IpAddress> LocalAddresses() {
  std::vector<config::IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    auto a = FromSockaddr(i->ifa_addr);
    if (a && !Contains(out, *a)) out.push_back(*a);
  }
  ::freeifaddrs(list);
  return out;
}

Status CheckPartnerAddress(const std::string& address, const config::NodeConfig& own,
                           const std::vector<config::IpAddress>& own_addresses, bool allow_local, std::string* note) {
  auto parsed = config::ParseAddress(address);
  if (!parsed.ok()) return Status::InvalidInput("address: " + parsed.status().message());
  const config::Address& target = *parsed;
  if (config::IsUnspecifiedHost(target.host)) {
    return Status::InvalidInput("address " + address + " is a wildcard address, which no partner can be reached on");
  }
  auto resolved = ResolveHost(target.host);
  if (!resolved.ok()) {
    *note = "address " + address + ": " + resolved.status().message() +
            "; not checked now: the delivery worker checks what it resolves to before it dials";
    return Status::Ok();
  }
  const std::vector<config::IpAddress>& ips = *resolved;

  struct Listener {
    const char* name;
    const config::Address* at;
  };
  std::vector<Listener> listeners = {{"[peer] listen", &own.peer_listen}, {"[api] listen", &own.api_listen}};
  if (own.peer_advertise) listeners.push_back({"[peer] advertise", &*own.peer_advertise});
  if (own.links_listen) listeners.push_back({"[links] listen", &*own.links_listen});
  if (own.console_listen) listeners.push_back({"[console] listen", &*own.console_listen});
  for (const Listener& l : listeners) {
    if (l.at->port != target.port) continue;
    std::vector<config::IpAddress> answers = ListenerAddresses(*l.at, own_addresses);
    for (const config::IpAddress& ip : ips) {
      if (Contains(answers, ip)) {
        return Status::InvalidInput("address " + address + " is this node's own " + l.name +
                                    ": a partner's card must name the partner's node");
      }
    }
  }
  for (const config::IpAddress& ip : ips) {
    std::string_view kind = config::LocalAddressKind(ip);
    if (!kind.empty() && !allow_local) {
      return Status::InvalidInput(
          "address " + address + (ip.ToString() == target.host ? "" : " (" + ip.ToString() + ")") + " is a " +
          std::string(kind) +
          " address: a partner's node is on another machine. Check the card with the partner; for a test or demo "
          "with every node on this machine, run again with --allow-local-address");
    }
    if (!config::InAllowedNetworks(own.peer_allowed_networks, ip)) {
      return Status::InvalidInput("address " + address +
                                  (ip.ToString() == target.host ? "" : " (" + ip.ToString() + ")") +
                                  " is outside [peer] allowed_networks");
    }
  }
  return Status::Ok();
}

}  // namespace schakel::service
