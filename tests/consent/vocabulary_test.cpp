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

}  // namespace
}  // namespace schakel::consent
