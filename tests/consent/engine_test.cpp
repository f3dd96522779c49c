// The consent rules of CONTRACT.md at their edges: ages on birthdays,
// Amsterdam dates around midnight UTC, validity windows, withdrawal, the
// Meldcode override, flows, special categories and what each reason says.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "consent_test_util.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"

namespace schakel::consent {
namespace {

using namespace testing;  // NOLINT
using std::chrono::milliseconds;

const CategorySet kThree = Cats({C::kIdentificatie, C::kHulpvraag, C::kGezinssituatie});

Consent Ouder(std::string id = "c-ouder") { return MakeConsent(std::move(id), GrantorRole::kOuder, kThree); }
Consent Jongere(std::string id = "c-jongere") { return MakeConsent(std::move(id), GrantorRole::kJongere, kThree); }

// ---- Ages ------------------------------------------------------------------

struct AgeCase {
  const char* name;
  const char* birth;
  const char* now;
  bool with_ouder;
  bool with_jongere;
  bool permit;
  const char* missing;  // expected missing_consent_* code or ""
};

class AgeBoundary : public ::testing::TestWithParam<AgeCase> {};

TEST_P(AgeBoundary, NeedsTheRightGrantors) {
  const AgeCase& c = GetParam();
  Request r = MakeRequest(c.birth);
  r.now = T(c.now);
  if (c.with_ouder) r.consents.push_back(Ouder());
  if (c.with_jongere) r.consents.push_back(Jongere());
  for (Consent& consent : r.consents) {  // valid on every date below
    consent.valid_from = D("2000-01-01");
    consent.valid_until.reset();
  }
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_EQ(d.permit, c.permit) << Codes(d);
  if (*c.missing) {
    EXPECT_TRUE(HasCode(d, c.missing)) << Codes(d);
  } else {
    EXPECT_FALSE(HasCode(d, kReasonMissingConsentOuder)) << Codes(d);
    EXPECT_FALSE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Birthdays, AgeBoundary,
    ::testing::Values(
        // 12th birthday on 2026-11-23 (Amsterdam).
        AgeCase{"day_before_12_ouder_alone", "2014-11-23", "2026-11-22T10:00:00Z", true, false, true, ""},
        AgeCase{"on_12th_birthday_ouder_alone", "2014-11-23", "2026-11-23T10:00:00Z", true, false, false,
                "missing_consent_jongere"},
        AgeCase{"on_12th_birthday_both", "2014-11-23", "2026-11-23T10:00:00Z", true, true, true, ""},
        AgeCase{"day_after_12_ouder_alone", "2014-11-23", "2026-11-24T10:00:00Z", true, false, false,
                "missing_consent_jongere"},
        AgeCase{"day_before_12_jongere_alone", "2014-11-23", "2026-11-22T10:00:00Z", false, true, false,
                "missing_consent_ouder"},
        // 16th birthday on 2026-11-23.
        AgeCase{"day_before_16_jongere_alone", "2010-11-23", "2026-11-22T10:00:00Z", false, true, false,
                "missing_consent_ouder"},
        AgeCase{"day_before_16_both", "2010-11-23", "2026-11-22T10:00:00Z", true, true, true, ""},
        AgeCase{"on_16th_birthday_jongere_alone", "2010-11-23", "2026-11-23T10:00:00Z", false, true, true, ""},
        AgeCase{"on_16th_birthday_ouder_alone", "2010-11-23", "2026-11-23T10:00:00Z", true, false, false,
                "missing_consent_jongere"},
        AgeCase{"day_after_16_jongere_alone", "2010-11-23", "2026-11-24T10:00:00Z", false, true, true, ""},
        AgeCase{"adult_jongere_alone", "2000-01-01", "2026-11-23T10:00:00Z", false, true, true, ""},
        AgeCase{"toddler_ouder_alone", "2024-01-01", "2026-11-23T10:00:00Z", true, false, true, ""},
        // Amsterdam midnight in winter (UTC+1): 23:00Z is already the next day.
        AgeCase{"winter_2259Z_still_15", "2010-11-23", "2026-11-22T22:59:59.999Z", false, true, false,
                "missing_consent_ouder"},
        AgeCase{"winter_2300Z_is_16", "2010-11-23", "2026-11-22T23:00:00Z", false, true, true, ""},
        AgeCase{"winter_offset_form", "2010-11-23", "2026-11-23T00:00:00+01:00", false, true, true, ""},
        // Amsterdam midnight in summer (UTC+2): 22:00Z is already the next day.
        AgeCase{"summer_2159Z_still_15", "2010-06-15", "2026-06-14T21:59:59.999Z", false, true, false,
                "missing_consent_ouder"},
        AgeCase{"summer_2200Z_is_16", "2010-06-15", "2026-06-14T22:00:00Z", false, true, true, ""},
        AgeCase{"summer_2300Z_is_16_not_utc_date", "2010-06-15", "2026-06-14T23:30:00Z", false, true, true, ""},
        // 29 February: thresholds 12 and 16 fall in leap years, on 29 Feb.
        AgeCase{"leap_28feb_still_11", "2012-02-29", "2024-02-28T12:00:00Z", true, false, true, ""},
        AgeCase{"leap_29feb_is_12", "2012-02-29", "2024-02-29T12:00:00Z", true, false, false,
                "missing_consent_jongere"},
        AgeCase{"leap_29feb_is_16", "2008-02-29", "2024-02-29T12:00:00Z", false, true, true, ""},
        AgeCase{"leap_28feb_still_15", "2008-02-29", "2024-02-28T22:59:00Z", false, true, false,
                "missing_consent_ouder"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(AgeRulesTest, TwentyNinthFebruaryInACommonYearCountsFromFirstMarch) {
  // With a threshold of 13, the 13th birthday of someone born on 29 Feb 2012
  // falls in 2025, a common year: on 1 March.
  auto p = Protocol::Create(DefaultProtocol().flows(), AgeRules{13, 16});
  ASSERT_TRUE(p.ok()) << p.status().message();
  for (auto [now, permit] : {std::pair{"2025-02-28T12:00:00Z", true}, std::pair{"2025-03-01T12:00:00Z", false}}) {
    Request r = MakeRequest("2012-02-29");
    r.now = T(now);
    Consent c = Ouder();
    c.valid_from = D("2020-01-01");
    c.valid_until.reset();
    r.consents = {c};
    Decision d = Decide(*p, r);
    EXPECT_EQ(d.permit, permit) << now << " " << Codes(d);
  }
}

TEST(AgeRulesTest, ConfigurableThresholds) {
  auto p = Protocol::Create(DefaultProtocol().flows(), AgeRules{14, 18});
  ASSERT_TRUE(p.ok());
  Request r = MakeRequest("2010-01-01");  // 16 on 2026-11-23
  r.consents = {Jongere()};
  EXPECT_FALSE(Decide(*p, r).permit);  // under 18: the parent too
  r.consents.push_back(Ouder());
  EXPECT_TRUE(Decide(*p, r).permit);
  Request young = MakeRequest("2013-01-01");  // 13: ouder alone under 14
  young.consents = {Ouder()};
  EXPECT_TRUE(Decide(*p, young).permit);
  EXPECT_TRUE(Decide(DefaultProtocol(), young).permit == false);
}

TEST(AgeRulesTest, NeededFor) {
  AgeRules a;
  EXPECT_TRUE(NeededFor(11, a).ouder);
  EXPECT_FALSE(NeededFor(11, a).jongere);
  EXPECT_TRUE(NeededFor(12, a).ouder);
  EXPECT_TRUE(NeededFor(12, a).jongere);
  EXPECT_TRUE(NeededFor(15, a).ouder);
  EXPECT_TRUE(NeededFor(15, a).jongere);
  EXPECT_FALSE(NeededFor(16, a).ouder);
  EXPECT_TRUE(NeededFor(16, a).jongere);
}

TEST(AgeRulesTest, BirthDateAfterTheDecisionIsADeny) {
  Request r = MakeRequest("2027-01-01");
  r.consents = {Ouder()};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonBirthDateInFuture)) << Codes(d);
}

TEST(AgeRulesTest, SixteenWithParentConsentSaysParentIsNotEnough) {
  Request r = MakeRequest("2009-06-15");
  r.consents = {Ouder("c1")};
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_FALSE(d.permit);
  ASSERT_EQ(d.reasons.size(), 1u) << Codes(d);
  EXPECT_EQ(d.reasons[0].code, kReasonMissingConsentJongere);
  EXPECT_NE(d.reasons[0].message.find("parent's consent alone is not enough"), std::string::npos)
      << d.reasons[0].message;
}

// ---- Validity windows and withdrawal -----------------------------------------

struct WindowCase {
  const char* name;
  const char* now;
  const char* from;
  const char* until;         // "" = null
  const char* withdrawn_at;  // "" = null
  bool valid;
  const char* code;  // stale code when not valid
};

class ValidityWindow : public ::testing::TestWithParam<WindowCase> {};

TEST_P(ValidityWindow, DecidesOnTheAmsterdamDate) {
  const WindowCase& w = GetParam();
  Request r = MakeRequest("2009-06-15");  // 17: jongere alone
  r.now = T(w.now);
  Consent c = Jongere("c1");
  c.valid_from = D(w.from);
  c.valid_until.reset();
  if (*w.until) c.valid_until = D(w.until);
  if (*w.withdrawn_at) c.withdrawn_at = T(w.withdrawn_at);
  r.consents = {c};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_EQ(d.permit, w.valid) << Codes(d);
  EXPECT_EQ(Covers(c, "stu-1", "doorverwijzing", r.recipient, r.now), w.valid);
  if (w.valid) {
    EXPECT_EQ(d.consents_used, std::vector<std::string>{"c1"});
    EXPECT_TRUE(d.reasons.empty()) << Codes(d);
  } else {
    EXPECT_TRUE(HasCode(d, w.code)) << Codes(d);
    EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Windows, ValidityWindow,
    ::testing::Values(
        WindowCase{"inside", "2026-11-23T10:00:00Z", "2026-09-01", "2027-07-31", "", true, ""},
        WindowCase{"first_day", "2026-09-01T00:00:00+02:00", "2026-09-01", "2027-07-31", "", true, ""},
        WindowCase{"day_before_from_utc_evening", "2026-08-31T21:59:59Z", "2026-09-01", "2027-07-31", "", false,
                   "consent_not_yet_valid"},
        WindowCase{"from_starts_at_amsterdam_midnight_summer", "2026-08-31T22:00:00Z", "2026-09-01", "2027-07-31", "",
                   true, ""},
        WindowCase{"from_in_the_future", "2026-11-23T10:00:00Z", "2027-01-01", "", "", false, "consent_not_yet_valid"},
        WindowCase{"last_day", "2027-07-31T23:59:59+02:00", "2026-09-01", "2027-07-31", "", true, ""},
        WindowCase{"last_day_utc_late", "2027-07-31T21:59:59.999Z", "2026-09-01", "2027-07-31", "", true, ""},
        WindowCase{"day_after_until_amsterdam", "2027-07-31T22:00:00Z", "2026-09-01", "2027-07-31", "", false,
                   "consent_expired"},
        WindowCase{"until_winter_midnight", "2026-12-31T23:00:00Z", "2026-09-01", "2026-12-31", "", false,
                   "consent_expired"},
        WindowCase{"until_winter_before_midnight", "2026-12-31T22:59:59Z", "2026-09-01", "2026-12-31", "", true, ""},
        WindowCase{"until_null_far_future", "2040-05-01T10:00:00Z", "2026-09-01", "", "", true, ""},
        WindowCase{"withdrawn_before_now", "2026-11-23T10:00:00Z", "2026-09-01", "", "2026-11-23T09:59:59.999Z", false,
                   "consent_withdrawn"},
        WindowCase{"withdrawn_at_now", "2026-11-23T10:00:00Z", "2026-09-01", "", "2026-11-23T10:00:00Z", false,
                   "consent_withdrawn"},
        WindowCase{"withdrawn_at_now_other_zone", "2026-11-23T10:00:00Z", "2026-09-01", "", "2026-11-23T11:00:00+01:00",
                   false, "consent_withdrawn"},
        WindowCase{"withdrawn_after_now", "2026-11-23T10:00:00Z", "2026-09-01", "", "2026-11-23T10:00:00.001Z", true,
                   ""},
        WindowCase{"withdrawn_and_expired_says_withdrawn", "2026-11-23T10:00:00Z", "2026-01-01", "2026-06-30",
                   "2026-03-01T10:00:00Z", false, "consent_withdrawn"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ConsentStanding, RenewedConsentHidesTheOldOne) {
  Request r = MakeRequest("2009-06-15");
  Consent old = Jongere("c-old");
  old.valid_from = D("2025-09-01");
  old.valid_until = D("2026-07-31");
  r.consents = {old, Jongere("c-new")};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit);
  EXPECT_TRUE(d.reasons.empty()) << Codes(d);
  EXPECT_EQ(d.consents_used, std::vector<std::string>{"c-new"});
}

TEST(ConsentStanding, ExpiredConsentIsNamedWhenItWouldHaveAddedACategory) {
  Request r = MakeRequest("2009-06-15");
  Consent old = Jongere("c-old");
  old.valid_until = D("2026-10-31");
  Consent narrow = MakeConsent("c-new", GrantorRole::kJongere, Cats({C::kIdentificatie}));
  r.consents = {narrow, old};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie}));
  EXPECT_TRUE(HasCode(d, kReasonConsentExpired)) << Codes(d);
  EXPECT_TRUE(HasCode(d, kReasonCategoryNotConsented)) << Codes(d);
}

TEST(ConsentStanding, StaleConsentsOfGrantorsNotNeededAreNotReported) {
  Request r = MakeRequest("2009-06-15");  // 17
  Consent o = Ouder("c-o");
  o.withdrawn_at = T("2026-10-01T10:00:00Z");
  r.consents = {o, Jongere("c-j")};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit);
  EXPECT_TRUE(d.reasons.empty()) << Codes(d);
  EXPECT_EQ(d.consents_used, std::vector<std::string>{"c-j"});
}

// ---- What a consent covers -------------------------------------------------

TEST(ConsentCovers, SubjectPurposeAndRecipientMustMatch) {
  Request r = MakeRequest("2009-06-15");
  Consent other_subject = Jongere("c1");
  other_subject.subject_id = "stu-2";
  Consent other_purpose = MakeConsent("c2", GrantorRole::kJongere, kThree, "kernteamoverleg");
  Consent other_recipient = MakeConsent("c3", GrantorRole::kJongere, kThree, "doorverwijzing", "wijkteam-zuid");
  Consent other_type = MakeConsent("c4", GrantorRole::kJongere, kThree, "doorverwijzing", "ggd");
  r.consents = {other_subject, other_purpose, other_recipient, other_type};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere));

