// Properties of Decide over generated requests (fixed seed, bounded count):
// monotone in consents, order-free, within request and flow, deny shape,
// every withheld category explained, consents_used honest.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "consent_test_util.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"
#include "schakel/formats/scenario.h"

namespace schakel::consent {
namespace {

using namespace testing;  // NOLINT

constexpr int kIterations = 3000;

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }
  std::mt19937& rng() { return rng_; }

  CategorySet Categories(int density) {
    CategorySet s;
    for (Category c : kAllCategories) {
      if (Chance(density)) s.Add(c);
    }
    return s;
  }

  Date DateNear(Date base, int spread_days) { return AddDays(base, Int(-spread_days, spread_days)); }

  Consent MakeConsentFor(const Request& r, int index) {
    Consent c;
    c.id = "c" + std::to_string(Int(0, 40)) + "-" + std::to_string(index);
    c.subject_id = Chance(92) ? r.subject_id : "stu-other";
    c.grantor_role = Chance(50) ? GrantorRole::kOuder : GrantorRole::kJongere;
    c.purposes = {Chance(75) ? r.purpose : Pick(purposes_)};
    if (Chance(20)) c.purposes.push_back(Pick(purposes_));
    switch (Int(0, 3)) {
      case 0:
        c.recipients = {r.recipient.org_id};
        break;
      case 1:
        c.recipients = {std::string(Name(r.recipient.org_type))};
        break;
      case 2:
        c.recipients = {std::string(Name(Pick(org_types_)))};
        break;
      default:
        c.recipients = {"other-org", std::string(Name(r.recipient.org_type))};
        break;
    }
    c.categories = Categories(55);
    if (c.categories.Empty()) c.categories.Add(Category::kIdentificatie);
    const Date today = AmsterdamDate(r.now);
    c.valid_from = DateNear(today, 200);
    if (Chance(70)) c.valid_until = DateNear(today, 200);
    if (Chance(15)) c.withdrawn_at = r.now + std::chrono::hours(Int(-48, 48));
    return c;
  }

  Request MakeRandomRequest() {
    Request r;
    r.now = T("2026-11-23T10:00:00Z") + std::chrono::minutes(Int(-60 * 24 * 400, 60 * 24 * 400));
    r.subject_id = "stu-1";
    r.birth_date = DateNear(AmsterdamDate(r.now), 365 * 10);
    r.birth_date = AddDays(r.birth_date, -365 * 9);  // mostly 0..19 years old
    r.sender = Party{"org-a", Pick(org_types_)};
    r.recipient = Party{"org-b", Pick(org_types_)};
    if (Chance(60)) {  // steer towards flows that exist
      const Flow& f = DefaultProtocol()
                          .flows()[static_cast<size_t>(Int(0, static_cast<int>(DefaultProtocol().flows().size()) - 1))];
      r.purpose = f.purpose;
      r.sender.org_type = Pick(f.from);
      r.recipient.org_type = Pick(f.to);
    } else {
      r.purpose = Pick(purposes_);
    }
    CategorySet cats = Categories(40);
    for (Category c : kAllCategories) {
      if (cats.Has(c)) r.categories.push_back(c);
      if (cats.Has(c) && Chance(10)) r.categories.push_back(c);  // duplicates
    }
    std::shuffle(r.categories.begin(), r.categories.end(), rng_);
    const int n = Int(0, 8);
    for (int i = 0; i < n; ++i) r.consents.push_back(MakeConsentFor(r, i));
    if (Chance(40)) {
      Override o{"u" + std::to_string(Int(1, 3)), "u" + std::to_string(Int(1, 3)), Chance(80) ? "signalen" : ""};
      r.override = o;
    }
    return r;
  }

 private:
  std::mt19937 rng_;
  std::vector<std::string> purposes_ = {"kernteamoverleg", "doorverwijzing", "overdracht_rmc", "verzuimmelding",
                                        "vsv_melding",     "terugkoppeling", "meldcode",       "onbekend"};
  std::vector<OrgType> org_types_{kAllOrgTypes.begin(), kAllOrgTypes.end()};
};

CategorySet Requested(const Request& r) {
  CategorySet s;
  for (Category c : r.categories) s.Add(c);
  return s;
}

std::string Show(const Request& r, const Decision& d) {
  return "purpose=" + r.purpose + " from=" + std::string(Name(r.sender.org_type)) +
         " to=" + std::string(Name(r.recipient.org_type)) + " birth=" + FormatDate(r.birth_date) +
         " now=" + FormatInstant(r.now) + " consents=" + std::to_string(r.consents.size()) + "\n" +
         formats::DecisionToJson(d);
}

