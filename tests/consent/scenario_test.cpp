// Scenario and consent JSON: every bad input names its field; the decision
// document has the contract's shape.
#include <string>

#include <gtest/gtest.h>

#include "consent_test_util.h"
#include "schakel/formats/consent_json.h"
#include "schakel/formats/scenario.h"

namespace schakel::formats {
namespace {

using consent::testing::T;

Json BaseScenario() {
  return Json::parse(R"({
    "now": "2026-11-23T10:00:00Z",
    "subject": {"id": "stu-1", "birth_date": "2010-05-01"},
    "sender": {"org_id": "school-trajectum", "org_type": "school"},
    "recipient": {"org_id": "wijkteam-overvecht", "org_type": "wijkteam"},
    "purpose": "doorverwijzing",
    "categories": ["identificatie", "hulpvraag", "gezinssituatie"],
    "consents": [
      {"id": "c1", "subject_id": "stu-1", "grantor_role": "jongere",
       "purposes": ["doorverwijzing"], "recipients": ["wijkteam"],
       "categories": ["identificatie", "hulpvraag", "gezinssituatie"],
       "valid_from": "2026-09-01", "valid_until": "2027-07-31", "withdrawn_at": null},
      {"id": "c2", "subject_id": "stu-1", "grantor_role": "ouder",
       "purposes": ["doorverwijzing"], "recipients": ["wijkteam-overvecht"],
       "categories": ["identificatie"],
       "valid_from": "2026-09-01", "valid_until": null}
    ],
    "override": null
  })");
}

TEST(ParseScenario, ReadsTheContractExample) {
  auto r = ParseScenario(BaseScenario().dump());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->now, T("2026-11-23T10:00:00Z"));
  EXPECT_EQ(r->subject_id, "stu-1");
  EXPECT_EQ(FormatDate(r->birth_date), "2010-05-01");
  EXPECT_EQ(r->sender.org_id, "school-trajectum");
  EXPECT_EQ(r->sender.org_type, consent::OrgType::kSchool);
  EXPECT_EQ(r->recipient.org_type, consent::OrgType::kWijkteam);
  EXPECT_EQ(r->purpose, "doorverwijzing");
  ASSERT_EQ(r->categories.size(), 3u);
  EXPECT_EQ(r->categories[1], consent::Category::kHulpvraag);
  ASSERT_EQ(r->consents.size(), 2u);
  EXPECT_EQ(r->consents[0].grantor_role, consent::GrantorRole::kJongere);
  EXPECT_EQ(FormatDate(*r->consents[0].valid_until), "2027-07-31");
  EXPECT_FALSE(r->consents[1].valid_until.has_value());
  EXPECT_FALSE(r->consents[1].withdrawn_at.has_value());
  EXPECT_FALSE(r->override.has_value());
}

TEST(ParseScenario, OptionalPartsMayBeAbsentAndOverrideIsRead) {
  Json j = BaseScenario();
  j.erase("consents");
  j["override"] = {{"requested_by", "u1"}, {"approved_by", "u2"}, {"justification", "Signalen.\nStap 5."}};
  j["now"] = "2026-11-23T11:00:00.250+01:00";
  auto r = ParseScenario(j.dump());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->consents.empty());
  ASSERT_TRUE(r->override.has_value());
  EXPECT_EQ(r->override->approved_by, "u2");
  EXPECT_EQ(r->now, T("2026-11-23T10:00:00.250Z"));
}

TEST(ParseScenario, UnknownPurposeIsNotAParseError) {
  Json j = BaseScenario();
  j["purpose"] = "Marketing campagne";
  EXPECT_TRUE(ParseScenario(j.dump()).ok());
}

struct BadCase {
  const char* name;
  std::function<void(Json&)> mutate;
  const char* message_prefix;
};

