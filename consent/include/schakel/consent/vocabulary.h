// The fixed vocabulary of CONTRACT.md: organisation types, data categories,
// grantor roles and legal bases, with their wire names.
//
// The wire names ("wijkteam", "gezinssituatie", ...) are what users type and
// what travels in JSON and TOML; the enum values are never renumbered because
// they are stored. Parse* return nullopt for an unknown name; callers turn
// that into an error naming the field.
//
// Pure, no I/O, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "schakel/base/strings.h"

namespace schakel::consent {

// The purpose grammar, [a-z0-9_-]{1,64}: defined once in base/strings.h (the
// envelope's header check in crypto/, which cannot use consent/, needs it
// too) and named here with the rest of the vocabulary. Flows, consents,
// shares, links and envelopes all check purposes with it.
using ::schakel::IsValidPurpose;

enum class OrgType : uint8_t {
  kSchool = 0,
  kWijkteam = 1,
  kRmc = 2,
  kLvs = 3,
  kGgd = 4,
  kSwv = 5,
  kVeiligThuis = 6,
};
inline constexpr std::array<OrgType, 7> kAllOrgTypes = {OrgType::kSchool,     OrgType::kWijkteam, OrgType::kRmc,
                                                        OrgType::kLvs,        OrgType::kGgd,      OrgType::kSwv,
                                                        OrgType::kVeiligThuis};

enum class Category : uint8_t {
  kIdentificatie = 0,
  kBsn = 1,
  kContact = 2,
  kOnderwijs = 3,
  kVerzuim = 4,
  kHulpvraag = 5,
  kGezinssituatie = 6,
  kGezondheid = 7,
  kJustitie = 8,
  kAfspraken = 9,
};
inline constexpr size_t kCategoryCount = 10;
inline constexpr std::array<Category, kCategoryCount> kAllCategories = {
    Category::kIdentificatie, Category::kBsn,       Category::kContact,        Category::kOnderwijs,
    Category::kVerzuim,       Category::kHulpvraag, Category::kGezinssituatie, Category::kGezondheid,
    Category::kJustitie,      Category::kAfspraken};

// Special categories (AVG art. 9/10): covered only where a consent names them.
constexpr bool IsSpecialCategory(Category c) { return c == Category::kGezondheid || c == Category::kJustitie; }

enum class GrantorRole : uint8_t { kOuder = 0, kJongere = 1 };

enum class LegalBasis : uint8_t { kConsent = 0, kLegalObligation = 1, kMeldcode = 2 };

std::string_view Name(OrgType t);
std::string_view Name(Category c);
std::string_view Name(GrantorRole r);
std::string_view Name(LegalBasis b);

// The Dutch label staff and parents read (console, link pages, letters):
// "Burgerservicenummer", "Contactgegevens", ... The one list of them.
std::string_view DutchLabel(Category c);
// The label of a category given by wire name; "Overig" for a name that is
// not a category (a stored value from a later version, say).
std::string_view DutchCategoryLabel(std::string_view wire_name);
// The Dutch label of an org type, as a privacy officer reads it: "school",
// "wijkteam", "leerplicht (LVS)" (not a leerlingvolgsysteem), "GGD",
// "Veilig Thuis", ... The one list of them.
std::string_view DutchLabel(OrgType t);
// The label of an org type given by wire name; the name itself (escaped by
// the caller) when it is not an org type.
std::string DutchOrgTypeLabel(std::string_view wire_name);

std::optional<OrgType> ParseOrgType(std::string_view s);
std::optional<Category> ParseCategory(std::string_view s);
std::optional<GrantorRole> ParseGrantorRole(std::string_view s);
std::optional<LegalBasis> ParseLegalBasis(std::string_view s);

// A set of categories as a bit set; iteration in wire-name order keeps
// outputs sorted as the contract asks.
class CategorySet {
 public:
  constexpr CategorySet() = default;
  static constexpr CategorySet All() { return CategorySet((1u << kCategoryCount) - 1); }

  constexpr bool Has(Category c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
  constexpr void Add(Category c) { bits_ |= 1u << static_cast<unsigned>(c); }
  constexpr void Remove(Category c) { bits_ &= ~(1u << static_cast<unsigned>(c)); }
  constexpr bool Empty() const { return bits_ == 0; }
  constexpr CategorySet Intersect(CategorySet o) const { return CategorySet(bits_ & o.bits_); }
  constexpr CategorySet Union(CategorySet o) const { return CategorySet(bits_ | o.bits_); }
  constexpr CategorySet Minus(CategorySet o) const { return CategorySet(bits_ & ~o.bits_); }
  constexpr bool SubsetOf(CategorySet o) const { return (bits_ & ~o.bits_) == 0; }
  constexpr bool operator==(const CategorySet&) const = default;
  constexpr uint32_t bits() const { return bits_; }
  static constexpr CategorySet FromBits(uint32_t b) { return CategorySet(b & ((1u << kCategoryCount) - 1)); }

 private:
  constexpr explicit CategorySet(uint32_t bits) : bits_(bits) {}
  uint32_t bits_ = 0;
};

// The categories of a set sorted by wire name (ASCII order), as outputs list them.
std::array<Category, kCategoryCount> CategoriesByName();
// The wire names of a set's categories in that order, joined by ',':
// "gezin,school". Empty for the empty set.
std::string CategoryNames(CategorySet set);

}  // namespace schakel::consent
