// TLS identities: the self-signed Ed25519 certificate, its SPKI pin, and a
// TLS 1.3 handshake between two such identities with OpenSSL.
#include "schakel/crypto/tls_identity.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Owned<X509> ParseCert(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Owned<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Owned<EVP_PKEY> ParseKey(const SecureBuffer& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Owned<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// The pin computed another way: from the private key's public half, encoded
// by i2d_PUBKEY and hashed with OpenSSL's SHA256.
std::array<uint8_t, 32> PinFromPrivateKey(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0);
  std::array<uint8_t, 32> out{};
  SHA256(der, static_cast<size_t>(len), out.data());
  OPENSSL_free(der);
  return out;
}

TEST(TlsIdentityTest, PinFromPemEqualsPinAtGeneration) {
  auto id = GenerateTlsIdentity("school-trajectum");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto pin = SpkiSha256FromCertificatePem(id->certificate_pem);
  ASSERT_TRUE(pin.ok()) << pin.status().message();
  EXPECT_EQ(*pin, id->spki_sha256);

  Owned<EVP_PKEY> key = ParseKey(id->private_key_pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(PinFromPrivateKey(key.get()), id->spki_sha256);
  // Ed25519 SPKI DER is 44 bytes: a 12-byte header and the 32-byte key.
  unsigned char* der = nullptr;
  EXPECT_EQ(i2d_PUBKEY(key.get(), &der), 44);
  OPENSSL_free(der);

  EXPECT_TRUE(CheckTlsIdentity(*id).ok());

  auto other = GenerateTlsIdentity("school-trajectum");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->spki_sha256, id->spki_sha256);
}

TEST(TlsIdentityTest, CertificateContents) {
  auto id = GenerateTlsIdentity("wijkteam-overvecht");
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(id->certificate_pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  std::string_view key_pem(reinterpret_cast<const char*>(id->private_key_pem.data()), id->private_key_pem.size());
  EXPECT_EQ(key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);  // PKCS#8
  EXPECT_NE(key_pem.back(), '\0');

  Owned<X509> cert = ParseCert(id->certificate_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);

  char cn[128] = {};
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn), 0);
  EXPECT_STREQ(cn, "wijkteam-overvecht");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);

  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_get_id(pub), EVP_PKEY_ED25519);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ED25519);
  EXPECT_EQ(X509_verify(cert.get(), pub), 1);  // self-signed by its own key

  int critical = -1;
  Owned<BASIC_CONSTRAINTS> bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert.get(), NID_basic_constraints, &critical, nullptr)));
  ASSERT_TRUE(bc);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(bc->ca, 0);
  EXPECT_EQ(X509_get_ext_count(cert.get()), 1);

  // Valid now, and for (at least) ten years.
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_GE(days, 3652);
  EXPECT_LE(days, 3662);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);

  // Random, positive serial; two certificates do not share one.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);
  EXPECT_EQ(ASN1_STRING_length(serial), 16);
  auto second = GenerateTlsIdentity("wijkteam-overvecht");
  ASSERT_TRUE(second.ok());
  Owned<X509> cert2 = ParseCert(second->certificate_pem);
  EXPECT_NE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(cert2.get())), 0);
}

TEST(TlsIdentityTest, BadInputIsRefused) {
  EXPECT_FALSE(GenerateTlsIdentity("").ok());
  EXPECT_FALSE(GenerateTlsIdentity(std::string(65, 'a')).ok());

  auto garbage = SpkiSha256FromCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), Code::kInvalidInput);
  EXPECT_FALSE(SpkiSha256FromCertificatePem("").ok());
  EXPECT_FALSE(SpkiSha256FromCertificatePem(std::string(65 * 1024, 'A')).ok());

  auto id = GenerateTlsIdentity("school-a");
  ASSERT_TRUE(id.ok());
  // A certificate cut short, or with a damaged body, does not parse.
  const std::string& pem = id->certificate_pem;
  EXPECT_FALSE(SpkiSha256FromCertificatePem(pem.substr(0, pem.size() / 2)).ok());
  std::string damaged = pem;
  damaged.replace(40, 4, "!!!!");
  EXPECT_FALSE(SpkiSha256FromCertificatePem(damaged).ok());
  // A private key is not a certificate.
  EXPECT_FALSE(SpkiSha256FromCertificatePem(std::string_view(reinterpret_cast<const char*>(id->private_key_pem.data()),
                                                             id->private_key_pem.size()))
                   .ok());
}

