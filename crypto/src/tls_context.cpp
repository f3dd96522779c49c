#include "schakel/crypto/tls_context.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>
#include <span>

#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/openssl_ptr.h"

namespace schakel::crypto {
namespace {

constexpr const char* kWebTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// The SSL ex_data slot that holds a connection's PeerVerifier. Asio keeps its
// own verify callback in the app-data slot, so we take a slot of our own.
int VerifierIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Replaces OpenSSL's whole chain verification (SSL_CTX_set_cert_verify_callback):
// no trust store, no chain building; the leaf's key pin decides.
int CertVerifyCallback(X509_STORE_CTX* store, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* verifier = ssl == nullptr ? nullptr : static_cast<PeerVerifier*>(SSL_get_ex_data(ssl, VerifierIndex()));
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (verifier == nullptr || leaf == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  std::optional<SpkiPin> pin = SpkiPinOf(leaf);
  if (!pin || !verifier->CheckPin(*pin)) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace

std::string PinHex(const SpkiPin& pin) { return ToHex(pin); }

PinLookup ExpectOnePin(const SpkiPin& pin, std::string node_id) {
  return [pin, id = std::move(node_id)](const SpkiPin& presented) -> std::optional<std::string> {
    if (ConstantTimeEqual(pin, presented)) return id;
    return std::nullopt;
  };
}

std::optional<SpkiPin> SpkiPinOf(X509* cert) {
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  if (spki == nullptr) return std::nullopt;
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(spki, &der);
  if (len <= 0 || der == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  SpkiPin pin = Sha256(std::span<const uint8_t>(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return pin;
}

Result<SslCtxPtr> MakePeerSslCtx(PeerRole role, const TlsIdentity& identity) {
  SCHAKEL_RETURN_IF_ERROR(CheckTlsIdentity(identity).WithContext("peer TLS"));
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(role == PeerRole::kServer ? TLS_server_method() : TLS_client_method()));
  if (!ctx) return Status::Internal(OpenSslError("peer TLS: cannot create a context"));
  SSL_CTX* c = ctx.get();

  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1) {
    return Status::Internal(OpenSslError("peer TLS: cannot restrict to TLS 1.3"));
  }
  // No resumption: a resumed session would carry the peer's certificate over
  // without the pin being looked up again (a partner removed meanwhile).
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(c, 0) != 1) {
    return Status::Internal(OpenSslError("peer TLS: cannot turn session tickets off"));
  }
  // Idle connections give their read/write buffers back.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);

  // Our certificate.
  const std::string& cert_pem = identity.certificate_pem;
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!cert_bio) return Status::Internal(OpenSslError("peer TLS: out of memory"));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::Corruption(OpenSslError("peer TLS: certificate does not parse"));
  if (SSL_CTX_use_certificate(c, cert.get()) != 1) {
    return Status::Internal(OpenSslError("peer TLS: cannot use the certificate"));
  }

  // Our key, read in place from guarded memory (CheckTlsIdentity bounded its
  // size). BIO_new_mem_buf does not copy; OpenSSL decodes PEM private keys in
  // its secure heap and cleanses what it frees.
  const SecureBuffer& key_pem = identity.private_key_pem;
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  if (!key_bio) return Status::Internal(OpenSslError("peer TLS: out of memory"));
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Corruption(OpenSslError("peer TLS: private key does not parse"));
  if (SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return Status::Corruption(OpenSslError("peer TLS: private key does not match the certificate"));
  }

  // Both sides verify the other; the server insists on a client certificate.
  int mode = SSL_VERIFY_PEER;
  if (role == PeerRole::kServer) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(c, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(c, &CertVerifyCallback, nullptr);
  ERR_clear_error();
  return ctx;
}

Result<SslCtxPtr> MakeWebSslCtx(const TlsIdentity& identity) {
  SCHAKEL_RETURN_IF_ERROR(CheckWebTlsIdentity(identity));
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::Internal(OpenSslError("web TLS: cannot create a context"));
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(c, kWebTls12Ciphers) != 1) {
    return Status::Internal(OpenSslError("web TLS: cannot set the protocol versions and ciphers"));
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);

  // The certificate, then any chain certificates after it in the PEM.
  const std::string& pem = identity.certificate_pem;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal(OpenSslError("web TLS: out of memory"));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(c, leaf.get()) != 1) {
    return Status::InvalidInput(OpenSslError("web TLS: cannot use the certificate"));
  }
  for (int i = 0; i < 10; ++i) {
    X509Ptr extra(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!extra) break;
    if (SSL_CTX_add1_chain_cert(c, extra.get()) != 1) {
      return Status::InvalidInput(OpenSslError("web TLS: cannot use a chain certificate"));
    }
  }
  ERR_clear_error();  // the end of the PEM reads as an error
  const SecureBuffer& key_pem = identity.private_key_pem;
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  if (!key_bio) return Status::Internal(OpenSslError("web TLS: out of memory"));
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return Status::InvalidInput(OpenSslError("web TLS: the private key does not fit the certificate"));
  }
  ERR_clear_error();
  return ctx;
}

Result<SslCtxPtr> MakeVerifyingClientSslCtx(const std::string& ca_file) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Internal(OpenSslError("TLS client: cannot create a context"));
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) {
    return Status::Internal(OpenSslError("TLS client: cannot set the protocol versions"));
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(c)
                               : SSL_CTX_load_verify_locations(c, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return Status::InvalidInput(OpenSslError(ca_file.empty() ? "TLS client: cannot read the system's CAs"
                                                             : "TLS client: cannot read the CAs in " + ca_file));
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  ERR_clear_error();
  return ctx;
}

Status ExpectServerName(SSL* ssl, const std::string& host) {
  in6_addr any{};
  const bool numeric = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = 1;
  if (numeric) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    // SSL_set_tlsext_host_name without its C cast (a macro over SSL_ctrl).
    ok = static_cast<int>(SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                   const_cast<char*>(host.c_str()))) == 1 &&
         SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (ok != 1) return Status::Internal(OpenSslError("TLS client: cannot expect the server name " + host));
  return Status::Ok();
}

PeerVerifier::PeerVerifier(PinLookup lookup) : lookup_(std::move(lookup)) {}

Status PeerVerifier::Attach(SSL* ssl) {
  int index = VerifierIndex();
  if (ssl == nullptr || index < 0 || SSL_set_ex_data(ssl, index, this) != 1) {
    return Status::Internal(OpenSslError("peer TLS: cannot attach the pin check"));
  }
  return Status::Ok();
}

bool PeerVerifier::CheckPin(const SpkiPin& pin) {
  // The callback may run more than once per handshake in principle; the last
  // verdict stands.
  saw_certificate_ = true;
  presented_pin_ = pin;
  accepted_ = false;
  node_id_.clear();
  if (!lookup_) return false;
  std::optional<std::string> id;
  try {
    id = lookup_(pin);
  } catch (...) {
    return false;
  }
  if (!id || id->empty()) return false;
  node_id_ = std::move(*id);
  accepted_ = true;
  return true;
}

Result<std::string> PeerVerifier::Confirm(SSL* ssl) const {
  if (!accepted_) return Status::Denied("peer TLS key was not accepted");
  X509* cert = ssl == nullptr ? nullptr : SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return Status::Denied("peer presented no certificate");
  std::optional<SpkiPin> pin = SpkiPinOf(cert);
  if (!pin || !ConstantTimeEqual(*pin, presented_pin_)) {
    return Status::Denied("peer certificate is not the one whose pin was accepted");
  }
  return node_id_;
}

}  // namespace schakel::crypto
