// Form bodies, percent-decoding and Cookie headers: the limits and refusals.
#include "schakel/formats/form.h"

#include <gtest/gtest.h>

namespace schakel::formats {
namespace {

TEST(PercentDecode, DecodesAndRefusesBadEscapes) {
  EXPECT_EQ(PercentDecode("a%3Ab+c").value(), "a:b c");
  EXPECT_EQ(PercentDecode("%C3%A9").value(), "\xC3\xA9");
  EXPECT_EQ(PercentDecode("").value(), "");
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("%4").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  EXPECT_FALSE(PercentDecode("%00").has_value());  // NUL
  EXPECT_FALSE(PercentDecode("%0A").has_value());  // newline
  EXPECT_FALSE(PercentDecode("%C3").has_value());  // truncated UTF-8
  EXPECT_FALSE(PercentDecode("%FF").has_value());
}

TEST(ParseForm, ParsesFields) {
  auto f = ParseForm("code=ABCDE-23456&submit=Openen&empty=&flag");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->size(), 4u);
  EXPECT_EQ(f->at("code"), "ABCDE-23456");
  EXPECT_EQ(f->at("submit"), "Openen");
  EXPECT_EQ(f->at("empty"), "");
  EXPECT_EQ(f->at("flag"), "");
  EXPECT_TRUE(ParseForm("")->empty());
  EXPECT_EQ(ParseForm("na%6De=J.+de+Vries")->at("name"), "J. de Vries");
}

void ExpectError(std::string_view body, const std::string& want, const FormLimits& limits = {}) {
  auto f = ParseForm(body, limits);
  ASSERT_FALSE(f.ok()) << body;
  EXPECT_EQ(f.status().code(), Code::kInvalidInput);
  EXPECT_NE(f.status().message().find(want), std::string::npos) << f.status().message();
}

TEST(ParseForm, RefusesDuplicatesAndMalformedPairs) {
  ExpectError("code=1&code=2", "\"code\": given more than once");
  ExpectError("code=1&co%64e=2", "\"code\": given more than once");
  ExpectError("a=1&&b=2", "empty field");
  ExpectError("a=1&", "empty field");
  ExpectError("=1", "has no name");
  ExpectError("code=%0D%0A", "\"code\": badly encoded or not printable");
  ExpectError("code=%G1", "\"code\": badly encoded");
  ExpectError("co%00de=1", "field name is badly encoded");
}

TEST(ParseForm, EnforcesLimits) {
  FormLimits small;
  small.max_body = 30;
  small.max_fields = 2;
  small.max_name = 4;
  small.max_value = 5;
  ExpectError(std::string(31, 'a'), "larger than 30 bytes", small);
  ExpectError("a=1&b=2&c=3", "more than 2 fields", small);
  ExpectError("abcde=1", "name is longer than 4", small);
  ExpectError("code=123456", "\"code\": longer than 5", small);
  ExpectError("code=%41%41%41%41%41%41", "\"code\": longer than 5", small);
  EXPECT_TRUE(ParseForm("code=12345", small).ok());
  EXPECT_TRUE(ParseForm("a=1&b=2", small).ok());
  // The defaults bound a large body too.
  ExpectError(std::string(17 * 1024, 'a'), "larger than");
}

TEST(ParseForm, LineBreaksOnlyInTheTextareasNamed) {
  FormLimits limits;
  limits.multiline = {"roster"};
  auto form = ParseForm("roster=a%2Cb%0D%0Ac%0Dd%0Ae&naam=x", limits);
  ASSERT_TRUE(form.ok()) << form.status().message();
  EXPECT_EQ(form->at("roster"), "a,b\nc\nd\ne");
  EXPECT_FALSE(ParseForm("naam=a%0Ab", limits).ok());    // not a textarea
  EXPECT_FALSE(ParseForm("roster=a%00b", limits).ok());  // other controls still refused
  EXPECT_FALSE(ParseForm("roster=a%1Bb", limits).ok());
  EXPECT_FALSE(ParseForm("roster=a%0", limits).ok());   // a bad escape
  EXPECT_FALSE(ParseForm("roster%0A=a", limits).ok());  // never in a name
}

TEST(ParseCookieHeader, ParsesAndLimits) {
  auto c = ParseCookieHeader("sid=abc123; theme=\"dark\";lang=nl ");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->at("sid"), "abc123");
  EXPECT_EQ(c->at("theme"), "dark");
  EXPECT_EQ(c->at("lang"), "nl");
  EXPECT_TRUE(ParseCookieHeader("")->empty());
  EXPECT_EQ(ParseCookieHeader("a=1; a=2")->at("a"), "1");  // first wins
  EXPECT_FALSE(ParseCookieHeader("novalue").ok());
  EXPECT_FALSE(ParseCookieHeader("=x").ok());
  EXPECT_FALSE(ParseCookieHeader("a b=1").ok());
  EXPECT_FALSE(ParseCookieHeader("a=x,y").ok());
  EXPECT_FALSE(ParseCookieHeader("a=\x01").ok());
  CookieLimits small;
  small.max_header = 30;
  small.max_cookies = 2;
  small.max_value = 3;
  EXPECT_FALSE(ParseCookieHeader(std::string(31, 'a'), small).ok());
  EXPECT_FALSE(ParseCookieHeader("a=1; b=2; c=3", small).ok());
  EXPECT_FALSE(ParseCookieHeader("a=1234", small).ok());
  EXPECT_TRUE(ParseCookieHeader("a=123; b=2", small).ok());
}

}  // namespace
}  // namespace schakel::formats
