#include <charconv>
#include <optional>

#include "groeidocument.h"
#include "groeidocument_fields.h"
#include "schakel/formats/case_summary.h"

namespace schakel::daemon::groeidocument {
namespace {

using namespace internal;  // NOLINT(google-build-using-namespace): the field tables

// ---- reading the form back

std::string Trimmed(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

class Reader {
 public:
  Reader(const std::map<std::string, std::string>& form, FieldErrors* errors) : form_(form), errors_(errors) {}

  std::string Text(const std::string& name) const {
    auto it = form_.find(name);
    return it == form_.end() ? "" : Trimmed(it->second);
  }

  // The checked value of a field (null when empty), its error noted.
  Json Value(const std::string& name, Kind kind) {
    std::string t = Text(name);
    if (t.empty()) return nullptr;
    std::optional<std::string> problem = Check(t, kind);
    if (problem) {
      (*errors_)[name] = *problem;
      return nullptr;
    }
    if (kind == Kind::kHours || kind == Kind::kYear) return std::stoi(t);
    return t;
  }

  int Rows(const std::string& list) const {
    std::string t = Text(list + "_rows");
    int n = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || p != t.data() + t.size()) return 0;
    return std::clamp(n, 0, kMaxRows);
  }

 private:
  static std::optional<std::string> Check(const std::string& t, Kind kind) {
    switch (kind) {
      case Kind::kLong:
        if (Characters(t) > kMaxLong) return "Maximaal 10.000 tekens.";
        return std::nullopt;
      case Kind::kHours:
      case Kind::kYear: {
        int n = -1;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        const int max = kind == Kind::kHours ? kMaxHours : 20;
        const int min = kind == Kind::kHours ? 0 : 1;
        if (ec != std::errc() || p != t.data() + t.size() || n < min || n > max) {
          return "Vul een heel getal in van " + std::to_string(min) + " tot en met " + std::to_string(max) + ".";
        }
        return std::nullopt;
      }
      case Kind::kDate:
        if (!IsIsoDate(t)) return "Vul een bestaande datum in als JJJJ-MM-DD, bijvoorbeeld 2027-03-01.";
        return std::nullopt;
      case Kind::kBsn:
        if (!formats::IsValidBsn(t)) return "Dit BSN klopt niet: negen cijfers die de elfproef doorstaan.";
        return std::nullopt;
      case Kind::kEmail:
        if (Characters(t) > kMaxLine || t.find('@') == std::string::npos) return "Vul een e-mailadres in met een @.";
        return std::nullopt;
      case Kind::kPhone:
      case Kind::kLine:
        break;
    }
    if (Characters(t) > kMaxLine) return "Maximaal 200 tekens.";
    return std::nullopt;
  }

  const std::map<std::string, std::string>& form_;
  FieldErrors* errors_;
};

// Sets (or, for null, removes) category.key in `doc`, making the category an
// object when it is not one yet (a text written through the API becomes its
// notes).
void Put(Json& doc, const char* category, const char* key, Json value) {
  Json& c = doc[category];
  if (c.is_string()) c = Json{{"notes", c.get<std::string>()}};
  if (!c.is_object()) c = Json::object();
  std::string_view path(key);
  Json* target = &c;
  for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.')) {
    Json& next = (*target)[std::string(path.substr(0, dot))];
    if (!next.is_object()) next = Json::object();
    target = &next;
    path = path.substr(dot + 1);
  }
  if (value.is_null()) {
    target->erase(std::string(path));
  } else {
    (*target)[std::string(path)] = std::move(value);
  }
}

// Removes empty objects left behind ({"self": {}}) and empty categories.
void Prune(Json& doc) {
  for (const char* category : kCategoryOrder) {
    if (!doc.contains(category)) continue;
    Json& c = doc[category];
    if (c.is_object()) {
      for (auto it = c.begin(); it != c.end();) {
        it = (it->is_object() && it->empty()) || (it->is_array() && it->empty()) ? c.erase(it) : std::next(it);
      }
    }
    if (c.is_null() || (c.is_object() && c.empty())) doc.erase(category);
  }
}

void ReadTextList(const TextList& l, Reader& in, const std::string& removed, Json& doc) {
  Json items = Json::array();
  for (int i = 0; i < in.Rows(l.name); ++i) {
    const std::string id = std::string(l.name) + "_" + std::to_string(i);
    if (id == removed) continue;
    Json v = in.Value(id, Kind::kLine);
    if (!v.is_null()) items.push_back(std::move(v));
  }
  Put(doc, l.category, l.key, std::move(items));
}

void ReadRowList(const RowList& l, Reader& in, const std::string& removed, const Json& base, Json& doc) {
  const Json& before = ArrayAt(base, l.category, l.key);
  Json items = Json::array();
  for (int i = 0; i < in.Rows(l.name); ++i) {
    const std::string row = std::string(l.name) + "_" + std::to_string(i);
    if (row == removed) continue;
    // The stored row it came from keeps what the form does not show.
    Json item = Json::object();
    size_t source = 0;
    std::string src = in.Text(row + "_bron");
    auto [p, ec] = std::from_chars(src.data(), src.data() + src.size(), source);
    if (!src.empty() && ec == std::errc() && p == src.data() + src.size() && source < before.size() &&
        before[source].is_object()) {
      item = before[source];
      item["_bron"] = src;
    } else {
      item["_bron"] = "";  // a new row
    }
    bool any = false;
    for (const Column& col : l.columns) {
      if (col.key == nullptr) continue;
      const std::string id = row + "_" + col.key;
      Json v = nullptr;
      if (std::string_view(col.key) == "authority") {
        std::string t = in.Text(id);
        if (t == "ja" || t == "nee") v = (t == "ja");
      } else {
        v = in.Value(id, col.kind);
        any = any || !in.Text(id).empty();
      }
      if (v.is_null()) {
        item.erase(col.key);
      } else {
        item[col.key] = std::move(v);
      }
    }
    if (any) items.push_back(std::move(item));
  }
  Put(doc, l.category, l.key, std::move(items));
}

void StripSources(Json& summary) {
  for (const RowList& l : kRowLists) {
    const Json* list = At(summary, l.category, l.key);
    if (list == nullptr || !list->is_array()) continue;
    for (Json& row : summary[l.category][l.key]) {
      if (row.is_object()) row.erase("_bron");
    }
  }
}

void ReadMetadata(Reader& in, bool is_new, Json& doc, FieldErrors& errors) {
  if (!is_new) return;
  std::string student = in.Text("student_id");
  const bool good =
      !student.empty() && student.size() <= 128 && std::all_of(student.begin(), student.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
      });
  if (!good) errors["student_id"] = "Vul het leerlingnummer in: letters, cijfers, punt, streepje of liggend streepje.";
  doc["student_id"] = student;
  std::string birth = in.Text("birth_date");
  if (!IsIsoDate(birth)) errors["birth_date"] = "Vul de geboortedatum in als JJJJ-MM-DD, bijvoorbeeld 2014-03-02.";
  doc["birth_date"] = birth;
}

}  // namespace