  Consent by_id = MakeConsent("c5", GrantorRole::kJongere, kThree, "doorverwijzing", "wijkteam-overvecht");
  r.consents.push_back(by_id);
  d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit);
  EXPECT_EQ(d.consents_used, std::vector<std::string>{"c5"});
}

TEST(ConsentCovers, ConsentWithSeveralPurposesAndRecipients) {
  Request r = MakeRequest("2009-06-15");
  Consent c = Jongere("c1");
  c.purposes = {"kernteamoverleg", "doorverwijzing"};
  c.recipients = {"ggd", "wijkteam"};
  r.consents = {c};
  EXPECT_TRUE(Decide(DefaultProtocol(), r).permit);
}

TEST(ConsentCovers, ManyConsents) {
  // More consents than the engine keeps on its stack.
  Request r = MakeRequest("2012-02-01");  // 14
  for (int i = 0; i < 150; ++i) {
    Consent c = MakeConsent("x" + std::to_string(i), i % 2 ? GrantorRole::kOuder : GrantorRole::kJongere, kThree,
                            "kernteamoverleg");
    r.consents.push_back(c);
  }
  Consent stale = Jongere("z-stale");
  stale.withdrawn_at = T("2026-11-01T00:00:00Z");
  r.consents.push_back(stale);
  r.consents.push_back(Ouder("z-ouder"));
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonConsentWithdrawn)) << Codes(d);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);
  r.consents.push_back(Jongere("z-jongere"));
  d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.consents_used, (std::vector<std::string>{"z-jongere", "z-ouder"}));
  EXPECT_TRUE(d.reasons.empty()) << Codes(d);
}

