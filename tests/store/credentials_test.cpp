// Console credentials in the store (schema v5) and `schakel user passwd`:
// hashes and TOTP secrets are stored, replaced, and a TOTP step is used once.
#include <gtest/gtest.h>

#include <regex>

#include "schakel/base/time.h"
#include "schakel/crypto/password.h"
#include "schakel/crypto/totp.h"
#include "schakel/store/database.h"
#include "schakel/store/users.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_ / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    User u;
    u.user_id = "u-1";
    u.name = "mentor";
    u.created = "2026-11-23T10:00:00Z";
    ASSERT_TRUE(InsertUser(*db_, u, TokenHash{}).ok());
  }
  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(CredentialsTest, SetGetAndReplace) {
  auto none = GetCredentials(*db_, "u-1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto secret = crypto::SecureBuffer::Random(20);
  ASSERT_TRUE(SetCredentials(*db_, "u-1", "$argon2id$x", secret.span(), "2026-11-23T10:00:00Z").ok());
  auto got = GetCredentials(*db_, "u-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->password_hash, "$argon2id$x");
  EXPECT_TRUE((*got)->totp_secret.Equals(secret.span()));
  EXPECT_EQ((*got)->totp_last_step, 0);
  ASSERT_TRUE(*UseTotpStep(*db_, "u-1", 100));
  // Replacing resets the last used step along with the secret.
  auto secret2 = crypto::SecureBuffer::Random(20);
  ASSERT_TRUE(SetCredentials(*db_, "u-1", "$argon2id$y", secret2.span(), "2026-11-23T11:00:00Z").ok());
  got = GetCredentials(*db_, "u-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->password_hash, "$argon2id$y");
  EXPECT_TRUE((*got)->totp_secret.Equals(secret2.span()));
  EXPECT_EQ((*got)->totp_last_step, 0);
}

TEST_F(CredentialsTest, RefusesUnknownUserAndBadSecret) {
  auto secret = crypto::SecureBuffer::Random(20);
  EXPECT_EQ(SetCredentials(*db_, "u-none", "h", secret.span(), "t").code(), Code::kNotFound);
  auto short_secret = crypto::SecureBuffer::Random(10);
  EXPECT_EQ(SetCredentials(*db_, "u-1", "h", short_secret.span(), "t").code(), Code::kInvalidInput);
}

TEST_F(CredentialsTest, TotpStepIsUsedOnlyOnceAndOnlyForward) {
  auto secret = crypto::SecureBuffer::Random(20);
  ASSERT_TRUE(SetCredentials(*db_, "u-1", "h", secret.span(), "t").ok());
  EXPECT_TRUE(*UseTotpStep(*db_, "u-1", 50));
  EXPECT_FALSE(*UseTotpStep(*db_, "u-1", 50));  // replay
  EXPECT_FALSE(*UseTotpStep(*db_, "u-1", 49));  // older
  EXPECT_TRUE(*UseTotpStep(*db_, "u-1", 51));
  EXPECT_FALSE(*UseTotpStep(*db_, "u-none", 60));
}

}  // namespace
}  // namespace schakel::store
