// Database keys: Argon2id over a passphrase, and key files.
#include "schakel/crypto/key_derivation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

// Small limits so the tests run fast; the defaults are checked separately.
constexpr PassphraseParams kFast{1, 64 * 1024};

std::array<uint8_t, kPassphraseSaltBytes> CountingSalt(uint8_t first) {
  std::array<uint8_t, kPassphraseSaltBytes> salt{};
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(first + i);
  return salt;
}

TEST(KeyDerivationTest, DefaultsAreLibsodiumModerate) {
  PassphraseParams p;
  EXPECT_EQ(p.ops_limit, 3u);
  EXPECT_EQ(p.mem_limit, 256u * 1024u * 1024u);
}

TEST(KeyDerivationTest, DeterministicPerSalt) {
  auto a = DeriveKeyFromPassphrase("correct horse battery staple", CountingSalt(0), kFast);
  auto b = DeriveKeyFromPassphrase("correct horse battery staple", CountingSalt(0), kFast);
  auto c = DeriveKeyFromPassphrase("correct horse battery staple", CountingSalt(1), kFast);
  auto d = DeriveKeyFromPassphrase("correct horse battery stapl3", CountingSalt(0), kFast);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  ASSERT_EQ(a->size(), kDbKeyBytes);
  EXPECT_TRUE(a->Equals(b->span()));
  EXPECT_FALSE(a->Equals(c->span()));
  EXPECT_FALSE(a->Equals(d->span()));
  // Other cost parameters give another key too.
  auto e = DeriveKeyFromPassphrase("correct horse battery staple", CountingSalt(0), PassphraseParams{2, 64 * 1024});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(a->Equals(e->span()));
}

// Known answer, checked independently of libsodium with Python's
// `cryptography` package (OpenSSL's Argon2id):
//   from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
//   Argon2id(salt=bytes(range(16)), length=32, iterations=1, lanes=1,
//            memory_cost=64).derive(b"correct horse battery staple").hex()
// (memory_cost is in KiB there, in bytes for libsodium.) It pins the
// algorithm (Argon2id v1.3, one lane) and how the parameters are passed.
TEST(KeyDerivationTest, Argon2idKnownAnswer) {
  auto k = DeriveKeyFromPassphrase("correct horse battery staple", CountingSalt(0), kFast);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(ToHex(k->span()), "92dc5d67019623868bde079275e522f4b7e8213d3414ed85cbc2ac8a41117288");
}

TEST(KeyDerivationTest, RefusesEmptyPassphraseAndBadParams) {
  auto empty = DeriveKeyFromPassphrase("", CountingSalt(0), kFast);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), Code::kInvalidInput);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
  EXPECT_FALSE(DeriveKeyFromPassphrase("x", CountingSalt(0), PassphraseParams{0, 64 * 1024}).ok());
  EXPECT_FALSE(DeriveKeyFromPassphrase("x", CountingSalt(0), PassphraseParams{1, 1024}).ok());
}

TEST(KeyDerivationTest, RandomSaltsDiffer) { EXPECT_NE(RandomSalt(), RandomSalt()); }

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "schakel-keyfile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  static void WriteRaw(const std::string& path, const std::string& data, mode_t mode) {
    std::ofstream(path, std::ios::binary) << data;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  std::string dir_;
};

TEST_F(KeyFileTest, CreateThenRead) {
  std::string path = Path("db.key");
  auto created = CreateKeyFile(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->size(), kDbKeyBytes);
  EXPECT_EQ(Mode(path), 0600u);
  auto read = ReadKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_TRUE(read->Equals(created->span()));

  auto again = CreateKeyFile(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  // The existing key is untouched.
  auto still = ReadKeyFile(path);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->Equals(created->span()));

  auto other = CreateKeyFile(Path("other.key"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->Equals(created->span()));
}

TEST_F(KeyFileTest, CreateIgnoresAWideUmask) {
  mode_t old = ::umask(0);
  auto created = CreateKeyFile(Path("db.key"));
  ::umask(old);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(Mode(Path("db.key")), 0600u);
}

TEST_F(KeyFileTest, CreateFailsInAMissingFolder) {
  auto r = CreateKeyFile(Path("missing/db.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIoError);
}

TEST_F(KeyFileTest, ModeWiderThan0600IsRefusedWithTheFix) {
  std::string path = Path("db.key");
  for (mode_t mode : {0644u, 0640u, 0604u, 0660u, 0700u, 0666u, 0610u, 04600u}) {
    WriteRaw(path, std::string(32, 'k'), mode);
    auto r = ReadKeyFile(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput);
    EXPECT_NE(r.status().message().find("wider than 0600"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("chmod 600 " + path), std::string::npos) << r.status().message();
  }
  for (mode_t mode : {0600u, 0400u, 0200u, 0000u}) {
    WriteRaw(path, std::string(32, 'k'), mode);
    auto r = ReadKeyFile(path);
    // Mode 0000/0200 cannot be read by a non-root owner; root reads anyway.
    if (mode == 0600 || mode == 0400 || ::geteuid() == 0) {
      ASSERT_TRUE(r.ok()) << std::oct << mode << ": " << r.status().message();
      EXPECT_TRUE(
          r->Equals(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(std::string(32, 'k').data()), 32)));
    } else {
      EXPECT_FALSE(r.ok());
    }
  }
}

TEST_F(KeyFileTest, WrongSizeIsRefused) {
  std::string path = Path("db.key");
  for (size_t size : {0u, 1u, 16u, 31u, 33u, 64u, 4096u}) {
    WriteRaw(path, std::string(size, 'k'), 0600);
    auto r = ReadKeyFile(path);
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput);
    EXPECT_NE(r.status().message().find("exactly 32"), std::string::npos) << r.status().message();
  }
}

TEST_F(KeyFileTest, MissingSymlinkAndFolderAreRefused) {
  auto missing = ReadKeyFile(Path("nope.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);

  WriteRaw(Path("real.key"), std::string(32, 'k'), 0600);
  ASSERT_EQ(::symlink(Path("real.key").c_str(), Path("link.key").c_str()), 0);
  auto link = ReadKeyFile(Path("link.key"));
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.status().message().find("symbolic link"), std::string::npos);
  EXPECT_FALSE(CreateKeyFile(Path("link.key")).ok());

  ASSERT_EQ(::mkdir(Path("dir.key").c_str(), 0700), 0);
  auto dir = ReadKeyFile(Path("dir.key"));
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace schakel::crypto
