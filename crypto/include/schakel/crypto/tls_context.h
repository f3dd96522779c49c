// TLS contexts, built here and nowhere else: the peer protocol's (mutual TLS
// 1.3, verification by SPKI pin only) and the web listeners' (HTTPS for the
// dossier link pages and the staff console). They come back as OpenSSL
// SSL_CTX handles; peer/ and http/ hand them to Asio, which takes ownership
// (boost::asio::ssl::context's native-handle constructor).
//
// MakePeerSslCtx builds the SSL context for one side of a node-to-node
// connection: TLS 1.3 only (minimum and maximum), our self-signed certificate
// and key from a crypto::TlsIdentity, the server requiring a client
// certificate, no session tickets or session cache (a resumed session would
// skip the pin check), and no CA at all: the context's certificate check is
// replaced by a callback that accepts the peer's leaf if and only if the
// SHA-256 of its SubjectPublicKeyInfo (DER) is a pin we know. The rest of the
// certificate (names, dates, issuer, chain) is ignored; TLS 1.3's
// CertificateVerify proves the peer holds the pinned key.
//
// The callback finds what "known" means through a PeerVerifier attached to
// each connection (SSL object) before its handshake: the server's verifier
// asks a PinLookup over all partners and records which partner connected; a
// client's verifier accepts only the one pin of the node it dials
// (ExpectOnePin). A connection without an attached verifier is refused.
//
// Ownership: the context holds a copy of the private key inside OpenSSL (as
// an EVP_PKEY); the PEM text is read in place from the SecureBuffer, so no
// other copy is made. A PeerVerifier must outlive the handshake of the
// connection it is attached to (keep it beside the stream).
//
// Thread-safety: a context may be shared by connections on many threads; a
// PeerVerifier belongs to one connection. The PinLookup is called on I/O
// threads during handshakes: it must be thread-safe and quick, and should not
// throw (a throw counts as "unknown pin").
//
// Errors: Status values; kInvalidInput or kCorruption when the identity does
// not hang together, kInternal for an OpenSSL failure, kDenied from Confirm()
// when the peer's key was not accepted.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "schakel/base/status.h"
#include "schakel/crypto/tls_identity.h"

namespace schakel::crypto {

// SHA-256 of a certificate's SubjectPublicKeyInfo (DER): a node card's TLS pin.
using SpkiPin = std::array<uint8_t, 32>;
// Lower-case hex, for log lines and messages.
std::string PinHex(const SpkiPin& pin);

// The partner node id whose pinned TLS key is `pin`, or nullopt.
using PinLookup = std::function<std::optional<std::string>(const SpkiPin& pin)>;
// A lookup that knows exactly one node: for a client dialling that node.
PinLookup ExpectOnePin(const SpkiPin& pin, std::string node_id);

enum class PeerRole { kServer, kClient };

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

Result<SslCtxPtr> MakePeerSslCtx(PeerRole role, const TlsIdentity& identity);

// The HTTPS context of a web listener (link pages, console): TLS 1.2 or 1.3,
// ECDHE AEAD suites only, no compression or renegotiation, the identity's
// certificate followed by any chain certificates in its PEM (at most 10).
// CheckWebTlsIdentity decides which identities are usable (no Ed25519:
// browsers refuse it).
Result<SslCtxPtr> MakeWebSslCtx(const TlsIdentity& identity);

// The context of a client of a public server (the organisation's SMTP
// server, the web server a regional directory is fetched from): TLS 1.2 or
// 1.3, the server's certificate chain verified against the system's CAs or
// the PEM CAs in `ca_file`. kInvalidInput naming the file when it cannot be
// read. Each connection then names the server it expects
// (ExpectServerName) before its handshake.
Result<SslCtxPtr> MakeVerifyingClientSslCtx(const std::string& ca_file);
// Sends `host` as SNI (when it is a name) and makes the handshake fail unless
// the certificate names `host`: its DNS name, or its IP address when `host`
// is a literal address. kInternal when OpenSSL refuses the setting.
Status ExpectServerName(SSL* ssl, const std::string& host);

// Per-connection pin check; see the top of this file.
class PeerVerifier {
 public:
  explicit PeerVerifier(PinLookup lookup);
  PeerVerifier(const PeerVerifier&) = delete;
  PeerVerifier& operator=(const PeerVerifier&) = delete;

  // Attaches to `ssl` (the stream's native_handle()) before its handshake.
  Status Attach(SSL* ssl);

  // After a successful handshake: checks once more that the certificate the
  // connection ended up with is the one whose pin was accepted, and returns
  // the partner's node id. kDenied otherwise.
  Result<std::string> Confirm(SSL* ssl) const;

  // What the callback saw, for log lines after a failed handshake.
  bool saw_certificate() const { return saw_certificate_; }
  bool accepted() const { return accepted_; }
  const SpkiPin& presented_pin() const { return presented_pin_; }
  const std::string& node_id() const { return node_id_; }  // empty unless accepted

  // The check itself, for the verify callback (and tests): records the pin
  // and looks it up. Returns true when the pin belongs to a partner.
  bool CheckPin(const SpkiPin& pin);

 private:
  PinLookup lookup_;
  bool saw_certificate_ = false;
  bool accepted_ = false;
  SpkiPin presented_pin_{};
  std::string node_id_;
};

// SHA-256 of the DER SubjectPublicKeyInfo of a certificate; nullopt when it
// cannot be encoded. `cert` is an X509*.
std::optional<SpkiPin> SpkiPinOf(X509* cert);

}  // namespace schakel::crypto
