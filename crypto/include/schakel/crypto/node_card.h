// The node card (CONTRACT.md "Node card"): a node's public identity, signed by
// its Ed25519 identity key, given to partners who compare its fingerprint out
// of band before importing it.
//
// docs/node-card.md is the format's definition for other implementations,
// with known answers (tests/interop/node_card/). In short, the canonical form
// (what `sig` covers):
//   - one JSON object holding every field except "sig": address, created,
//     enc_pk, enc_pk_sig, name, node_id, org_type, sign_pk, tls_spki_sha256,
//     version -- in this order, which is the order of their UTF-8 bytes;
//   - no white space anywhere: {"address":"...","created":"...",...,"version":1};
//   - `version` as a decimal integer without sign or leading zeros;
//   - sign_pk, enc_pk, enc_pk_sig in standard padded base64 (RFC 4648 sec. 4),
//     tls_spki_sha256 as 64 lower-case hex digits, the other strings exactly as
//     held (after JSON unescaping of the input);
//   - in strings, `"` is written \", `\` is written \\, U+0008, U+0009,
//     U+000A, U+000C, U+000D are written \b \t \n \f \r, the other bytes
//     below 0x20 are written \u00xx with lower-case hex; every other byte,
//     including DEL, '/' and all of non-ASCII UTF-8, is copied unchanged.
// The signed message is "schakel/node-card/v1", one NUL byte, then that text.
// Because the canonical text is rebuilt from parsed values, the layout of
// node-card.json (order, spacing, escapes) does not matter to the signature.
//
// ParseNodeCard checks shape and limits, the card signature and the identity's
// signature over enc_pk; it never trusts a field before both verify. Limits:
// at most kMaxNodeCardBytes; exactly the eleven fields, each once, no nesting;
// version 1; node_id [a-z0-9-]{3,64}; name printable UTF-8 of 1..200 bytes;
// org_type [a-z_]{2,32}; address host:port (DNS name, IPv4 or [IPv6]; port
// 1..65535); base64 fields of exactly 32 (keys) or 64 (signatures) bytes in
// their one canonical encoding; created an RFC 3339 instant with a zone.
//
// Thread-safety: pure functions. Errors: kInvalidInput, message starting
// "node card: " and naming the field or the signature that failed.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/crypto/identity.h"

namespace schakel::crypto {

inline constexpr size_t kMaxNodeCardBytes = size_t{16} * 1024;

struct NodeCard {
  int version = 1;
  std::string node_id;   // [a-z0-9-]{3,64}
  std::string name;      // printable, 1..200 bytes
  std::string org_type;  // [a-z_]{2,32}; checked against the vocabulary by callers
  std::string address;   // host:port of the peer listener
  PublicKey sign_pk{};
  PublicKey enc_pk{};
  Signature enc_pk_sig{};
  std::array<uint8_t, 32> tls_spki_sha256{};
  std::string created;  // RFC 3339
  Signature sig{};
};

// A string as the canonical text writes it, quotes included (see above).
std::string CanonicalJsonString(std::string_view s);
// The canonical text of the card without sig (see above).
std::string CanonicalCardText(const NodeCard& card);
// The canonical text of the whole card, sig included (between org_type and
// sign_pk, by the same byte order): how a regional directory holds a member.
std::string CanonicalSignedCardText(const NodeCard& card);
// Sets card.sign_pk to the identity's public key and fills card.sig with the
// identity's signature over the canonical text.
void SignNodeCard(NodeCard& card, const SigningKeyPair& identity);
// Pretty JSON with every field including sig, for node-card.json.
std::string NodeCardToJson(const NodeCard& card);
// Parses and verifies; errors are kInvalidInput naming the field or the
// failed signature.
Result<NodeCard> ParseNodeCard(std::string_view json);
// ParseNodeCard, then refuses the card unless `fingerprint` (as typed by an
// admin who heard it by phone; see FingerprintMatches) is its identity's.
Result<NodeCard> ParseNodeCardWithFingerprint(std::string_view json, std::string_view fingerprint);

}  // namespace schakel::crypto
