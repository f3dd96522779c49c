// Private to daemon/: regional directories fetched over HTTPS ([directory],
// docs/region.md "Fetched over HTTPS"). Right after start and then every
// fetch_seconds a thread of its own fetches the directory of each region
// trusted with a URL (`directory trust --url`), outside any lock; one whose
// serial is not above the one held costs no signature check. A newer one is
// verified and taken as `directory update` takes a file
// (service::TakeDirectory, actor the daemon, source "url URL"), then the
// delivery worker is woken so it passes the directory along to the
// region's partners. A failed fetch is logged (WARN once per region until it
// works again, then INFO) and tried at the next round.
//
// Thread-safety: Start and Stop from one thread; the worker thread takes
// the node's locks for its database work.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "schakel/service/node_core.h"

namespace schakel::daemon {

class DirectoryFetcher {
 public:
  explicit DirectoryFetcher(service::NodeCore& core);
  ~DirectoryFetcher();
  DirectoryFetcher(const DirectoryFetcher&) = delete;
  DirectoryFetcher& operator=(const DirectoryFetcher&) = delete;

  void Start();  // the worker thread; nothing when fetch_seconds is 0
  void Stop();   // waits for it
  // One round now: the regions whose newer directory was taken.
  int RunOnce();

 private:
  // Fetches and takes one region's directory; true when a newer one was taken.
  Result<bool> FetchOne(const std::string& region, const std::string& url, int64_t held_serial);

  service::NodeCore& core_;
  std::string ca_file_;
  std::map<std::string, std::string> failing_;  // region -> the last failure logged (worker thread only)
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace schakel::daemon
