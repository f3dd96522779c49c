#include "groeidocument.h"

#include <algorithm>
#include <array>
#include <functional>

#include "dutch.h"
#include "groeidocument_fields.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/http/html.h"

namespace schakel::daemon::groeidocument {
namespace {

using http::html::Escape;
using namespace internal;  // NOLINT(google-build-using-namespace): the field tables

// The label table: every key of the contract's case summary, in Dutch.
const std::map<std::string, std::string, std::less<>>& Labels() {
  static const std::map<std::string, std::string, std::less<>> kLabels = {
      {"case_id", "Dossiernummer"},
      {"student_id", "Leerlingnummer"},
      {"birth_date", "Geboortedatum"},
      {"created", "Aangemaakt"},
      {"updated", "Bijgewerkt"},
      {"name", "Naam"},
      {"school", "School"},
      {"class", "Klas of groep"},
      {"mentor", "Mentor"},
      {"guardians", "Ouders en verzorgers"},
      {"self", "De jongere zelf"},
      {"relation", "Relatie"},
      {"phone", "Telefoon"},
      {"email", "E-mail"},
      {"authority", "Heeft gezag"},
      {"level", "Onderwijsniveau"},
      {"year", "Leerjaar"},
      {"notes", "Toelichting"},
      {"unauthorised_hours_4w", "Ongeoorloofd verzuim (uren in 4 weken)"},
      {"authorised_hours_4w", "Geoorloofd verzuim (uren in 4 weken)"},
      {"question", "Vraag"},
      {"signals", "Signalen"},
      {"hindering", "Belemmerende factoren"},
      {"supporting", "Beschermende factoren"},
      {"tried", "Al geprobeerd"},
      {"coordinator", "Casuscoördinator"},
      {"actions", "Acties"},
      {"what", "Wat"},
      {"who", "Wie"},
      {"when", "Wanneer"},
      {"next_evaluation", "Volgende evaluatie"},
      {"in_reactie_op", "Reactie op deling"}};
  return kLabels;
}

// ---- rendering

std::string RenderText(std::string_view s) {
  if (IsIsoDate(s)) return Escape(DateNl(s));
  // Line breaks typed in a textarea stay line breaks.
  std::string out;
  size_t start = 0;
  while (true) {
    size_t nl = s.find('\n', start);
    out += Escape(s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    out += "<br>";
    start = nl + 1;
  }
  return out;
}

std::string RenderValue(const Json& v, int depth) {
  if (depth > 8) return "…";
  if (v.is_null()) return "—";
  if (v.is_string()) return RenderText(v.get_ref<const std::string&>());
  if (v.is_boolean()) return v.get<bool>() ? "ja" : "nee";
  if (v.is_number()) return Escape(v.dump());
  if (v.is_array()) {
    if (v.empty()) return "—";
    std::string o = "<ul>";
    for (const auto& e : v) o += "<li>" + RenderValue(e, depth + 1) + "</li>";
    return o + "</ul>";
  }
  std::string o = "<dl>";
  for (const auto& [k, e] : v.items()) {
    o += "<dt>" + Escape(FieldLabelNl(k)) + "</dt><dd>" + RenderValue(e, depth + 1) + "</dd>";
  }
  return o + "</dl>";
}

// ---- the form's fields

std::string ErrorBeside(const std::string& id, const FieldErrors& errors) {
  auto it = errors.find(id);
  if (it == errors.end()) return "";
  return "<span class=\"veldfout\" id=\"" + id + "-fout\">" + Escape(it->second) + "</span>";
}

std::string Attributes(Kind kind) {
  switch (kind) {
    case Kind::kHours:
    case Kind::kYear:
    case Kind::kBsn:
      return " type=\"text\" inputmode=\"numeric\" maxlength=\"9\"";
    case Kind::kDate:
      return " type=\"date\"";
    case Kind::kPhone:
      return " type=\"tel\" maxlength=\"40\" autocomplete=\"off\"";
    case Kind::kEmail:
      return " type=\"email\" maxlength=\"200\" autocomplete=\"off\"";
    case Kind::kLine:
    case Kind::kLong:
      break;
  }
  return " type=\"text\" maxlength=\"" + std::to_string(kMaxLine) + "\"";
}

// One labelled input or textarea, its error beside it.
std::string Input(const std::string& id, const std::string& label, Kind kind, const std::string& value,
                  const FieldErrors& errors) {
  const bool bad = errors.count(id) > 0;
  std::string aria = bad ? " aria-invalid=\"true\" aria-describedby=\"" + id + "-fout\"" : "";
  std::string o = "<p><label for=\"" + id + "\">" + Escape(label) + "</label>" + ErrorBeside(id, errors);
  if (kind == Kind::kLong) {
    return o + "<textarea id=\"" + id + "\" name=\"" + id + "\" rows=\"4\" maxlength=\"" + std::to_string(kMaxLong) +
           "\"" + aria + ">" + Escape(value) + "</textarea></p>";
  }
  return o + "<input id=\"" + id + "\" name=\"" + id + "\"" + Attributes(kind) + " value=\"" + Escape(value) + "\"" +
         aria + "></p>";
}

std::string RowButtons(const std::string& list, int i, const std::string& row_name) {
  return "<button type=\"submit\" class=\"klein\" name=\"weg\" value=\"" + list + "_" + std::to_string(i) +
         "\" formnovalidate aria-label=\"Verwijderen: " + Escape(row_name) + "\">Verwijderen</button>";
}

std::string AddButton(const std::string& list, const std::string& what) {
  return "<p><button type=\"submit\" class=\"klein\" name=\"meer\" value=\"" + list +
         "\" formnovalidate aria-label=\"Regel toevoegen: " + Escape(what) + "\">Regel toevoegen</button></p>";
}

// A list in the form: a fieldset, its rows (the stored items and one empty
// row after them, at most kMaxRows), "Regel toevoegen". `row` renders row i
// (its id prefix and label; `item` null for the empty row).
using RowRenderer = std::function<std::string(const std::string& id, const std::string& label, const Json* item)>;
std::string ListFields(const char* name, const char* key, const char* row_label, const Json& items,
                       const RowRenderer& row) {
  const int rows = std::min<int>(static_cast<int>(items.size()) + 1, kMaxRows);
  std::string o = "<fieldset class=\"rijen\"><legend>" + Escape(FieldLabelNl(key)) + "</legend>" +
                  "<input type=\"hidden\" name=\"" + name + "_rows\" value=\"" + std::to_string(rows) + "\"><ol>";
  for (int i = 0; i < rows; ++i) {
    const std::string id = std::string(name) + "_" + std::to_string(i);
    const std::string label = std::string(row_label) + " " + std::to_string(i + 1);
    const Json* item = i < static_cast<int>(items.size()) ? &items[static_cast<size_t>(i)] : nullptr;
    o += "<li>" + row(id, label, item);
    if (item != nullptr) o += RowButtons(name, i, label);
    o += "</li>";
  }
  o += "</ol>";
  if (rows < kMaxRows) o += AddButton(name, FieldLabelNl(key));
  return o + "</fieldset>";
}

std::string TextListFields(const TextList& l, const Json& summary, const FieldErrors& errors) {
  return ListFields(l.name, l.key, l.row_label, ArrayAt(summary, l.category, l.key),
                    [&](const std::string& id, const std::string& label, const Json* item) {
                      return Input(id, label, Kind::kLine, ValueText(item), errors);
                    });
}

std::string AuthoritySelect(const std::string& id, const Json* value) {
  const std::string now = ValueText(value);
  std::string o = "<p><label for=\"" + id + "\">Heeft gezag</label><select id=\"" + id + "\" name=\"" + id + "\">";
  for (const auto& [v, text] :
       std::array<std::pair<const char*, const char*>, 3>{{{"", "onbekend"}, {"ja", "ja"}, {"nee", "nee"}}}) {
    o += std::string("<option value=\"") + v + "\"" + (now == v ? " selected" : "") + ">" + text + "</option>";
  }
  return o + "</select></p>";
}

std::string RowListFields(const RowList& l, const Json& summary, const FieldErrors& errors) {
  auto row = [&](const std::string& id, const std::string& label, const Json* item) {
    std::string o = "<fieldset><legend>" + Escape(label) + "</legend>";
    const Json* source = item != nullptr && item->is_object() && item->contains("_bron") ? &(*item)["_bron"] : nullptr;
    if (!ValueText(source).empty()) {
      o += "<input type=\"hidden\" name=\"" + id + "_bron\" value=\"" + Escape(ValueText(source)) + "\">";
    }
    for (const Column& col : l.columns) {
      if (col.key == nullptr) continue;
      const Json* v = item != nullptr && item->is_object() && item->contains(col.key) ? &(*item)[col.key] : nullptr;
      const std::string field = id + "_" + col.key;
      o += std::string_view(col.key) == "authority"
               ? AuthoritySelect(field, v)
               : Input(field, FieldLabelNl(col.key), col.kind, ValueText(v), errors);
    }
    return o + "</fieldset>";
  };
  return ListFields(l.name, l.key, l.row_label, ArrayAt(summary, l.category, l.key), row);
}

std::string FieldLabel(const Field& f) {
  if (f.key == nullptr) return "Burgerservicenummer (BSN)";
  std::string_view key(f.key);
  if (key == "self.phone") return "Telefoon van de jongere";
  if (key == "self.email") return "E-mail van de jongere";
  // A category with one text: its own name.
  if (key == "notes" && (std::string_view(f.category) == "gezinssituatie" ||
                         std::string_view(f.category) == "gezondheid" || std::string_view(f.category) == "justitie")) {
    return std::string(consent::DutchCategoryLabel(f.category));
  }
  return FieldLabelNl(key);
}

// The rows as the form shows them again: each knows the stored row it came
// from (_bron), so what the form does not show survives a redisplay.
void MarkSources(Json& summary) {
  for (const RowList& l : kRowLists) {
    const Json* list = At(summary, l.category, l.key);
    if (list == nullptr || !list->is_array()) continue;
    Json& rows = summary[l.category][l.key];
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].is_object() && !rows[i].contains("_bron")) rows[i]["_bron"] = std::to_string(i);
    }
  }
}

