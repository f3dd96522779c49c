// File helpers with limits and durable writes. Errors name the path (never
// the contents).
#pragma once

#include <sys/types.h>
#include <cstddef>
#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel {

// Reads a whole regular file, refusing one larger than max_bytes.
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

// Writes data to path through a temporary file in the same folder, fsyncs it,
// renames it over path and fsyncs the folder, so a crash leaves the old or
// the new file, never half of one. The file gets `mode` (e.g. 0600) from
// creation on. With exclusive=true an existing path is an error.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, bool exclusive = false);

// mkdir with mode; an existing directory is fine.
Status MakeDirectory(const std::string& path, mode_t mode);

bool PathExists(const std::string& path);

// "what path: <strerror(errno)>", for error messages after a failed call.
std::string ErrnoMessage(const std::string& what, const std::string& path);

// The folder part of a path ("." when there is none).
std::string DirName(const std::string& path);

// fsyncs a folder, so a rename or create in it is durable.
void SyncDirectory(const std::string& path);

// Owns a file descriptor and closes it on every path.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  // Gives up ownership without closing.
  int Release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

}  // namespace schakel
