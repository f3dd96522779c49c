// Slow key derivation at the lowest CPU priority (issue 19, "Nothing slow
// under a lock"; docs/performance.md "Argon2id gives way").
//
// Argon2id for a dossier link's code or a console password takes about
// 100 ms of one core and streams 64 MiB through the caches. On a 2-core node
// that is time taken from the delivery lanes and the API. RunAtLowPriority
// runs such work on a thread of its own at nice 19 and waits for it: when a
// delivery or an API request wants the core, the scheduler gives it the core
// (a nice-19 thread weighs 15 against 1024); on an idle node the work runs as
// fast as before. The caller's own priority is not changed.
#pragma once

#include <functional>

namespace schakel::crypto {

inline constexpr int kLowPriorityNice = 19;

// Runs `work` to its end on a new thread at nice kLowPriorityNice and returns
// when it has finished. When no thread can be started, or the priority
// cannot be lowered, the work still runs (at the caller's priority).
// REQUIRES: `work` does not throw.
void RunAtLowPriority(const std::function<void()>& work);

}  // namespace schakel::crypto
