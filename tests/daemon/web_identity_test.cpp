// The generated web certificate (no cert files configured): one certificate
// covers the console's and the link pages' hosts, both serve it, and a
// restart serves the same one again. Before, each listener asked for a
// certificate of its own hosts only, so a console and link pages on
// different addresses replaced each other's certificate at every start.
// The served certificate is read with `openssl s_client`. Loopback only
// (127.0.0.1 and 127.0.0.2; the public host is only named), every wait
// bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "federation_support.h"
#include "process_support.h"
#include "test_support.h"

namespace schakel::testing {
namespace {

using namespace std::chrono_literals;

std::string ServedCertFingerprint(const std::string& host, int port) {
  return RunCommand("echo | timeout 10 openssl s_client -connect " + host + ":" + std::to_string(port) +
                    " 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null");
}

std::string WaitServed(const std::string& host, int port) {
  std::string served;
  for (int i = 0; i < 100 && served.empty(); ++i) {
    served = ServedCertFingerprint(host, port);
    if (served.empty()) std::this_thread::sleep_for(100ms);
  }
  return served;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct Served {
  std::string console;
  std::string links;
};

// Starts schakeld in `dir`, reads what both web listeners serve, stops it.
Served RunOnce(const std::string& dir, const std::string& log, int base) {
  Child daemon({BinaryPath("schakeld"), "--dir", dir}, {}, log);
  Served served{WaitServed("127.0.0.2", base + 3), WaitServed("127.0.0.1", base + 2)};
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0) << ReadAll(log);
  return served;
}

TEST(WebIdentity, ConsoleAndLinkPagesOnDifferentHostsShareOneCertificateThatOutlivesARestart) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  const int base = FreePortBase();
  auto init = RunSchakel({"init", "--dir", dir, "--name", "School A", "--org-id", "school-a", "--org-type", "school",
                          "--listen", "127.0.0.1:" + std::to_string(base)});
  ASSERT_EQ(init.code, 0) << init.err;
  std::string toml = ReadAll(dir + "/schakel.toml");
  const std::string console = "listen = '127.0.0.1:" + std::to_string(base + 3) + "'";
  auto at = toml.find(console);
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, console.size(), "listen = '127.0.0.2:" + std::to_string(base + 3) + "'");
  // The link pages' public host: a name the generated certificate must add.
  const std::string public_url = "public_url = 'https://127.0.0.1:" + std::to_string(base + 2) + "'";
  at = toml.find(public_url);
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, public_url.size(), "public_url = 'https://links.school-a.example'");
  WriteAll(dir + "/schakel.toml", toml);

  Served first = RunOnce(dir, tmp / "first.log", base);
  ASSERT_FALSE(first.console.empty()) << ReadAll(tmp / "first.log");
  EXPECT_EQ(first.links, first.console) << "one generated certificate serves both";
  EXPECT_LE(Count(ReadAll(tmp / "first.log"), "generating a new one"), 1u) << ReadAll(tmp / "first.log");

  Served second = RunOnce(dir, tmp / "second.log", base);
  EXPECT_EQ(second.console, first.console) << ReadAll(tmp / "second.log");
  EXPECT_EQ(second.links, first.links);
  EXPECT_EQ(Count(ReadAll(tmp / "second.log"), "generating a new one"), 0u) << ReadAll(tmp / "second.log");
}

}  // namespace
}  // namespace schakel::testing
