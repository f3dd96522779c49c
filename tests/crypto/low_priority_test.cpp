// RunAtLowPriority: the work runs to its end, on another thread, at nice 19,
// and the caller's priority stays as it was.
#include "schakel/crypto/low_priority.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "schakel/crypto/link_secret.h"

namespace schakel::crypto {
namespace {

int NiceOfThisThread() {
  errno = 0;
  return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

TEST(LowPriority, TheWorkRunsOnAThreadOfItsOwnAtTheLowestPriority) {
  const int before = NiceOfThisThread();
  const pid_t caller = gettid();
  pid_t worker = caller;
  int nice_inside = -100;
  RunAtLowPriority([&] {
    worker = gettid();
    nice_inside = NiceOfThisThread();
  });
  EXPECT_NE(worker, caller);
  EXPECT_EQ(nice_inside, kLowPriorityNice);
  EXPECT_EQ(NiceOfThisThread(), before);
}

TEST(LowPriority, ALinkSealedAtLowPriorityOpensWithItsCode) {
  LinkKdfParams fast;  // the smallest Argon2id libsodium allows: the test is about the result
  fast.ops_limit = 1;
  fast.mem_limit = 8192;
  std::string token = NewLinkToken();
  std::string code = *NormaliseAccessCode(NewAccessCode());
  auto sealed = SealLinkContent(token, code, "lnk-1", "samenvatting", fast);
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  auto opened = OpenLinkContent(token, code, "lnk-1", *sealed, fast);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()), "samenvatting");
  std::string wrong = code;
  wrong[0] = wrong[0] == '2' ? '3' : '2';
  EXPECT_FALSE(OpenLinkContent(token, wrong, "lnk-1", *sealed, fast).ok());
}

}  // namespace
}  // namespace schakel::crypto