class BadScenario : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadScenario, NamesTheField) {
  Json j = BaseScenario();
  GetParam().mutate(j);
  auto r = ParseScenario(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  EXPECT_EQ(r.status().message().rfind(GetParam().message_prefix, 0), 0u) << "got: " << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadScenario,
    ::testing::Values(
        BadCase{"root_not_object", [](Json& j) { j = Json::array(); }, "input: expected an object"},
        BadCase{"unknown_top_key", [](Json& j) { j["comment"] = "x"; }, "comment: unknown field"},
        BadCase{"now_missing", [](Json& j) { j.erase("now"); }, "now: missing"},
        BadCase{"now_without_zone", [](Json& j) { j["now"] = "2026-11-23T10:00:00"; },
                "now: instant has no zone"},
        BadCase{"now_a_date", [](Json& j) { j["now"] = "2026-11-23"; }, "now: expected"},
        BadCase{"now_a_number", [](Json& j) { j["now"] = 1700000000; },
                "now: expected a string"},
        BadCase{"subject_missing", [](Json& j) { j.erase("subject"); }, "subject: missing"},
        BadCase{"subject_id_bad", [](Json& j) { j["subject"]["id"] = "stu 1"; }, "subject.id:"},
        BadCase{"birth_date_bad", [](Json& j) { j["subject"]["birth_date"] = "2010-5-1"; },
                "subject.birth_date: expected a date YYYY-MM-DD"},
        BadCase{"birth_date_not_a_day", [](Json& j) { j["subject"]["birth_date"] = "2010-02-30"; },
                "subject.birth_date: not a calendar date"},
        BadCase{"subject_extra", [](Json& j) { j["subject"]["name"] = "Sanne"; },
                "subject.name: unknown field"},
        BadCase{"sender_org_type", [](Json& j) { j["sender"]["org_type"] = "universiteit"; },
                "sender.org_type: unknown org type \"universiteit\""},
        BadCase{"recipient_org_id", [](Json& j) { j["recipient"]["org_id"] = "WT"; },
                "recipient.org_id: expected an org id"},
        BadCase{"recipient_missing", [](Json& j) { j.erase("recipient"); },
                "recipient: missing"},
        BadCase{"purpose_missing", [](Json& j) { j.erase("purpose"); }, "purpose: missing"},
        BadCase{"purpose_long", [](Json& j) { j["purpose"] = std::string(65, 'a'); },
                "purpose: longer than 64"},
        BadCase{"purpose_empty", [](Json& j) { j["purpose"] = ""; }, "purpose: expected"},
        BadCase{"category_unknown",
                [](Json& j) { j["categories"] = {"identificatie", "gezondhied"}; },
                "categories[1]: unknown category \"gezondhied\""},
        BadCase{"categories_empty", [](Json& j) { j["categories"] = Json::array(); },
                "categories: names no category"},
        BadCase{"categories_string", [](Json& j) { j["categories"] = "identificatie"; },
                "categories: expected an array"},
        BadCase{"categories_number", [](Json& j) { j["categories"] = {"bsn", 3}; },
                "categories[1]: expected a string"},
        BadCase{"consents_object", [](Json& j) { j["consents"] = Json::object(); },
                "consents: expected an array"},
        BadCase{"consent_valid_from",
                [](Json& j) { j["consents"][1]["valid_from"] = "2026-13-01"; },
                "consents[1].valid_from: not a calendar date"},
        BadCase{"consent_valid_from_shape",
                [](Json& j) { j["consents"][1]["valid_from"] = "01-09-2026"; },
                "consents[1].valid_from: expected a date YYYY-MM-DD"},
        BadCase{"consent_valid_until",
                [](Json& j) { j["consents"][0]["valid_until"] = "next year"; },
                "consents[0].valid_until: expected a date YYYY-MM-DD"},
        BadCase{"consent_withdrawn_date_only",
                [](Json& j) { j["consents"][0]["withdrawn_at"] = "2026-11-20"; },
                "consents[0].withdrawn_at: expected"},
        BadCase{"consent_withdrawn_no_zone",
                [](Json& j) { j["consents"][0]["withdrawn_at"] = "2026-11-20T09:00:00"; },
                "consents[0].withdrawn_at: instant has no zone"},
        BadCase{"consent_role", [](Json& j) { j["consents"][0]["grantor_role"] = "vader"; },
                "consents[0].grantor_role: unknown grantor role \"vader\""},
        BadCase{"consent_category",
                [](Json& j) { j["consents"][1]["categories"] = {"identificatie", "dna"}; },
                "consents[1].categories[1]: unknown category \"dna\""},
        BadCase{"consent_no_categories",
                [](Json& j) { j["consents"][1]["categories"] = Json::array(); },
                "consents[1].categories: names no category"},
        BadCase{"consent_recipient",
                [](Json& j) { j["consents"][0]["recipients"] = {"wijkteam", "Wijk Team"}; },
                "consents[0].recipients[1]: expected an org id"},
        BadCase{"consent_no_recipients",
                [](Json& j) { j["consents"][0]["recipients"] = Json::array(); },
                "consents[0].recipients: names no recipient"},
        BadCase{"consent_purposes_empty",
                [](Json& j) { j["consents"][0]["purposes"] = Json::array(); },
                "consents[0].purposes: names no purpose"},
        BadCase{"consent_purpose_bad",
                [](Json& j) { j["consents"][0]["purposes"] = {"Door verwijzing"}; },
                "consents[0].purposes[0]: expected a purpose name"},
        BadCase{"consent_id_missing", [](Json& j) { j["consents"][1].erase("id"); },
                "consents[1].id: missing"},
        BadCase{"consent_subject_missing", [](Json& j) { j["consents"][0].erase("subject_id"); },
                "consents[0].subject_id: missing"},
        BadCase{"consent_typo_key",
                [](Json& j) { j["consents"][0]["valid_untill"] = "2027-01-01"; },
                "consents[0].valid_untill: unknown field"},
        BadCase{"consent_not_object", [](Json& j) { j["consents"][1] = "c2"; },
                "consents[1]: expected an object"},
        BadCase{"override_string", [](Json& j) { j["override"] = "yes"; },
                "override: expected an object or null"},
        BadCase{"override_field_missing",
                [](Json& j) {
                  j["override"] = {{"requested_by", "u1"}, {"justification", "x"}};
                },
                "override.approved_by: missing"},
        BadCase{"override_control_chars",
                [](Json& j) {
                  j["override"] = {{"requested_by", "u1\u0007"},
                                   {"approved_by", "u2"},
                                   {"justification", "x"}};
                },
                "override.requested_by: contains control characters"},
        BadCase{"too_many_consents",
                [](Json& j) {
                  Json one = j["consents"][0];
                  j["consents"] = Json::array();
                  for (int i = 0; i < 1001; ++i) j["consents"].push_back(one);
                },
                "consents: more than 1000 items"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ParseScenario, MalformedAndOversizedInput) {
  for (const char* text : {"", "{", "{\"now\": }", "[1,2", "{} {}"}) {
    auto r = ParseScenario(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput);
    EXPECT_NE(r.status().message().find("malformed JSON"), std::string::npos) << r.status().message();
  }
  auto dup = ParseScenario(R"({"purpose": "a", "purpose": "b"})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate key \"purpose\""), std::string::npos);

  Json j = BaseScenario();
  j["purpose"] = std::string(kMaxScenarioBytes, 'x');
  auto big = ParseScenario(j.dump());
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("larger than"), std::string::npos);

  std::string deep(100, '[');
  EXPECT_FALSE(ParseScenario(deep).ok());
}

TEST(ParseScenario, AThousandConsentsAreFine) {
  Json j = BaseScenario();
  Json one = j["consents"][0];
  j["consents"] = Json::array();
  for (int i = 0; i < 1000; ++i) {
    one["id"] = "c" + std::to_string(i);
    j["consents"].push_back(one);
  }
  auto r = ParseScenario(j.dump());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->consents.size(), 1000u);
}