TEST(ConsentProperties, DecisionIsWithinRequestAndFlowAndWellShaped) {
  Gen g(1);
  int permits = 0;
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    Decision d = Decide(DefaultProtocol(), r);
    const CategorySet requested = Requested(r);
    SCOPED_TRACE(Show(r, d));
    EXPECT_TRUE(d.categories.SubsetOf(requested));
    EXPECT_EQ(d.categories.Union(d.withheld), requested);
    EXPECT_TRUE(d.categories.Intersect(d.withheld).Empty());
    EXPECT_TRUE(std::is_sorted(d.consents_used.begin(), d.consents_used.end()));
    if (!d.permit) {
      EXPECT_FALSE(d.legal_basis.has_value());
      EXPECT_TRUE(d.categories.Empty());
      EXPECT_TRUE(d.consents_used.empty());
      EXPECT_EQ(d.withheld, requested);
      EXPECT_FALSE(d.reasons.empty());
      continue;
    }
    ++permits;
    const Flow* f = DefaultProtocol().FindFlow(r.purpose, r.sender.org_type, r.recipient);
    ASSERT_NE(f, nullptr);
    EXPECT_TRUE(d.categories.SubsetOf(f->categories));
    EXPECT_FALSE(d.categories.Empty());
    EXPECT_EQ(d.legal_basis, f->basis);
    if (f->basis != LegalBasis::kConsent) {
      EXPECT_TRUE(d.consents_used.empty());
    }
    // Every withheld category of a permit has its own reason.
    for (Category c : kAllCategories) {
      if (!d.withheld.Has(c)) continue;
      bool explained = std::any_of(d.reasons.begin(), d.reasons.end(), [&](const Reason& x) {
        return x.category == c && (x.code == kReasonCategoryNotInFlow || x.code == kReasonCategoryNotConsented);
      });
      EXPECT_TRUE(explained) << Name(c);
    }
  }
  // The generator must reach both outcomes often enough to mean something.
  EXPECT_GT(permits, kIterations / 10);
  EXPECT_LT(permits, kIterations * 9 / 10);
}

TEST(ConsentProperties, ConsentsUsedAreValidAndNameAnAllowedCategory) {
  Gen g(2);
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    Decision d = Decide(DefaultProtocol(), r);
    SCOPED_TRACE(Show(r, d));
    const int age = AgeInYears(r.birth_date, AmsterdamDate(r.now));
    const NeededGrantors need = NeededFor(age, DefaultProtocol().ages());
    std::set<std::string> expected;
    if (d.permit && d.legal_basis == LegalBasis::kConsent) {
      for (const Consent& c : r.consents) {
        bool needed = c.grantor_role == GrantorRole::kOuder ? need.ouder : need.jongere;
        if (needed && Covers(c, r.subject_id, r.purpose, r.recipient, r.now) &&
            !c.categories.Intersect(d.categories).Empty()) {
          expected.insert(c.id);
        }
      }
      // Every allowed category is named by a valid consent of every needed grantor.
      for (Category cat : kAllCategories) {
        if (!d.categories.Has(cat)) continue;
        for (GrantorRole role : {GrantorRole::kOuder, GrantorRole::kJongere}) {
          if (role == GrantorRole::kOuder ? !need.ouder : !need.jongere) continue;
          bool named = std::any_of(r.consents.begin(), r.consents.end(), [&](const Consent& c) {
            return c.grantor_role == role && c.categories.Has(cat) &&
                   Covers(c, r.subject_id, r.purpose, r.recipient, r.now);
          });
          EXPECT_TRUE(named) << Name(cat) << " for " << Name(role);
        }
      }
    }
    EXPECT_EQ(std::vector<std::string>(expected.begin(), expected.end()), d.consents_used);
  }
}

TEST(ConsentProperties, OrderOfConsentsAndCategoriesIsIrrelevant) {
  Gen g(3);
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    const std::string first = formats::DecisionToJson(Decide(DefaultProtocol(), r));
    Request shuffled = r;
    std::shuffle(shuffled.consents.begin(), shuffled.consents.end(), g.rng());
    std::shuffle(shuffled.categories.begin(), shuffled.categories.end(), g.rng());
    EXPECT_EQ(first, formats::DecisionToJson(Decide(DefaultProtocol(), shuffled)));
  }
}

TEST(ConsentProperties, AddingAConsentNeverShrinksWhatIsPermitted) {
  Gen g(4);
  int grew = 0;
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    Decision before = Decide(DefaultProtocol(), r);
    Request more = r;
    more.consents.push_back(g.MakeConsentFor(r, 99));
    Decision after = Decide(DefaultProtocol(), more);
    SCOPED_TRACE(Show(more, after));
    EXPECT_TRUE(before.categories.SubsetOf(after.categories));
    if (before.permit) {
      EXPECT_TRUE(after.permit);
    }
    if (!(after.categories == before.categories)) ++grew;
  }
  EXPECT_GT(grew, 0);  // the property was exercised, not vacuous
}

TEST(ConsentProperties, WithdrawingAConsentNeverGrowsWhatIsPermitted) {
  Gen g(5);
  int shrank = 0;
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    if (r.consents.empty()) continue;
    Decision before = Decide(DefaultProtocol(), r);
    Request fewer = r;
    Consent& c = fewer.consents[static_cast<size_t>(g.Int(0, static_cast<int>(fewer.consents.size()) - 1))];
    c.withdrawn_at = r.now - std::chrono::milliseconds(g.Int(0, 100000));
    Decision after = Decide(DefaultProtocol(), fewer);
    SCOPED_TRACE(Show(fewer, after));
    EXPECT_TRUE(after.categories.SubsetOf(before.categories));
    if (!before.permit) {
      EXPECT_FALSE(after.permit);
    }
    if (!(after.categories == before.categories)) ++shrank;
  }
  EXPECT_GT(shrank, 0);
}

TEST(ConsentProperties, LegalObligationAndMeldcodeDoNotDependOnConsents) {
  Gen g(6);
  for (int i = 0; i < kIterations; ++i) {
    Request r = g.MakeRandomRequest();
    const Flow* f = DefaultProtocol().FindFlow(r.purpose, r.sender.org_type, r.recipient);
    if (f == nullptr || f->basis == LegalBasis::kConsent) continue;
    Decision with = Decide(DefaultProtocol(), r);
    r.consents.clear();
    Decision without = Decide(DefaultProtocol(), r);
    EXPECT_EQ(with.permit, without.permit);
    EXPECT_EQ(with.categories, without.categories);
  }
}

}  // namespace
}  // namespace schakel::consent