// ---- Categories -------------------------------------------------------------

TEST(Categories, IntersectionAcrossNeededGrantors) {
  Request r = MakeRequest("2012-02-01",  // 14
                          {C::kIdentificatie, C::kContact, C::kHulpvraag, C::kGezinssituatie});
  r.consents = {
      MakeConsent("o1", GrantorRole::kOuder, Cats({C::kIdentificatie, C::kContact})),
      MakeConsent("o2", GrantorRole::kOuder, Cats({C::kHulpvraag})),
      MakeConsent("j1", GrantorRole::kJongere, Cats({C::kIdentificatie, C::kHulpvraag, C::kGezinssituatie})),
  };
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kHulpvraag}));
  EXPECT_EQ(d.withheld, Cats({C::kContact, C::kGezinssituatie}));
  EXPECT_EQ(d.consents_used, (std::vector<std::string>{"j1", "o1", "o2"}));
  int not_consented = 0;
  for (const auto& reason : d.reasons) {
    if (reason.code != kReasonCategoryNotConsented) continue;
    ++not_consented;
    ASSERT_TRUE(reason.category.has_value());
    if (*reason.category == C::kContact) {
      EXPECT_NE(reason.message.find("young person"), std::string::npos) << reason.message;
    } else {
      EXPECT_EQ(*reason.category, C::kGezinssituatie);
      EXPECT_NE(reason.message.find("parent"), std::string::npos) << reason.message;
    }
  }
  EXPECT_EQ(not_consented, 2);
}

