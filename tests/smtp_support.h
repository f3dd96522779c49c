// A local SMTP server for tests (tests/mail/smtp_server.py, Debian's
// python3-aiosmtpd) on a loopback port the test picks: STARTTLS required with
// a self-signed certificate for 127.0.0.1 (made here with openssl), AUTH
// required; or, `tls` false, a plain server that offers neither. What it
// received is read back from its folder. Every wait is bounded.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "process_support.h"
#include "test_support.h"

namespace schakel::testing {

struct ReceivedMail {
  nlohmann::json envelope;  // from, to, tls, auth
  std::string text;         // the message as received
};

class LocalSmtp {
 public:
  static constexpr const char* kUser = "schakel-notices";
  static constexpr const char* kPassword = "een lang smtp wachtwoord";

  LocalSmtp(const TempDir& tmp, bool tls) : dir_(tmp / (tls ? "smtp" : "smtp-plain")) {
    std::filesystem::create_directories(dir_ + "/out");
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(SCHAKEL_SOURCE_DIR) + "/tests/mail/smtp_server.py",
                                     "--port",
                                     std::to_string(port_),
                                     "--out",
                                     dir_ + "/out"};
    if (tls) {
      cert_ = dir_ + "/cert.pem";
      const std::string key = dir_ + "/key.pem";
      RunCommand(
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1"
          " -addext subjectAltName=IP:127.0.0.1 -keyout '" +
          key + "' -out '" + cert_ + "' 2>/dev/null");
      argv.insert(argv.end(), {"--cert", cert_, "--key", key, "--user", kUser, "--password", kPassword});
    }
    child_ = std::make_unique<Child>(argv, std::vector<std::string>{}, dir_ + "/server.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline &&
           ReadAll(dir_ + "/server.log").find("ready") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ready_ = ReadAll(dir_ + "/server.log").find("ready") != std::string::npos;
  }
  ~LocalSmtp() {
    if (child_) {
      child_->Signal(SIGTERM);
      (void)child_->Wait(std::chrono::seconds(5));
    }
  }

  bool ready() const { return ready_; }
  int port() const { return port_; }
  const std::string& ca_file() const { return cert_; }  // the server's self-signed certificate
  std::string log() const { return ReadAll(dir_ + "/server.log"); }

  std::vector<ReceivedMail> Received() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/out")) {
      if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    std::vector<ReceivedMail> out;
    for (const auto& n : names) {
      out.push_back(
          {nlohmann::json::parse(ReadAll(dir_ + "/out/" + n + ".json")), ReadAll(dir_ + "/out/" + n + ".eml")});
    }
    return out;
  }
  // Waits (bounded) until at least `n` messages arrived.
  bool WaitFor(size_t n, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (Received().size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }

 private:
  static int FreeLoopbackPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  std::string dir_;
  std::string cert_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

}  // namespace schakel::testing
