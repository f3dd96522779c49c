// Helpers shared by the test binaries: temporary directories, running the
// CLI in-process, reading fixtures.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schakel/cli/cli.h"

namespace schakel::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/schakel-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* made = ::mkdtemp(buf.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `schakel ARGS...` in-process with `input` on stdin.
inline CliResult RunSchakel(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), "schakel");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err;
  CliResult r;
  r.code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

// The last non-empty line of a text.
inline std::string LastLine(const std::string& text) {
  std::istringstream ss(text);
  std::string line, last;
  while (std::getline(ss, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Loads the test roster (tests/fixtures/roster.csv: the students of the case
// fixtures and of the tests' own cases) into the register of the node in
// `dir`, offline. Wrap in ASSERT_NO_FATAL_FAILURE.
inline void LoadRoster(const std::string& dir) {
  auto r = RunSchakel({"student", "load", "--dir", dir, "--file", std::string(SCHAKEL_FIXTURES_DIR) + "/roster.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
}

// Runs `schakel init` for a node "Org ID" (org id `id`, type `type`) in `dir`,
// listening on 127.0.0.1:PORT. Wrap in ASSERT_NO_FATAL_FAILURE.
inline void InitNode(const std::string& dir, const std::string& id, const std::string& type, int port) {
  auto r = RunSchakel({"init", "--dir", dir, "--name", "Org " + id, "--org-id", id, "--org-type", type, "--listen",
                       "127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(r.code, 0) << r.err;
  LoadRoster(dir);
}

// What `schakel node fingerprint --dir DIR` prints, without the line end.
inline std::string NodeFingerprint(const std::string& dir) {
  auto r = RunSchakel({"node", "fingerprint", "--dir", dir});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string fp = r.out;
  while (!fp.empty() && (fp.back() == '\n' || fp.back() == ' ')) fp.pop_back();
  return fp;
}

}  // namespace schakel::testing
