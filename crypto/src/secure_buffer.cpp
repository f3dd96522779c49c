#include "schakel/crypto/secure_buffer.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace schakel::crypto {

void EnsureInitialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

namespace {

// Guarded blocks are reused rather than returned to the kernel: a fresh
// sodium_malloc costs an mmap, two mprotects and an mlock, and sodium_free
// their undoing, tens of microseconds in a sandboxed VM (as much as the
// X25519 of an envelope; bench/envelope_bench.cpp). Blocks up to kMaxPooled
// come in power-of-two classes; a buffer of `size` bytes sits at the END of
// its class's block, so the guard page still follows its last byte. A block
// goes back to the pool only after the bytes its user had were wiped (so a
// pooled block is all zeroes), at most kPerClass blocks per class: at most
// about 2.5 MiB stays locked. Larger buffers are allocated and freed as
// before.
constexpr size_t kMinClass = 64;
constexpr size_t kMaxPooled = size_t{256} * 1024;
constexpr size_t kPerClass = 4;
constexpr size_t kClasses = 13;  // 64 B .. 256 KiB

size_t ClassOf(size_t size) { return size > kMaxPooled ? size : std::max(kMinClass, std::bit_ceil(size)); }

size_t ClassIndex(size_t class_size) { return static_cast<size_t>(std::countr_zero(class_size / kMinClass)); }

class GuardedPool {
 public:
  uint8_t* Take(size_t class_size) {
    if (class_size <= kMaxPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& free = free_[ClassIndex(class_size)];
      if (!free.empty()) {
        uint8_t* block = free.back();
        free.pop_back();
        ++stats_.reused;
        stats_.pooled_bytes -= class_size;
        return block;
      }
    }
    auto* block = static_cast<uint8_t*>(sodium_malloc(class_size));
    if (block == nullptr) std::abort();
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.fresh;
    return block;
  }
  // REQUIRES: the block's bytes are all zero.
  void Give(uint8_t* block, size_t class_size) {
    if (class_size <= kMaxPooled) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& free = free_[ClassIndex(class_size)];
      if (free.size() < kPerClass) {
        free.push_back(block);
        stats_.pooled_bytes += class_size;
        return;
      }
    }
    sodium_free(block);
  }
  GuardedMemoryStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  std::mutex mu_;
  std::array<std::vector<uint8_t*>, kClasses> free_;
  GuardedMemoryStats stats_;
};

// Never destroyed: buffers of static and thread_local objects are released
// during exit, after function-local statics would be gone.
GuardedPool& Pool() {
  static GuardedPool* pool = new GuardedPool();
  return *pool;
}

void Release(uint8_t* data, size_t size) {
  sodium_memzero(data, size);
  const size_t class_size = ClassOf(size);
  Pool().Give(data + size - class_size, class_size);
}

}  // namespace

GuardedMemoryStats GetGuardedMemoryStats() { return Pool().Stats(); }

SecureBuffer::SecureBuffer(size_t size) : size_(size) {
  EnsureInitialised();
  if (size == 0) return;
  const size_t class_size = ClassOf(size);
  data_ = Pool().Take(class_size) + (class_size - size);
  sodium_memzero(data_, size);
}

SecureBuffer SecureBuffer::FromBytes(std::span<const uint8_t> bytes) {
  SecureBuffer b(bytes.size());
  if (!bytes.empty()) std::memcpy(b.data_, bytes.data(), bytes.size());
  return b;
}

SecureBuffer SecureBuffer::Random(size_t size) {
  SecureBuffer b(size);
  if (size) randombytes_buf(b.data_, size);
  return b;
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) Release(data_, size_);  // wipes first
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) Release(data_, size_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecureBuffer SecureBuffer::Clone() const { return FromBytes(span()); }

bool SecureBuffer::Equals(std::span<const uint8_t> other) const { return ConstantTimeEqual(span(), other); }

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  EnsureInitialised();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return ConstantTimeEqual(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(a.data()), a.size()),
                           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
}

void Wipe(void* data, size_t size) {
  if (data != nullptr && size != 0) sodium_memzero(data, size);
}

}  // namespace schakel::crypto
