// Private to store/: how the records' list columns are kept (JSON arrays of
// strings; categories by name), shared by the record files of each table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schakel/consent/vocabulary.h"

namespace schakel::store::internal {

inline std::string ListText(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

inline std::vector<std::string> ListFrom(const std::string& text) {
  std::vector<std::string> out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

inline std::string CategoriesText(consent::CategorySet set) {
  std::vector<std::string> names;
  for (consent::Category c : consent::CategoriesByName()) {
    if (set.Has(c)) names.emplace_back(consent::Name(c));
  }
  return ListText(names);
}

inline consent::CategorySet CategoriesFrom(const std::string& text) {
  consent::CategorySet set;
  for (const auto& name : ListFrom(text)) {
    if (auto c = consent::ParseCategory(name)) set.Add(*c);
  }
  return set;
}

}  // namespace schakel::store::internal
