// Argon2id in a process of its own (crypto/kdf_helper.h): the request's
// format and its limits; the schakel-kdf helper of this build derives, hashes
// and verifies exactly as this process does; a helper that gives no answer
// (missing, failing, talking nonsense) is counted and the work is done on a
// thread here instead, so the caller still gets its key.
#include "schakel/crypto/kdf_helper.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "process_support.h"

namespace schakel::crypto {
namespace {

constexpr const char* kHelper = SCHAKEL_BINARY_DIR "/schakel-kdf";

SecureBuffer Bytes(std::string_view s) {
  return SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

// The smallest Argon2id libsodium allows: these tests are about who derives.
KdfRequest FastDerive(std::string_view password) {
  KdfRequest r;
  r.op = KdfOp::kDerive;
  r.ops_limit = 1;
  r.mem_limit = 8192;
  r.out_len = 32;
  r.salt.assign(kKdfSaltBytes, 7);
  r.password = Bytes(password);
  return r;
}

KdfRequest Fast(KdfOp op, std::string_view password, std::string stored = "") {
  KdfRequest r;
  r.op = op;
  r.ops_limit = 1;
  r.mem_limit = 8192;
  r.password = Bytes(password);
  r.stored = std::move(stored);
  return r;
}

std::vector<uint8_t> Encoded(const KdfRequest& r) {
  SecureBuffer b = EncodeKdfRequest(r);
  return {b.data(), b.data() + b.size()};
}

class KdfHelperTest : public ::testing::Test {
 protected:
  void TearDown() override { SetKdfHelper(""); }
};

TEST_F(KdfHelperTest, ARequestRoundTripsAndEachLimitIsChecked) {
  std::vector<uint8_t> good = Encoded(FastDerive("token-and-code"));
  auto parsed = ParseKdfRequest(good);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->op, KdfOp::kDerive);
  EXPECT_EQ(parsed->out_len, 32);
  EXPECT_TRUE(parsed->password.Equals(Bytes("token-and-code").span()));
  EXPECT_EQ(Encoded(*parsed), good);

  auto refused = [](std::vector<uint8_t> bytes, const std::string& why) {
    auto r = ParseKdfRequest(bytes);
    EXPECT_FALSE(r.ok()) << why;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
    }
  };
  auto with = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> b = good;
    b[at] = value;
    return b;
  };
  refused({good.begin(), good.begin() + 10}, "shorter than its header");
  refused(with(0, 'X'), "bad magic");
  refused(with(4, 2), "version 2 is not supported");
  refused(with(5, 4), "unknown op 4");
  refused(with(6, 0), "ops_limit out of range");
  refused(with(21, 1), "mem_limit out of range");  // 2^56 bytes
  refused(with(22, 8), "16 to 64 bytes");          // out_len 8
  refused(with(24, 15), "16-byte salt");           // salt_len 15
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  refused(longer, "does not match the lengths");
  std::vector<uint8_t> huge(kKdfMaxRequest + 1, 0);
  refused(huge, "longer than any request");

