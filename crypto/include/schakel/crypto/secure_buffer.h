// SecureBuffer: a fixed-size buffer for secrets (private keys, database keys,
// derived keys, tokens) in libsodium's guarded memory.
//
// The memory comes from sodium_malloc: locked (not swapped), surrounded by
// guard pages, excluded from core dumps where the kernel allows
// (MADV_DONTDUMP), and wiped when the buffer is destroyed or moved from.
// Blocks up to 256 KiB are then kept for reuse (a few per size class, all
// zero; secure_buffer.cpp) instead of being unmapped: allocating guarded
// memory is a handful of system calls, so a buffer per record is cheap.
// Copies are explicit (Clone()), so a secret is never duplicated by
// accident. Compare with Equals(), which runs in constant time.
//
// Thread-safety: none; a buffer is owned by one thread at a time.
// Errors: allocation failure aborts (libsodium cannot lock memory is fatal
// for a node that holds children's data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace schakel::crypto {

// Initialises libsodium once; safe to call from many threads. Every function
// of this module calls it; callers need not.
void EnsureInitialised();

class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(size_t size);
  // Copies `bytes` into guarded memory. The caller wipes its own copy.
  static SecureBuffer FromBytes(std::span<const uint8_t> bytes);
  static SecureBuffer Random(size_t size);

  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  SecureBuffer Clone() const;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<uint8_t> span() { return {data_, size_}; }
  std::span<const uint8_t> span() const { return {data_, size_}; }

  // Constant-time comparison; false when the sizes differ.
  bool Equals(std::span<const uint8_t> other) const;

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// How often guarded memory came fresh from sodium_malloc or was reused, and
// how much waits in the pool now (for tests and benchmarks).
struct GuardedMemoryStats {
  uint64_t fresh = 0;
  uint64_t reused = 0;
  size_t pooled_bytes = 0;
};
GuardedMemoryStats GetGuardedMemoryStats();

// Constant-time comparison of two byte strings of equal length; false when
// the lengths differ (the length itself is not secret).
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Wipes memory the compiler may not optimise away (sodium_memzero).
void Wipe(void* data, size_t size);

}  // namespace schakel::crypto
