// The vocabulary: wire names round-trip, and every category has its own
// Dutch label (the console and the link pages read the same list).
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "schakel/consent/vocabulary.h"

namespace schakel::consent {
namespace {

TEST(Vocabulary, CategoryNamesRoundTrip) {
  for (Category c : kAllCategories) {
    std::optional<Category> back = ParseCategory(Name(c));
    ASSERT_TRUE(back.has_value()) << Name(c);
    EXPECT_EQ(*back, c);
  }
  EXPECT_FALSE(ParseCategory("Gezondheid").has_value());  // wire names are lower case
}

TEST(Vocabulary, EveryCategoryHasItsOwnDutchLabel) {
  std::set<std::string> labels;
  for (Category c : kAllCategories) {
    std::string label(DutchLabel(c));
    EXPECT_NE(label, "Overig") << Name(c);
    EXPECT_TRUE(labels.insert(label).second) << "label used twice: " << label;
    EXPECT_EQ(DutchCategoryLabel(Name(c)), label);
  }
  EXPECT_EQ(DutchLabel(Category::kBsn), "Burgerservicenummer");
  EXPECT_EQ(DutchCategoryLabel("no-such-category"), "Overig");
  EXPECT_EQ(DutchCategoryLabel(""), "Overig");
}

TEST(Vocabulary, EveryOrgTypeHasItsOwnDutchLabel) {
  std::set<std::string> labels;
  for (OrgType t : kAllOrgTypes) {
    std::string label(DutchLabel(t));
    EXPECT_NE(label, "organisatie") << Name(t);
    EXPECT_TRUE(labels.insert(label).second) << "label used twice: " << label;
    EXPECT_EQ(DutchOrgTypeLabel(Name(t)), label);
  }
  // A privacy officer reads "LVS" as leerlingvolgsysteem: the leerplicht office says so.
  EXPECT_EQ(DutchLabel(OrgType::kLvs), "leerplicht (LVS)");
  EXPECT_EQ(DutchOrgTypeLabel("no-such-type"), "no-such-type");
}

}  // namespace
}  // namespace schakel::consent