std::string CategoryFields(std::string_view category, const Json& summary, const FieldErrors& errors) {
  std::string o;
  for (const Field& f : kFields) {
    if (f.category != category) continue;
    const Json* v = At(summary, category, f.key);
    // A category written as plain text (through the API) shows in its notes.
    if (v == nullptr && f.key != nullptr && std::string_view(f.key) == "notes") {
      const Json* whole = At(summary, category, nullptr);
      if (whole != nullptr && whole->is_string()) v = whole;
    }
    o += Input(f.name, FieldLabel(f), f.kind, ValueText(v), errors);
  }
  for (const TextList& l : kTextLists) {
    if (l.category == category) o += TextListFields(l, summary, errors);
  }
  for (const RowList& l : kRowLists) {
    if (l.category == category) o += RowListFields(l, summary, errors);
  }
  return o;
}

}  // namespace

std::string FieldLabelNl(std::string_view key) {
  auto it = Labels().find(key);
  if (it != Labels().end()) return it->second;
  if (consent::ParseCategory(key)) return std::string(consent::DutchCategoryLabel(key));
  return std::string(key);
}

std::vector<std::string> KnownLabels() {
  std::vector<std::string> out;
  for (const auto& [key, label] : Labels()) out.push_back(label);
  for (consent::Category c : consent::kAllCategories) out.emplace_back(consent::DutchLabel(c));
  return out;
}

