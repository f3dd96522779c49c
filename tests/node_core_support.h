// A NodeCore on a fresh database, for the tests of its lock, its group
// commit and its flushes (tests/daemon/group_commit_test.cpp,
// durable_after_lock_test.cpp, fault_flush_test.cpp).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "schakel/crypto/secure_buffer.h"
#include "schakel/service/node_core.h"
#include "schakel/store/database.h"

namespace schakel::testing {

// Opens `core` on a new database at `path` whose writer first runs `schema`,
// with one reader and no audit log. Call it in ASSERT_NO_FATAL_FAILURE.
inline void OpenCoreOnFreshDatabase(service::NodeCore& core, const std::string& path, const std::string& schema) {
  auto key = crypto::SecureBuffer::Random(32);
  auto writer = store::Database::Open(path, key, store::OpenMode::kCreate);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  Status made = (*writer)->Exec(schema);
  ASSERT_TRUE(made.ok()) << made.message();
  auto reader = store::Database::Open(path, key, store::OpenMode::kReader);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  std::vector<std::unique_ptr<store::Database>> readers;
  readers.push_back(std::move(reader).value());
  core.Open(std::move(writer).value(), std::move(readers), nullptr);
}

}  // namespace schakel::testing
