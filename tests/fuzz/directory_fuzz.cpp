// crypto::ParseDirectory and ParseDirectoryDraft on arbitrary bytes. Round
// trip: a directory or draft that parses, written with DirectoryToJson,
// parses again to the same canonical text and signature; whatever parses as
// a signed directory also parses as a draft.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/directory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::crypto::CanonicalDirectoryText;
  std::string_view text = schakel::fuzz::AsText(data, size);
  auto signed_dir = schakel::crypto::ParseDirectory(text);
  auto draft = schakel::crypto::ParseDirectoryDraft(text);
  if (signed_dir.ok()) {
    FUZZ_CHECK(draft.ok());
    auto again = schakel::crypto::ParseDirectory(schakel::crypto::DirectoryToJson(*signed_dir));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(CanonicalDirectoryText(*again) == CanonicalDirectoryText(*signed_dir));
    FUZZ_CHECK(again->sig == signed_dir->sig);
  }
  if (draft.ok()) {
    auto again = schakel::crypto::ParseDirectoryDraft(schakel::crypto::DirectoryToJson(*draft));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(CanonicalDirectoryText(*again) == CanonicalDirectoryText(*draft));
    FUZZ_CHECK(again->sig == draft->sig);
  }
  return 0;
}
