// The regional directory (docs/region.md): the node cards of a region's
// members, signed by a directory key that a keeper (the samenwerkingsverband,
// the municipality) holds, with a serial number and an expiry. A node that
// pinned the directory key after one fingerprint check imports the members
// of the org types its administrator chose, without pairing each by hand.
//
// Format (version 1), a JSON object with exactly these fields:
//   version 1; region [a-z0-9-]{3,64}; name printable UTF-8 of 1..200 bytes;
//   serial 1..2^53-1; issued and expires RFC 3339 instants, expires after
//   issued and at most kMaxDirectoryValidityDays later; directory_pk base64
//   of 32 bytes; members an array of at most kMaxDirectoryMembers node cards
//   (each as ParseNodeCard reads it, its own signature verified), with no
//   node_id and no identity key twice; sig base64 of 64 bytes.
// Canonical text (what sig covers): one JSON object without white space,
// fields in byte order (directory_pk, expires, issued, members, name, region,
// serial, version), strings written as node_card.h writes them, members
// sorted by node_id, each member its CanonicalSignedCardText. The signed
// message is "schakel/directory/v1", one NUL byte, then that text.
//
// A draft is the same object as the keeper edits it before signing: sig,
// issued and expires may be absent, serial may be 0 (never signed).
//
// Limits: kMaxDirectoryBytes of input, nesting at most 3 levels deep.
// Thread-safety: pure functions. Errors: kInvalidInput, message starting
// "directory: " and naming the field, the member or the signature that
// failed; CheckDirectoryUpdate also kDenied and kAlreadyExists (see there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"

namespace schakel::crypto {

inline constexpr size_t kMaxDirectoryBytes = size_t{1} << 20;
inline constexpr size_t kMaxDirectoryMembers = 500;
inline constexpr int kMaxDirectoryValidityDays = 400;
inline constexpr int64_t kMaxDirectorySerial = (int64_t{1} << 53) - 1;

struct Directory {
  int version = 1;
  std::string region;  // [a-z0-9-]{3,64}
  std::string name;    // printable, 1..200 bytes
  int64_t serial = 0;  // 1..kMaxDirectorySerial once signed; 0 in a new draft
  std::string issued;  // RFC 3339; empty in a draft never signed
  std::string expires;
  PublicKey directory_pk{};
  std::vector<NodeCard> members;  // sorted by node_id once signed or parsed
  std::optional<Signature> sig;   // absent in a draft
};

// The canonical text without sig (see above); sorts a copy of the members.
std::string CanonicalDirectoryText(const Directory& dir);
// Sorts the members, sets directory_pk to the key's public half and signs.
// The caller sets serial, issued and expires first.
void SignDirectory(Directory& dir, const SigningKeyPair& key);
// Pretty JSON for people and files; sig only when present.
std::string DirectoryToJson(const Directory& dir);
// Parses and verifies a signed directory: shape, limits, every member card's
// signatures and the directory signature against directory_pk.
Result<Directory> ParseDirectory(std::string_view json);
// Parses a draft: the same checks of shape and member cards, sig optional and
// not verified.
Result<Directory> ParseDirectoryDraft(std::string_view json);

// The region and serial a directory claims, read without verifying anything
// else (no member card, no signature): what a node looks at first when a
// partner passes a directory along, so that one it holds already or an
// older one costs a JSON parse and no signature checks. Nothing read here
// may be trusted before ParseDirectory.
struct DirectoryClaim {
  std::string region;
  int64_t serial = 0;
};
Result<DirectoryClaim> PeekDirectory(std::string_view json);

// Whether `next` may replace what a node holds for a pinned directory key:
//   kDenied when next is signed by another key, names another region, has
//     expired at `now`, is issued more than 10 minutes after `now`, has a
//     lower serial than `held` (a rollback), or the same serial with other
//     content (the key signed two versions: report it to the keeper);
//   kAlreadyExists when it is the directory held (same serial, same text).
// `held` is nullptr before the first directory of this key.
Status CheckDirectoryUpdate(const PublicKey& pinned_pk, std::string_view pinned_region, const Directory* held,
                            const Directory& next, Instant now);

}  // namespace schakel::crypto