// ---- Consents on their own (consent add) -------------------------------------

TEST(ConsentJson, IdIsOptionalUnlessRequired) {
  Json c = BaseScenario()["consents"][0];
  c.erase("id");
  auto without = ParseConsent(c.dump(), /*require_id=*/false);
  ASSERT_TRUE(without.ok()) << without.status().message();
  EXPECT_TRUE(without->id.empty());
  auto required = ParseConsent(c.dump(), /*require_id=*/true);
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.status().message(), "id: missing");
  c["id"] = "bad id";
  auto bad = ParseConsent(c.dump(), false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("id: expected an id", 0), 0u);
}

TEST(ConsentJson, RoundTrip) {
  consent::Consent c;
  c.id = "c-9";
  c.subject_id = "stu-1";
  c.grantor_role = consent::GrantorRole::kJongere;
  c.purposes = {"kernteamoverleg", "doorverwijzing"};
  c.recipients = {"ggd", "wijkteam-overvecht"};
  c.categories.Add(consent::Category::kGezondheid);
  c.categories.Add(consent::Category::kAfspraken);
  c.valid_from = consent::testing::D("2026-09-01");
  c.withdrawn_at = T("2026-12-01T08:30:00.125Z");
  Json j = ConsentToJsonValue(c);
  EXPECT_TRUE(j["valid_until"].is_null());
  EXPECT_EQ(j["categories"], Json({"afspraken", "gezondheid"}));
  auto back = ParseConsentJson(j, "", true);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back.value(), c);
  c.id.clear();
  EXPECT_FALSE(ConsentToJsonValue(c).contains("id"));
}

