#include "notifier.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "schakel/base/log.h"

namespace schakel::daemon {
namespace {

constexpr size_t kMaxPassword = 1024;

// The password file's first line, read straight into guarded memory.
Result<crypto::SecureBuffer> ReadPassword(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::InvalidInput("notify.password_file: cannot read " + path);
  crypto::SecureBuffer buf(kMaxPassword + 1);
  size_t n = 0;
  while (n < buf.size()) {
    const ssize_t got = ::read(fd, buf.data() + n, buf.size() - n);
    if (got < 0) {
      ::close(fd);
      return Status::InvalidInput("notify.password_file: cannot read " + path);
    }
    if (got == 0) break;
    n += static_cast<size_t>(got);
  }
  ::close(fd);
  size_t len = 0;
  while (len < n && buf.data()[len] != '\n' && buf.data()[len] != '\r') ++len;
  if (len == 0 || len > kMaxPassword) {
    return Status::InvalidInput("notify.password_file: " + path + " must hold the password on its first line");
  }
  return crypto::SecureBuffer::FromBytes(std::span<const uint8_t>(buf.data(), len));
}

}  // namespace

mail::Mail NoticeMail(const config::NotifyConfig& cfg, const std::string& to) {
  mail::Mail m;
  m.from = cfg.from;
  m.to = to;
  m.subject = "Er wacht iets voor u in Schakel";
  m.body =
      "Goedendag,\n\n"
      "Er wacht iets voor u in Schakel. Meld u aan om te zien wat:\n\n" +
      cfg.console_url +
      "\n\n"
      "Deze e-mail noemt met opzet geen namen en geen gegevens. U krijgt hem omdat\n"
      "uw e-mailadres in Schakel staat; uw beheerder kan het weghalen.\n";
  return m;
}

Result<std::unique_ptr<Notifier>> Notifier::Create(service::Service& service, const config::NotifyConfig& cfg,
                                                   const std::string& node_dir) {
  std::unique_ptr<Notifier> n(new Notifier(service, cfg));
  if (!cfg.user.empty()) {
    const std::string path = cfg.password_file.front() == '/' ? cfg.password_file : node_dir + "/" + cfg.password_file;
    SCHAKEL_ASSIGN_OR_RETURN(n->password_, ReadPassword(path));
  }
  if (!n->cfg_.ca_file.empty() && n->cfg_.ca_file.front() != '/') n->cfg_.ca_file = node_dir + "/" + n->cfg_.ca_file;
  return n;
}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  worker_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (wake_.wait_for(lock, std::chrono::seconds(cfg_.check_seconds), [this] { return stopping_; })) break;
      lock.unlock();
      (void)RunOnce();
      lock.lock();
    }
  });
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

int Notifier::RunOnce() {
  auto due = service_.NoticesDue();
  if (!due.ok()) {
    LogError("notify: " + due.status().message());
    return 0;
  }
  mail::SmtpSettings smtp;
  smtp.host = cfg_.smtp_host;
  smtp.port = cfg_.smtp_port;
  smtp.user = cfg_.user;
  smtp.password = cfg_.user.empty() ? nullptr : &password_;
  smtp.ca_file = cfg_.ca_file;
  int sent = 0;
  for (const auto& notice : *due) {
    Status st = mail::SendMail(smtp, NoticeMail(cfg_, notice.email));
    if (!st.ok()) {
      // The user id, not the address: the log keeps no personal data.
      LogWarn("notify: the notice for " + notice.user_id + " was not sent (tried again later): " + st.message());
      continue;
    }
    st = service_.NoticeSent(notice);
    if (!st.ok()) LogError("notify: " + st.message());
    ++sent;
  }
  return sent;
}

}  // namespace schakel::daemon
