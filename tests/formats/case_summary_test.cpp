#include "schakel/formats/case_summary.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace schakel::formats {
namespace {

std::string Fixture(const std::string& name) {
  std::string text = testing::ReadAll(std::string(SCHAKEL_FIXTURES_DIR) + "/cases/" + name);
  EXPECT_FALSE(text.empty()) << "missing fixture " << name;
  return text;
}

TEST(CaseSummary, ParsesEveryFixture) {
  for (const char* name : {"sanne.json", "noor.json", "daan.json"}) {
    auto s = ParseCaseSummary(Fixture(name), /*require_case_id=*/true);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().message();
    EXPECT_FALSE(s->student_id.empty());
    EXPECT_FALSE(s->Present().Empty());
  }
}

TEST(CaseSummary, ProjectionKeepsOnlyAllowedCategoriesAndMetadata) {
  auto s = ParseCaseSummary(Fixture("sanne.json"), true);
  ASSERT_TRUE(s.ok());
  consent::CategorySet allowed;
  allowed.Add(consent::Category::kIdentificatie);
  allowed.Add(consent::Category::kHulpvraag);
  auto projected = nlohmann::json::parse(Project(*s, allowed));
  EXPECT_TRUE(projected.contains("identificatie"));
  EXPECT_TRUE(projected.contains("hulpvraag"));
  EXPECT_EQ(projected["student_id"], s->student_id);
  EXPECT_EQ(projected["birth_date"], s->document["birth_date"]);
  for (const char* gone :
       {"bsn", "gezinssituatie", "gezondheid", "verzuim", "contact", "onderwijs", "afspraken", "justitie"}) {
    EXPECT_FALSE(projected.contains(gone)) << gone;
  }
  // Text of a withheld category does not appear anywhere in the projection.
  std::string text = Project(*s, allowed);
  EXPECT_EQ(text.find("Slaapproblemen"), std::string::npos);
  EXPECT_EQ(text.find("111222333"), std::string::npos);
}

// Found by the case_summary fuzz target: a summary without a case id was
// projected with "case_id": "", which does not parse.
TEST(CaseSummary, ASummaryWithoutACaseIdProjectsToOneThatParsesAgain) {
  auto s = ParseCaseSummary(
      R"({"verzuim": "casus-2026-0042", "student_id": "stu-1042", "birth_date": "2012-05-01",
          "identificatie": "ne weer met plezier"})",
      /*require_case_id=*/false);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->case_id.empty());
  std::string projected = Project(*s, s->Present());
  EXPECT_EQ(nlohmann::json::parse(projected).count("case_id"), 0U) << projected;
  auto again = ParseCaseSummary(projected, /*require_case_id=*/false);
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << projected;
  EXPECT_EQ(again->document, s->document);
}

TEST(CaseSummary, Elfproef) {
  EXPECT_TRUE(IsValidBsn("111222333"));
  EXPECT_TRUE(IsValidBsn("123456782"));
  EXPECT_FALSE(IsValidBsn("123456789"));
  EXPECT_FALSE(IsValidBsn("000000000"));
  EXPECT_FALSE(IsValidBsn("11122233"));
  EXPECT_FALSE(IsValidBsn("11122233a"));
}

TEST(CaseSummary, ErrorsNameTheField) {
  struct Bad {
    std::string json;
    std::string want;
  };
  const std::vector<Bad> cases = {
      {R"({"case_id":"c1","student_id":"s1","birth_date":"2010-05-01","bsn":"123456789"})", "bsn: not a valid BSN"},
      {R"({"case_id":"c1","student_id":"s1","birth_date":"2010-02-30"})", "birth_date: not a calendar date"},
      {R"({"case_id":"c1","student_id":"s1"})", "birth_date: missing"},
      {R"({"case_id":"c1","student_id":"s 1","birth_date":"2010-05-01"})", "student_id: use 1 to 128"},
      {R"({"case_id":"c1","student_id":"s1","birth_date":"2010-05-01","gezondheid_notes":"x"})",
       "gezondheid_notes: unknown field"},
      {R"({"case_id":"c1","student_id":"s1","birth_date":"2010-05-01","hulpvraag":5})",
       "hulpvraag: expected an object"},
      {R"({"student_id":"s1","birth_date":"2010-05-01"})", "case_id: missing"},
      {R"([1,2])", "expected a JSON object"},
  };
  for (const auto& b : cases) {
    auto s = ParseCaseSummary(b.json, true);
    ASSERT_FALSE(s.ok()) << b.json;
    EXPECT_NE(s.status().message().find(b.want), std::string::npos) << b.json << " -> " << s.status().message();
  }
  // Without require_case_id the node assigns one.
  EXPECT_TRUE(ParseCaseSummary(R"({"student_id":"s1","birth_date":"2010-05-01"})", false).ok());
}

TEST(CaseSummary, RefusesOversizeDocuments) {
  std::string big = R"({"case_id":"c1","student_id":"s1","birth_date":"2010-05-01","hulpvraag":{"notes":")" +
                    std::string(kMaxCaseSummaryBytes, 'x') + "\"}}";
  auto s = ParseCaseSummary(big, true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("larger than"), std::string::npos);
}

}  // namespace
}  // namespace schakel::formats