TEST(Categories, ConsentsUsedOnlyThoseNamingAnAllowedCategory) {
  Request r = MakeRequest("2009-06-15", {C::kIdentificatie, C::kHulpvraag});
  r.consents = {
      MakeConsent("c1", GrantorRole::kJongere, Cats({C::kIdentificatie})),
      MakeConsent("c2", GrantorRole::kJongere, Cats({C::kGezondheid})),
      MakeConsent("c0", GrantorRole::kJongere, Cats({C::kHulpvraag, C::kAfspraken})),
  };
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit);
  EXPECT_EQ(d.consents_used, (std::vector<std::string>{"c0", "c1"}));
}

TEST(Categories, HealthOnlyWhereEveryNeededConsentNamesIt) {
  Request r = MakeRequest("2012-02-01", {C::kIdentificatie, C::kGezondheid});  // 14
  r.consents = {
      MakeConsent("o1", GrantorRole::kOuder, Cats({C::kIdentificatie, C::kGezondheid})),
      MakeConsent("j1", GrantorRole::kJongere, Cats({C::kIdentificatie})),
  };
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie}));
  ASSERT_TRUE(HasCode(d, kReasonCategoryNotConsented));
  bool mentions_art9 = false;
  for (const auto& reason : d.reasons) {
    if (reason.category == C::kGezondheid) {
      mentions_art9 = reason.message.find("AVG art. 9") != std::string::npos;
    }
  }
  EXPECT_TRUE(mentions_art9);
  r.consents[1].categories.Add(C::kGezondheid);
  d = Decide(DefaultProtocol(), r);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kGezondheid}));
  EXPECT_TRUE(d.reasons.empty()) << Codes(d);
}

