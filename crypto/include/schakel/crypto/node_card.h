// The node card (CONTRACT.md "Node card"): a node's public identity, signed by
// its Ed25519 identity key, given to partners who compare its fingerprint out
// of band before importing it.
//
// Canonical form (what `sig` covers): the card as a JSON object without the
// "sig" member, keys sorted by their UTF-8 bytes, no insignificant white
// space, strings escaped as JSON requires and nothing more (no \u escapes for
// printable non-ASCII), the integer `version` in decimal. The signed message
// is "schakel/node-card/v1\0" followed by that text.
//
// ParseNodeCard checks shape and limits, the card signature and the identity's
// signature over enc_pk; it never trusts a field before both verify.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/crypto/identity.h"

namespace schakel::crypto {

inline constexpr size_t kMaxNodeCardBytes = 16 * 1024;

struct NodeCard {
  int version = 1;
  std::string node_id;    // [a-z0-9-]{3,64}
  std::string name;       // printable, 1..200 bytes
  std::string org_type;   // [a-z_]{2,32}; checked against the vocabulary by callers
  std::string address;    // host:port of the peer listener
  PublicKey sign_pk{};
  PublicKey enc_pk{};
  Signature enc_pk_sig{};
  std::array<uint8_t, 32> tls_spki_sha256{};
  std::string created;    // RFC 3339
  Signature sig{};
};

// The canonical text of the card without sig (see above).
std::string CanonicalCardText(const NodeCard& card);
// Fills card.sig with the identity's signature.
void SignNodeCard(NodeCard& card, const SigningKeyPair& identity);
// Pretty JSON with every field including sig, for node-card.json.
std::string NodeCardToJson(const NodeCard& card);
// Parses and verifies; errors are kInvalidInput naming the field or the
// failed signature.
Result<NodeCard> ParseNodeCard(std::string_view json);

}  // namespace schakel::crypto