TEST(TlsIdentityTest, CheckTlsIdentityCatchesMismatches) {
  auto a = GenerateTlsIdentity("school-a");
  auto b = GenerateTlsIdentity("school-b");
  ASSERT_TRUE(a.ok() && b.ok());

  TlsIdentity wrong_key{a->certificate_pem, b->private_key_pem.Clone(), a->spki_sha256};
  Status st = CheckTlsIdentity(wrong_key);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("does not match the certificate"), std::string::npos) << st.message();

  TlsIdentity wrong_pin{a->certificate_pem, a->private_key_pem.Clone(), b->spki_sha256};
  st = CheckTlsIdentity(wrong_pin);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("pin"), std::string::npos) << st.message();

  TlsIdentity no_key{a->certificate_pem, SecureBuffer(), a->spki_sha256};
  EXPECT_EQ(CheckTlsIdentity(no_key).code(), Code::kCorruption);
}

// A server and a client, each with its own Ed25519 identity, complete a
// mutually authenticated TLS 1.3 handshake over an in-memory BIO pair, each
// sees the other's pin, and both signed the handshake with Ed25519.
Owned<SSL_CTX> MakeContext(bool server, const TlsIdentity& id) {
  Owned<SSL_CTX> ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  EXPECT_TRUE(ctx);
  EXPECT_EQ(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION), 1);
  EXPECT_EQ(SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION), 1);
  Owned<X509> cert = ParseCert(id.certificate_pem);
  Owned<EVP_PKEY> key = ParseKey(id.private_key_pem);
  EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), cert.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key.get()), 1);
  EXPECT_EQ(SSL_CTX_check_private_key(ctx.get()), 1);
  // Chain validation cannot succeed for a self-signed leaf; nodes verify the
  // pin instead (here after the handshake).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) { return 1; });
  return ctx;
}

std::array<uint8_t, 32> PeerPin(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  EXPECT_NE(peer, nullptr);
  if (peer == nullptr) return {};
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), peer);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto pin = SpkiSha256FromCertificatePem(std::string_view(data, static_cast<size_t>(len)));
  EXPECT_TRUE(pin.ok());
  return pin.ok() ? *pin : std::array<uint8_t, 32>{};
}

TEST(TlsIdentityTest, Tls13HandshakeWithEd25519Certificates) {
  auto server_id = GenerateTlsIdentity("school-a");
  auto client_id = GenerateTlsIdentity("wijkteam-b");
  ASSERT_TRUE(server_id.ok() && client_id.ok());
  Owned<SSL_CTX> server_ctx = MakeContext(true, *server_id);
  Owned<SSL_CTX> client_ctx = MakeContext(false, *client_id);
  Owned<SSL> server(SSL_new(server_ctx.get()));
  Owned<SSL> client(SSL_new(client_ctx.get()));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  ASSERT_EQ(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0), 1);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());

  bool server_done = false, client_done = false;
  for (int round = 0; round < 20 && !(server_done && client_done); ++round) {
    for (auto [ssl, done] : {std::pair{client.get(), &client_done}, std::pair{server.get(), &server_done}}) {
      if (*done) continue;
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
        continue;
      }
      int err = SSL_get_error(ssl, rc);
      ASSERT_TRUE(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
          << "handshake error " << err << ": " << ERR_error_string(ERR_get_error(), nullptr);
    }
  }
  ASSERT_TRUE(server_done && client_done);
  EXPECT_EQ(SSL_version(client.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_version(server.get()), TLS1_3_VERSION);

  EXPECT_EQ(PeerPin(client.get()), server_id->spki_sha256);
  EXPECT_EQ(PeerPin(server.get()), client_id->spki_sha256);

  int nid = 0;
  ASSERT_EQ(SSL_get_peer_signature_type_nid(client.get(), &nid), 1);
  EXPECT_EQ(nid, NID_ED25519);
  ASSERT_EQ(SSL_get_peer_signature_type_nid(server.get(), &nid), 1);
  EXPECT_EQ(nid, NID_ED25519);

  const char kPing[] = "ping";
  ASSERT_EQ(SSL_write(client.get(), kPing, 4), 4);
  char buf[8] = {};
  ASSERT_EQ(SSL_read(server.get(), buf, sizeof buf), 4);
  EXPECT_EQ(std::string_view(buf, 4), "ping");
}

}  // namespace
}  // namespace schakel::crypto

