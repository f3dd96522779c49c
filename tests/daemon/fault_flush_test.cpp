// Fault test (docs/fault-tests.md): a flush of the write-ahead log that the
// disk does not confirm (service/node_core.h "Durability") stops the process
// at the holder's release, before its caller can answer or send anything
// that depends on the commit.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "node_core_support.h"
#include "schakel/service/node_core.h"
#include "test_support.h"

namespace schakel::service {
namespace {

using schakel::testing::TempDir;

// The child process runs this test alone (threadsafe style), so the fault is
// armed from its start (FaultFail reads the variable once per process).
TEST(FaultFlush, AFailedFlushStopsTheProcessBeforeTheHolderGoesOn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ::setenv("SCHAKEL_FAULT_FAIL", "store.flush", 1);
  TempDir dir;
  NodeCore core;
  ASSERT_NO_FATAL_FAILURE(
      schakel::testing::OpenCoreOnFreshDatabase(core, dir / "node.db", "CREATE TABLE t (id INTEGER PRIMARY KEY);"));
  EXPECT_DEATH(
      {
        {
          NodeCore::Held held(core);
          (void)held.db().Exec("INSERT INTO t (id) VALUES (1);");
        }
        std::fprintf(stderr, "went on after a failed flush\n");
        std::exit(0);
      },
      "injected failure \\(store\\.flush\\); stopping before anything that depends on it is answered or sent");
  ::unsetenv("SCHAKEL_FAULT_FAIL");
}

}  // namespace
}  // namespace schakel::service
