// Replay driver for the fuzz targets when they are built without libFuzzer
// (every build, GCC or clang; ctest label "fuzz").
//
// Usage: fuzz_replay_NAME PATH...  where each PATH is a corpus directory or a
// single file. Every file is run through LLVMFuzzerTestOneInput as it is, and
// then kMutationsPerSeed deterministic mutations of it (bit flips, bytes set
// to boundary values, truncations, deleted, duplicated and inserted ranges,
// and a few stacked mutations), so that a replay explores the neighbourhood
// of each seed the same way on every run. A target reports a broken property
// by aborting; a parser bug shows as a crash or, under ASan/UBSan, as a
// sanitizer report. Exit 0 after all inputs ran; 2 when a path cannot be read
// or no input was found (a replay that runs nothing must not pass).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr int kMutationsPerSeed = 200;

// SplitMix64: a small deterministic generator, the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n); n > 0.
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '"', '\\', '{', '}', '[',
                                    ']',  ',',  ':',  '\n', '=',  '0', '9',  '-', 'e'};

void MutateOnce(std::vector<uint8_t>& buf, Rng& rng, int kind) {
  switch (kind) {
    case 0:  // flip one bit
      if (!buf.empty()) buf[rng.Below(buf.size())] ^= static_cast<uint8_t>(1u << rng.Below(8));
      break;
    case 1:  // set one byte to a boundary or syntax value
      if (!buf.empty()) {
        buf[rng.Below(buf.size())] = kInteresting[rng.Below(sizeof kInteresting)];
      }
      break;
    case 2:  // truncate
      buf.resize(buf.empty() ? 0 : rng.Below(buf.size()));
      break;
    case 3:  // delete a range of 1..16 bytes
      if (!buf.empty()) {
        const size_t at = rng.Below(buf.size());
        const size_t n = std::min(buf.size() - at, 1 + rng.Below(16));
        buf.erase(buf.begin() + static_cast<std::ptrdiff_t>(at), buf.begin() + static_cast<std::ptrdiff_t>(at + n));
      }
      break;
    case 4: {  // duplicate a range of 1..64 bytes in place
      if (buf.empty()) break;
      const size_t at = rng.Below(buf.size());
      const size_t n = std::min(buf.size() - at, 1 + rng.Below(64));
      const std::vector<uint8_t> piece(buf.begin() + static_cast<std::ptrdiff_t>(at),
                                       buf.begin() + static_cast<std::ptrdiff_t>(at + n));
      buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), piece.begin(), piece.end());
      break;
    }
    default: {  // insert 1..8 random bytes
      const size_t at = buf.empty() ? 0 : rng.Below(buf.size() + 1);
      const size_t n = 1 + rng.Below(8);
      std::vector<uint8_t> bytes(n);
      for (auto& b : bytes) b = static_cast<uint8_t>(rng.Next());
      buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin(), bytes.end());
      break;
    }
  }
}

void Run(const std::vector<uint8_t>& input) {
  // An empty vector's data() may be null; libFuzzer passes a valid pointer.
  static const uint8_t kEmpty = 0;
  LLVMFuzzerTestOneInput(input.empty() ? &kEmpty : input.data(), input.size());
}

bool ReadFile(const std::filesystem::path& path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      files.push_back(arg);
    }
    if (ec) {
      std::fprintf(stderr, "%s: cannot read: %s\n", argv[i], ec.message().c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());  // the same order on every run
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... (no input found)\n", argv[0]);
    return 2;
  }
  uint64_t runs = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    std::vector<uint8_t> seed;
    if (!ReadFile(files[f], seed)) {
      std::fprintf(stderr, "%s: cannot read\n", files[f].c_str());
      return 2;
    }
    Run(seed);
    ++runs;
    // Mutations are seeded by the seed's bytes (FNV-1a) and their number, not
    // by the file name, so renaming a corpus file does not change them.
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint8_t b : seed) h = (h ^ b) * 0x100000001b3ULL;
    for (int m = 0; m < kMutationsPerSeed; ++m) {
      Rng rng(h ^ (static_cast<uint64_t>(m) << 32));
      std::vector<uint8_t> input = seed;
      // Most mutations are single; every fifth stacks two to four.
      const size_t steps = (m % 5 == 4) ? 2 + rng.Below(3) : 1;
      for (size_t s = 0; s < steps; ++s) MutateOnce(input, rng, static_cast<int>(rng.Below(6)));
      Run(input);
      ++runs;
    }
  }
  std::printf("replayed %zu corpus files, %llu inputs\n", files.size(), static_cast<unsigned long long>(runs));
  return 0;
}
