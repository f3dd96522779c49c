#include "schakel/formats/api_request.h"

#include "schakel/base/strings.h"
#include "schakel/formats/form.h"
#include "schakel/formats/json.h"

namespace schakel::formats {
namespace {

constexpr JsonLimits kShareBodyLimits{64 * 1024, 8};
constexpr JsonLimits kSmallBodyLimits{16 * 1024, 4};

Result<Json> ParseObject(std::string_view body, const JsonLimits& limits) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseJsonLimited(body, limits));
  if (!j.is_object()) return Status::InvalidInput("request body: expected a JSON object");
  return j;
}

Result<bool> OptBool(const Json& j, const char* key) {
  if (!j.contains(key)) return false;
  if (!j[key].is_boolean()) return Status::InvalidInput(std::string(key) + ": expected true or false");
  return j[key].get<bool>();
}

}  // namespace

Result<RequestTarget> ParseRequestTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return Status::InvalidInput("request target: must start with '/'");
  }
  if (target.size() > kMaxRequestTarget) {
    return Status::InvalidInput("request target: longer than " + std::to_string(kMaxRequestTarget) + " bytes");
  }
  RequestTarget t;
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  size_t pos = 1;
  while (pos <= path.size()) {
    const auto slash = path.find('/', pos);
    const std::string_view seg =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    pos = slash == std::string_view::npos ? path.size() + 1 : slash + 1;
    if (seg.empty()) continue;
    if (seg.find('%') != std::string_view::npos || !IsPrintableUtf8(seg)) {
      return Status::InvalidInput("request target: bad path segment");
    }
    if (t.parts.size() == kMaxTargetSegments) {
      return Status::InvalidInput("request target: more than " + std::to_string(kMaxTargetSegments) + " path segments");
    }
    t.parts.emplace_back(seg);
  }
  if (q != std::string_view::npos) {
    FormLimits limits;
    limits.max_body = kMaxRequestTarget;
    auto query = ParseForm(target.substr(q + 1), limits);
    if (!query.ok()) return query.status().WithContext("query string");
    t.query = std::move(*query);
  }
  return t;
}

Status CheckCategoryReason(std::string_view category, std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxCategoryReasonBytes || !IsPrintableUtf8(reason) ||
      reason.find_first_of("\t\n\r") != std::string_view::npos) {
    return Status::InvalidInput("category_reasons." + std::string(category) + ": 1 to " +
                                std::to_string(kMaxCategoryReasonBytes) + " bytes of printable text on one line");
  }
  return Status::Ok();
}

Result<ShareRequest> ParseShareRequest(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kShareBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys(
      {"case_id", "to", "purpose", "categories", "allow_partial", "dry_run", "justification", "category_reasons"}));
  ShareRequest r;
  SCHAKEL_ASSIGN_OR_RETURN(r.case_id, f.String("case_id", 128));
  SCHAKEL_ASSIGN_OR_RETURN(r.to, f.String("to", 64));
  SCHAKEL_ASSIGN_OR_RETURN(r.purpose, f.String("purpose", 64));
  if (j.contains("categories")) {
    SCHAKEL_ASSIGN_OR_RETURN(r.categories, f.StringList("categories", 16, 32));
  }
  SCHAKEL_ASSIGN_OR_RETURN(r.allow_partial, OptBool(j, "allow_partial"));
  SCHAKEL_ASSIGN_OR_RETURN(r.dry_run, OptBool(j, "dry_run"));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> just, f.OptString("justification", 2000));
  if (just) r.justification = *just;
  if (j.contains("category_reasons")) {
    const Json& reasons = j["category_reasons"];
    if (!reasons.is_object() || reasons.size() > 16) {
      return Status::InvalidInput("category_reasons: expected an object of at most 16 category: reason pairs");
    }
    for (const auto& [category, reason] : reasons.items()) {
      if (category.size() > 32 || !IsPrintableUtf8(category)) {
        return Status::InvalidInput("category_reasons: a key is not a category name");
      }
      if (!reason.is_string()) return Status::InvalidInput("category_reasons." + category + ": expected a string");
      const std::string& text = reason.get_ref<const std::string&>();
      SCHAKEL_RETURN_IF_ERROR(CheckCategoryReason(category, text));
      r.category_reasons.emplace(category, text);
    }
  }
  return r;
}

Result<LinkRequest> ParseLinkRequest(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kShareBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(
      f.OnlyKeys({"case_id", "for", "type", "purpose", "categories", "expires_days", "allow_partial"}));
  LinkRequest r;
  SCHAKEL_ASSIGN_OR_RETURN(r.case_id, f.String("case_id", 128));
  SCHAKEL_ASSIGN_OR_RETURN(r.for_name, f.String("for", 200));
  SCHAKEL_ASSIGN_OR_RETURN(r.org_type, f.String("type", 32));
  SCHAKEL_ASSIGN_OR_RETURN(r.purpose, f.String("purpose", 64));
  if (j.contains("categories")) {
    SCHAKEL_ASSIGN_OR_RETURN(r.categories, f.StringList("categories", 16, 32));
  }
  if (j.contains("expires_days")) {
    SCHAKEL_ASSIGN_OR_RETURN(long long days, f.Integer("expires_days", 1, kMaxLinkDays));
    r.expires_days = static_cast<int>(days);
  }
  SCHAKEL_ASSIGN_OR_RETURN(r.allow_partial, OptBool(j, "allow_partial"));
  return r;
}

