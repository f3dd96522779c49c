// config::ParseIpAddress and config::ParseIpNetwork ([peer] allowed_networks
// entries; a partner card's literal host) on arbitrary bytes. Round trip:
// what parses, written with ToString, parses again to the same value; an
// address lies in its own /32 or /128 network.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/config/networks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::config::LocalAddressKind;
  using schakel::config::ParseIpAddress;
  using schakel::config::ParseIpNetwork;
  const std::string text(schakel::fuzz::AsText(data, size));
  auto address = ParseIpAddress(text);
  if (address.ok()) {
    auto again = ParseIpAddress(address->ToString());
    FUZZ_CHECK(again.ok() && *again == *address);
    auto own = ParseIpNetwork(address->ToString());
    FUZZ_CHECK(own.ok() && own->Contains(*address));
    (void)LocalAddressKind(*address);
  }
  auto network = ParseIpNetwork(text);
  if (network.ok()) {
    FUZZ_CHECK(network->prefix >= 0 && network->prefix <= (network->base.v6 ? 128 : 32));
    auto again = ParseIpNetwork(network->ToString());
    FUZZ_CHECK(again.ok() && *again == *network);
    FUZZ_CHECK(network->Contains(network->base));
  }
  return 0;
}
