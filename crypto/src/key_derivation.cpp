#include "schakel/crypto/key_derivation.h"

#include "schakel/base/file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace schakel::crypto {
namespace {

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<SecureBuffer> DeriveKeyFromPassphrase(std::string_view passphrase,
                                             const std::array<uint8_t, kPassphraseSaltBytes>& salt,
                                             const PassphraseParams& params) {
  EnsureInitialised();
  static_assert(kPassphraseSaltBytes == crypto_pwhash_SALTBYTES);
  if (passphrase.empty()) return Status::InvalidInput("passphrase is empty");
  if (passphrase.size() > crypto_pwhash_PASSWD_MAX) {
    return Status::InvalidInput("passphrase is too long");
  }
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      params.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return Status::InvalidInput("Argon2id parameters out of libsodium's range");
  }
  SecureBuffer key(kDbKeyBytes);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(), params.ops_limit,
                    params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // libsodium fails here only when it cannot allocate mem_limit bytes.
    return Status::ResourceExhausted("Argon2id: cannot allocate " + std::to_string(params.mem_limit / (1024 * 1024)) +
                                     " MiB for the passphrase key derivation");
  }
  return key;
}

Result<SecureBuffer> ReadKeyFile(const std::string& path) {
  EnsureInitialised();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound("key file " + path + ": no such file");
    if (errno == ELOOP) {
      return Status::InvalidInput("key file " + path + " is a symbolic link; use the file itself");
    }
    return Status::IoError(ErrnoMessage("cannot open key file", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::IoError(ErrnoMessage("cannot stat key file", path));
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidInput("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 07777 & ~static_cast<mode_t>(0600)) != 0) {
    return Status::InvalidInput("key file " + path + " has mode " + Octal(st.st_mode) +
                                ", wider than 0600; others could read the key. Fix "
                                "with: chmod 600 " +
                                path);
  }
  if (st.st_size != static_cast<off_t>(kDbKeyBytes)) {
    return Status::InvalidInput("key file " + path + " holds " + std::to_string(st.st_size) +
                                " bytes; a key file holds exactly " + std::to_string(kDbKeyBytes));
  }
  // Read straight into guarded memory, one byte more than expected to notice
  // a file that grew since fstat.
  SecureBuffer key(kDbKeyBytes + 1);
  size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::read(fd.get(), key.data() + got, key.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(ErrnoMessage("cannot read key file", path));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != kDbKeyBytes) {
    return Status::InvalidInput("key file " + path +
                                " changed size while being read; a "
                                "key file holds exactly " +
                                std::to_string(kDbKeyBytes) + " bytes");
  }
  return SecureBuffer::FromBytes(key.span().first(kDbKeyBytes));
}

Result<SecureBuffer> CreateKeyFile(const std::string& path) {
  EnsureInitialised();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return Status::AlreadyExists("key file " + path + " exists already");
    return Status::IoError(ErrnoMessage("cannot create key file", path));
  }
  auto fail = [&](Status st) {
    ::unlink(path.c_str());
    return st;
  };
  // The umask can only narrow 0600; set it exactly anyway.
  if (::fchmod(fd.get(), 0600) != 0) return fail(Status::IoError(ErrnoMessage("cannot chmod", path)));
  SecureBuffer key = SecureBuffer::Random(kDbKeyBytes);
  size_t done = 0;
  while (done < key.size()) {
    ssize_t n = ::write(fd.get(), key.data() + done, key.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC) {
        return fail(Status::ResourceExhausted(ErrnoMessage("disk full writing key file", path)));
      }
      return fail(Status::IoError(ErrnoMessage("cannot write key file", path)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(Status::IoError(ErrnoMessage("cannot fsync key file", path)));
  if (::close(fd.Release()) != 0) {
    return fail(Status::IoError(ErrnoMessage("cannot close key file", path)));
  }
  // Make the new directory entry durable too.
  SyncDirectory(DirName(path));
  return key;
}

std::array<uint8_t, kPassphraseSaltBytes> RandomSalt() {
  EnsureInitialised();
  std::array<uint8_t, kPassphraseSaltBytes> salt{};
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

}  // namespace schakel::crypto
