#include "schakel/formats/json.h"

#include <gtest/gtest.h>

namespace schakel::formats {
namespace {

TEST(ParseJsonLimited, AcceptsOrdinaryJson) {
  auto j = ParseJsonLimited(R"({"a": [1, 2, {"b": "c"}], "d": null})");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)["a"][2]["b"], "c");
}

TEST(ParseJsonLimited, RefusesOversizeInput) {
  JsonLimits limits;
  limits.max_bytes = 10;
  auto j = ParseJsonLimited(R"({"a": "0123456789"})", limits);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("larger than 10 bytes"), std::string::npos);
}

TEST(ParseJsonLimited, RefusesDeepNestingBeforeParsing) {
  std::string deep(100000, '[');
  auto j = ParseJsonLimited(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  auto s = ParseJsonLimited("{\"a\": \"" + std::string(100, '[') + "\"}");
  EXPECT_TRUE(s.ok());
}

TEST(ParseJsonLimited, RefusesDuplicateKeysAndGarbage) {
  auto dup = ParseJsonLimited(R"({"categories": ["a"], "categories": ["b"]})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate key \"categories\""), std::string::npos);
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJsonLimited(R"([{"a": 1}, {"a": 2}])").ok());
  EXPECT_FALSE(ParseJsonLimited(R"({"a": 1} trailing)").ok());
  EXPECT_FALSE(ParseJsonLimited("{\"a\": \"\xff\"}").ok());
  EXPECT_FALSE(ParseJsonLimited("").ok());
  EXPECT_FALSE(ParseJsonLimited("{'a': 1}").ok());
}

TEST(Fields, NamesThePathOnErrors) {
  auto j = ParseJsonLimited(R"({"subject": {"id": 5, "birth_date": "2010-13-01"},
                                "list": ["a", 3], "when": "2026-11-23T10:00:00"})");
  ASSERT_TRUE(j.ok());
  Fields root(*j, "");
  auto subject = root.Object("subject");
  ASSERT_TRUE(subject.ok());
  Fields sub(**subject, "subject");
  EXPECT_EQ(sub.String("id").status().message(), "subject.id: expected a string");
  EXPECT_EQ(sub.DateField("birth_date").status().message(), "subject.birth_date: not a calendar date");
  EXPECT_EQ(sub.String("name").status().message(), "subject.name: missing");
  EXPECT_EQ(root.StringList("list").status().message(), "list[1]: expected a string");
  EXPECT_NE(root.InstantField("when").status().message().find("when: instant has no zone"), std::string::npos);
  EXPECT_EQ(root.OnlyKeys({"subject", "list"}).message(), "when: unknown field");
  EXPECT_TRUE(root.OptString("absent").value() == std::nullopt);
}

}  // namespace
}  // namespace schakel::formats
