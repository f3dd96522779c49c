// Private to crypto/: the byte-level encoding the envelope, the receipt and
// the revocation share (docs/envelope.md): big-endian integers, strings with a
// 16-bit length, instants as milliseconds, domain labels with their NUL, and a
// bounds-checked reader.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "schakel/base/time.h"

namespace schakel::crypto::wire {

inline constexpr int64_t kMaxInstantMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

inline void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
inline void PutI64(std::string& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}
// Strings are a 16-bit big-endian length and the bytes. Every string this
// module writes is checked to be short first.
inline void PutStr(std::string& out, std::string_view s) {
  PutU16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}
inline void PutBytes(std::string& out, std::span<const uint8_t> b) {
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}
inline void PutLabel(std::string& out, const char* label, size_t size_with_nul) { out.append(label, size_with_nul); }

inline int64_t ToMs(Instant t) { return t.time_since_epoch().count(); }
inline Instant FromMs(int64_t ms) { return Instant{std::chrono::milliseconds{ms}}; }

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t pos() const { return pos_; }
  bool U8(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = static_cast<uint16_t>(Byte(0) << 8 | Byte(1));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = static_cast<uint32_t>(Byte(0)) << 24 | static_cast<uint32_t>(Byte(1)) << 16 |
         static_cast<uint32_t>(Byte(2)) << 8 | static_cast<uint32_t>(Byte(3));
    pos_ += 4;
    return true;
  }
  bool I64(int64_t* v) {
    if (remaining() < 8) return false;
    uint64_t u = 0;
    for (size_t i = 0; i < 8; ++i) u = u << 8 | Byte(i);
    *v = static_cast<int64_t>(u);
    pos_ += 8;
    return true;
  }
  bool Str(std::string* s) {
    uint16_t n = 0;
    if (!U16(&n) || remaining() < n) return false;
    s->assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  template <size_t N>
  bool Bytes(std::array<uint8_t, N>* out) {
    if (remaining() < N) return false;
    std::memcpy(out->data(), data_.data() + pos_, N);
    pos_ += N;
    return true;
  }
  std::string_view Take(size_t n) {
    std::string_view v = data_.substr(pos_, n);
    pos_ += v.size();
    return v;
  }

 private:
  uint32_t Byte(size_t i) const { return static_cast<unsigned char>(data_[pos_ + i]); }
  std::string_view data_;
  size_t pos_ = 0;
};

inline const uint8_t* U8Ptr(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }
inline uint8_t* U8Ptr(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

inline bool IsValidInstant(Instant t) { return ToMs(t) >= 0 && ToMs(t) <= kMaxInstantMs; }

// label (with its NUL) || fields: the message a receipt or revocation signs.
inline std::string Labelled(const char* label, size_t size_with_nul, const std::string& fields) {
  std::string m;
  m.reserve(size_with_nul + fields.size());
  PutLabel(m, label, size_with_nul);
  m += fields;
  return m;
}

}  // namespace schakel::crypto::wire