TEST(Categories, JustitieInAConsentFlowOnlyWhenNamed) {
  Flow f;
  f.purpose = "jeugdreclassering";
  f.from = {OrgType::kSchool};
  f.to = {OrgType::kWijkteam};
  f.basis = LegalBasis::kConsent;
  f.categories = Cats({C::kIdentificatie, C::kJustitie});
  auto p = Protocol::Create({f});
  ASSERT_TRUE(p.ok()) << p.status().message();
  Request r = MakeRequest("2009-06-15", {C::kIdentificatie, C::kJustitie});
  r.purpose = "jeugdreclassering";
  r.consents = {MakeConsent("c1", GrantorRole::kJongere, Cats({C::kIdentificatie}), "jeugdreclassering")};
  Decision d = Decide(*p, r);
  ASSERT_TRUE(d.permit);
  EXPECT_EQ(d.withheld, Cats({C::kJustitie}));
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_NE(d.reasons.back().message.find("AVG art. 10"), std::string::npos);
  r.consents[0].categories.Add(C::kJustitie);
  EXPECT_EQ(Decide(*p, r).categories, Cats({C::kIdentificatie, C::kJustitie}));
}

TEST(Categories, DuplicatesInTheRequestCountOnce) {
  Request r = MakeRequest("2009-06-15", {C::kHulpvraag, C::kIdentificatie, C::kHulpvraag});
  r.consents = {Jongere("c1")};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kHulpvraag}));
  EXPECT_TRUE(d.withheld.Empty());
}

