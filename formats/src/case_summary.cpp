#include "schakel/formats/case_summary.h"

#include "schakel/base/strings.h"

namespace schakel::formats {
namespace {

constexpr std::string_view kMetadata[] = {"case_id", "student_id", "birth_date", "created", "updated"};

bool IsMetadata(std::string_view key) {
  for (auto m : kMetadata) {
    if (key == m) return true;
  }
  return false;
}

}  // namespace

bool IsValidBsn(std::string_view bsn) {
  if (bsn.size() != 9) return false;
  int sum = 0;
  bool all_zero = true;
  for (size_t i = 0; i < 9; ++i) {
    char c = bsn[i];
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (d != 0) all_zero = false;
    sum += (i < 8) ? d * static_cast<int>(9 - i) : -d;
  }
  return !all_zero && sum % 11 == 0;
}

consent::CategorySet CaseSummary::Present() const {
  consent::CategorySet out;
  for (consent::Category c : consent::kAllCategories) {
    auto it = document.find(std::string(consent::Name(c)));
    if (it != document.end() && !it->is_null()) out.Add(c);
  }
  return out;
}

Result<CaseSummary> ParseCaseSummary(std::string_view json, bool require_case_id) {
  JsonLimits limits;
  limits.max_bytes = kMaxCaseSummaryBytes;
  limits.max_depth = 16;
  SCHAKEL_ASSIGN_OR_RETURN(Json doc, ParseJsonLimited(json, limits));
  if (!doc.is_object()) return Status::InvalidInput("case summary: expected a JSON object");
  for (const auto& item : doc.items()) {
    const std::string& key = item.key();
    if (IsMetadata(key) || consent::ParseCategory(key)) continue;
    std::string shown = (key.size() <= 64 && IsPrintableUtf8(key)) ? key : "?";
    return Status::InvalidInput(shown +
                                ": unknown field (top-level keys are the ten data categories "
                                "and case_id, student_id, birth_date, created, updated)");
  }
  Fields f(doc, "");
  CaseSummary s;
  if (require_case_id || doc.contains("case_id")) {
    SCHAKEL_ASSIGN_OR_RETURN(s.case_id, f.String("case_id", 128));
    if (!IsValidObjectId(s.case_id)) {
      return Status::InvalidInput("case_id: use 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'");
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(s.student_id, f.String("student_id", 128));
  if (!IsValidObjectId(s.student_id)) {
    return Status::InvalidInput("student_id: use 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'");
  }
  SCHAKEL_ASSIGN_OR_RETURN(s.birth_date, f.DateField("birth_date"));
  for (const char* key : {"created", "updated"}) {
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<Instant> t, f.OptInstant(key));
    (void)t;
  }
  auto bsn = doc.find("bsn");
  if (bsn != doc.end() && !bsn->is_null()) {
    if (!bsn->is_string() || !IsValidBsn(bsn->get_ref<const std::string&>())) {
      return Status::InvalidInput("bsn: not a valid BSN (nine digits that pass the elfproef)");
    }
  }
  for (consent::Category c : consent::kAllCategories) {
    auto it = doc.find(std::string(consent::Name(c)));
    if (it == doc.end() || it->is_null() || c == consent::Category::kBsn) continue;
    if (!it->is_object() && !it->is_array() && !it->is_string()) {
      return Status::InvalidInput(std::string(consent::Name(c)) + ": expected an object, a list, a text or null");
    }
  }
  s.document = std::move(doc);
  return s;
}

std::string Project(const CaseSummary& summary, consent::CategorySet allowed) {
  Json out = Json::object();
  for (auto m : kMetadata) {
    auto it = summary.document.find(std::string(m));
    if (it != summary.document.end()) out[std::string(m)] = *it;
  }
  // A summary read without a case id (one the API is given, before its id
  // is set) projects without one: an empty "case_id" would not parse.
  if (!summary.case_id.empty()) out["case_id"] = summary.case_id;
  for (consent::Category c : consent::kAllCategories) {
    if (!allowed.Has(c)) continue;
    auto it = summary.document.find(std::string(consent::Name(c)));
    if (it != summary.document.end()) out[std::string(consent::Name(c))] = *it;
  }
  return out.dump(-1, ' ', false, Json::error_handler_t::strict);
}

}  // namespace schakel::formats
