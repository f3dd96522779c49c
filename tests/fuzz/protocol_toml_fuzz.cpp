// config::ParseProtocolToml (a privacy-protocol file) on arbitrary bytes.
// Round trip: a protocol that parses, written with ProtocolToToml, parses
// again and writes the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/config/protocol_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::config::ParseProtocolToml;
  using schakel::config::ProtocolToToml;
  auto protocol = ParseProtocolToml(schakel::fuzz::AsText(data, size), "fuzz.toml");
  if (!protocol.ok()) return 0;
  const std::string written = ProtocolToToml(*protocol);
  auto again = ParseProtocolToml(written, "written.toml");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(ProtocolToToml(*again) == written);
  return 0;
}
