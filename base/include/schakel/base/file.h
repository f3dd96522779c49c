// File helpers with limits and durable writes. Errors name the path (never
// the contents).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "schakel/base/status.h"

namespace schakel {

// Reads a whole regular file, refusing one larger than max_bytes.
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

// Writes data to path through a temporary file in the same folder, fsyncs it,
// renames it over path and fsyncs the folder, so a crash leaves the old or
// the new file, never half of one. The file gets `mode` (e.g. 0600) from
// creation on. With exclusive=true an existing path is an error.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       bool exclusive = false);

// mkdir with mode; an existing directory is fine.
Status MakeDirectory(const std::string& path, mode_t mode);

bool PathExists(const std::string& path);

}  // namespace schakel
