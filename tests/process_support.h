// Running the real binaries (build/schakeld, build/schakel) as child
// processes in tests, with bounded waits.
#pragma once

#include <cstdio>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace schakel::testing {

inline std::string BinaryPath(const std::string& name) { return std::string(SCHAKEL_BINARY_DIR) + "/" + name; }

// A child process; killed with SIGKILL if still running at destruction.
class Child {
 public:
  // Starts argv[0] with argv; extra_env entries "K=V" are added to the
  // environment. stdout/stderr go to log_path if given, else are inherited.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {},
        const std::string& log_path = "") {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& kv : extra_env) ::putenv(const_cast<char*>(kv.c_str()));
      if (!log_path.empty()) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
          ::close(fd);
        }
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) { ::kill(pid_, sig); }

  // Waits up to `limit` for the child to exit; returns its exit code, 128+signal
  // when killed by a signal, or -1 on time-out.
  int Wait(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        if (WIFEXITED(st)) return WEXITSTATUS(st);
        if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Runs a shell command (`cmd`, quoted by the caller) and returns its
// standard output without trailing newlines; "" when it cannot be started.
inline std::string RunCommand(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace schakel::testing
