// schakeld as a process: --check-config, readiness to systemd, clean stop.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "schakel/base/version.h"

#include "process_support.h"
#include "test_support.h"

namespace schakel {
namespace {

using namespace std::chrono_literals;
using testing::BinaryPath;
using testing::Child;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

class Schakeld : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_ / "node";
    auto r = RunSchakel({"init", "--dir", dir_, "--name", "Trajectum", "--org-id", "school-a", "--org-type", "school",
                         "--listen", "127.0.0.1:17501"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  TempDir tmp_;
  std::string dir_;
};

TEST_F(Schakeld, CheckConfigAcceptsAValidConfig) {
  Child c({BinaryPath("schakeld"), "--dir", dir_, "--check-config"}, {}, tmp_ / "log");
  EXPECT_EQ(c.Wait(10s), 0) << ReadAll(tmp_ / "log");
}

TEST_F(Schakeld, CheckConfigNamesFileLineAndKey) {
  std::string cfg = ReadAll(dir_ + "/schakel.toml");
  WriteAll(dir_ + "/schakel.toml", cfg + "\n[peer2]\nlisten = 1\n");
  Child c({BinaryPath("schakeld"), "--dir", dir_, "--check-config"}, {}, tmp_ / "log");
  EXPECT_EQ(c.Wait(10s), 2);
  std::string log = ReadAll(tmp_ / "log");
  EXPECT_NE(log.find("schakel.toml:"), std::string::npos) << log;
  EXPECT_NE(log.find("peer2: unknown table"), std::string::npos) << log;
}

TEST_F(Schakeld, BadArgumentIsUsageError) {
  Child c({BinaryPath("schakeld"), "--frobnicate"}, {}, tmp_ / "log");
  EXPECT_EQ(c.Wait(10s), 2);
  // --check-config checks every option, not only the file.
  Child loud({BinaryPath("schakeld"), "--dir", dir_, "--check-config", "--log-level", "loud"}, {}, tmp_ / "log2");
  EXPECT_EQ(loud.Wait(10s), 2);
  EXPECT_NE(ReadAll(tmp_ / "log2").find("--log-level \"loud\": must be debug, info, warn or error"), std::string::npos)
      << ReadAll(tmp_ / "log2");
  Child valid({BinaryPath("schakeld"), "--dir", dir_, "--check-config", "--log-level", "warn"}, {}, tmp_ / "log3");
  EXPECT_EQ(valid.Wait(10s), 0) << ReadAll(tmp_ / "log3");
  Child version({BinaryPath("schakeld"), "--version"}, {}, tmp_ / "log4");
  EXPECT_EQ(version.Wait(10s), 0);
  EXPECT_EQ(ReadAll(tmp_ / "log4"), "schakeld " + std::string(kVersion) + "\n");
}

TEST_F(Schakeld, WrongKeyRefusesToStart) {
  WriteAll(dir_ + "/secrets/db.key", std::string(32, 'k'));
  Child c({BinaryPath("schakeld"), "--dir", dir_}, {}, tmp_ / "log");
  EXPECT_EQ(c.Wait(10s), 2);
  EXPECT_NE(ReadAll(tmp_ / "log").find("wrong key"), std::string::npos);
}

TEST_F(Schakeld, NotifiesSystemdAndStopsCleanlyOnSigterm) {
  std::string sock_path = tmp_ / "notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  // Closed on every path, also when an ASSERT below returns early.
  std::unique_ptr<int, void (*)(int*)> fd_owner(&fd, [](int* f) { ::close(*f); });
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock_path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  Child c({BinaryPath("schakeld"), "--dir", dir_}, {"NOTIFY_SOCKET=" + sock_path}, tmp_ / "log");
  char buf[256] = {};
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0) << "no readiness notification; log: " << ReadAll(tmp_ / "log");
  EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("READY=1"), std::string::npos);

  c.Signal(SIGTERM);
  n = ::recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("STOPPING=1"), std::string::npos);
  EXPECT_EQ(c.Wait(10s), 0);
  std::string log = ReadAll(tmp_ / "log");
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  // The log names the node and its fingerprint, never key material.
  EXPECT_EQ(log.find(ReadAll(dir_ + "/secrets/db.key")), std::string::npos);
}

}  // namespace
}  // namespace schakel
