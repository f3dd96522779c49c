// The TLS contexts crypto/ builds for the peer protocol and the web
// listeners: protocol versions, options and identity checks.
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "schakel/crypto/tls_context.h"
#include "schakel/crypto/tls_identity.h"

namespace schakel::crypto {
namespace {

TEST(TlsContextTest, PeerContextIsTls13OnlyWithoutTicketsOrSessionCache) {
  auto id = GenerateTlsIdentity("school-a");
  ASSERT_TRUE(id.ok()) << id.status().message();
  for (PeerRole role : {PeerRole::kServer, PeerRole::kClient}) {
    auto ctx = MakePeerSslCtx(role, *id);
    ASSERT_TRUE(ctx.ok()) << ctx.status().message();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_3_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx->get()), TLS1_3_VERSION);
    EXPECT_NE(SSL_CTX_get_options(ctx->get()) & SSL_OP_NO_TICKET, 0u);
    EXPECT_EQ(SSL_CTX_get_session_cache_mode(ctx->get()), SSL_SESS_CACHE_OFF);
    int want = SSL_VERIFY_PEER | (role == PeerRole::kServer ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx->get()), want);
  }
}

TEST(TlsContextTest, WebContextAllowsTls12AndRefusesAnEd25519Identity) {
  auto web = GenerateWebTlsIdentity("school-a", {"localhost", "127.0.0.1"});
  ASSERT_TRUE(web.ok()) << web.status().message();
  auto ctx = MakeWebSslCtx(*web);
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_2_VERSION);
  EXPECT_NE(SSL_CTX_get_options(ctx->get()) & SSL_OP_NO_RENEGOTIATION, 0u);
  // The peer identity is Ed25519, which browsers refuse.
  auto peer = GenerateTlsIdentity("school-a");
  ASSERT_TRUE(peer.ok());
  EXPECT_FALSE(MakeWebSslCtx(*peer).ok());
}

TEST(TlsContextTest, AMismatchedKeyIsRefused) {
  auto a = GenerateTlsIdentity("school-a");
  auto b = GenerateTlsIdentity("school-a");
  ASSERT_TRUE(a.ok() && b.ok());
  TlsIdentity mixed;
  mixed.certificate_pem = a->certificate_pem;
  mixed.private_key_pem = b->private_key_pem.Clone();
  mixed.spki_sha256 = a->spki_sha256;
  EXPECT_FALSE(MakePeerSslCtx(PeerRole::kServer, mixed).ok());
}

}  // namespace
}  // namespace schakel::crypto
