#include <gtest/gtest.h>

#include "schakel/crypto/identity.h"

namespace schakel::crypto {
namespace {

TEST(Base64, RefusesBytesOutsideTheAlphabet) {
  // libsodium alone would read 0x80.. as '/', giving a second spelling.
  EXPECT_TRUE(Base64Decode("AAA/", 3).ok());
  EXPECT_FALSE(Base64Decode("AAA\x80", 3).ok());
  EXPECT_FALSE(Base64Decode("AAA\xff", 3).ok());
  EXPECT_FALSE(Base64Decode("AA A", 3).ok());
  EXPECT_FALSE(Base64Decode("AA-_", 3).ok());
}

}  // namespace
}  // namespace schakel::crypto