// ---- Decision output ------------------------------------------------------

TEST(DecisionJson, PermitShapeAndOrder) {
  consent::Decision d;
  d.permit = true;
  d.legal_basis = consent::LegalBasis::kConsent;
  d.legal_source = "AVG";
  d.categories.Add(consent::Category::kIdentificatie);
  d.categories.Add(consent::Category::kHulpvraag);
  d.categories.Add(consent::Category::kAfspraken);
  d.withheld.Add(consent::Category::kGezinssituatie);
  d.consents_used = {"c2", "c1"};
  d.reasons.push_back({"category_not_consented", "gezinssituatie is withheld", consent::Category::kGezinssituatie});
  const std::string text = DecisionToJson(d);
  EXPECT_EQ(text.find("\"decision\""), text.find('"'));  // "decision" comes first
  auto j = ParseJsonLimited(text);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["decision"], "permit");
  EXPECT_EQ((*j)["legal_basis"], "consent");
  EXPECT_EQ((*j)["categories"], Json({"afspraken", "hulpvraag", "identificatie"}));
  EXPECT_EQ((*j)["withheld"], Json({"gezinssituatie"}));
  EXPECT_EQ((*j)["consents_used"], Json({"c1", "c2"}));
  EXPECT_EQ((*j)["reasons"][0]["code"], "category_not_consented");
  EXPECT_EQ((*j)["reasons"][0]["category"], "gezinssituatie");
  EXPECT_EQ(DecisionToJsonValue(d), *j);
}

TEST(DecisionJson, DenyHasNullLegalBasis) {
  consent::Decision d;
  d.withheld.Add(consent::Category::kBsn);
  d.reasons.push_back({"no_flow", "no flow", std::nullopt});
  auto j = ParseJsonLimited(DecisionToJson(d));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["decision"], "deny");
  EXPECT_TRUE((*j)["legal_basis"].is_null());
  EXPECT_TRUE((*j)["legal_source"].is_null());
  EXPECT_EQ((*j)["categories"], Json::array());
  EXPECT_EQ((*j)["consents_used"], Json::array());
  EXPECT_EQ((*j)["withheld"], Json({"bsn"}));
  EXPECT_FALSE((*j)["reasons"][0].contains("category"));
}

TEST(DecisionJson, NeverThrowsOnBadBytes) {
  consent::Decision d;
  d.reasons.push_back({"x", std::string("bad \xff byte"), std::nullopt});
  EXPECT_NE(DecisionToJson(d).find("bad "), std::string::npos);
}

}  // namespace
}  // namespace schakel::formats
