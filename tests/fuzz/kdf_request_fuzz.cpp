// crypto::ParseKdfRequest (the request schakeld writes to its schakel-kdf
// helper, crypto/kdf_helper.h) on arbitrary bytes. Round trip: a request
// that parses encodes back to the same bytes, and the encoding parses again.
// Nothing is derived: Argon2id would make every run take a tenth of a second.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_support.h"
#include "schakel/crypto/kdf_helper.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = schakel::crypto::ParseKdfRequest({data, size});
  if (!request.ok()) return 0;
  schakel::crypto::SecureBuffer encoded = schakel::crypto::EncodeKdfRequest(*request);
  FUZZ_CHECK(encoded.size() == size);
  FUZZ_CHECK(std::memcmp(encoded.data(), data, size) == 0);
  auto again = schakel::crypto::ParseKdfRequest(encoded.span());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->op == request->op && again->password.Equals(request->password.span()));
  return 0;
}