std::string RenderSummaryNl(const Json& summary, const char* heading) {
  std::string o;
  for (consent::Category c : consent::kAllCategories) {
    std::string name(consent::Name(c));
    if (!summary.is_object() || !summary.contains(name) || summary[name].is_null()) continue;
    o += "<section class=\"categorie\" id=\"cat-" + name + "\"><" + heading + ">" + Escape(consent::DutchLabel(c)) +
         "</" + heading + ">" + RenderValue(summary[name], 0) + "</section>\n";
  }
  return o;
}

std::string GroeidocumentForm(const Json& summary, bool is_new, const FieldErrors& errors) {
  Json shown = summary;
  MarkSources(shown);
  std::string o;
  if (!errors.empty()) {
    o += "<p class=\"error\" role=\"alert\">Niet opgeslagen: " + std::to_string(errors.size()) +
         (errors.size() == 1 ? " veld klopt" : " velden kloppen") + " nog niet; zie de melding bij het veld.</p>";
  }
  o += "<fieldset><legend>Leerling</legend>";
  if (is_new) {
    o += Input("student_id", "Leerlingnummer", Kind::kLine, ValueText(At(shown, "student_id", nullptr)), errors);
    o += Input("birth_date", "Geboortedatum", Kind::kDate, ValueText(At(shown, "birth_date", nullptr)), errors);
  } else {
    o += "<p>Leerlingnummer <strong>" + Escape(ValueText(At(shown, "student_id", nullptr))) + "</strong>, geboren " +
         Escape(DateNl(ValueText(At(shown, "birth_date", nullptr)))) + ".</p>";
  }
  o += "</fieldset>";
  for (const char* category : kCategoryOrder) {
    o += "<fieldset class=\"categorie\"><legend>" + Escape(consent::DutchCategoryLabel(category)) + "</legend>" +
         CategoryFields(category, shown, errors) + "</fieldset>";
  }
  return o;
}

const std::vector<std::string_view>& MultilineFields() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> v;
    for (const Field& f : kFields) {
      if (f.kind == Kind::kLong) v.emplace_back(f.name);
    }
    return v;
  }();
  return kNames;
}

}  // namespace schakel::daemon::groeidocument
