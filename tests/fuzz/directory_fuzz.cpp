// crypto::ParseDirectory and ParseDirectoryDraft on arbitrary bytes. Round
// trip: a directory or draft that parses, written with DirectoryToJson,
// parses again to the same canonical text and signature; whatever parses as
// a signed directory also parses as a draft. PeekDirectory (what a node
// reads first of a directory a partner passes along) reads the same region
// and serial from whatever parses as a signed directory, and a directory
// announcement (peer protocol 7) carries the bytes unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "schakel/crypto/directory.h"
#include "schakel/peer/directory_announce.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::crypto::CanonicalDirectoryText;
  std::string_view text = schakel::fuzz::AsText(data, size);
  auto signed_dir = schakel::crypto::ParseDirectory(text);
  auto draft = schakel::crypto::ParseDirectoryDraft(text);
  auto claim = schakel::crypto::PeekDirectory(text);
  const std::string announcement = schakel::peer::EncodeDirectoryAnnouncement(text);
  auto carried = schakel::peer::DirectoryAnnouncementJson(announcement);
  FUZZ_CHECK(!carried.ok() || *carried == text);
  (void)schakel::peer::DirectoryAnnouncementJson(text);
  (void)schakel::peer::ParseDirectoryAnswer(text);
  if (signed_dir.ok()) {
    FUZZ_CHECK(claim.ok() && claim->region == signed_dir->region && claim->serial == signed_dir->serial);
    FUZZ_CHECK(carried.ok());
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
