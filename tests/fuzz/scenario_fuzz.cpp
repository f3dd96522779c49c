// formats::ParseScenario (the input of `schakel policy eval`) on arbitrary
// bytes. There is no serialiser for a scenario, so no round trip; instead a
// scenario that parses is decided by the default protocol, and the decision
// must serialise to JSON that parses again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"
#include "schakel/formats/json.h"
#include "schakel/formats/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = schakel::formats::ParseScenario(schakel::fuzz::AsText(data, size));
  if (!request.ok()) return 0;
  const schakel::consent::Decision decision = schakel::consent::Decide(schakel::consent::DefaultProtocol(), *request);
  const std::string out = schakel::formats::DecisionToJson(decision);
  FUZZ_CHECK(schakel::formats::ParseJsonLimited(out).ok());
  return 0;
}
