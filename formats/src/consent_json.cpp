#include "schakel/formats/consent_json.h"

#include <algorithm>
#include <array>
#include <utility>

#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::formats {
namespace {

using consent::Category;
using consent::Consent;

// A value is quoted back in an error only when it looks like a name.
std::string Echo(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return ok ? " \"" + std::string(s) + "\"" : std::string();
}

template <typename E, size_t N>
std::string OneOf(const std::array<E, N>& all) {
  std::string out = " (expected one of: ";
  for (size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    out += consent::Name(all[i]);
  }
  return out + ")";
}

Result<std::string> ObjectIdField(const Fields& f, std::string_view key) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string s, f.String(key, 128));
  if (!IsValidObjectId(s)) {
    return Status::InvalidInput(f.PathOf(key) +
                                ": expected an id of 1 to 128 characters "
                                "A-Z, a-z, 0-9, '.', '_' or '-'");
  }
  return s;
}

std::string Item(const Fields& f, std::string_view key, size_t i) {
  return f.PathOf(key) + "[" + std::to_string(i) + "]";
}

}  // namespace

Result<std::vector<Category>> CategoryListField(const Fields& fields, std::string_view key, size_t max_items) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<std::string> names, fields.StringList(key, max_items, 64));
  std::vector<Category> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto c = consent::ParseCategory(names[i]);
    if (!c) {
      return Status::InvalidInput(Item(fields, key, i) + ": unknown category" + Echo(names[i]) +
                                  OneOf(consent::kAllCategories));
    }
    out.push_back(*c);
  }
  return out;
}

Result<consent::OrgType> OrgTypeField(const Fields& fields, std::string_view key) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string s, fields.String(key, 64));
  auto t = consent::ParseOrgType(s);
  if (!t) {
    return Status::InvalidInput(fields.PathOf(key) + ": unknown org type" + Echo(s) + OneOf(consent::kAllOrgTypes));
  }
  return *t;
}

Result<Consent> ParseConsentJson(const Json& obj, std::string path, bool require_id) {
  Fields f(obj, std::move(path));
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"id", "subject_id", "grantor_role", "purposes", "recipients", "categories",
                                      "valid_from", "valid_until", "withdrawn_at", "guardian", "request_id"}));
  Consent c;
  if (require_id || (obj.contains("id") && !obj["id"].is_null())) {
    SCHAKEL_ASSIGN_OR_RETURN(c.id, ObjectIdField(f, "id"));
  }
  SCHAKEL_ASSIGN_OR_RETURN(c.subject_id, ObjectIdField(f, "subject_id"));

  SCHAKEL_ASSIGN_OR_RETURN(std::string role, f.String("grantor_role", 64));
  auto r = consent::ParseGrantorRole(role);
  if (!r) {
    return Status::InvalidInput(f.PathOf("grantor_role") + ": unknown grantor role" + Echo(role) +
                                " (expected one of: ouder, jongere)");
  }
  c.grantor_role = *r;

  SCHAKEL_ASSIGN_OR_RETURN(c.purposes, f.StringList("purposes", kMaxConsentPurposes, kMaxPurposeLength));
  if (c.purposes.empty()) {
    return Status::InvalidInput(f.PathOf("purposes") + ": names no purpose");
  }
  for (size_t i = 0; i < c.purposes.size(); ++i) {
    if (!consent::IsValidPurpose(c.purposes[i])) {
      return Status::InvalidInput(Item(f, "purposes", i) +
                                  ": expected a purpose name of 1 to 64 characters a-z, 0-9, "
                                  "'_' or '-'");
    }
  }

  SCHAKEL_ASSIGN_OR_RETURN(c.recipients, f.StringList("recipients", kMaxConsentRecipients, 64));
  if (c.recipients.empty()) {
    return Status::InvalidInput(f.PathOf("recipients") + ": names no recipient");
  }
  for (size_t i = 0; i < c.recipients.size(); ++i) {
    const auto& rcp = c.recipients[i];
    if (!consent::ParseOrgType(rcp) && !IsValidNodeId(rcp)) {
      return Status::InvalidInput(Item(f, "recipients", i) + ": expected an org id ([a-z0-9-]{3,64}) or an org type" +
                                  OneOf(consent::kAllOrgTypes));
    }
  }

  SCHAKEL_ASSIGN_OR_RETURN(std::vector<Category> cats, CategoryListField(f, "categories", consent::kCategoryCount * 4));
  if (cats.empty()) {
    return Status::InvalidInput(f.PathOf("categories") + ": names no category");
  }
  for (Category cat : cats) c.categories.Add(cat);

  SCHAKEL_ASSIGN_OR_RETURN(c.valid_from, f.DateField("valid_from"));
  SCHAKEL_ASSIGN_OR_RETURN(c.valid_until, f.OptDate("valid_until"));
  SCHAKEL_ASSIGN_OR_RETURN(c.withdrawn_at, f.OptInstant("withdrawn_at"));
  if (obj.contains("guardian") && !obj["guardian"].is_null()) {
    SCHAKEL_ASSIGN_OR_RETURN(c.guardian, f.String("guardian", 200));
    if (!IsPrintableUtf8(c.guardian) || c.guardian.find('\t') != std::string::npos) {
      return Status::InvalidInput(f.PathOf("guardian") + ": one line of printable text");
    }
  }
  if (obj.contains("request_id") && !obj["request_id"].is_null()) {
    SCHAKEL_ASSIGN_OR_RETURN(c.request_id, ObjectIdField(f, "request_id"));
  }
  return c;
}

Result<Consent> ParseConsent(std::string_view json, bool require_id) {
  JsonLimits limits;
  limits.max_bytes = size_t{64} * 1024;
  limits.max_depth = 4;
  SCHAKEL_ASSIGN_OR_RETURN(Json doc, ParseJsonLimited(json, limits));
  return ParseConsentJson(doc, "", require_id);
}

Json ConsentToJsonValue(const Consent& c) {
  Json j = Json::object();
  if (!c.id.empty()) j["id"] = c.id;
  j["subject_id"] = c.subject_id;
  j["grantor_role"] = std::string(consent::Name(c.grantor_role));
  j["purposes"] = c.purposes;
  j["recipients"] = c.recipients;
  Json cats = Json::array();
  for (Category cat : consent::CategoriesByName()) {
    if (c.categories.Has(cat)) cats.push_back(std::string(consent::Name(cat)));
  }
  j["categories"] = std::move(cats);
  j["valid_from"] = FormatDate(c.valid_from);
  j["valid_until"] = c.valid_until ? Json(FormatDate(*c.valid_until)) : Json(nullptr);
  j["withdrawn_at"] = c.withdrawn_at ? Json(FormatInstantMs(*c.withdrawn_at)) : Json(nullptr);
  if (!c.guardian.empty()) j["guardian"] = c.guardian;
  if (!c.request_id.empty()) j["request_id"] = c.request_id;
  return j;
}

}  // namespace schakel::formats