TEST(Categories, EmptyRequestIsADeny) {
  Request r = MakeRequest("2009-06-15", {});
  r.consents = {Jongere("c1")};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonNoCategories));
}

TEST(Categories, NothingAllowedIsADenyWithTheWholeRequestWithheld) {
  Request r = MakeRequest("2009-06-15", {C::kGezinssituatie, C::kBsn});
  r.consents = {MakeConsent("c1", GrantorRole::kJongere, Cats({C::kIdentificatie}))};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_FALSE(d.legal_basis.has_value());
  EXPECT_TRUE(d.categories.Empty());
  EXPECT_TRUE(d.consents_used.empty());
  EXPECT_EQ(d.withheld, Cats({C::kGezinssituatie, C::kBsn}));
  EXPECT_TRUE(HasCode(d, kReasonCategoryNotInFlow)) << Codes(d);     // bsn
  EXPECT_TRUE(HasCode(d, kReasonCategoryNotConsented)) << Codes(d);  // gezinssituatie
}

// ---- Flows, purposes, legal bases ---------------------------------------------

TEST(Flows, UnknownPurposeComesBeforeNoFlow) {
  Request r = MakeRequest("2009-06-15");
  r.purpose = "marketing";
  r.recipient = Party{"lvs-zhz", OrgType::kLvs};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].code, kReasonUnknownPurpose);
}

TEST(Flows, DirectionMatters) {
  // terugkoppeling goes from partners to the school, not the other way.
  Request r = MakeRequest("2009-06-15", {C::kIdentificatie, C::kAfspraken});
  r.purpose = "terugkoppeling";
  r.consents = {
      MakeConsent("c1", GrantorRole::kJongere, Cats({C::kIdentificatie, C::kAfspraken}), "terugkoppeling", "school")};
  EXPECT_TRUE(HasCode(Decide(DefaultProtocol(), r), kReasonNoFlow));
  std::swap(r.sender, r.recipient);
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_TRUE(d.permit) << Codes(d);
}

TEST(Flows, LegalObligationIgnoresConsents) {
  Request r = MakeRequest("2009-06-15", {C::kIdentificatie, C::kBsn, C::kVerzuim});
  r.purpose = "vsv_melding";
  r.recipient = Party{"rmc-utrecht", OrgType::kRmc};
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.legal_basis, LegalBasis::kLegalObligation);
  EXPECT_EQ(d.legal_source, "WVO 2020, art. 8.21 lid 1 en 8.17 lid 4; WEB, art. 9.2.1–9.2.3");
  Consent withdrawn = MakeConsent("c1", GrantorRole::kJongere, Cats({C::kIdentificatie}), "vsv_melding", "rmc");
  withdrawn.withdrawn_at = T("2026-11-01T00:00:00Z");
  r.consents = {withdrawn};
  Decision d2 = Decide(DefaultProtocol(), r);
  EXPECT_EQ(d2.categories, d.categories);
  EXPECT_TRUE(d2.consents_used.empty());
}

