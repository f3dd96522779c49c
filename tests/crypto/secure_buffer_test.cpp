// SecureBuffer: guarded memory that is reused, zeroed, and still ends at its
// guard page.
#include "schakel/crypto/secure_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

namespace schakel::crypto {
namespace {

bool AllZero(const SecureBuffer& b) {
  for (uint8_t c : b.span()) {
    if (c != 0) return false;
  }
  return true;
}

TEST(SecureBuffer, AReleasedBlockIsReusedAndHoldsNothingOfItsLastUser) {
  { SecureBuffer warm(5000); }  // the 8 KiB class has a block now
  const GuardedMemoryStats before = GetGuardedMemoryStats();
  {
    SecureBuffer secret(5000);
    std::memset(secret.data(), 0xA5, secret.size());
  }
  SecureBuffer next(7000);  // same class, larger than the last user
  const GuardedMemoryStats after = GetGuardedMemoryStats();
  EXPECT_EQ(after.fresh, before.fresh);
  EXPECT_GE(after.reused, before.reused + 2);
  EXPECT_TRUE(AllZero(next));
}

// The buffer's last byte is the block's last: the next page is the guard
// page (reading it would fault), so the byte after the buffer is at a page
// boundary.
TEST(SecureBuffer, ABufferEndsWhereItsBlockEnds) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (size_t size : {1u, 33u, 64u, 1000u, 4096u, 5000u, 70000u, 300000u}) {
    SecureBuffer b(size);
    ASSERT_EQ(b.size(), size);
    EXPECT_EQ((reinterpret_cast<uintptr_t>(b.data()) + size) % page, 0u) << size;
  }
}

TEST(SecureBuffer, BuffersFreedOnOtherThreadsAndMovedStayIntact) {
  std::vector<SecureBuffer> made;
  for (int i = 0; i < 20; ++i) {
    made.push_back(SecureBuffer::Random(100 + static_cast<size_t>(i) * 997));
  }
  std::vector<SecureBuffer> copies;
  std::vector<std::vector<uint8_t>> expected;  // random test bytes, no secret
  for (const auto& b : made) {
    copies.push_back(b.Clone());
    expected.emplace_back(b.data(), b.data() + b.size());
  }
  std::thread([moved = std::move(made)]() mutable { moved.clear(); }).join();
  // The released blocks went back to the pool; new buffers of the same
  // classes reuse them, and the copies are untouched by either.
  std::vector<SecureBuffer> reused;
  for (int i = 0; i < 20; ++i) reused.push_back(SecureBuffer::Random(100 + static_cast<size_t>(i) * 997));
  for (size_t i = 0; i < copies.size(); ++i) {
    ASSERT_EQ(copies[i].size(), 100 + i * 997);
    EXPECT_TRUE(copies[i].Equals(expected[i])) << i;
  }
  SecureBuffer a = SecureBuffer::Random(64);
  SecureBuffer keep = a.Clone();
  SecureBuffer b(128);
  b = std::move(a);
  EXPECT_TRUE(b.Equals(keep.span()));
  // The pool keeps at most a few blocks per class, about 2.5 MiB in all.
  EXPECT_LE(GetGuardedMemoryStats().pooled_bytes, size_t{3} * 1024 * 1024);
}

}  // namespace
}  // namespace schakel::crypto
