// Private to daemon/: renewed certificates for the [links] and [console]
// listeners (docs/operations.md, "Certificates"). A listener with configured
// cert_file/key_file is watched: when either file changes (size or time,
// looked at with each maintenance run) or on SIGHUP, the files are read and
// checked again and the listener serves them to new connections, without a
// restart; open connections keep theirs. Files that do not load (half
// written, a key that does not match) leave the listener as it was, and the
// log says why; the next change or SIGHUP tries again.
//
// Thread-safety: called from the daemon's io thread only.
#pragma once

#include <string>
#include <vector>

#include "schakel/config/node_config.h"
#include "schakel/http/web_server.h"

namespace schakel::daemon {

class CertReloader {
 public:
  // `server` must outlive this reloader.
  void Watch(std::string name, std::string node_dir, config::WebCertFiles files, http::WebServer* server);
  // Reloads the watched listeners whose files changed, or all of them when
  // `force` (SIGHUP). Returns how many now serve newly read files.
  int Check(bool force);

 private:
  struct Watched {
    std::string name;
    std::string node_dir;
    config::WebCertFiles files;
    http::WebServer* server = nullptr;
    std::string stamp;  // what the files looked like when last loaded
  };
  std::vector<Watched> watched_;
};

}  // namespace schakel::daemon
