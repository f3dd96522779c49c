// Private to daemon/: e-mail notices ([notify], docs/console.md "What is
// new"). Every check_seconds a thread of its own asks the Service who is due
// a notice (more received shares or Meldcode reports wait than their last
// notice counted) and sends each one a mail through the organisation's SMTP
// server that says only that something waits in Schakel, with the console's
// address: never a name, a student, a category or a count. SMTP runs outside
// any lock; a notice is recorded (and audited notice.sent) only once the
// server took it, so a failed one is tried again at the next check. The
// SMTP password is read once into guarded memory.
//
// Thread-safety: Start, RunOnce and Stop from one thread; the worker thread
// calls only the Service (thread-safe) and SendMail.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/mail/smtp.h"
#include "schakel/service/service.h"

namespace schakel::daemon {

// The mail a notice is: no personal data.
mail::Mail NoticeMail(const config::NotifyConfig& cfg, const std::string& to);

class Notifier {
 public:
  // Reads the password file (relative to `node_dir` or absolute) when AUTH
  // is configured; kInvalidInput naming the file when it cannot be read.
  static Result<std::unique_ptr<Notifier>> Create(service::Service& service, const config::NotifyConfig& cfg,
                                                  const std::string& node_dir);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Start();  // the worker thread
  void Stop();   // waits for it
  // One check now: the notices sent (tests, and the worker).
  int RunOnce();

 private:
  Notifier(service::Service& service, config::NotifyConfig cfg) : service_(service), cfg_(std::move(cfg)) {}

  service::Service& service_;
  config::NotifyConfig cfg_;
  crypto::SecureBuffer password_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace schakel::daemon
