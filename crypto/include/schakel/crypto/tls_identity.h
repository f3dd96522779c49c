// The node's self-signed TLS certificate and its SPKI pin.
//
// Nodes trust no CA: each side accepts the other's certificate only when the
// SHA-256 of its SubjectPublicKeyInfo (DER) equals the pin in the partner's
// signed node card. The TLS key is an Ed25519 key of its own (not the
// identity key), generated with OpenSSL; the certificate is valid for ten
// years because validity is carried by the pin, not by dates.
//
// The private key PEM lives in a SecureBuffer and is stored only inside the
// encrypted database. The certificate: X.509 v3, subject = issuer = CN=node
// id, a random 127-bit serial, valid from an hour before creation for ten
// years, one extension (critical basicConstraints CA:FALSE), Ed25519
// signature. OpenSSL 3 accepts such a certificate for TLS 1.3 (ed25519 is one
// of its signature schemes); peers verify it by pin, not by chain.
//
// Browsers do not accept Ed25519 server certificates, so the HTTPS servers
// (link pages, staff console) use a second, web identity: an ECDSA P-256 key
// and a self-signed certificate with subjectAltName entries (the public
// host, 127.0.0.1, ::1, localhost), serverAuth extended key usage and 825
// days of validity, signed with SHA-256. It is kept in the same TlsIdentity
// shape (spki_sha256 filled in), stored apart from the peer identity.
//
// Errors: Status values; kInvalidInput for PEM text from outside, kCorruption
// for a stored identity that does not hang together, kInternal for an
// OpenSSL failure (its error text appended). Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

struct TlsIdentity {
  std::string certificate_pem;
  SecureBuffer private_key_pem;  // PKCS#8 PEM, no NUL terminator
  std::array<uint8_t, 32> spki_sha256{};
};

// A fresh key and self-signed certificate with CN = node_id.
Result<TlsIdentity> GenerateTlsIdentity(std::string_view node_id);

// SHA-256 of the certificate's SubjectPublicKeyInfo in DER.
Result<std::array<uint8_t, 32>> SpkiSha256FromCertificatePem(std::string_view pem);
// When a PEM certificate is valid, in seconds since the epoch (UTC).
struct CertificateValidity {
  int64_t not_before = 0;
  int64_t not_after = 0;
};
Result<CertificateValidity> ValidityOf(std::string_view pem);
// The longest a web certificate this node makes itself is valid.
inline constexpr int kMaxWebCertificateDays = 397;

// Checks a stored identity: the certificate and the Ed25519 private key parse,
// the key belongs to the certificate, and spki_sha256 is the certificate's pin.
// For the daemon at start-up, so a damaged store fails early and clearly.
Status CheckTlsIdentity(const TlsIdentity& identity);

// A fresh ECDSA P-256 key and self-signed certificate for HTTPS, CN =
// common_name, subjectAltName = 127.0.0.1, ::1, localhost and each of `sans`
// (an IP literal becomes an IP entry, a host name a DNS entry; anything else
// is kInvalidInput). At most 32 extra names.
Result<TlsIdentity> GenerateWebTlsIdentity(std::string_view common_name, const std::vector<std::string>& sans);

// Checks a web identity, generated or configured: the (first) certificate and
// the private key parse and belong together, and the key is not Ed25519/Ed448
// (which browsers refuse). Does not check spki_sha256.
Status CheckWebTlsIdentity(const TlsIdentity& identity);

}  // namespace schakel::crypto
