#include "schakel/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace schakel {
namespace {

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC) return Status::ResourceExhausted(ErrnoMessage("disk full writing", path));
      return Status::IoError(ErrnoMessage("cannot write", path));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(ErrnoMessage("cannot open", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::IoError(ErrnoMessage("cannot stat", path));
  if (!S_ISREG(st.st_mode)) return Status::InvalidInput(path + ": not a regular file");
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    return Status::InvalidInput(path + ": file is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.resize(max_bytes < 65536 ? max_bytes + 1 : static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (true) {
    if (got == out.size()) {
      if (out.size() > max_bytes) break;
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(ErrnoMessage("cannot read", path));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) {
    return Status::InvalidInput(path + ": file is larger than " + std::to_string(max_bytes) + " bytes");
  }
  out.resize(got);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode, bool exclusive) {
  if (exclusive && PathExists(path)) return Status::AlreadyExists(path + " exists already");
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) return Status::IoError(ErrnoMessage("cannot create", tmp));
  // The umask may have narrowed the mode; we want exactly `mode`.
  if (::fchmod(fd.get(), mode) != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError(ErrnoMessage("cannot chmod", tmp));
  }
  Status st = WriteAll(fd.get(), data, tmp);
  if (st.ok() && ::fsync(fd.get()) != 0) st = Status::IoError(ErrnoMessage("cannot fsync", tmp));
  if (::close(fd.Release()) != 0 && st.ok()) st = Status::IoError(ErrnoMessage("cannot close", tmp));
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (exclusive) {
    // link() fails if path appeared meanwhile; rename() would overwrite.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      if (errno == EEXIST) return Status::AlreadyExists(path + " exists already");
      return Status::IoError(ErrnoMessage("cannot create", path));
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError(ErrnoMessage("cannot rename onto", path));
  }
  SyncDirectory(DirName(path));
  return Status::Ok();
}

Status MakeDirectory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::InvalidInput(path + " exists and is not a directory");
  }
  return Status::IoError(ErrnoMessage("cannot create directory", path));
}

std::string ErrnoMessage(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void SyncDirectory(const std::string& path) {
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace schakel
