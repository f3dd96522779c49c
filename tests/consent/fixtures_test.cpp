// Every scenario of tests/fixtures/consent-scenarios.json, compared as
// tests/fixtures/README.md says: decision, legal_basis, categories, withheld
// and consents_used equal; every expected reason code present.
#include <algorithm>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "schakel/base/file.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"
#include "schakel/formats/json.h"
#include "schakel/formats/scenario.h"

namespace schakel {
namespace {

using formats::Json;

const char* kFixtures = SCHAKEL_FIXTURES_DIR "/consent-scenarios.json";

Json LoadFixtures() {
  auto text = ReadFileLimited(kFixtures, 8 << 20);
  if (!text.ok()) {
    ADD_FAILURE() << "cannot read the fixtures " << kFixtures << ": " << text.status().message();
    return Json::array();
  }
  auto doc = formats::ParseJsonLimited(text.value(), {8 << 20, 32});
  if (!doc.ok()) {
    ADD_FAILURE() << kFixtures << ": " << doc.status().message();
    return Json::array();
  }
  return doc.value();
}

void ExpectMatches(const Json& expect, const Json& got, const std::string& name) {
  for (const char* key : {"decision", "legal_basis", "categories", "withheld", "consents_used"}) {
    EXPECT_EQ(expect.at(key), got.at(key)) << name << ": field " << key << "\n" << got.dump(2);
  }
  std::set<std::string> codes;
  for (const auto& r : got.at("reasons")) codes.insert(r.at("code").get<std::string>());
  for (const auto& code : expect.at("reason_codes")) {
    EXPECT_TRUE(codes.count(code.get<std::string>())) << name << ": reason " << code << " missing\n" << got.dump(2);
  }
}

TEST(ConsentFixtures, FileIsThereAndHasScenarios) {
  Json all = LoadFixtures();
  ASSERT_TRUE(all.is_array());
  EXPECT_GE(all.size(), 10u) << "the fixture file " << kFixtures << " looks truncated";
}

TEST(ConsentFixtures, EveryScenarioGivesTheExpectedDecision) {
  Json all = LoadFixtures();
  ASSERT_FALSE(all.empty()) << "no scenarios in " << kFixtures;
  for (const auto& sc : all) {
    const std::string name = sc.at("name").get<std::string>();
    SCOPED_TRACE(name);
    // Through the text form, as `schakel policy eval` reads it.
    auto req = formats::ParseScenario(sc.at("input").dump());
    ASSERT_TRUE(req.ok()) << req.status().message();
    consent::Decision d = consent::Decide(consent::DefaultProtocol(), req.value());
    auto printed = formats::ParseJsonLimited(formats::DecisionToJson(d));
    ASSERT_TRUE(printed.ok()) << printed.status().message();
    ExpectMatches(sc.at("expect"), printed.value(), name);
  }
}

TEST(ConsentFixtures, ConsentOrderDoesNotMatter) {
  Json all = LoadFixtures();
  std::mt19937 rng(20261123);
  for (const auto& sc : all) {
    SCOPED_TRACE(sc.at("name").get<std::string>());
    auto req = formats::ParseScenarioJson(sc.at("input"));
    ASSERT_TRUE(req.ok()) << req.status().message();
    std::string first = formats::DecisionToJson(consent::Decide(consent::DefaultProtocol(), *req));
    for (int i = 0; i < 5; ++i) {
      consent::Request shuffled = req.value();
      std::shuffle(shuffled.consents.begin(), shuffled.consents.end(), rng);
      std::shuffle(shuffled.categories.begin(), shuffled.categories.end(), rng);
      EXPECT_EQ(first, formats::DecisionToJson(consent::Decide(consent::DefaultProtocol(), shuffled)));
    }
  }
}

}  // namespace
}  // namespace schakel
