#include "directory_fetcher.h"

#include <vector>

#include "schakel/base/log.h"
#include "schakel/config/https_url.h"
#include "schakel/crypto/directory.h"
#include "schakel/http/fetch.h"
#include "schakel/service/directories.h"
#include "schakel/store/directories.h"

namespace schakel::daemon {

DirectoryFetcher::DirectoryFetcher(service::NodeCore& core) : core_(core), ca_file_(core.config.directory_ca_file) {
  if (!ca_file_.empty() && ca_file_.front() != '/') ca_file_ = core.dir + "/" + ca_file_;
}

DirectoryFetcher::~DirectoryFetcher() { Stop(); }

void DirectoryFetcher::Start() {
  if (core_.config.directory_fetch_seconds <= 0) return;
  worker_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      (void)RunOnce();
      lock.lock();
      if (wake_.wait_for(lock, std::chrono::seconds(core_.config.directory_fetch_seconds),
                         [this] { return stopping_; })) {
        break;
      }
    }
  });
}

void DirectoryFetcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

int DirectoryFetcher::RunOnce() {
  struct Wanted {
    std::string region, url;
    int64_t serial = 0;
  };
  std::vector<Wanted> wanted;
  {
    service::NodeCore::Reading reading(core_);
    auto regions = store::ListRegionDirectories(reading.db());
    if (!regions.ok()) {
      LogError("directory: cannot read the trusted regions: " + regions.status().message());
      return 0;
    }
    for (const auto& r : *regions) {
      if (!r.url.empty()) wanted.push_back({r.region, r.url, r.serial});
    }
  }
  int taken = 0;
  for (const Wanted& w : wanted) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    auto one = FetchOne(w.region, w.url, w.serial);
    if (!one.ok()) {
      std::string why = one.status().message();
      if (failing_[w.region] != why) {
        LogWarn("directory: region " + w.region + ": " + why + " (tried again every " +
                std::to_string(core_.config.directory_fetch_seconds) + " s)");
      }
      failing_[w.region] = why;
      continue;
    }
    if (failing_.erase(w.region) > 0) LogInfo("directory: region " + w.region + " is fetched again from " + w.url);
    taken += *one ? 1 : 0;
  }
  if (taken > 0) core_.WakeDelivery();  // passes it along to the region's partners
  return taken;
}

Result<bool> DirectoryFetcher::FetchOne(const std::string& region, const std::string& url, int64_t held_serial) {
  SCHAKEL_ASSIGN_OR_RETURN(config::HttpsUrl parsed, config::ParseHttpsUrl(url));
  http::FetchOptions options;
  options.ca_file = ca_file_;
  options.max_bytes = crypto::kMaxDirectoryBytes;
  options.timeout = std::chrono::seconds(15);  // Stop() waits for a fetch under way
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, http::FetchHttps(parsed, options));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::DirectoryClaim claim, crypto::PeekDirectory(text));
  if (claim.region != region) {
    return Status::Denied(url + " serves the directory of region " + claim.region + ", not " + region);
  }
  if (claim.serial <= held_serial) return false;  // nothing new (a rollback is not taken either)
  auto dir = crypto::ParseDirectory(text);
  if (!dir.ok()) return dir.status().WithContext(url);
  service::TakenDirectory taken;
  {
    service::NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    service::DirectoryContext ctx{
        held.db(), core_.config,
        [&held](const std::string& action, const std::string& object, const std::string& reason) {
          return service::AuditOrFail(
              held, service::SystemEvent({action, "", object, "", "", "ok", reason}, "directory-fetch"));
        },
        core_.clock->Now(), false};
    SCHAKEL_ASSIGN_OR_RETURN(taken, service::TakeDirectory(ctx, *dir, text, "url " + url));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  if (taken.outcome == service::TakenDirectory::kRefused) return taken.refusal;
  if (taken.outcome == service::TakenDirectory::kHeld) return false;
  LogInfo("directory: took " + region + " serial " + std::to_string(dir->serial) + " from " + url + " (" +
          std::to_string(taken.changes.added.size()) + " added, " + std::to_string(taken.changes.updated.size()) +
          " updated, " + std::to_string(taken.changes.removed.size()) + " removed, " +
          std::to_string(taken.changes.conflicts.size()) + " conflicts)");
  return true;
}

}  // namespace schakel::daemon