TEST(Flows, OrgSpecificFlowWinsOverTheTypeFlow) {
  Flow by_type;
  by_type.purpose = "overleg";
  by_type.from = {OrgType::kSchool};
  by_type.to = {OrgType::kGgd};
  by_type.basis = LegalBasis::kConsent;
  by_type.categories = Cats({C::kIdentificatie});
  Flow specific = by_type;
  specific.to = {};
  specific.to_orgs = {"ggd-jgz-utrecht"};
  specific.basis = LegalBasis::kLegalObligation;
  specific.legal_source = "Convenant jeugdgezondheidszorg";
  specific.categories = Cats({C::kIdentificatie, C::kVerzuim});
  auto p = Protocol::Create({by_type, specific});
  ASSERT_TRUE(p.ok()) << p.status().message();

  Request r = MakeRequest("2009-06-15", {C::kIdentificatie, C::kVerzuim});
  r.purpose = "overleg";
  r.recipient = Party{"ggd-jgz-utrecht", OrgType::kGgd};
  Decision d = Decide(*p, r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.legal_basis, LegalBasis::kLegalObligation);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kVerzuim}));

  r.recipient = Party{"ggd-regio-utrecht", OrgType::kGgd};
  d = Decide(*p, r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);

  r.recipient = Party{"ggd-jgz-utrecht", OrgType::kWijkteam};  // id matches, type does not matter
  EXPECT_TRUE(Decide(*p, r).permit);
}

TEST(Flows, YouthAloneFromAppliesToItsOwnFlowOnly) {
  Flow own;
  own.purpose = "eigen_hulpvraag";
  own.from = {OrgType::kSchool};
  own.to = {OrgType::kWijkteam};
  own.basis = LegalBasis::kConsent;
  own.categories = Cats({C::kIdentificatie, C::kHulpvraag});
  own.youth_alone_from = 12;
  Flow referral = own;
  referral.purpose = "doorverwijzing";
  referral.youth_alone_from = std::nullopt;
  auto p = Protocol::Create({own, referral});
  ASSERT_TRUE(p.ok()) << p.status().message();
  const Party team{"wijkteam-overvecht", OrgType::kWijkteam};
  EXPECT_EQ(AgesFor(*p, *p->FindFlow("eigen_hulpvraag", OrgType::kSchool, team)).jongere_alone_from, 12);
  EXPECT_EQ(AgesFor(*p, *p->FindFlow("doorverwijzing", OrgType::kSchool, team)).jongere_alone_from, 16);

  // 14 years old, the young person's consent only.
  Request r = MakeRequest("2012-02-01", {C::kIdentificatie, C::kHulpvraag});
  r.consents = {MakeConsent("j", GrantorRole::kJongere, Cats({C::kIdentificatie, C::kHulpvraag}), "eigen_hulpvraag")};
  r.purpose = "eigen_hulpvraag";
  Decision d = Decide(*p, r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.consents_used, std::vector<std::string>{"j"});
  // A parent's consent alone is not enough there.
  r.consents = {MakeConsent("o", GrantorRole::kOuder, Cats({C::kIdentificatie, C::kHulpvraag}), "eigen_hulpvraag")};
  d = Decide(*p, r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere)) << Codes(d);
  // The other flow keeps the protocol's ages: the parent as well.
  r.purpose = "doorverwijzing";
  r.consents = {MakeConsent("j", GrantorRole::kJongere, Cats({C::kIdentificatie, C::kHulpvraag}))};
  d = Decide(*p, r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentOuder)) << Codes(d);

  // Only on a consent flow, and 12..16.
  Flow bad = own;
  bad.youth_alone_from = 11;
  EXPECT_FALSE(Protocol::Create({bad}).ok());
  bad.youth_alone_from = 12;
  bad.basis = LegalBasis::kLegalObligation;
  bad.legal_source = "x";
  EXPECT_FALSE(Protocol::Create({bad}).ok());
}

// ---- Meldcode ---------------------------------------------------------------

Request MeldcodeRequest() {
  Request r = MakeRequest("2014-04-04", {C::kIdentificatie, C::kGezinssituatie, C::kJustitie});
  r.purpose = "meldcode";
  r.recipient = Party{"veilig-thuis-utrecht", OrgType::kVeiligThuis};
  return r;
}

