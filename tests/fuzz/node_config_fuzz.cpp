// config::ParseNodeConfig (DIR/schakel.toml) on arbitrary bytes. Round trip:
// a config that parses, written with NodeConfigToToml, parses again and
// writes the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/config/node_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::config::NodeConfigToToml;
  using schakel::config::ParseNodeConfig;
  auto config = ParseNodeConfig(schakel::fuzz::AsText(data, size), "fuzz.toml");
  if (!config.ok()) return 0;
  const std::string written = NodeConfigToToml(*config);
  auto again = ParseNodeConfig(written, "written.toml");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(NodeConfigToToml(*again) == written);
  return 0;
}
