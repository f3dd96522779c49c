#include "cert_reload.h"

#include <filesystem>
#include <system_error>

#include "schakel/base/log.h"

namespace schakel::daemon {
namespace {

std::string Resolve(const std::string& dir, const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : dir + "/" + path;
}

// Size and modification time of each file (through symlinks, as certbot's
// live/ links to archive/); "-" for a file that cannot be read now.
std::string Stamp(const std::string& dir, const config::WebCertFiles& files) {
  std::string out;
  for (const std::string& f : {files.cert_file, files.key_file}) {
    std::error_code ec;
    const std::filesystem::path p = Resolve(dir, f);
    const auto size = std::filesystem::file_size(p, ec);
    const auto time = ec ? std::filesystem::file_time_type{} : std::filesystem::last_write_time(p, ec);
    out += ec ? "-;" : std::to_string(size) + ":" + std::to_string(time.time_since_epoch().count()) + ";";
  }
  return out;
}

}  // namespace

void CertReloader::Watch(std::string name, std::string node_dir, config::WebCertFiles files, http::WebServer* server) {
  Watched w{std::move(name), std::move(node_dir), std::move(files), server, ""};
  w.stamp = Stamp(w.node_dir, w.files);
  watched_.push_back(std::move(w));
}

int CertReloader::Check(bool force) {
  int reloaded = 0;
  for (auto& w : watched_) {
    const std::string now = Stamp(w.node_dir, w.files);
    if (!force && now == w.stamp) continue;
    auto id = http::LoadWebIdentityFiles(w.node_dir, w.files);
    Status st = id.ok() ? w.server->ReloadIdentity(*id) : id.status();
    if (!st.ok()) {
      LogError(w.name + ": the certificate was not reloaded, the listener keeps the one it has: " + st.message());
      // A half-written renewal: try again when the files change once more.
      w.stamp = now;
      continue;
    }
    w.stamp = now;
    ++reloaded;
    LogInfo(w.name + ": now serving the certificate in " + Resolve(w.node_dir, w.files.cert_file));
  }
  return reloaded;
}

}  // namespace schakel::daemon