TEST(Meldcode, FourEyesOverridePermitsAllCategoriesWithoutConsent) {
  Request r = MeldcodeRequest();
  r.override = Override{"u-mentor", "u-zorgco", "Signalen; stap 5."};
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_EQ(d.legal_basis, LegalBasis::kMeldcode);
  EXPECT_EQ(d.categories, Cats({C::kIdentificatie, C::kGezinssituatie, C::kJustitie}));
  EXPECT_TRUE(d.consents_used.empty());
}

TEST(Meldcode, TheBsnIsNeverPartOfAReport) {
  Request r = MeldcodeRequest();
  r.categories.push_back(C::kBsn);
  r.override = Override{"u-mentor", "u-zorgco", "Signalen; stap 5."};
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_TRUE(d.permit) << Codes(d);
  EXPECT_FALSE(d.categories.Has(C::kBsn));
  EXPECT_EQ(d.withheld, Cats({C::kBsn}));
  EXPECT_TRUE(HasCode(d, kReasonCategoryNotInFlow)) << Codes(d);
}

TEST(Meldcode, AnySenderType) {
  Request r = MeldcodeRequest();
  r.sender = Party{"wijkteam-overvecht", OrgType::kWijkteam};
  r.override = Override{"u1", "u2", "x"};
  EXPECT_TRUE(Decide(DefaultProtocol(), r).permit);
}

struct OverrideCase {
  const char* name;
  const char* requested_by;
  const char* approved_by;
  const char* justification;
};

class BadOverride : public ::testing::TestWithParam<OverrideCase> {};

TEST_P(BadOverride, IsInvalidAndNeverEchoesTheJustification) {
  const OverrideCase& c = GetParam();
  Request r = MeldcodeRequest();
  r.override = Override{c.requested_by, c.approved_by, c.justification};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonOverrideInvalid)) << Codes(d);
  for (const auto& reason : d.reasons) {
    if (*c.justification != '\0' && std::string(c.justification).find_first_not_of(" \t\n") != std::string::npos) {
      EXPECT_EQ(reason.message.find(c.justification), std::string::npos);
    }
    EXPECT_EQ(reason.message.find("u-self"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Overrides, BadOverride,
                         ::testing::Values(OverrideCase{"same_person", "u-self", "u-self", "Blauwe plekken gezien"},
                                           OverrideCase{"empty_justification", "u1", "u2", ""},
                                           OverrideCase{"blank_justification", "u1", "u2", " \n\t "},
                                           OverrideCase{"no_approver", "u-self", "", "Blauwe plekken gezien"},
                                           OverrideCase{"no_requester", "", "u2", "Blauwe plekken gezien"}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(Meldcode, OverrideDoesNotBypassConsentForOtherPurposes) {
  Request r = MakeRequest("2009-06-15");
  r.override = Override{"u1", "u2", "urgent"};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere));
}

// ---- Messages ----------------------------------------------------------------

TEST(Messages, OddIdentifiersAreNotEchoed) {
  Request r = MakeRequest("2009-06-15");
  r.purpose = "marketing\n<script>";
  Decision d = Decide(DefaultProtocol(), r);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].message.find("<script>"), std::string::npos);
  EXPECT_EQ(d.reasons[0].message.find('\n'), std::string::npos);
}

TEST(Messages, EveryReasonHasAMessage) {
  Request r = MakeRequest("2012-02-01", {C::kIdentificatie, C::kBsn, C::kGezondheid});
  Consent c = Ouder("c1");
  c.withdrawn_at = T("2026-11-01T00:00:00Z");
  Consent f = Jongere("c2");
  f.valid_from = D("2027-01-01");
  r.consents = {c, f};
  Decision d = Decide(DefaultProtocol(), r);
  EXPECT_FALSE(d.permit);
  EXPECT_TRUE(HasCode(d, kReasonConsentWithdrawn));
  EXPECT_TRUE(HasCode(d, kReasonConsentNotYetValid));
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentOuder));
  EXPECT_TRUE(HasCode(d, kReasonMissingConsentJongere));
  EXPECT_TRUE(HasCode(d, kReasonCategoryNotInFlow));
  for (const auto& reason : d.reasons) {
    EXPECT_GT(reason.message.size(), 20u) << reason.code;
    EXPECT_EQ(reason.message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace schakel::consent