FormReading GroeidocumentFromForm(const std::map<std::string, std::string>& form, const Json& base, bool is_new) {
  FormReading r;
  r.summary = base.is_object() ? base : Json::object();
  Reader in(form, &r.errors);
  ReadMetadata(in, is_new, r.summary, r.errors);
  const std::string removed = in.Text("weg");
  const std::string more = in.Text("meer");
  for (const Field& f : kFields) {
    Json v = in.Value(f.name, f.kind);
    if (f.key == nullptr) {
      if (v.is_null()) {
        r.summary.erase(f.category);
      } else {
        r.summary[f.category] = std::move(v);
      }
    } else {
      Put(r.summary, f.category, f.key, std::move(v));
    }
  }
  for (const TextList& l : kTextLists) ReadTextList(l, in, removed, r.summary);
  for (const RowList& l : kRowLists) ReadRowList(l, in, removed, base, r.summary);
  Prune(r.summary);
  r.redisplay = !removed.empty() || !more.empty();
  if (!more.empty()) {
    // One more empty row to fill in (the form always adds one after the last).
    for (const TextList& l : kTextLists) {
      if (more == l.name) r.summary[l.category][l.key].push_back("");
    }
    for (const RowList& l : kRowLists) {
      if (more == l.name) r.summary[l.category][l.key].push_back(Json{{"_bron", ""}});
    }
  }
  if (!r.redisplay && r.errors.empty()) StripSources(r.summary);
  return r;
}

}  // namespace schakel::daemon::groeidocument
