// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cpp).
//
// A target must never crash on any input: parsers answer with a Status. What
// a target checks on top of that (round trips) fails loudly with
// FUZZ_CHECK, which prints the broken property and aborts, so that libFuzzer
// keeps the input as a crash and the replay driver exits non-zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace schakel::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

}  // namespace schakel::fuzz
