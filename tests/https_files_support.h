// A static HTTPS file server on loopback (tests/http/https_files.py) with a
// self-signed certificate for 127.0.0.1, for the directory fetch tests.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "federation_support.h"
#include "process_support.h"

namespace schakel::testing {

class LocalHttps {
 public:
  explicit LocalHttps(const TempDir& tmp, const std::string& name = "https") : dir_(tmp / name) {
    std::filesystem::create_directories(dir_ + "/root");
    port_ = FreePortBase();
    cert_ = dir_ + "/cert.pem";
    const std::string key = dir_ + "/key.pem";
    RunCommand(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout '" +
        key + "' -out '" + cert_ + "' 2>/dev/null");
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/python3", std::string(SCHAKEL_SOURCE_DIR) + "/tests/http/https_files.py",
                                 "--port", std::to_string(port_), "--root", dir_ + "/root", "--cert", cert_, "--key",
                                 key},
        std::vector<std::string>{}, dir_ + "/server.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && log().find("ready") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ready_ = log().find("ready") != std::string::npos;
  }
  ~LocalHttps() {
    if (child_) {
      child_->Signal(SIGTERM);
      (void)child_->Wait(std::chrono::seconds(5));
    }
  }

  bool ready() const { return ready_; }
  int port() const { return port_; }
  // https://127.0.0.1:PORT/NAME
  std::string Url(const std::string& name) const { return "https://127.0.0.1:" + std::to_string(port_) + "/" + name; }
  // Puts `text` at /NAME (written beside, then renamed: never half a file).
  void Serve(const std::string& name, const std::string& text) const {
    WriteAll(dir_ + "/root/" + name + ".tmp", text);
    std::filesystem::rename(dir_ + "/root/" + name + ".tmp", dir_ + "/root/" + name);
  }
  const std::string& ca_file() const { return cert_; }  // the server's self-signed certificate
  std::string log() const { return ReadAll(dir_ + "/server.log"); }

 private:
  std::string dir_;
  std::string cert_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

}  // namespace schakel::testing