// ---- the web identity (ECDSA P-256, for browsers) ----
namespace schakel::crypto {
namespace {

struct GnFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct EkuFree {
  void operator()(EXTENDED_KEY_USAGE* p) const { EXTENDED_KEY_USAGE_free(p); }
};

TEST(WebTlsIdentityTest, EcdsaP256KeyMatchesCertificate) {
  auto id = GenerateWebTlsIdentity("school-trajectum", {"links.example.nl"});
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto cert = ParseCert(id->certificate_pem);
  auto key = ParseKey(id->private_key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  char group[64] = {};
  size_t glen = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof group, &glen), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(PinFromPrivateKey(key.get()), id->spki_sha256);
  EXPECT_TRUE(CheckWebTlsIdentity(*id).ok());
  // Self-signed with SHA-256 and verifiable with its own key.
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
}

TEST(WebTlsIdentityTest, SubjectAltNamesCoverLoopbackAndPublicHost) {
  auto id = GenerateWebTlsIdentity("school-trajectum", {"links.example.nl", "192.0.2.7"});
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto cert = ParseCert(id->certificate_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert.get(), "links.example.nl", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "192.0.2.7", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "evil.example.nl", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(cert.get(), "10.0.0.1", 0), 1);
  std::unique_ptr<GENERAL_NAMES, GnFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  EXPECT_EQ(sk_GENERAL_NAME_num(names.get()), 5);
}

TEST(WebTlsIdentityTest, ServerAuthAndValidityWithinBrowserLimit) {
  auto id = GenerateWebTlsIdentity("n", {});
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto cert = ParseCert(id->certificate_pem);
  ASSERT_TRUE(cert);
  std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert.get(), NID_ext_key_usage, nullptr, nullptr)));
  ASSERT_TRUE(eku);
  ASSERT_EQ(sk_ASN1_OBJECT_num(eku.get()), 1);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 0)), NID_server_auth);
  EXPECT_TRUE(X509_get_extension_flags(cert.get()) & EXFLAG_KUSAGE);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())), 1);
  EXPECT_LE(days, kMaxWebCertificateDays);  // 397 days plus the hour of back-dating
  EXPECT_GE(days, kMaxWebCertificateDays - 1);
  auto validity = ValidityOf(id->certificate_pem);
  ASSERT_TRUE(validity.ok());
  EXPECT_GT(validity->not_after - validity->not_before, int64_t{396} * 24 * 3600);
  EXPECT_FALSE(ValidityOf("not a certificate").ok());
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
}

TEST(WebTlsIdentityTest, RejectsBadNamesAndEd25519Identities) {
  EXPECT_FALSE(GenerateWebTlsIdentity("", {}).ok());
  EXPECT_FALSE(GenerateWebTlsIdentity("n", {"bad host/with slash"}).ok());
  EXPECT_FALSE(GenerateWebTlsIdentity("n", std::vector<std::string>(40, "a.example")).ok());
  auto peer = GenerateTlsIdentity("school-trajectum");
  ASSERT_TRUE(peer.ok());
  auto st = CheckWebTlsIdentity(*peer);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Ed25519"), std::string::npos);
  // A key from another identity does not match.
  auto a = GenerateWebTlsIdentity("a", {});
  auto b = GenerateWebTlsIdentity("b", {});
  ASSERT_TRUE(a.ok() && b.ok());
  TlsIdentity mixed;
  mixed.certificate_pem = a->certificate_pem;
  mixed.private_key_pem = SecureBuffer::FromBytes(b->private_key_pem.span());
  EXPECT_FALSE(CheckWebTlsIdentity(mixed).ok());
}

}  // namespace
}  // namespace schakel::crypto
