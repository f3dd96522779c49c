#include "schakel/crypto/low_priority.h"

#include <sys/resource.h>
#include <unistd.h>

#include <system_error>
#include <thread>

namespace schakel::crypto {

void RunAtLowPriority(const std::function<void()>& work) {
  try {
    std::thread worker([&work] {
      // On Linux a thread has its own nice value: PRIO_PROCESS with the
      // thread's id lowers this thread only. A failure leaves it at the
      // caller's priority, which is what it would have had anyway.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kLowPriorityNice);
      work();
    });
    worker.join();
  } catch (const std::system_error&) {
    work();  // no thread to be had: the work is still done
  }
}

}  // namespace schakel::crypto
