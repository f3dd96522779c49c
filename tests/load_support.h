// Helpers for the load and abuse tests (tests/daemon/fault_load_test.cpp):
// raw TCP clients that connect and stall, drip bytes, or send oversize
// requests to any of the daemon's listeners (peer, API, and the HTTPS
// listeners as they come), plain HTTP/1.1 exchanges with a deadline, and a
// process's resident memory. Every wait is bounded; sockets are closed by
// their owners. Tests only: blocking sockets, no TLS.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace schakel::testing {

// One listener under test: its name (for messages) and loopback port.
struct Listener {
  std::string name;  // "peer", "api", "links", ...
  int port = 0;
  bool tls = false;  // speaks TLS first (peer, links, console)
};

// A TCP connection to 127.0.0.1:port, from `source` (another loopback
// address such as "127.0.0.2" stands for another host); -1 if it cannot be
// made within `limit`. The socket is blocking afterwards.
inline int ConnectTcp(int port, const std::string& source = "",
                      std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (!source.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  return fd;
}

// Sends all of `data` (bounded by `limit`); false if the peer closed or time ran out.
inline bool SendAll(int fd, std::string_view data, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  size_t sent = 0;
  while (sent < data.size()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes, `max` bytes, or `limit`; returns what came.
inline std::string ReadUntilClose(int fd, std::chrono::milliseconds limit, size_t max = 1 << 20,
                                  bool* closed = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string out;
  char buf[16384];
  if (closed) *closed = false;
  while (out.size() < max) {
    // Polls at least once, also when the time is up: what has come counts.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) != 1) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// True when the server has closed `fd` (EOF or reset) within `limit`.
inline bool ClosedByServer(int fd, std::chrono::milliseconds limit) {
  bool closed = false;
  ReadUntilClose(fd, limit, 1 << 20, &closed);
  return closed;
}

// A plain HTTP/1.1 request with `Connection: close`.
inline std::string HttpRequest(const std::string& method, const std::string& target, const std::string& token,
                               const std::string& body = "", const std::string& extra_headers = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  r += extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

// Sends `request` to 127.0.0.1:port and returns the whole response ("" on failure).
inline std::string HttpExchange(int port, const std::string& request,
                                std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  int fd = ConnectTcp(port, "", limit);
  if (fd < 0) return "";
  std::string out;
  if (SendAll(fd, request, limit)) out = ReadUntilClose(fd, limit);
  ::close(fd);
  return out;
}

// The status code of an HTTP response, 0 if none.
inline int HttpStatus(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// Resident memory of a process in KiB (VmRSS), -1 if unknown.
inline long VmRssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Open file descriptors of a process, -1 if unknown.
inline long OpenFds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

// Connections held open, closed at destruction.
class HeldConnections {
 public:
  HeldConnections() = default;
  ~HeldConnections() { CloseAll(); }
  HeldConnections(const HeldConnections&) = delete;
  HeldConnections& operator=(const HeldConnections&) = delete;

  // Opens up to `n` connections to `port` from `source`, sending `first`
  // (may be empty: half-open) on each; returns how many connected.
  int Open(int port, int n, const std::string& first = "", const std::string& source = "") {
    int made = 0;
    for (int i = 0; i < n; ++i) {
      int fd = ConnectTcp(port, source);
      if (fd < 0) continue;
      if (!first.empty()) (void)SendAll(fd, first, std::chrono::milliseconds(1000));
      fds_.push_back(fd);
      ++made;
    }
    return made;
  }
  // How many of the held connections the server has closed by now (waits
  // up to `limit` in total).
  int CountClosed(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int closed = 0;
    for (int fd : fds_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (ClosedByServer(fd, std::max(left, std::chrono::milliseconds(1)))) ++closed;
    }
    return closed;
  }
  void CloseAll() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }
  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

// Sends `data` one byte every `interval` on its own connection, from a
// thread, until the server closes, the data ends, or Stop(). Records when
// the server closed the connection.
class SlowDrip {
 public:
  SlowDrip(int port, std::string data, std::chrono::milliseconds interval, const std::string& source = "")
      : data_(std::move(data)), interval_(interval) {
    fd_ = ConnectTcp(port, source);
    start_ = std::chrono::steady_clock::now();
    if (fd_ >= 0) thread_ = std::thread([this] { Run(); });
  }
  ~SlowDrip() { Stop(); }
  SlowDrip(const SlowDrip&) = delete;
  SlowDrip& operator=(const SlowDrip&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool closed_by_server() const { return closed_.load(); }
  size_t bytes_sent() const { return sent_.load(); }
  // Seconds from connecting until the server closed (or -1).
  double closed_after_s() const { return static_cast<double>(closed_after_ms_.load()) / 1000.0; }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void Run() {
    for (size_t i = 0; i < data_.size() && !stop_; ++i) {
      if (::send(fd_, data_.data() + i, 1, MSG_NOSIGNAL) != 1) break;
      sent_++;
      // Wait out the interval, watching for the server closing.
      auto until = std::chrono::steady_clock::now() + interval_;
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) == 1) {
          char buf[4096];
          ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            Closed();
            return;
          }
        }
      }
    }
  }
  void Closed() {
    closed_ = true;
    closed_after_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
  }

  std::string data_;
  std::chrono::milliseconds interval_;
  int fd_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  std::atomic<size_t> sent_{0};
  std::atomic<long> closed_after_ms_{-1};
};

// Opens and at once closes `n` connections (bounded by `limit`); returns how
// many connected.
inline int ConnectStorm(int port, int n, std::chrono::milliseconds limit, const std::string& source = "") {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int made = 0;
  for (int i = 0; i < n && std::chrono::steady_clock::now() < deadline; ++i) {
    int fd = ConnectTcp(port, source, std::chrono::milliseconds(1000));
    if (fd >= 0) {
      ++made;
      ::close(fd);
    }
  }
  return made;
}

// The first bytes of a TLS ClientHello record that is never finished: a
// record header announcing 512 bytes, and 5 of them.
inline std::string PartialClientHello() { return std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10); }

}  // namespace schakel::testing
