#include "schakel/crypto/secure_buffer.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace schakel::crypto {

void EnsureInitialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

SecureBuffer::SecureBuffer(size_t size) : size_(size) {
  EnsureInitialised();
  if (size == 0) return;
  data_ = static_cast<uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) std::abort();
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
  if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
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
