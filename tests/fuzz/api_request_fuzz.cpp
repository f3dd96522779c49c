// formats::ParseRequestTarget, ParseShareRequest, ParseLinkRequest,
// ParseStudentChange, ParseRosterUpload, ParseInboxRoute and
// ParseSingleStringField, ParseConsentRequestBody, ParseInzageLinkBody (the local
// API's request target and bodies) on
// arbitrary bytes. Properties: a parsed target re-assembled from its parts
// parses to the same parts; a parsed share or link request serialised again
// parses to the same request.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "schakel/formats/api_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schakel::formats;
  const std::string_view text = schakel::fuzz::AsText(data, size);

  auto target = ParseRequestTarget(text);
  if (target.ok()) {
    FUZZ_CHECK(target->parts.size() <= kMaxTargetSegments);
    std::string path;
    for (const auto& p : target->parts) path += "/" + p;
    if (path.empty()) path = "/";
    auto again = ParseRequestTarget(path);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->parts == target->parts);
    FUZZ_CHECK(again->query.empty());
  }

  auto share = ParseShareRequest(text);
  if (share.ok()) {
    nlohmann::json j = {{"case_id", share->case_id},
                        {"to", share->to},
                        {"purpose", share->purpose},
                        {"categories", share->categories},
                        {"allow_partial", share->allow_partial},
                        {"dry_run", share->dry_run},
                        {"justification", share->justification}};
    auto again = ParseShareRequest(j.dump());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->case_id == share->case_id && again->to == share->to && again->purpose == share->purpose &&
               again->categories == share->categories && again->allow_partial == share->allow_partial &&
               again->dry_run == share->dry_run && again->justification == share->justification);
  }

  auto link = ParseLinkRequest(text);
  if (link.ok()) {
    FUZZ_CHECK(link->expires_days >= 1 && link->expires_days <= kMaxLinkDays);
    nlohmann::json j = {{"case_id", link->case_id},
                        {"for", link->for_name},
                        {"type", link->org_type},
                        {"purpose", link->purpose},
                        {"categories", link->categories},
                        {"expires_days", link->expires_days},
                        {"allow_partial", link->allow_partial}};
    auto again = ParseLinkRequest(j.dump());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->case_id == link->case_id && again->for_name == link->for_name &&
               again->org_type == link->org_type && again->purpose == link->purpose &&
               again->categories == link->categories && again->expires_days == link->expires_days &&
               again->allow_partial == link->allow_partial);
  }

  auto field = ParseSingleStringField(text, "user");
  if (field.ok()) FUZZ_CHECK(!field->empty() && field->size() <= 200);

  auto change = ParseStudentChange(text);
  if (change.ok()) {
    FUZZ_CHECK(change->name || change->birth_date || change->guardians);
    if (change->guardians) FUZZ_CHECK(change->guardians->size() <= 4);
  }
  auto roster = ParseRosterUpload(text);
  if (roster.ok()) FUZZ_CHECK(!roster->empty() && roster->size() <= kMaxRosterBody);
  auto asked = ParseConsentRequestBody(text);
  if (asked.ok()) {
    FUZZ_CHECK(asked->answer_days >= 1 && asked->answer_days <= kMaxAnswerDays);
    FUZZ_CHECK(asked->recipients.size() <= 10 && asked->purposes.size() <= 5 && asked->categories.size() <= 16);
    FUZZ_CHECK(asked->valid_until.size() <= 10);
  }
  auto inzage = ParseInzageLinkBody(text);
  if (inzage.ok()) FUZZ_CHECK(inzage->days >= 1 && inzage->days <= kMaxInzageDays && inzage->for_role.size() <= 16);
  auto route = ParseInboxRoute(text);
  if (route.ok()) FUZZ_CHECK(route->sender.size() <= 64 && route->student.size() <= 128 && route->user.size() <= 128);
  return 0;
}
