// `schakel user passwd`: an Argon2id hash and a fresh TOTP secret, printed
// once, whose codes the node accepts; refused lengths and unknown users.
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

using schakel::testing::RunSchakel;
using schakel::testing::TempDir;

TEST(UserPasswdCli, SetsArgon2idHashAndPrintsTotpSecretOnce) {
  TempDir dir;
  auto init =
      RunSchakel({"init", "--dir", dir.path(), "--name", "School A", "--org-id", "school-a", "--org-type", "school"});
  ASSERT_EQ(init.code, 0) << init.err;
  auto add = RunSchakel({"user", "add", "--dir", dir.path(), "--name", "mentor", "--role", "staff"});
  ASSERT_EQ(add.code, 0) << add.err;

  auto shortpw = RunSchakel({"user", "passwd", "--dir", dir.path(), "mentor"}, "kort\n");
  EXPECT_EQ(shortpw.code, 2);
  EXPECT_NE(shortpw.err.find("at least 12"), std::string::npos) << shortpw.err;
  auto longpw = RunSchakel({"user", "passwd", "--dir", dir.path(), "mentor"}, std::string(1100, 'x') + "\n");
  EXPECT_EQ(longpw.code, 2);
  auto nobody = RunSchakel({"user", "passwd", "--dir", dir.path(), "nobody"}, "een lang wachtwoord\n");
  EXPECT_EQ(nobody.code, 2);

  auto r = RunSchakel({"user", "passwd", "--dir", dir.path(), "mentor"}, "een lang wachtwoord\n");
  ASSERT_EQ(r.code, 0) << r.err;
  std::smatch m;
  std::regex uri_re(
      "otpauth://totp/Schakel:mentor@school-a\\?secret=([A-Z2-7]{32})&issuer=Schakel[^\\n]*\\n([A-Z2-7]{32})\\n");
  ASSERT_TRUE(std::regex_search(r.out, m, uri_re)) << r.out;
  EXPECT_EQ(m[1].str(), m[2].str());
  auto secret = crypto::Base32Decode(m[2].str());
  ASSERT_TRUE(secret.ok());

  std::string key_bytes = schakel::testing::ReadAll(dir / "secrets/db.key");
  ASSERT_EQ(key_bytes.size(), 32u);
  auto key = crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(key_bytes.data()), key_bytes.size()});
  auto opened = Database::Open(dir / "data/node.db", key, OpenMode::kExisting);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  struct {
    std::unique_ptr<Database> db;
  } holder{std::move(opened).value()}, *node = &holder;
  auto user = FindUserByName(*node->db, "mentor");
  ASSERT_TRUE(user.ok() && user->has_value());
  auto creds = GetCredentials(*node->db, (*user)->user_id);
  ASSERT_TRUE(creds.ok() && creds->has_value());
  EXPECT_TRUE(crypto::VerifyPassword((*creds)->password_hash, "een lang wachtwoord"));
  EXPECT_FALSE(crypto::VerifyPassword((*creds)->password_hash, "een ander wachtwoord"));
  EXPECT_TRUE((*creds)->totp_secret.Equals(*secret));
  // The code an authenticator computes from the printed secret is accepted.
  Instant now = NowUtc();
  std::string code = crypto::FormatOtp(crypto::Hotp(*secret, static_cast<uint64_t>(crypto::TotpStep(now))));
  EXPECT_TRUE(crypto::VerifyTotp((*creds)->totp_secret.span(), code, now, 0).has_value());
  // Audited as an offline admin action.
  auto query = node->db->Prepare("SELECT count(*) FROM audit_log WHERE action = 'user.passwd';");
  ASSERT_TRUE(query.ok()) << query.status().message();
  auto row = query->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(query->Int(0), 1);
}

}  // namespace
}  // namespace schakel::store
