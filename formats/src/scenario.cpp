#include "schakel/formats/scenario.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "schakel/base/strings.h"
#include "schakel/formats/consent_json.h"

namespace schakel::formats {
namespace {

using consent::Category;

Result<consent::Party> ParseParty(const Fields& parent, std::string_view key) {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* obj, parent.Object(key));
  Fields f(*obj, parent.PathOf(key));
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"org_id", "org_type"}));
  consent::Party p;
  SCHAKEL_ASSIGN_OR_RETURN(p.org_id, f.String("org_id", 64));
  if (!IsValidNodeId(p.org_id)) {
    return Status::InvalidInput(f.PathOf("org_id") + ": expected an org id ([a-z0-9-]{3,64})");
  }
  SCHAKEL_ASSIGN_OR_RETURN(p.org_type, OrgTypeField(f, "org_type"));
  return p;
}

Result<std::optional<consent::Override>> ParseOverride(const Fields& root) {
  SCHAKEL_ASSIGN_OR_RETURN(const Json* obj, root.OptObject("override"));
  if (obj == nullptr) return std::optional<consent::Override>();
  Fields f(*obj, root.PathOf("override"));
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"requested_by", "approved_by", "justification"}));
  consent::Override o;
  SCHAKEL_ASSIGN_OR_RETURN(o.requested_by, f.String("requested_by", 128));
  SCHAKEL_ASSIGN_OR_RETURN(o.approved_by, f.String("approved_by", 128));
  SCHAKEL_ASSIGN_OR_RETURN(o.justification, f.String("justification", kMaxJustificationLength));
  for (std::string_view key : {"requested_by", "approved_by"}) {
    if (!IsPrintableUtf8(key == "requested_by" ? o.requested_by : o.approved_by)) {
      return Status::InvalidInput(f.PathOf(key) + ": contains control characters");
    }
  }
  // A justification may run over several lines; other control characters
  // are refused.
  std::string flat = o.justification;
  for (char& c : flat) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (!IsPrintableUtf8(flat)) {
    return Status::InvalidInput(f.PathOf("justification") + ": contains control characters");
  }
  return std::optional<consent::Override>(std::move(o));
}

template <typename J>
J CategoryArray(consent::CategorySet set) {
  J a = J::array();
  for (Category c : consent::CategoriesByName()) {
    if (set.Has(c)) a.push_back(std::string(consent::Name(c)));
  }
  return a;
}

// Built as nlohmann::ordered_json for the printed form ("decision" first)
// and as Json for callers that embed the decision in another document.
template <typename J>
J BuildDecision(const consent::Decision& d) {
  J j = J::object();
  j["decision"] = d.permit ? "permit" : "deny";
  j["legal_basis"] = d.legal_basis ? J(std::string(consent::Name(*d.legal_basis))) : J(nullptr);
  j["legal_source"] = d.permit && !d.legal_source.empty() ? J(d.legal_source) : J(nullptr);
  j["categories"] = CategoryArray<J>(d.categories);
  j["withheld"] = CategoryArray<J>(d.withheld);
  std::vector<std::string> used = d.consents_used;
  std::sort(used.begin(), used.end());
  j["consents_used"] = used;
  J reasons = J::array();
  for (const auto& r : d.reasons) {
    J o = J::object();
    o["code"] = r.code;
    o["message"] = r.message;
    if (r.category) o["category"] = std::string(consent::Name(*r.category));
    reasons.push_back(std::move(o));
  }
  j["reasons"] = std::move(reasons);
  return j;
}

}  // namespace

Result<consent::Request> ParseScenarioJson(const Json& root) {
  Fields f(root, "");
  SCHAKEL_RETURN_IF_ERROR(
      f.OnlyKeys({"now", "subject", "sender", "recipient", "purpose", "categories", "consents", "override"}));
  consent::Request r;
  SCHAKEL_ASSIGN_OR_RETURN(r.now, f.InstantField("now"));

  SCHAKEL_ASSIGN_OR_RETURN(const Json* subject, f.Object("subject"));
  Fields sf(*subject, "subject");
  SCHAKEL_RETURN_IF_ERROR(sf.OnlyKeys({"id", "birth_date", "parents_with_authority"}));
  SCHAKEL_ASSIGN_OR_RETURN(r.subject_id, sf.String("id", 128));
  if (!IsValidObjectId(r.subject_id)) {
    return Status::InvalidInput(
        "subject.id: expected an id of 1 to 128 characters A-Z, a-z, "
        "0-9, '.', '_' or '-'");
  }
  SCHAKEL_ASSIGN_OR_RETURN(r.birth_date, sf.DateField("birth_date"));
  if (subject->contains("parents_with_authority")) {
    SCHAKEL_ASSIGN_OR_RETURN(long long parents, sf.Integer("parents_with_authority", 0, 4));
    r.parents_with_authority = static_cast<int>(parents);
  }

  SCHAKEL_ASSIGN_OR_RETURN(r.sender, ParseParty(f, "sender"));
  SCHAKEL_ASSIGN_OR_RETURN(r.recipient, ParseParty(f, "recipient"));

  SCHAKEL_ASSIGN_OR_RETURN(r.purpose, f.String("purpose", kMaxPurposeLength));
  if (r.purpose.empty() || !IsPrintableUtf8(r.purpose)) {
    return Status::InvalidInput("purpose: expected a purpose name");
  }

  SCHAKEL_ASSIGN_OR_RETURN(r.categories, CategoryListField(f, "categories", kMaxRequestCategories));
  if (r.categories.empty()) {
    return Status::InvalidInput("categories: names no category; ask for at least one");
  }

  if (root.contains("consents") && !root["consents"].is_null()) {
    SCHAKEL_ASSIGN_OR_RETURN(const Json* consents, f.Array("consents", kMaxScenarioConsents));
    r.consents.reserve(consents->size());
    for (size_t i = 0; i < consents->size(); ++i) {
      SCHAKEL_ASSIGN_OR_RETURN(consent::Consent c,
                               ParseConsentJson((*consents)[i], "consents[" + std::to_string(i) + "]", true));
      r.consents.push_back(std::move(c));
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(r.override, ParseOverride(f));
  return r;
}

Result<consent::Request> ParseScenario(std::string_view json) {
  JsonLimits limits;
  limits.max_bytes = kMaxScenarioBytes;
  SCHAKEL_ASSIGN_OR_RETURN(Json doc, ParseJsonLimited(json, limits));
  return ParseScenarioJson(doc);
}

Json DecisionToJsonValue(const consent::Decision& d) { return BuildDecision<Json>(d); }

std::string DecisionToJson(const consent::Decision& d) {
  // Ids in the decision come from parsed (valid UTF-8) input, but a decision
  // may be built from other sources; never throw on a bad byte.
  return BuildDecision<nlohmann::ordered_json>(d).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace schakel::formats
