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

#include <algorithm>
#include <climits>
#include <memory>
#include <utility>
#include <vector>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/openssl_ptr.h"

namespace schakel::crypto {
namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;
constexpr long kValiditySeconds = 10L * 366 * 24 * 60 * 60;  // ten years, generously
constexpr long kBackdateSeconds = 60L * 60;                  // tolerate an hour of clock skew at the peer
// At most 397 days, as the CA/Browser Forum allows a public leaf certificate
// (browsers refuse longer ones from public CAs; Apple refuses more than 825
// days even for locally trusted roots).
constexpr long kWebValiditySeconds = kMaxWebCertificateDays * 24L * 60 * 60;
constexpr size_t kMaxWebSans = 32;

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

// A random positive 127-bit serial, as RFC 5280 asks for unpredictable ones.
Status SetRandomSerial(X509* cert, std::string_view what) {
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1) {
    return Status::Internal(OpenSslError(std::string(what) + ": no randomness for the serial"));
  }
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x40;  // never zero, always 16 bytes
  BnPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return Status::Internal(OpenSslError(std::string(what) + ": cannot set the serial"));
  }
  return Status::Ok();
}

struct CertSpec {
  std::string_view what;  // for error messages
  std::string_view common_name;
  long validity_seconds = 0;
  const EVP_MD* digest = nullptr;  // nullptr for Ed25519
  std::vector<std::pair<int, std::string>> extensions;
};

// A self-signed X.509 v3 certificate for `key` as `spec` describes, written
// out with the key as a TlsIdentity (key PEM in guarded memory).
Result<TlsIdentity> SelfSign(EVP_PKEY* key, const CertSpec& spec) {
  const std::string what(spec.what);
  X509Ptr cert(X509_new());
  if (!cert) return Status::Internal(OpenSslError(what + ": out of memory"));
  SCHAKEL_RETURN_IF_ERROR(SetRandomSerial(cert.get(), spec.what));

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.validity_seconds) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return Status::Internal(OpenSslError(what + ": cannot fill the certificate"));
  }
  for (const auto& [nid, value] : spec.extensions) {
    SCHAKEL_RETURN_IF_ERROR(AddExtension(cert.get(), nid, value.c_str()));
  }
  if (X509_sign(cert.get(), key, spec.digest) <= 0) {
    return Status::Internal(OpenSslError(what + ": cannot sign the certificate"));
  }

  TlsIdentity id;
  {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
      return Status::Internal(OpenSslError(what + ": cannot write the certificate"));
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) {
      return Status::Internal(what + ": empty certificate PEM");
    }
    id.certificate_pem.assign(data, static_cast<size_t>(len));
  }
  {
    // BIO_s_secmem keeps the PEM in OpenSSL's secure heap when one is set up
    // and otherwise behaves as BIO_s_mem; either way we wipe it ourselves.
    BioPtr bio(BIO_new(BIO_s_secmem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      if (bio) DrainToSecure(bio.get());
      return Status::Internal(OpenSslError(what + ": cannot write the private key"));
    }
    id.private_key_pem = DrainToSecure(bio.get());
    if (id.private_key_pem.empty()) {
      return Status::Internal(what + ": empty private key PEM");
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(id.spki_sha256, SpkiSha256Of(cert.get()));
  return id;
}

Result<PkeyPtr> GenerateKey(int type, std::string_view what) {
  PkeyCtxPtr kctx(EVP_PKEY_CTX_new_id(type, nullptr));
  EVP_PKEY* raw_key = nullptr;
  bool ok = kctx && EVP_PKEY_keygen_init(kctx.get()) == 1;
  if (ok && type == EVP_PKEY_EC) {
    ok = EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx.get(), NID_X9_62_prime256v1) == 1;
  }
  if (!ok || EVP_PKEY_keygen(kctx.get(), &raw_key) != 1) {
    return Status::Internal(OpenSslError(std::string(what) + ": cannot generate a key"));
  }
  return PkeyPtr(raw_key);
}

// Parses the certificate (the first one, for a chain) and the private key of
// `identity` and checks that they belong together.
Result<std::pair<X509Ptr, PkeyPtr>> ParseIdentity(const TlsIdentity& identity, std::string_view what) {
  const std::string w(what);
  X509Ptr cert = ReadCertificate(identity.certificate_pem);
  if (!cert) return Status::Corruption(OpenSslError(w + ": certificate does not parse"));
  if (identity.private_key_pem.empty()) {
    return Status::Corruption(w + ": private key missing");
  }
  if (identity.private_key_pem.size() > kMaxPemBytes) {
    return Status::Corruption(w + ": private key PEM too large");
  }
  BioPtr bio(BIO_new_mem_buf(identity.private_key_pem.data(), static_cast<int>(identity.private_key_pem.size())));
  if (!bio) return Status::Internal(OpenSslError(w + ": out of memory"));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::Corruption(OpenSslError(w + ": private key does not parse"));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Status::Corruption(OpenSslError(w + ": private key does not match the certificate"));
  }
  return std::make_pair(std::move(cert), std::move(key));
}

