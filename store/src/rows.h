// Private to store/: stepping a prepared SELECT through a row reader, the one
// loop every table's Find and List functions share, so that a reader's error
// (a corrupt stored value) ends the query the same way everywhere.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/store/database.h"

namespace schakel::store {

// Every row of `s`, each read by `read` (Statement& -> Result<T>); the first
// error from stepping or reading is returned instead.
template <typename T, typename ReadFn>
Result<std::vector<T>> AllRows(Statement& s, ReadFn read) {
  std::vector<T> out;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    SCHAKEL_ASSIGN_OR_RETURN(T item, read(s));
    out.push_back(std::move(item));
  }
  return out;
}

// The first row of `s` read by `read`, or nullopt when there is none.
template <typename T, typename ReadFn>
Result<std::optional<T>> OneRow(Statement& s, ReadFn read) {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<T>();
  SCHAKEL_ASSIGN_OR_RETURN(T item, read(s));
  return std::optional<T>(std::move(item));
}

}  // namespace schakel::store
