// Renewed certificates (daemon/src/cert_reload.h, docs/operations.md
// "Certificates"): a listener with configured cert files serves new ones to
// new connections when the files change or on SIGHUP, without a restart;
// files that do not load leave it as it was. The served certificate is read
// with `openssl s_client`; certificates are made with `openssl req`.
// Loopback only, every wait bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "cert_reload.h"
#include "federation_support.h"
#include "process_support.h"
#include "schakel/http/web_server.h"
#include "test_support.h"

namespace schakel::testing {
namespace {

using namespace std::chrono_literals;

// A self-signed ECDSA certificate for 127.0.0.1 as `name`.pem / `name`.key.
void MakeCert(const std::string& dir, const std::string& name) {
  RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=" + name +
             " -addext subjectAltName=IP:127.0.0.1 -keyout '" + dir + "/" + name + ".key' -out '" + dir + "/" + name +
             ".pem' 2>/dev/null");
  ASSERT_TRUE(std::filesystem::exists(dir + "/" + name + ".pem")) << "openssl req made no certificate";
}

std::string FileFingerprint(const std::string& pem) {
  return RunCommand("openssl x509 -in '" + pem + "' -noout -fingerprint -sha256 2>/dev/null");
}

std::string ServedFingerprint(int port) {
  return RunCommand("echo | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                    " 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null");
}

// Puts `name`'s certificate and key where the config points.
void Install(const std::string& dir, const std::string& name) {
  for (const char* ext : {".pem", ".key"}) {
    std::filesystem::copy_file(dir + "/" + name + ext, dir + "/live" + ext,
                               std::filesystem::copy_options::overwrite_existing);
  }
}

TEST(CertReload, AChangedFileIsServedToNewConnectionsAndABadOneChangesNothing) {
  TempDir tmp;
  const std::string dir = tmp.path();
  ASSERT_NO_FATAL_FAILURE(MakeCert(dir, "first"));
  ASSERT_NO_FATAL_FAILURE(MakeCert(dir, "second"));
  Install(dir, "first");
  config::WebCertFiles files{"live.pem", "live.key"};
  auto id = http::LoadWebIdentityFiles(dir, files);
  ASSERT_TRUE(id.ok()) << id.status().message();
  http::WebServer server(*id, [](const http::WebRequest&) { return http::WebResponse::Text(200, "ok"); });
  ASSERT_TRUE(server.Start({"127.0.0.1", 0}).ok());
  EXPECT_EQ(ServedFingerprint(server.port()), FileFingerprint(dir + "/first.pem"));

  daemon::CertReloader certs;
  certs.Watch("links", dir, files, &server);
  EXPECT_EQ(certs.Check(false), 0) << "nothing changed";
  Install(dir, "second");
  EXPECT_EQ(certs.Check(false), 1);
  EXPECT_EQ(ServedFingerprint(server.port()), FileFingerprint(dir + "/second.pem"));
  EXPECT_EQ(certs.Check(false), 0);

  // A half-written renewal: the listener keeps what it serves.
  {
    std::FILE* f = std::fopen((dir + "/live.pem").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("-----BEGIN", f);
    std::fclose(f);
  }
  EXPECT_EQ(certs.Check(false), 0);
  EXPECT_EQ(ServedFingerprint(server.port()), FileFingerprint(dir + "/second.pem"));
  // A key of another certificate: refused too.
  std::filesystem::copy_file(dir + "/first.pem", dir + "/live.pem", std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(certs.Check(true), 0);
  EXPECT_EQ(ServedFingerprint(server.port()), FileFingerprint(dir + "/second.pem"));
  server.Stop();
}

TEST(CertReload, SchakeldServesTheRenewedCertificateAfterSighup) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  const int base = FreePortBase();
  auto init = RunSchakel({"init", "--dir", dir, "--name", "School A", "--org-id", "school-a", "--org-type", "school",
                          "--listen", "127.0.0.1:" + std::to_string(base)});
  ASSERT_EQ(init.code, 0) << init.err;
  ASSERT_NO_FATAL_FAILURE(MakeCert(dir, "first"));
  ASSERT_NO_FATAL_FAILURE(MakeCert(dir, "second"));
  Install(dir, "first");
  std::string toml = ReadAll(dir + "/schakel.toml");
  auto at = toml.find("[links]\n");
  ASSERT_NE(at, std::string::npos) << toml;
  toml.insert(at + 8, "cert_file = 'live.pem'\nkey_file = 'live.key'\n");
  WriteAll(dir + "/schakel.toml", toml);

  Child daemon({BinaryPath("schakeld"), "--dir", dir}, {}, tmp / "log");
  const int links = base + 2;
  std::string served;
  for (int i = 0; i < 100 && served.empty(); ++i) {
    served = ServedFingerprint(links);
    if (served.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(served, FileFingerprint(dir + "/first.pem")) << ReadAll(tmp / "log");

  Install(dir, "second");
  daemon.Signal(SIGHUP);
  const std::string want = FileFingerprint(dir + "/second.pem");
  for (int i = 0; i < 100 && served != want; ++i) {
    std::this_thread::sleep_for(100ms);
    served = ServedFingerprint(links);
  }
  EXPECT_EQ(served, want) << ReadAll(tmp / "log");
  EXPECT_NE(ReadAll(tmp / "log").find("links: now serving the certificate in"), std::string::npos);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0) << "SIGHUP did not stop it; SIGTERM does";
}

}  // namespace
}  // namespace schakel::testing
