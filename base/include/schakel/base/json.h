// Parsing JSON from outside with limits, and typed field access that names
// the field in every error ("consents[2].valid_from: expected a date"). The
// one JSON reader of the node: formats/ (as formats::Fields) and crypto/
// (node cards, purge confirmations) use it.
//
// ParseJsonLimited refuses input larger than max_bytes or nested deeper than
// max_depth before nlohmann's recursive parser sees it, so hostile input can
// neither exhaust memory nor the stack. It rejects duplicate object keys,
// invalid UTF-8 and trailing garbage. No exception leaves this module.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/base/status.h"
#include "schakel/base/time.h"

namespace schakel {

using Json = nlohmann::json;

struct JsonLimits {
  size_t max_bytes = 1 << 20;  // Default: 1 MiB
  size_t max_depth = 32;
};

Result<Json> ParseJsonLimited(std::string_view text, const JsonLimits& limits = {});

// Field readers for an object `obj` at path `path` ("" for the root). Each
// returns kInvalidInput naming path.key on a missing field or a wrong type.
// Optional variants accept an absent key or null.
class JsonFields {
 public:
  JsonFields(const Json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  // An error when obj has keys outside `allowed`.
  Status OnlyKeys(std::initializer_list<std::string_view> allowed) const;

  Result<std::string> String(std::string_view key, size_t max_len = 1024) const;
  Result<std::optional<std::string>> OptString(std::string_view key, size_t max_len = 1024) const;
  Result<Date> DateField(std::string_view key) const;
  Result<std::optional<Date>> OptDate(std::string_view key) const;
  Result<Instant> InstantField(std::string_view key) const;
  Result<std::optional<Instant>> OptInstant(std::string_view key) const;
  Result<std::vector<std::string>> StringList(std::string_view key, size_t max_items = 64, size_t max_len = 256) const;
  Result<const Json*> Object(std::string_view key) const;
  Result<const Json*> OptObject(std::string_view key) const;  // nullptr when absent/null
  Result<const Json*> Array(std::string_view key, size_t max_items) const;
  Result<long long> Integer(std::string_view key, long long min, long long max) const;

  // "path.key" or "key" at the root.
  std::string PathOf(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  Result<const Json*> Get(std::string_view key) const;
  const Json& obj_;
  std::string path_;
};

}  // namespace schakel