bool IsIpLiteral(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (ip == nullptr) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

bool IsDnsName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<TlsIdentity> GenerateTlsIdentity(std::string_view node_id) {
  EnsureInitialised();
  if (node_id.empty() || node_id.size() > 64) {
    return Status::InvalidInput("TLS identity: node id must be 1..64 characters");
  }
  ERR_clear_error();
  SCHAKEL_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(EVP_PKEY_ED25519, "TLS identity"));
  CertSpec spec;
  spec.what = "TLS identity";
  spec.common_name = node_id;
  spec.validity_seconds = kValiditySeconds;
  spec.digest = nullptr;  // Ed25519 signs without a separate digest
  spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"}};
  return SelfSign(key.get(), spec);
}

Result<TlsIdentity> GenerateWebTlsIdentity(std::string_view common_name, const std::vector<std::string>& sans) {
  EnsureInitialised();
  if (common_name.empty() || common_name.size() > 64) {
    return Status::InvalidInput("web TLS identity: common name must be 1..64 characters");
  }
  if (sans.size() > kMaxWebSans) {
    return Status::InvalidInput("web TLS identity: at most " + std::to_string(kMaxWebSans) +
                                " subject alternative names");
  }
  std::vector<std::string> all = {"127.0.0.1", "::1", "localhost"};
  for (const auto& s : sans) {
    if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
  }
  std::string san_value;
  for (const auto& host : all) {
    std::string entry;
    if (IsIpLiteral(host)) {
      entry = "IP:" + host;
    } else if (IsDnsName(host)) {
      entry = "DNS:" + host;
    } else {
      return Status::InvalidInput("web TLS identity: \"" + host + "\" is neither an IP address nor a DNS name");
    }
    if (!san_value.empty()) san_value += ",";
    san_value += entry;
  }
  ERR_clear_error();
  SCHAKEL_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(EVP_PKEY_EC, "web TLS identity"));
  CertSpec spec;
  spec.what = "web TLS identity";
  spec.common_name = common_name;
  spec.validity_seconds = kWebValiditySeconds;
  spec.digest = EVP_sha256();
  spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, "serverAuth"},
                     {NID_subject_alt_name, san_value}};
  return SelfSign(key.get(), spec);
}

Status CheckWebTlsIdentity(const TlsIdentity& identity) {
  EnsureInitialised();
  ERR_clear_error();
  auto parsed = ParseIdentity(identity, "web TLS identity");
  if (!parsed.ok()) return parsed.status();
  int type = EVP_PKEY_get_base_id(parsed->second.get());
  if (type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448) {
    return Status::InvalidInput(
        "web TLS identity: browsers do not accept Ed25519/Ed448 certificates; use ECDSA or RSA");
  }
  return Status::Ok();
}

namespace {

// One PEM certificate from outside, size-limited.
Result<X509Ptr> CertificateFromPem(std::string_view pem) {
  EnsureInitialised();
  if (pem.size() > kMaxPemBytes) {
    return Status::InvalidInput("certificate PEM larger than " + std::to_string(kMaxPemBytes) + " bytes");
  }
  ERR_clear_error();
  X509Ptr cert = ReadCertificate(pem);
  if (!cert) return Status::InvalidInput(OpenSslError("not a PEM certificate"));
  return cert;
}

}  // namespace

Result<std::array<uint8_t, 32>> SpkiSha256FromCertificatePem(std::string_view pem) {
  SCHAKEL_ASSIGN_OR_RETURN(X509Ptr cert, CertificateFromPem(pem));
  return SpkiSha256Of(cert.get());
}

Result<CertificateValidity> ValidityOf(std::string_view pem) {
  SCHAKEL_ASSIGN_OR_RETURN(X509Ptr cert, CertificateFromPem(pem));
  struct tm from {};
  struct tm until {};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &from) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &until) != 1) {
    return Status::InvalidInput("the certificate's validity cannot be read");
  }
  return CertificateValidity{static_cast<int64_t>(timegm(&from)), static_cast<int64_t>(timegm(&until))};
}

Status CheckTlsIdentity(const TlsIdentity& identity) {
  EnsureInitialised();
  ERR_clear_error();
  auto parsed = ParseIdentity(identity, "TLS identity");
  if (!parsed.ok()) return parsed.status();
  if (EVP_PKEY_get_id(parsed->second.get()) != EVP_PKEY_ED25519) {
    return Status::Corruption("TLS identity: private key is not Ed25519");
  }
  SCHAKEL_ASSIGN_OR_RETURN(auto pin, SpkiSha256Of(parsed->first.get()));
  if (!ConstantTimeEqual(pin, identity.spki_sha256)) {
    return Status::Corruption("TLS identity: stored pin does not match the certificate");
  }
  return Status::Ok();
}

}  // namespace schakel::crypto