Result<ConsentRequestBody> ParseConsentRequestBody(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kShareBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(
      f.OnlyKeys({"student", "recipients", "purposes", "categories", "valid_until", "answer_days"}));
  ConsentRequestBody r;
  SCHAKEL_ASSIGN_OR_RETURN(r.student, f.String("student", 128));
  SCHAKEL_ASSIGN_OR_RETURN(r.recipients, f.StringList("recipients", 10, 64));
  SCHAKEL_ASSIGN_OR_RETURN(r.purposes, f.StringList("purposes", 5, 64));
  SCHAKEL_ASSIGN_OR_RETURN(r.categories, f.StringList("categories", 16, 32));
  SCHAKEL_ASSIGN_OR_RETURN(r.valid_until, f.String("valid_until", 10));
  if (j.contains("answer_days")) {
    SCHAKEL_ASSIGN_OR_RETURN(long long days, f.Integer("answer_days", 1, kMaxAnswerDays));
    r.answer_days = static_cast<int>(days);
  }
  return r;
}

Result<InzageLinkBody> ParseInzageLinkBody(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kSmallBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"student", "for", "days"}));
  InzageLinkBody r;
  SCHAKEL_ASSIGN_OR_RETURN(r.student, f.String("student", 128));
  SCHAKEL_ASSIGN_OR_RETURN(r.for_role, f.String("for", 16));
  if (j.contains("days")) {
    SCHAKEL_ASSIGN_OR_RETURN(long long days, f.Integer("days", 1, kMaxInzageDays));
    r.days = static_cast<int>(days);
  }
  return r;
}

Result<StudentChangeRequest> ParseStudentChange(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kSmallBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"name", "birth_date", "guardians"}));
  StudentChangeRequest r;
  SCHAKEL_ASSIGN_OR_RETURN(r.name, f.OptString("name", 200));
  SCHAKEL_ASSIGN_OR_RETURN(r.birth_date, f.OptDate("birth_date"));
  if (j.contains("guardians")) {
    SCHAKEL_ASSIGN_OR_RETURN(const Json* list, f.Array("guardians", 4));
    std::vector<GuardianField> guardians;
    for (size_t k = 0; k < list->size(); ++k) {
      const Json& g = (*list)[k];
      if (!g.is_object()) return Status::InvalidInput("guardians[" + std::to_string(k) + "]: expected an object");
      Fields gf(g, "guardians[" + std::to_string(k) + "]");
      SCHAKEL_RETURN_IF_ERROR(gf.OnlyKeys({"name", "authority"}));
      GuardianField out;
      SCHAKEL_ASSIGN_OR_RETURN(out.name, gf.String("name", 200));
      if (out.name.empty()) return Status::InvalidInput(gf.PathOf("name") + ": must not be empty");
      SCHAKEL_ASSIGN_OR_RETURN(out.authority, OptBool(g, "authority"));
      guardians.push_back(std::move(out));
    }
    r.guardians = std::move(guardians);
  }
  if (!r.name && !r.birth_date && !r.guardians) {
    return Status::InvalidInput("request body: give name, birth_date or guardians");
  }
  return r;
}

Result<std::string> ParseRosterUpload(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, JsonLimits{kMaxRosterBody, 2}));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"csv"}));
  SCHAKEL_ASSIGN_OR_RETURN(std::string csv, f.String("csv", kMaxRosterBody));
  if (csv.empty()) return Status::InvalidInput("csv: must not be empty");
  return csv;
}

Result<InboxRouteRequest> ParseInboxRoute(std::string_view body) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kSmallBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({"sender", "student", "user"}));
  InboxRouteRequest r;
  SCHAKEL_ASSIGN_OR_RETURN(r.sender, f.String("sender", 64));
  SCHAKEL_ASSIGN_OR_RETURN(r.student, f.String("student", 128));
  SCHAKEL_ASSIGN_OR_RETURN(r.user, f.String("user", 128));
  return r;
}

Result<std::string> ParseSingleStringField(std::string_view body, const std::string& key, size_t max_bytes) {
  SCHAKEL_ASSIGN_OR_RETURN(Json j, ParseObject(body, kSmallBodyLimits));
  Fields f(j, "");
  SCHAKEL_RETURN_IF_ERROR(f.OnlyKeys({key}));
  SCHAKEL_ASSIGN_OR_RETURN(std::string value, f.String(key, max_bytes));
  if (value.empty()) return Status::InvalidInput(key + ": must not be empty");
  return value;
}

}  // namespace schakel::formats
