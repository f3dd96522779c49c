// The HTTPS identity row (web_tls): absent at first, saved, loaded back with
// the key in guarded memory, replaced on a second save.
#include <gtest/gtest.h>

#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

TEST(WebTlsStore, AbsentThenSavedThenReplaced) {
  TempDir dir;
  auto key = crypto::SecureBuffer::Random(32);
  auto db = Database::Open(dir / "node.db", key, OpenMode::kCreate);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto none = LoadWebTls(**db);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());

  auto first = crypto::GenerateWebTlsIdentity("node-a", {});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(SaveWebTls(**db, *first, "2026-11-23T10:00:00Z").ok());
  auto loaded = LoadWebTls(**db);
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status().message();
  EXPECT_EQ((*loaded)->certificate_pem, first->certificate_pem);
  EXPECT_EQ((*loaded)->spki_sha256, first->spki_sha256);
  ASSERT_EQ((*loaded)->private_key_pem.size(), first->private_key_pem.size());
  EXPECT_TRUE(std::equal(first->private_key_pem.span().begin(), first->private_key_pem.span().end(),
                         (*loaded)->private_key_pem.span().begin()));
  EXPECT_TRUE(crypto::CheckWebTlsIdentity(**loaded).ok());

  auto second = crypto::GenerateWebTlsIdentity("node-a", {"links.example.nl"});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(SaveWebTls(**db, *second, "2026-11-24T10:00:00Z").ok());
  auto again = LoadWebTls(**db);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->certificate_pem, second->certificate_pem);
}

}  // namespace
}  // namespace schakel::store
