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

// The parser's edges, each as nlohmann::json's own parser decides them
// (tests/fuzz/json_fuzz.cpp compares the two on every input), apart from
// the NUL byte and the empty key twice, which nlohmann lets through.
TEST(ParseJsonLimited, DecidesTheEdgesOfTheGrammarAsNlohmannDoes) {
  auto ok = [](std::string_view text) {
    auto j = ParseJsonLimited(text);
    return j.ok() ? j->dump() : "refused: " + j.status().message();
  };
  // Strings: escapes, paired surrogates, UTF-8 by RFC 3629, DEL allowed,
  // control characters not.
  EXPECT_EQ(ok(R"(["a\"\\\/\b\f\n\r\t"])"), R"(["a\"\\/\b\f\n\r\t"])");
  EXPECT_EQ(ok(R"("\u00e9\u20AC\ud83d\ude00")"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  EXPECT_EQ(ok("\"caf\xc3\xa9 \x7f\""), "\"caf\xc3\xa9 \x7f\"");
  EXPECT_EQ(ok(R"("\u0000")"), R"("\u0000")");
  for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83d\u0041")", R"("\x")", R"("\u12")", "\"a\tb\"",
                          "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"abc"}) {
    EXPECT_FALSE(ParseJsonLimited(bad).ok()) << bad;
  }
  // Numbers: 64-bit integers stay integers, the rest are doubles; too large
  // for a double is refused, too small is zero.
  EXPECT_EQ(ok("[0, -0, 18446744073709551615, -9223372036854775808]"),
            "[0,0,18446744073709551615,-9223372036854775808]");
  EXPECT_EQ(ok("[18446744073709551616, 1.5, 2e3, -1E-2]"), "[1.8446744073709552e+19,1.5,2000.0,-0.01]");
  EXPECT_EQ(ok("1e-400"), "0.0");
  EXPECT_EQ(ok("1e400").rfind("refused: malformed JSON", 0), 0u);
  for (const char* bad :
       {"01",         "1.",    ".5",        "-",     "+1",  "1e",  "1e+", "0x10", "NaN", "Infinity", "[1,]",
        "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{1:2}", "tru", "nul", "[",   "]",    "{}}", "  "}) {
    EXPECT_FALSE(ParseJsonLimited(bad).ok()) << bad;
  }
  // Any value at the top, whitespace around it, a byte order mark before it.
  EXPECT_EQ(ok(" \t\r\n true \n"), "true");
  EXPECT_EQ(ok("\xef\xbb\xbf{\"a\":null}"), R"({"a":null})");
  EXPECT_FALSE(ParseJsonLimited("\xef\xbb{}").ok());
  // Refused here, let through by nlohmann: what follows a NUL byte, and the
  // empty key twice.
  EXPECT_EQ(ok(std::string_view("{}\0{\"x\"", 7)).rfind("refused: malformed JSON", 0), 0u);
  EXPECT_EQ(ok(R"({"": 1, "": 2})"), "refused: duplicate key \"\"");
  // Deep nesting inside the limit parses; the first duplicate is named.
  EXPECT_EQ(ok(std::string(32, '[') + std::string(32, ']')), std::string(32, '[') + std::string(32, ']'));
  EXPECT_EQ(ok(R"({"a": {"b": 1, "b": 2}, "a": 3})"), "refused: duplicate key \"b\"");
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
