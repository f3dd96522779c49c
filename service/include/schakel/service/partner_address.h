// Whether a partner card's address may be imported (docs/node-card.md "A
// partner's address"): by `partner add`, `directory trust|update` and a
// directory a partner passes along. The rules over literal addresses are
// config/networks.h; this part resolves names and reads this machine's
// interface addresses, which config/ does not.
#pragma once

#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/config/networks.h"
#include "schakel/config/node_config.h"

namespace schakel::service {

// The addresses `host` stands for: itself when it is a literal address,
// else what the system's resolver answers (at most 32). kUnavailable when a
// name does not resolve.
Result<std::vector<config::IpAddress>> ResolveHost(const std::string& host);

// A partner's card address, checked before it is imported:
// - a loopback, link-local, unspecified, multicast or broadcast address (or
//   a name resolving to one) is refused unless `allow_local` (tests and
//   demos on one machine);
// - an address of one of this node's own listeners ([peer], [api], [links],
//   [console] on this machine) is refused always;
// - with [peer] allowed_networks set, every address must lie in one of them.
// A name that does not resolve now is not refused (the partner's DNS may
// not be reachable from where the card is imported); `note` then says so,
// and the delivery worker checks what it resolves to before it dials.
// `own_addresses` are this machine's interface addresses (LocalAddresses()).
Status CheckPartnerAddress(const std::string& address, const config::NodeConfig& own,
                           const std::vector<config::IpAddress>& own_addresses, bool allow_local, std::string* note);

// This machine's interface addresses (getifaddrs), loopback included.
std::vector<config::IpAddress> LocalAddresses();

}  // namespace schakel::service
