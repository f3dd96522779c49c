// Private to the groeidocument files (groeidocument.cpp renders the form,
// groeidocument_read.cpp reads it back): the form's fields, one table for
// both, so a field cannot be shown without being read or the other way round.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "schakel/base/time.h"

namespace schakel::daemon::groeidocument::internal {

using Json = nlohmann::json;

inline constexpr size_t kMaxLine = 200;     // characters in a one-line field
inline constexpr size_t kMaxLong = 10'000;  // characters in a textarea
inline constexpr int kMaxHours = 10'000;    // hours in four weeks, generously

inline size_t Characters(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

inline bool IsIsoDate(std::string_view s) { return s.size() == 10 && ParseDate(s).ok(); }

enum class Kind { kLine, kLong, kHours, kYear, kDate, kBsn, kPhone, kEmail };

// A one-value field: category.key (or the category itself for the BSN).
struct Field {
  const char* name;  // the form field's name
  const char* category;
  const char* key;  // nullptr: the category's own value
  Kind kind;
};

inline constexpr std::array<Field, 20> kFields = {{
    {"id_name", "identificatie", "name", Kind::kLine},
    {"id_school", "identificatie", "school", Kind::kLine},
    {"id_class", "identificatie", "class", Kind::kLine},
    {"id_mentor", "identificatie", "mentor", Kind::kLine},
    {"bsn", "bsn", nullptr, Kind::kBsn},
    {"ct_self_phone", "contact", "self.phone", Kind::kPhone},
    {"ct_self_email", "contact", "self.email", Kind::kEmail},
    {"ond_level", "onderwijs", "level", Kind::kLine},
    {"ond_year", "onderwijs", "year", Kind::kYear},
    {"ond_notes", "onderwijs", "notes", Kind::kLong},
    {"vz_unauthorised", "verzuim", "unauthorised_hours_4w", Kind::kHours},
    {"vz_authorised", "verzuim", "authorised_hours_4w", Kind::kHours},
    {"vz_notes", "verzuim", "notes", Kind::kLong},
    {"hv_question", "hulpvraag", "question", Kind::kLong},
    {"gz_notes", "gezinssituatie", "notes", Kind::kLong},
    {"gh_notes", "gezondheid", "notes", Kind::kLong},
    {"js_notes", "justitie", "notes", Kind::kLong},
    {"af_coordinator", "afspraken", "coordinator", Kind::kLine},
    {"af_next", "afspraken", "next_evaluation", Kind::kDate},
    {"af_notes", "afspraken", "notes", Kind::kLong},
}};

// A list of short texts: category.key = ["...", ...].
struct TextList {
  const char* name;
  const char* category;
  const char* key;
  const char* row_label;  // "Signaal" -> "Signaal 1"
};
inline constexpr std::array<TextList, 4> kTextLists = {{
    {"hv_signals", "hulpvraag", "signals", "Signaal"},
    {"hv_hindering", "hulpvraag", "hindering", "Belemmerende factor"},
    {"hv_supporting", "hulpvraag", "supporting", "Beschermende factor"},
    {"hv_tried", "hulpvraag", "tried", "Al geprobeerd"},
}};

// A list of rows with columns: category.key = [{col: ...}, ...].
struct Column {
  const char* key;
  Kind kind;
};
struct RowList {
  const char* name;
  const char* category;
  const char* key;
  const char* row_label;
  std::array<Column, 5> columns;  // key nullptr: unused
};
// "authority" is a choice (ja, nee, onbekend), see GuardianAuthority.
inline constexpr std::array<RowList, 2> kRowLists = {{
    {"g",
     "contact",
     "guardians",
     "Ouder of verzorger",
     {{{"name", Kind::kLine},
       {"relation", Kind::kLine},
       {"phone", Kind::kPhone},
       {"email", Kind::kEmail},
       {"authority", Kind::kLine}}}},
    {"act",
     "afspraken",
     "actions",
     "Actie",
     {{{"what", Kind::kLine},
       {"who", Kind::kLine},
       {"when", Kind::kDate},
       {nullptr, Kind::kLine},
       {nullptr, Kind::kLine}}}},
}};

// What a category's form shows: "identificatie" and so on, in this order.
inline constexpr std::array<const char*, 10> kCategoryOrder = {
    "identificatie",  "bsn",        "contact",  "onderwijs", "verzuim", "hulpvraag",
    "gezinssituatie", "gezondheid", "justitie", "afspraken"};

// The value at category.key ("self.phone": one level deeper) in `summary`.
inline const Json* At(const Json& summary, std::string_view category, const char* key) {
  if (!summary.is_object()) return nullptr;
  auto c = summary.find(std::string(category));
  if (c == summary.end()) return nullptr;
  if (key == nullptr) return &*c;
  const Json* v = &*c;
  std::string_view path(key);
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string part(path.substr(0, dot));
    if (!v->is_object() || !v->contains(part)) return nullptr;
    v = &(*v)[part];
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return v;
}

inline std::string ValueText(const Json* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return v->get<bool>() ? "ja" : "nee";
  return v->dump();
}

inline const Json& ArrayAt(const Json& summary, const char* category, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* v = At(summary, category, key);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

}  // namespace schakel::daemon::groeidocument::internal
