#include "schakel/formats/api_request.h"

#include <string>

#include <gtest/gtest.h>

namespace schakel::formats {
namespace {

TEST(ParseRequestTarget, SplitsPathAndQuery) {
  auto t = ParseRequestTarget("/v1/audit/entries?student=stu-1&since=2026-11-01T00%3A00%3A00Z");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->parts, (std::vector<std::string>{"v1", "audit", "entries"}));
  EXPECT_EQ(t->query.at("student"), "stu-1");
  EXPECT_EQ(t->query.at("since"), "2026-11-01T00:00:00Z");
}

TEST(ParseRequestTarget, SkipsEmptySegmentsAndAcceptsAnEmptyQuery) {
  auto t = ParseRequestTarget("//v1//cases/?");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->parts, (std::vector<std::string>{"v1", "cases"}));
  EXPECT_TRUE(t->query.empty());
  auto root = ParseRequestTarget("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->parts.empty());
}

TEST(ParseRequestTarget, RefusesWhatNoClientOfOursSends) {
  for (const char* bad : {"", "v1/cases", "/v1/cases/a%2Fb", "/v1/x?a=1&a=2", "/v1/x?=1", "/v1/x?a=%zz", "/v1/\x01"}) {
    auto t = ParseRequestTarget(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), Code::kInvalidInput) << bad;
  }
  EXPECT_FALSE(ParseRequestTarget("/" + std::string(kMaxRequestTarget, 'a')).ok());
  std::string deep;
  for (size_t i = 0; i <= kMaxTargetSegments; ++i) deep += "/s";
  auto t = ParseRequestTarget(deep);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("path segments"), std::string::npos);
}

TEST(ParseShareRequest, ReadsEveryField) {
  auto r = ParseShareRequest(R"({"case_id":"casus-1","to":"wijkteam-overvecht","purpose":"doorverwijzing",)"
                             R"("categories":["identificatie","hulpvraag"],"allow_partial":true,"dry_run":true,)"
                             R"("justification":null})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->case_id, "casus-1");
  EXPECT_EQ(r->to, "wijkteam-overvecht");
  EXPECT_EQ(r->purpose, "doorverwijzing");
  EXPECT_EQ(r->categories, (std::vector<std::string>{"identificatie", "hulpvraag"}));
  EXPECT_TRUE(r->allow_partial);
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(r->justification.empty());
}

TEST(ParseShareRequest, DefaultsAreTheCautiousOnes) {
  auto r = ParseShareRequest(R"({"case_id":"c","to":"x","purpose":"p"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->allow_partial);
  EXPECT_FALSE(r->dry_run);
  EXPECT_TRUE(r->categories.empty());
}

TEST(ParseShareRequest, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* names;
  };
  for (const Case& c : {Case{R"({"to":"x","purpose":"p"})", "case_id"},
                        Case{R"({"case_id":"c","to":"x","purpose":"p","dry_run":"yes"})", "dry_run"},
                        Case{R"({"case_id":"c","to":"x","purpose":"p","allow_partial":1})", "allow_partial"},
                        Case{R"({"case_id":"c","to":"x","purpose":"p","extra":1})", "extra"},
                        Case{R"({"case_id":"c","to":"x","purpose":7})", "purpose"}, Case{R"([1])", "object"}}) {
    auto r = ParseShareRequest(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput);
    EXPECT_NE(r.status().message().find(c.names), std::string::npos) << r.status().message();
  }
  std::string many = R"({"case_id":"c","to":"x","purpose":"p","categories":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + "\"onderwijs\"";
  EXPECT_FALSE(ParseShareRequest(many + "]}").ok());
}

TEST(ParseShareRequest, ReadsTheReasonPerCategoryOfAMeldcodeReport) {
  auto r = ParseShareRequest(R"({"case_id":"c","to":"vt","purpose":"meldcode","justification":"j",)"
                             R"("categories":["identificatie","gezinssituatie"],)"
                             R"("category_reasons":{"identificatie":"Wie het kind is.","gezinssituatie":"Stap 1."}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->category_reasons.size(), 2u);
  EXPECT_EQ(r->category_reasons.at("gezinssituatie"), "Stap 1.");
  for (const char* bad :
       {R"("category_reasons":[])", R"("category_reasons":{"identificatie":7})",
        R"("category_reasons":{"identificatie":""})", R"("category_reasons":{"identificatie":"two\nlines"})"}) {
    auto b = ParseShareRequest(std::string(R"({"case_id":"c","to":"vt","purpose":"meldcode",)") + bad + "}");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("category_reasons"), std::string::npos) << b.status().message();
  }
  std::string too_long = R"({"case_id":"c","to":"vt","purpose":"meldcode","category_reasons":{"bsn":")" +
                         std::string(kMaxCategoryReasonBytes + 1, 'x') + "\"}}";
  EXPECT_FALSE(ParseShareRequest(too_long).ok());
}

TEST(ParseLinkRequest, ReadsEveryFieldAndDefaultsTheExpiry) {
  auto r = ParseLinkRequest(
      R"j({"case_id":"casus-1","for":"dr. A. Jansen (jeugdarts)","type":"ggd","purpose":"doorverwijzing",)j"
      R"j("categories":["identificatie"],"expires_days":30,"allow_partial":true})j");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->for_name, "dr. A. Jansen (jeugdarts)");
  EXPECT_EQ(r->org_type, "ggd");
  EXPECT_EQ(r->categories, (std::vector<std::string>{"identificatie"}));
  EXPECT_EQ(r->expires_days, 30);
  EXPECT_TRUE(r->allow_partial);
  auto d = ParseLinkRequest(R"({"case_id":"c","for":"x","type":"ggd","purpose":"p"})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->expires_days, kDefaultLinkDays);
  EXPECT_FALSE(d->allow_partial);
}

TEST(ParseLinkRequest, ExpiryIsBoundedBeforeItBecomesAnInt) {
  // 2^32 + 7 would wrap to 7 in an int; it must be refused, as must 0 and 31.
  for (const char* days : {"0", "31", "-1", "4294967303", "1e3", "\"7\""}) {
    auto r = ParseLinkRequest(std::string(R"({"case_id":"c","for":"x","type":"ggd","purpose":"p","expires_days":)") +
                              days + "}");
    ASSERT_FALSE(r.ok()) << days;
    EXPECT_NE(r.status().message().find("expires_days"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(ParseLinkRequest(R"({"case_id":"c","for":"x","type":"ggd","purpose":"p","code":"x"})").ok());
}

TEST(ParseSingleStringField, OneNonEmptyStringOnly) {
  auto ok = ParseSingleStringField(R"({"user":"jan"})", "user");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "jan");
  EXPECT_FALSE(ParseSingleStringField(R"({"user":""})", "user").ok());
  EXPECT_FALSE(ParseSingleStringField(R"({"user":"jan","x":1})", "user").ok());
  EXPECT_FALSE(ParseSingleStringField(R"({"name":"jan"})", "user").ok());
  EXPECT_FALSE(ParseSingleStringField(R"("jan")", "user").ok());
  EXPECT_FALSE(ParseSingleStringField("{\"user\":\"" + std::string(201, 'a') + "\"}", "user").ok());
}

}  // namespace
}  // namespace schakel::formats
