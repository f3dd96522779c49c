#include "schakel/crypto/kdf_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "schakel/crypto/low_priority.h"

namespace schakel::crypto {
namespace {

constexpr char kRequestMagic[4] = {'S', 'K', 'D', 'F'};
// Argon2id over 64 MiB takes a tenth of a second; a helper that has not
// answered in this long is stuck (or starved) and is killed.
constexpr auto kHelperTimeout = std::chrono::seconds(30);

void PutLe(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetLe(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

std::mutex helper_mu;
std::string helper_path;  // GUARDED_BY(helper_mu)
std::atomic<uint64_t> helper_failures{0};

// Writes all of `bytes` to a socket; false on any error (MSG_NOSIGNAL: a
// helper that went away is an error here, not a SIGPIPE for the daemon).
bool SendAll(int fd, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `out.size()` bytes before `deadline`; false on EOF, error
// or time.
bool ReadExactly(int fd, std::span<uint8_t> out, std::chrono::steady_clock::time_point deadline) {
  size_t done = 0;
  while (done < out.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Whether the answer's length fits what was asked.
bool AnswerFits(const KdfRequest& request, KdfStatus status, size_t len) {
  if (status != KdfStatus::kDone) return len == 0;
  switch (request.op) {
    case KdfOp::kDerive:
      return len == request.out_len;
    case KdfOp::kHash:
      return len >= 1 && len <= kKdfMaxStored;
    case KdfOp::kVerify:
      return len == 0;
  }
  return false;
}

// Waits for the helper to end: it does as soon as it has answered; one that
// lingers is given a second and then killed.
void Reap(pid_t pid) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    if (std::chrono::steady_clock::now() >= limit) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

// The request run by the helper at `path`; nullopt when no answer was had.
std::optional<KdfOutcome> RunInHelper(const std::string& path, const KdfRequest& request) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  // The helper's end is its stdin and stdout; nothing else of the daemon's
  // (database, sockets, keys) is open in it. stderr stays: it writes nothing
  // there but a crash report.
  ::posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
  ::posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char name[] = "schakel-kdf";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (spawned != 0) {
    ::close(sv[0]);
    return std::nullopt;
  }
  std::optional<KdfOutcome> outcome;
  const auto deadline = std::chrono::steady_clock::now() + kHelperTimeout;
  {
    SecureBuffer bytes = EncodeKdfRequest(request);
    bool sent = SendAll(sv[0], bytes.span()) && ::shutdown(sv[0], SHUT_WR) == 0;
    uint8_t head[3] = {};
    if (sent && ReadExactly(sv[0], head, deadline)) {
      auto status = static_cast<KdfStatus>(head[0]);
      size_t len = static_cast<size_t>(GetLe(head + 1, 2));
      if (head[0] <= 2 && status != KdfStatus::kRefused && AnswerFits(request, status, len)) {
        KdfOutcome got;
        got.status = status;
        got.bytes = SecureBuffer(len);
        if (ReadExactly(sv[0], got.bytes.span(), deadline)) outcome = std::move(got);
      }
    }
  }
  ::close(sv[0]);
  if (!outcome) ::kill(pid, SIGKILL);  // stuck, or said nonsense: it is done
  Reap(pid);
  return outcome;
}

bool IsExecutableFile(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

SecureBuffer EncodeKdfRequest(const KdfRequest& request) {
  const size_t stored = request.op == KdfOp::kVerify ? request.stored.size() : 0;
  SecureBuffer out(kKdfHeaderBytes + request.salt.size() + request.password.size() + stored);
  uint8_t* p = out.data();
  std::memcpy(p, kRequestMagic, 4);
  p[4] = kKdfRequestVersion;
  p[5] = static_cast<uint8_t>(request.op);
  PutLe(p + 6, request.ops_limit, 8);
  PutLe(p + 14, request.mem_limit, 8);
  PutLe(p + 22, request.out_len, 2);
  PutLe(p + 24, request.salt.size(), 2);
  PutLe(p + 26, request.password.size(), 2);
  PutLe(p + 28, stored, 2);
  p += kKdfHeaderBytes;
  if (!request.salt.empty()) std::memcpy(p, request.salt.data(), request.salt.size());
  p += request.salt.size();
  if (!request.password.empty()) std::memcpy(p, request.password.data(), request.password.size());
  p += request.password.size();
  if (stored > 0) std::memcpy(p, request.stored.data(), stored);
  return out;
}

Result<KdfRequest> ParseKdfRequest(std::span<const uint8_t> bytes) {
  if (bytes.size() < kKdfHeaderBytes) return Status::InvalidInput("kdf request: shorter than its header");
  if (bytes.size() > kKdfMaxRequest) return Status::InvalidInput("kdf request: longer than any request");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kRequestMagic, 4) != 0) return Status::InvalidInput("kdf request: not a request (bad magic)");
  if (p[4] != kKdfRequestVersion) {
    return Status::InvalidInput("kdf request: version " + std::to_string(p[4]) + " is not supported (1 is)");
  }
  if (p[5] < 1 || p[5] > 3) return Status::InvalidInput("kdf request: unknown op " + std::to_string(p[5]));
  KdfRequest r;
  r.op = static_cast<KdfOp>(p[5]);
  r.ops_limit = GetLe(p + 6, 8);
  r.mem_limit = GetLe(p + 14, 8);
  r.out_len = static_cast<uint16_t>(GetLe(p + 22, 2));
  const size_t salt_len = static_cast<size_t>(GetLe(p + 24, 2));
  const size_t password_len = static_cast<size_t>(GetLe(p + 26, 2));
  const size_t stored_len = static_cast<size_t>(GetLe(p + 28, 2));
  if (r.ops_limit < crypto_pwhash_OPSLIMIT_MIN || r.ops_limit > crypto_pwhash_OPSLIMIT_MAX) {
    return Status::InvalidInput("kdf request: ops_limit out of range");
  }
  if (r.mem_limit < crypto_pwhash_MEMLIMIT_MIN || r.mem_limit > kKdfMaxMemLimit) {
    return Status::InvalidInput("kdf request: mem_limit out of range (8 KiB to 1 GiB)");
  }
  if (password_len > kKdfMaxPassword) return Status::InvalidInput("kdf request: password longer than 1024 bytes");
  switch (r.op) {
    case KdfOp::kDerive:
      if (r.out_len < crypto_pwhash_BYTES_MIN || r.out_len > kKdfMaxOut) {
        return Status::InvalidInput("kdf request: a key of 16 to 64 bytes is derived");
      }
      if (salt_len != kKdfSaltBytes || stored_len != 0) {
        return Status::InvalidInput("kdf request: a derivation takes a 16-byte salt and no stored hash");
      }
      break;
    case KdfOp::kHash:
      if (r.out_len != 0 || salt_len != 0 || stored_len != 0) {
        return Status::InvalidInput("kdf request: a hash takes only a password");
      }
      break;
    case KdfOp::kVerify:
      if (r.out_len != 0 || salt_len != 0 || stored_len == 0 || stored_len > kKdfMaxStored) {
        return Status::InvalidInput("kdf request: a verification takes a password and a stored hash of 1 to 127 bytes");
      }
      break;
  }
  if (bytes.size() != kKdfHeaderBytes + salt_len + password_len + stored_len) {
    return Status::InvalidInput("kdf request: its length does not match the lengths it gives");
  }
  const uint8_t* q = p + kKdfHeaderBytes;
  r.salt.assign(q, q + salt_len);
  q += salt_len;
  r.password = SecureBuffer::FromBytes({q, password_len});
  q += password_len;
  r.stored.assign(reinterpret_cast<const char*>(q), stored_len);
  if (r.stored.find('\0') != std::string::npos) return Status::InvalidInput("kdf request: the stored hash holds a NUL");
  return r;
}

KdfOutcome RunKdf(const KdfRequest& request) {
  EnsureInitialised();
  KdfOutcome out;
  const char* pw = request.password.empty() ? "" : reinterpret_cast<const char*>(request.password.data());
  const unsigned long long pw_len = request.password.size();
  switch (request.op) {
    case KdfOp::kDerive: {
      SecureBuffer key(request.out_len);
      int rc = crypto_pwhash(key.data(), key.size(), pw, pw_len, request.salt.data(), request.ops_limit,
                             static_cast<size_t>(request.mem_limit), crypto_pwhash_ALG_ARGON2ID13);
      if (rc == 0) {
        out.status = KdfStatus::kDone;
        out.bytes = std::move(key);
      }
      break;
    }
    case KdfOp::kHash: {
      char hashed[crypto_pwhash_STRBYTES] = {};
      int rc = crypto_pwhash_str_alg(hashed, pw, pw_len, request.ops_limit, static_cast<size_t>(request.mem_limit),
                                     crypto_pwhash_ALG_ARGON2ID13);
      if (rc == 0) {
        out.status = KdfStatus::kDone;
        out.bytes = SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(hashed), std::strlen(hashed)});
      }
      Wipe(hashed, sizeof hashed);
      break;
    }
    case KdfOp::kVerify: {
      char stored[crypto_pwhash_STRBYTES] = {};
      request.stored.copy(stored, std::min(request.stored.size(), sizeof stored - 1));
      if (crypto_pwhash_str_verify(stored, pw, pw_len) == 0) out.status = KdfStatus::kDone;
      break;
    }
  }
  return out;
}

int KdfHelperMain(int in, int out) {
  // No core dump and no ptrace of a process that holds a password.
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &no_core);
  (void)::setpriority(PRIO_PROCESS, 0, kLowPriorityNice);
  EnsureInitialised();
  SecureBuffer request(kKdfMaxRequest + 1);
  size_t got = 0;
  while (got < request.size()) {
    ssize_t n = ::read(in, request.data() + got, request.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  KdfOutcome outcome;
  auto parsed = ParseKdfRequest({request.data(), got});
  if (parsed.ok()) {
    outcome = RunKdf(*parsed);
  } else {
    outcome.status = KdfStatus::kRefused;
  }
  SecureBuffer answer(3 + outcome.bytes.size());
  answer.data()[0] = static_cast<uint8_t>(outcome.status);
  PutLe(answer.data() + 1, outcome.bytes.size(), 2);
  if (!outcome.bytes.empty()) std::memcpy(answer.data() + 3, outcome.bytes.data(), outcome.bytes.size());
  size_t done = 0;
  while (done < answer.size()) {
    ssize_t n = ::write(out, answer.data() + done, answer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 1;
    done += static_cast<size_t>(n);
  }
  return parsed.ok() ? 0 : 2;
}

void SetKdfHelper(std::string path) {
  std::lock_guard<std::mutex> lock(helper_mu);
  helper_path = std::move(path);
}

std::string KdfHelper() {
  std::lock_guard<std::mutex> lock(helper_mu);
  return helper_path;
}

std::string FindKdfHelper() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::filesystem::path dir = self.parent_path();
  for (const auto& candidate : {dir / "schakel-kdf", dir.parent_path() / "libexec" / "schakel" / "schakel-kdf"}) {
    if (IsExecutableFile(candidate)) return candidate.lexically_normal().string();
  }
  return "";
}

uint64_t KdfHelperFailures() { return helper_failures.load(std::memory_order_relaxed); }

KdfOutcome RunKdfApart(const KdfRequest& request) {
  const std::string helper = KdfHelper();
  if (!helper.empty()) {
    if (auto outcome = RunInHelper(helper, request)) return std::move(*outcome);
    helper_failures.fetch_add(1, std::memory_order_relaxed);
  }
  KdfOutcome outcome;
  RunAtLowPriority([&] { outcome = RunKdf(request); });
  return outcome;
}

}  // namespace schakel::crypto
