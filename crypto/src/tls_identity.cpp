#include "schakel/crypto/tls_identity.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/openssl_ptr.h"

namespace schakel::crypto {
namespace {


constexpr size_t kMaxPemBytes = 64 * 1024;
constexpr long kValiditySeconds = 10L * 366 * 24 * 60 * 60;  // ten years, generously
constexpr long kBackdateSeconds = 60L * 60;  // tolerate an hour of clock skew at the peer


Result<std::array<uint8_t, 32>> SpkiSha256Of(X509* cert) {
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  if (spki == nullptr) return Status::InvalidInput("certificate has no public key");
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(spki, &der);
  if (len <= 0 || der == nullptr) {
    return Status::Internal(OpenSslError("cannot encode the certificate's public key"));
  }
  auto pin = Sha256(std::span<const uint8_t>(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return pin;
}

X509Ptr ReadCertificate(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return nullptr;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Moves the contents of a memory BIO into guarded memory and wipes the BIO's
// copy before it is freed.
SecureBuffer DrainToSecure(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return SecureBuffer();
  SecureBuffer out = SecureBuffer::FromBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return out;
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Status::Internal(OpenSslError("cannot add certificate extension"));
  }
  return Status::Ok();
}

}  // namespace

Result<TlsIdentity> GenerateTlsIdentity(std::string_view node_id) {
  EnsureInitialised();
  if (node_id.empty() || node_id.size() > 64) {
    return Status::InvalidInput("TLS identity: node id must be 1..64 characters");
  }
  ERR_clear_error();

  PkeyCtxPtr kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 ||
      EVP_PKEY_keygen(kctx.get(), &raw_key) != 1) {
    return Status::Internal(OpenSslError("TLS identity: cannot generate an Ed25519 key"));
  }
  PkeyPtr key(raw_key);

  X509Ptr cert(X509_new());
  if (!cert) return Status::Internal(OpenSslError("TLS identity: out of memory"));

  // Random positive 127-bit serial, as RFC 5280 asks for unpredictable ones.
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1) {
    return Status::Internal(OpenSslError("TLS identity: no randomness for the serial"));
  }
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x40;  // never zero, always 16 bytes
  BnPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Status::Internal(OpenSslError("TLS identity: cannot set the serial"));
  }

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(node_id.data()),
                                 static_cast<int>(node_id.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return Status::Internal(OpenSslError("TLS identity: cannot fill the certificate"));
  }
  SCHAKEL_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  // Ed25519 signs without a separate digest: md must be NULL.
  if (X509_sign(cert.get(), key.get(), nullptr) <= 0) {
    return Status::Internal(OpenSslError("TLS identity: cannot sign the certificate"));
  }

  TlsIdentity id;
  {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
      return Status::Internal(OpenSslError("TLS identity: cannot write the certificate"));
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) {
      return Status::Internal("TLS identity: empty certificate PEM");
    }
    id.certificate_pem.assign(data, static_cast<size_t>(len));
  }
  {
    // BIO_s_secmem keeps the PEM in OpenSSL's secure heap when one is set up
    // and otherwise behaves as BIO_s_mem; either way we wipe it ourselves.
    BioPtr bio(BIO_new(BIO_s_secmem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
      if (bio) DrainToSecure(bio.get());
      return Status::Internal(OpenSslError("TLS identity: cannot write the private key"));
    }
    id.private_key_pem = DrainToSecure(bio.get());
    if (id.private_key_pem.empty()) {
      return Status::Internal("TLS identity: empty private key PEM");
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(id.spki_sha256, SpkiSha256Of(cert.get()));
  return id;
}

Result<std::array<uint8_t, 32>> SpkiSha256FromCertificatePem(std::string_view pem) {
  EnsureInitialised();
  if (pem.size() > kMaxPemBytes) {
    return Status::InvalidInput("certificate PEM larger than " + std::to_string(kMaxPemBytes) +
                                " bytes");
  }
  ERR_clear_error();
  X509Ptr cert = ReadCertificate(pem);
  if (!cert) return Status::InvalidInput(OpenSslError("not a PEM certificate"));
  return SpkiSha256Of(cert.get());
}

Status CheckTlsIdentity(const TlsIdentity& identity) {
  EnsureInitialised();
  ERR_clear_error();
  X509Ptr cert = ReadCertificate(identity.certificate_pem);
  if (!cert) return Status::Corruption(OpenSslError("TLS identity: certificate does not parse"));
  if (identity.private_key_pem.empty()) {
    return Status::Corruption("TLS identity: private key missing");
  }
  if (identity.private_key_pem.size() > kMaxPemBytes) {
    return Status::Corruption("TLS identity: private key PEM too large");
  }
  BioPtr bio(BIO_new_mem_buf(identity.private_key_pem.data(),
                             static_cast<int>(identity.private_key_pem.size())));
  if (!bio) return Status::Internal(OpenSslError("TLS identity: out of memory"));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Corruption(OpenSslError("TLS identity: private key does not parse"));
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return Status::Corruption("TLS identity: private key is not Ed25519");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Status::Corruption(
        OpenSslError("TLS identity: private key does not match the certificate"));
  }
  SCHAKEL_ASSIGN_OR_RETURN(auto pin, SpkiSha256Of(cert.get()));
  if (!ConstantTimeEqual(pin, identity.spki_sha256)) {
    return Status::Corruption("TLS identity: stored pin does not match the certificate");
  }
  return Status::Ok();
}

}  // namespace schakel::crypto
