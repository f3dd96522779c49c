// Lock requirements written down where the compiler can check them: Clang's
// thread-safety analysis (-Wthread-safety, run by `./dev lint`) reads these;
// under GCC they expand to nothing.
//
//   Mutex mu;                                  a lock the analysis knows
//   int n SCHAKEL_GUARDED_BY(mu);              read or written only under mu
//   void F() SCHAKEL_REQUIRES(mu);             callers hold mu
//   void G() SCHAKEL_EXCLUDES(mu);             callers do not hold mu
//   MutexLock lock(&mu);                       holds mu until the scope ends
#pragma once

#include <mutex>

#if defined(__clang__)
#define SCHAKEL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SCHAKEL_THREAD_ANNOTATION(x)
#endif

#define SCHAKEL_CAPABILITY(x) SCHAKEL_THREAD_ANNOTATION(capability(x))
#define SCHAKEL_SCOPED_CAPABILITY SCHAKEL_THREAD_ANNOTATION(scoped_lockable)
#define SCHAKEL_GUARDED_BY(x) SCHAKEL_THREAD_ANNOTATION(guarded_by(x))
#define SCHAKEL_PT_GUARDED_BY(x) SCHAKEL_THREAD_ANNOTATION(pt_guarded_by(x))
#define SCHAKEL_REQUIRES(...) SCHAKEL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define SCHAKEL_ACQUIRE(...) SCHAKEL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define SCHAKEL_RELEASE(...) SCHAKEL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define SCHAKEL_EXCLUDES(...) SCHAKEL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define SCHAKEL_RETURN_CAPABILITY(x) SCHAKEL_THREAD_ANNOTATION(lock_returned(x))
// For an accessor whose caller's proof of the lock is a type the analysis
// cannot follow (NodeCore::Held): say at the use why it is safe.
#define SCHAKEL_NO_THREAD_SAFETY_ANALYSIS SCHAKEL_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace schakel {

// std::mutex with the annotations the analysis needs.
class SCHAKEL_CAPABILITY("mutex") Mutex {
 public:
  void Lock() SCHAKEL_ACQUIRE() { mu_.lock(); }
  void Unlock() SCHAKEL_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for the rest of the scope.
class SCHAKEL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) SCHAKEL_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() SCHAKEL_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

}  // namespace schakel
