// Issue #25 (4): a passphrase-mode daemon keeps no passphrase in its
// environment. schakeld takes the variable out before any thread starts
// (store::TakePassphraseFromEnv: wiped in place, then unset); what procfs
// shows of its environment afterwards holds no trace of it.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "federation_support.h"
#include "schakel/store/node_dir.h"

namespace schakel {
namespace {

using testing::BinaryPath;
using testing::Child;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;

constexpr const char* kVar = "SCHAKEL_SECRET_ENV_TEST";
constexpr const char* kPassphrase = "paard batterij nietje correct 7193";

// `schakel init` of a passphrase-mode node in DIR, on free loopback ports.
void InitPassphraseNode(const std::string& dir) {
  int port = testing::FreePortBase();
  ASSERT_NE(port, 0);
  ::setenv(kVar, kPassphrase, 1);
  auto init = RunSchakel({"init", "--dir", dir, "--name", "LVS", "--org-id", "lvs-zhz", "--org-type", "lvs", "--listen",
                          "127.0.0.1:" + std::to_string(port), "--passphrase-env", kVar});
  ::unsetenv(kVar);
  ASSERT_EQ(init.code, 0) << init.err;
}

TEST(SecretEnv, APassphraseModeDaemonKeepsNoPassphraseInItsEnvironment) {
  TempDir tmp;
  std::string dir = tmp / "lvs";
  ASSERT_NO_FATAL_FAILURE(InitPassphraseNode(dir));

  std::string log = dir + "/daemon.log";
  Child daemon({BinaryPath("schakeld"), "--dir", dir}, {std::string(kVar) + "=" + kPassphrase}, log);
  bool ready = false;
  for (int i = 0; i < 750 && !ready; ++i) {  // at most 15 s
    ready = ReadAll(log).find(" ready") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(ready) << ReadAll(log);

  std::string environ = ReadAll("/proc/" + std::to_string(daemon.pid()) + "/environ");
  ASSERT_FALSE(environ.empty()) << "cannot read the daemon's environment";
  EXPECT_EQ(environ.find(kPassphrase), std::string::npos) << "the passphrase is still in the environment";
  EXPECT_EQ(environ.find("paard"), std::string::npos) << "part of the passphrase is still in the environment";
  EXPECT_EQ(environ.find(std::string(kVar) + "=p"), std::string::npos);
  EXPECT_EQ(ReadAll(log).find(kPassphrase), std::string::npos) << "the passphrase is in the log";

  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(15)), 0) << ReadAll(log);
}

// Without the variable the daemon says which one it needs, and starts nothing.
TEST(SecretEnv, APassphraseModeDaemonWithoutTheVariableSaysWhichItNeeds) {
  TempDir tmp;
  std::string dir = tmp / "lvs";
  ASSERT_NO_FATAL_FAILURE(InitPassphraseNode(dir));
  std::string log = dir + "/daemon.log";
  Child daemon({BinaryPath("schakeld"), "--dir", dir}, {}, log);
  EXPECT_EQ(daemon.Wait(std::chrono::seconds(15)), 2);
  EXPECT_NE(ReadAll(log).find(kVar), std::string::npos) << ReadAll(log);
}

// In a process: the value is handed over once; the block that held it is
// zeros and the variable is gone.
TEST(SecretEnv, TakePassphraseWipesAndUnsets) {
  ::setenv(kVar, kPassphrase, 1);
  char* block = std::getenv(kVar);
  ASSERT_NE(block, nullptr);
  const size_t size = std::string(kPassphrase).size();
  auto taken = store::TakePassphraseFromEnv(kVar);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(taken->data()), taken->size()), kPassphrase);
  EXPECT_EQ(std::getenv(kVar), nullptr);
  // setenv's copy is still ours to read (glibc does not free it).
  EXPECT_EQ(std::string(block, size), std::string(size, '\0'));
  auto again = store::TakePassphraseFromEnv(kVar);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find(kVar), std::string::npos);
}

}  // namespace
}  // namespace schakel
