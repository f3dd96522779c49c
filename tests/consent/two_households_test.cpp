// Two households (issue 17, item 4): `[consent] parents` decides how many
// parents must agree; parents are told apart by Consent::guardian; a
// withdrawal by one parent of a permission request makes the other parents'
// consents on that request fall too.
#include <string>

#include <gtest/gtest.h>

#include "consent_test_util.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"

namespace schakel::consent {
namespace {

using namespace testing;  // NOLINT

const CategorySet kThreeCategories = Cats({C::kIdentificatie, C::kHulpvraag, C::kGezinssituatie});

Protocol AllParents() {
  AgeRules ages;
  ages.parents = AgeRules::Parents::kAllWithAuthority;
  auto p = Protocol::Create(DefaultProtocol().flows(), ages);
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : Protocol();
}

Consent Parent(std::string id, std::string guardian, CategorySet cats = kThreeCategories, std::string request_id = "") {
  Consent c = MakeConsent(std::move(id), GrantorRole::kOuder, cats);
  c.guardian = std::move(guardian);
  c.request_id = std::move(request_id);
  return c;
}

TEST(TwoHouseholds, UnderOneParentRuleEitherParentIsEnough) {
  Request r = MakeRequest("2018-03-01");  // 8
  r.parents_with_authority = 2;
  r.consents = {Parent("c-moeder", "M. de Vries")};
  EXPECT_TRUE(Decide(DefaultProtocol(), r).permit);
}

TEST(TwoHouseholds, EveryParentWithAuthorityMustAgreeWhenTheProtocolSaysSo) {
  Request r = MakeRequest("2018-03-01");
  r.parents_with_authority = 2;
  r.consents = {Parent("c-moeder", "M. de Vries")};
  Decision one = Decide(AllParents(), r);
  ASSERT_FALSE(one.permit);
  ASSERT_TRUE(HasCode(one, kReasonMissingConsentOuder)) << Codes(one);
  EXPECT_NE(one.reasons[0].message.find("Only 1 of the 2 parents"), std::string::npos) << one.reasons[0].message;

  // A second consent of the same parent does not count twice.
  r.consents.push_back(Parent("c-moeder-2", "M. de Vries"));
  EXPECT_FALSE(Decide(AllParents(), r).permit);

  // The other parent agrees to two of the three: the share carries those two.
  r.consents.push_back(Parent("c-vader", "P. de Vries", Cats({C::kIdentificatie, C::kHulpvraag})));
  Decision both = Decide(AllParents(), r);
  ASSERT_TRUE(both.permit) << Codes(both);
  EXPECT_EQ(both.categories, Cats({C::kIdentificatie, C::kHulpvraag}));
  EXPECT_TRUE(HasCode(both, kReasonCategoryNotConsented)) << Codes(both);

  // With one parent with authority on record, that one is enough.
  r.parents_with_authority = 1;
  r.consents = {Parent("c-moeder", "M. de Vries")};
  EXPECT_TRUE(Decide(AllParents(), r).permit);
  r.parents_with_authority = 0;  // none recorded: still one parent
  EXPECT_TRUE(Decide(AllParents(), r).permit);
  r.consents.clear();
  EXPECT_FALSE(Decide(AllParents(), r).permit);
}

TEST(TwoHouseholds, WhenOneParentWithdrawsTheRequestsPermissionFalls) {
  Request r = MakeRequest("2018-03-01");
  r.parents_with_authority = 2;
  Consent moeder = Parent("c-moeder", "M. de Vries", kThreeCategories, "cr-1");
  Consent vader = Parent("c-vader", "P. de Vries", kThreeCategories, "cr-1");
  vader.withdrawn_at = T("2026-11-20T09:00:00Z");
  r.consents = {moeder, vader};
  // Under either rule: the mother's consent on the same request falls.
  for (const Protocol& p : {DefaultProtocol(), AllParents()}) {
    Decision d = Decide(p, r);
    EXPECT_FALSE(d.permit) << Codes(d);
    bool named = false;
    for (const auto& reason : d.reasons) {
      if (reason.code == kReasonConsentWithdrawn && reason.message.find("c-moeder") != std::string::npos &&
          reason.message.find("c-vader") != std::string::npos) {
        named = true;
      }
    }
    EXPECT_TRUE(named) << Codes(d);
  }
  // A consent given outside that request (typed in by a coordinator, or a
  // new request) is not touched.
  r.consents.push_back(Parent("c-later", "M. de Vries", kThreeCategories, "cr-2"));
  EXPECT_TRUE(Decide(DefaultProtocol(), r).permit);
  // The withdrawal counts only from its moment.
  r.consents = {moeder, vader};
  r.now = T("2026-11-19T09:00:00Z");
  EXPECT_TRUE(Decide(DefaultProtocol(), r).permit);
}

TEST(TwoHouseholds, TheYoungPersonsConsentsAreNotGroupedByParents) {
  Request r = MakeRequest("2013-03-01");  // 13
  r.parents_with_authority = 2;
  Consent jongere = MakeConsent("c-j", GrantorRole::kJongere, kThreeCategories);
  jongere.request_id = "cr-1";
  r.consents = {Parent("c-m", "M", kThreeCategories, "cr-1"), Parent("c-v", "V", kThreeCategories, "cr-1"), jongere};
  EXPECT_TRUE(Decide(AllParents(), r).permit);
  // The young person withdrawing ends only their own consent.
  r.consents[2].withdrawn_at = T("2026-11-20T09:00:00Z");
  Decision d = Decide(AllParents(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);
  EXPECT_FALSE(HasCode(d, kReasonMissingConsentOuder)) << Codes(d);
}

TEST(TwoHouseholds, WhenOneParentWithdrawsSomeCategoriesThoseFallForEveryParent) {
  Request r = MakeRequest("2018-03-01");
  r.parents_with_authority = 2;
  Consent moeder = Parent("c-moeder", "M. de Vries", kThreeCategories, "cr-1");
  Consent vader = Parent("c-vader", "P. de Vries", kThreeCategories, "cr-1");
  // The father withdraws gezinssituatie on the management page: his
  // consent is withdrawn and a narrowed one takes its place on the request.
  vader.withdrawn_at = T("2026-11-20T09:00:00Z");
  Consent narrowed = Parent("c-vader-2", "P. de Vries", Cats({C::kIdentificatie, C::kHulpvraag}), "cr-1");
  r.consents = {moeder, vader, narrowed};
  for (const Protocol& p : {DefaultProtocol(), AllParents()}) {
    Decision d = Decide(p, r);
    ASSERT_TRUE(d.permit) << Codes(d);
    // The mother's yes to gezinssituatie no longer counts either.
    EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kHulpvraag}));
    EXPECT_TRUE(HasCode(d, kReasonCategoryNotConsented)) << Codes(d);
  }
  // A consent of the mother's outside that request keeps what it names.
  r.consents.push_back(Parent("c-later", "M. de Vries", kThreeCategories, "cr-2"));
  EXPECT_EQ(Decide(DefaultProtocol(), r).categories, kThreeCategories);
  // The father then withdraws the rest: the request falls as a whole.
  r.consents = {moeder, vader, narrowed};
  r.consents[2].withdrawn_at = T("2026-11-21T09:00:00Z");
  r.now = T("2026-11-22T09:00:00Z");
  for (const Protocol& p : {DefaultProtocol(), AllParents()}) EXPECT_FALSE(Decide(p, r).permit);
  // Before the narrowing, all three counted.
  r.now = T("2026-11-19T09:00:00Z");
  r.consents = {moeder, vader};
  EXPECT_EQ(Decide(DefaultProtocol(), r).categories, kThreeCategories);
}

}  // namespace
}  // namespace schakel::consent
