// Known-answer vector files of the crypto and interop tests
// (tests/crypto/data/*.kat, tests/interop/peer/*.kat): blocks of
// "name = value" lines separated by blank lines; '#' starts a comment.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace schakel::testing {

using KatBlock = std::map<std::string, std::string>;

// The blocks of the file at `path`, names and values without surrounding
// spaces. A line without '=' fails the calling test.
inline std::vector<KatBlock> ReadKatBlocks(const std::string& path) {
  auto trim = [](std::string t) {
    while (!t.empty() && t.back() == ' ') t.pop_back();
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    return t;
  };
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<KatBlock> out(1);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    auto eq = line.find('=');
    EXPECT_NE(eq, std::string::npos) << line;
    if (eq != std::string::npos) out.back()[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

}  // namespace schakel::testing
