// Fault tests (issue #8): a damaged node directory — a truncated, emptied,
// corrupted or foreign database file, a wrong or missing passphrase, a
// config naming a file that is not there — gives a clear one-line error with
// the exit code of CONTRACT.md from both an offline `schakel` command and
// `schakeld`, never a crash, and does not alter the damaged file. See
// docs/fault-tests.md.
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "process_support.h"
#include "test_support.h"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;

// A loopback port free at the time of asking (the daemons here should never
// get as far as listening; if one does, it must not collide).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

struct Outcome {
  int code = -1;
  std::string message;  // stderr (CLI) or the daemon's log
};

class FaultFiles : public ::testing::Test {
 protected:
  // A fresh node in DIR/name (key-file mode unless `passphrase_env`).
  std::string MakeNode(const std::string& name, const std::string& passphrase_env = "") {
    std::string dir = tmp_ / name;
    std::vector<std::string> args = {"init",
                                     "--dir",
                                     dir,
                                     "--name",
                                     "Org " + name,
                                     "--org-id",
                                     "node-" + name,
                                     "--org-type",
                                     "school",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(FreePort())};
    if (!passphrase_env.empty()) args.insert(args.end(), {"--passphrase-env", passphrase_env});
    auto r = RunSchakel(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return dir;
  }

  Outcome Offline(const std::string& dir, const std::string& command = "node fingerprint") {
    std::vector<std::string> args;
    std::string word;
    for (char c : command + " ") {
      if (c == ' ') {
        if (!word.empty()) args.push_back(word);
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    args.insert(args.end(), {"--dir", dir});
    auto r = RunSchakel(args);
    return {r.code, r.err};
  }

  // Runs `schakeld --dir DIR` (bounded) and returns its exit code and log.
  Outcome Daemon(const std::string& dir, const std::vector<std::string>& env = {}, const std::string& extra_arg = "") {
    std::string log = dir + "-daemon.log";
    std::filesystem::remove(log);
    std::vector<std::string> argv = {testing::BinaryPath("schakeld"), "--dir", dir};
    if (!extra_arg.empty()) argv.push_back(extra_arg);
    Child d(argv, env, log);
    int code = d.Wait(20s);
    return {code, ReadAll(log)};
  }

  // One line, "PROGRAM: ...", naming `needle`; no crash (a signal is 128+).
  static void ExpectClear(const Outcome& o, int code, const std::string& program, const std::string& needle) {
    EXPECT_EQ(o.code, code) << o.message;
    EXPECT_NE(o.message.find(program + ": "), std::string::npos) << o.message;
    EXPECT_NE(o.message.find(needle), std::string::npos) << o.message;
    std::string line = o.message.substr(o.message.find(program + ": "));
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "more than one line: " << o.message;
  }

  void ExpectBoth(const std::string& dir, int code, const std::string& needle) {
    SCOPED_TRACE(dir);
    ExpectClear(Offline(dir), code, "schakel", needle);
    ExpectClear(Offline(dir, "partner list"), code, "schakel", needle);
    ExpectClear(Daemon(dir), code, "schakeld", needle);
  }

  static std::string Db(const std::string& dir) { return dir + "/data/node.db"; }

  TempDir tmp_;
};

TEST_F(FaultFiles, TruncatedDatabase) {
  std::string dir = MakeNode("trunc");
  auto size = std::filesystem::file_size(Db(dir));
  std::filesystem::resize_file(Db(dir), size / 2);
  ExpectBoth(dir, 1, Db(dir) + ": cannot read the database (damaged or truncated? restore it from a backup)");
  EXPECT_EQ(std::filesystem::file_size(Db(dir)), size / 2);
}

TEST_F(FaultFiles, EmptiedDatabaseIsReportedNotRecreated) {
  std::string dir = MakeNode("empty");
  std::filesystem::resize_file(Db(dir), 0);
  ExpectBoth(dir, 1, Db(dir) + ": the database file is empty (truncated?); restore it from a backup");
  // Before the fix SQLite took the empty file for a new one and filled it
  // with an empty schema.
  EXPECT_EQ(std::filesystem::file_size(Db(dir)), 0u);
}

TEST_F(FaultFiles, CorruptedPages) {
  std::string dir = MakeNode("corrupt");
  std::string before;
  {
    // Overwrite 8 KiB from the second page on with random bytes: SQLCipher's
    // per-page HMAC no longer matches.
    std::fstream f(Db(dir), std::ios::in | std::ios::out | std::ios::binary);
    std::mt19937 rng(42);
    std::string junk(8192, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    f.seekp(4096 + 100);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  before = ReadAll(Db(dir));
  ExpectBoth(dir, 1, Db(dir) + ": ");
  EXPECT_NE(Offline(dir).message.find("malformed"), std::string::npos);
  EXPECT_EQ(ReadAll(Db(dir)), before) << "a failed open changed the damaged file";
}

TEST_F(FaultFiles, ForeignFileInPlaceOfTheDatabase) {
  std::string dir = MakeNode("foreign");
  testing::WriteAll(Db(dir), std::string(64 * 1024, 'Z'));
  ExpectBoth(dir, 2, Db(dir) + ": the key does not open this database (wrong key file or passphrase)");
}

TEST_F(FaultFiles, MissingDatabase) {
  std::string dir = MakeNode("nodb");
  std::filesystem::remove(Db(dir));
  ExpectBoth(dir, 2, Db(dir) + ": no node database");
  EXPECT_FALSE(std::filesystem::exists(Db(dir))) << "a failed open created a database";
}

TEST_F(FaultFiles, MissingKeyFile) {
  std::string dir = MakeNode("nokey");
  std::filesystem::remove(dir + "/secrets/db.key");
  ExpectBoth(dir, 2, "key file " + dir + "/secrets/db.key: no such file");
}

TEST_F(FaultFiles, ConfigNamesAMissingKeyFile) {
  std::string dir = MakeNode("otherkey");
  std::string cfg = ReadAll(dir + "/schakel.toml");
  auto at = cfg.find("key_file = ");
  ASSERT_NE(at, std::string::npos) << cfg;
  cfg.replace(at, cfg.find('\n', at) - at, "key_file = 'secrets/elsewhere.key'");
  testing::WriteAll(dir + "/schakel.toml", cfg);
  ExpectBoth(dir, 2, "key file " + dir + "/secrets/elsewhere.key: no such file");
}

TEST_F(FaultFiles, ConfigNamesAMissingPolicyFile) {
  std::string dir = MakeNode("nopolicy");
  std::string missing = tmp_ / "no-such-protocol.toml";
  std::string cfg = ReadAll(dir + "/schakel.toml");
  auto at = cfg.find("\nfile = ");
  ASSERT_NE(at, std::string::npos) << cfg;
  cfg.replace(at + 1, cfg.find('\n', at + 1) - at - 1, "file = '" + missing + "'");
  testing::WriteAll(dir + "/schakel.toml", cfg);
  ExpectClear(Offline(dir, "policy show"), 2, "schakel", missing + ": no such file");
  ExpectClear(Daemon(dir), 2, "schakeld", missing + ": no such file");
  ExpectClear(Daemon(dir, {}, "--check-config"), 2, "schakeld", "[policy] file: " + missing + ": no such file");
}

TEST_F(FaultFiles, MissingConfig) {
  std::string dir = MakeNode("noconfig");
  std::filesystem::remove(dir + "/schakel.toml");
  ExpectBoth(dir, 2, dir + "/schakel.toml: no such file");
}

TEST_F(FaultFiles, WrongOrMissingPassphrase) {
  ::setenv("SCHAKEL_FAULT_TEST_PASS", "correct horse battery staple", 1);
  std::string dir = MakeNode("pass", "SCHAKEL_FAULT_TEST_PASS");
  EXPECT_FALSE(std::filesystem::exists(dir + "/secrets/db.key"));
  auto ok = Offline(dir);
  EXPECT_EQ(ok.code, 0) << ok.message;

  ::setenv("SCHAKEL_FAULT_TEST_PASS", "wrong horse", 1);
  ExpectClear(Offline(dir), 2, "schakel",
              Db(dir) + ": the key does not open this database (wrong key file or passphrase)");
  ExpectClear(Daemon(dir, {"SCHAKEL_FAULT_TEST_PASS=wrong horse"}), 2, "schakeld",
              Db(dir) + ": the key does not open this database (wrong key file or passphrase)");

  ::unsetenv("SCHAKEL_FAULT_TEST_PASS");
  ExpectClear(Offline(dir), 2, "schakel", "the passphrase environment variable SCHAKEL_FAULT_TEST_PASS is not set");
  ExpectClear(Daemon(dir), 2, "schakeld", "the passphrase environment variable SCHAKEL_FAULT_TEST_PASS is not set");
}

}  // namespace
}  // namespace schakel