  KdfRequest verify = Fast(KdfOp::kVerify, "pw", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
  EXPECT_TRUE(ParseKdfRequest(Encoded(verify)).ok());
  verify.stored = std::string("$argon2id\0trailing", 18);
  refused(Encoded(verify), "holds a NUL");
  refused(Encoded(Fast(KdfOp::kVerify, "pw", "")), "a stored hash of 1 to 127 bytes");
  KdfRequest hash = Fast(KdfOp::kHash, std::string(kKdfMaxPassword + 1, 'p'));
  refused(Encoded(hash), "password longer than 1024 bytes");
  hash = Fast(KdfOp::kHash, "pw");
  hash.salt.assign(kKdfSaltBytes, 1);
  refused(Encoded(hash), "a hash takes only a password");
}

TEST_F(KdfHelperTest, TheHelperDerivesHashesAndVerifiesAsThisProcessDoes) {
  SetKdfHelper(kHelper);
  const uint64_t failures = KdfHelperFailures();
  KdfOutcome here = RunKdf(FastDerive("token-and-code"));
  KdfOutcome apart = RunKdfApart(FastDerive("token-and-code"));
  ASSERT_EQ(here.status, KdfStatus::kDone);
  ASSERT_EQ(apart.status, KdfStatus::kDone);
  EXPECT_TRUE(apart.bytes.Equals(here.bytes.span()));
  EXPECT_FALSE(apart.bytes.Equals(RunKdf(FastDerive("token-and-cod3")).bytes.span()));

  KdfOutcome hashed = RunKdfApart(Fast(KdfOp::kHash, "een lang wachtwoord"));
  ASSERT_EQ(hashed.status, KdfStatus::kDone);
  std::string stored(reinterpret_cast<const char*>(hashed.bytes.data()), hashed.bytes.size());
  EXPECT_EQ(stored.rfind("$argon2id$", 0), 0u) << stored;
  EXPECT_EQ(RunKdf(Fast(KdfOp::kVerify, "een lang wachtwoord", stored)).status, KdfStatus::kDone);
  EXPECT_EQ(RunKdfApart(Fast(KdfOp::kVerify, "een lang wachtwoord", stored)).status, KdfStatus::kDone);
  EXPECT_EQ(RunKdfApart(Fast(KdfOp::kVerify, "een lang wachtwoorD", stored)).status, KdfStatus::kFailed);
  // Every answer came from the helper: none fell back to a thread here.
  EXPECT_EQ(KdfHelperFailures(), failures);
}

TEST_F(KdfHelperTest, AHelperThatGivesNoAnswerIsCountedAndTheWorkIsDoneHere) {
  const KdfOutcome expected = RunKdf(FastDerive("token-and-code"));
  // Missing; ends at once; echoes the request (a status byte of 'S').
  for (const std::string helper : {"/nonexistent/schakel-kdf", "/bin/false", "/bin/cat"}) {
    SetKdfHelper(helper);
    const uint64_t failures = KdfHelperFailures();
    KdfOutcome got = RunKdfApart(FastDerive("token-and-code"));
    ASSERT_EQ(got.status, KdfStatus::kDone) << helper;
    EXPECT_TRUE(got.bytes.Equals(expected.bytes.span())) << helper;
    EXPECT_EQ(KdfHelperFailures(), failures + 1) << helper;
  }
}

TEST_F(KdfHelperTest, AHelperThatLingersAfterItsAnswerIsEndedWithinASecond) {
  // Answers a derivation of 32 zero bytes, then stays.
  const std::string script = ::testing::TempDir() + "kdf-lingers-" + std::to_string(::getpid());
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nprintf '\\000\\040\\000'\nhead -c 32 /dev/zero\nexec sleep 60\n";
  }
  ASSERT_EQ(schakel::testing::RunCommand("chmod 0700 " + script + "; echo $?"), "0");
  SetKdfHelper(script);
  const uint64_t failures = KdfHelperFailures();
  const auto start = std::chrono::steady_clock::now();
  KdfOutcome got = RunKdfApart(FastDerive("token-and-code"));
  const auto took = std::chrono::steady_clock::now() - start;
  std::remove(script.c_str());
  ASSERT_EQ(got.status, KdfStatus::kDone);
  EXPECT_TRUE(got.bytes.Equals(std::vector<uint8_t>(32, 0)));  // its answer, taken as given
  EXPECT_EQ(KdfHelperFailures(), failures);
  EXPECT_LT(took, std::chrono::seconds(20)) << "waited for the lingering helper";
}

TEST_F(KdfHelperTest, TheHelperRefusesABadRequestAndIsNotForPeople) {
  const std::string answer = ::testing::TempDir() + "kdf-answer-" + std::to_string(::getpid());
  const std::string cmd = "printf 'SKDF\\002' | " + std::string(kHelper) + " > " + answer + "; echo $?";
  EXPECT_EQ(schakel::testing::RunCommand(cmd), "2");
  std::ifstream in(answer, std::ios::binary);
  std::stringstream read;
  read << in.rdbuf();
  const std::string bytes = read.str();
  std::remove(answer.c_str());
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[0], '\x02');  // refused, and nothing more
  EXPECT_EQ(bytes[1], '\0');
  EXPECT_EQ(bytes[2], '\0');
  EXPECT_EQ(schakel::testing::RunCommand(std::string(kHelper) + " --help < /dev/null 2>&1; echo $?"),
            "schakel-kdf: started by schakeld for one key derivation; it takes no arguments\n2");
}

TEST(KdfHelperSearch, TheHelperIsFoundBesideTheProgramOrNotAtAll) {
  // This test program is in tests/, the helper one folder up: not beside it,
  // and not in ../libexec/schakel/.
  EXPECT_EQ(FindKdfHelper(), "");
}

}  // namespace
}  // namespace schakel::crypto
