#include "schakel/consent/vocabulary.h"

#include <algorithm>

namespace schakel::consent {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(std::string_view s, const std::array<E, N>& all) {
  for (E e : all) {
    if (Name(e) == s) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view Name(OrgType t) {
  switch (t) {
    case OrgType::kSchool:
      return "school";
    case OrgType::kWijkteam:
      return "wijkteam";
    case OrgType::kRmc:
      return "rmc";
    case OrgType::kLvs:
      return "lvs";
    case OrgType::kGgd:
      return "ggd";
    case OrgType::kSwv:
      return "swv";
    case OrgType::kVeiligThuis:
      return "veilig_thuis";
  }
  return "?";
}

std::string_view Name(Category c) {
  switch (c) {
    case Category::kIdentificatie:
      return "identificatie";
    case Category::kBsn:
      return "bsn";
    case Category::kContact:
      return "contact";
    case Category::kOnderwijs:
      return "onderwijs";
    case Category::kVerzuim:
      return "verzuim";
    case Category::kHulpvraag:
      return "hulpvraag";
    case Category::kGezinssituatie:
      return "gezinssituatie";
    case Category::kGezondheid:
      return "gezondheid";
    case Category::kJustitie:
      return "justitie";
    case Category::kAfspraken:
      return "afspraken";
  }
  return "?";
}

std::string_view DutchLabel(Category c) {
  switch (c) {
    case Category::kIdentificatie:
      return "Identificatie";
    case Category::kBsn:
      return "Burgerservicenummer";
    case Category::kContact:
      return "Contactgegevens";
    case Category::kOnderwijs:
      return "Onderwijs";
    case Category::kVerzuim:
      return "Verzuim";
    case Category::kHulpvraag:
      return "Hulpvraag";
    case Category::kGezinssituatie:
      return "Gezinssituatie";
    case Category::kGezondheid:
      return "Gezondheid";
    case Category::kJustitie:
      return "Justitie";
    case Category::kAfspraken:
      return "Afspraken";
  }
  return "Overig";
}

std::string_view DutchCategoryLabel(std::string_view wire_name) {
  std::optional<Category> c = ParseCategory(wire_name);
  return c ? DutchLabel(*c) : std::string_view("Overig");
}

std::string_view DutchLabel(OrgType t) {
  switch (t) {
    case OrgType::kSchool:
      return "school";
    case OrgType::kWijkteam:
      return "wijkteam";
    case OrgType::kRmc:
      return "RMC (voortijdig schoolverlaten)";
    case OrgType::kLvs:
      return "leerplicht (LVS)";
    case OrgType::kGgd:
      return "GGD";
    case OrgType::kSwv:
      return "samenwerkingsverband (SWV)";
    case OrgType::kVeiligThuis:
      return "Veilig Thuis";
  }
  return "organisatie";
}

std::string DutchOrgTypeLabel(std::string_view wire_name) {
  std::optional<OrgType> t = ParseOrgType(wire_name);
  return t ? std::string(DutchLabel(*t)) : std::string(wire_name);
}

std::string_view Name(GrantorRole r) { return r == GrantorRole::kOuder ? "ouder" : "jongere"; }

std::string_view Name(LegalBasis b) {
  switch (b) {
    case LegalBasis::kConsent:
      return "consent";
    case LegalBasis::kLegalObligation:
      return "legal_obligation";
    case LegalBasis::kMeldcode:
      return "meldcode";
  }
  return "?";
}

std::optional<OrgType> ParseOrgType(std::string_view s) { return Lookup(s, kAllOrgTypes); }
std::optional<Category> ParseCategory(std::string_view s) { return Lookup(s, kAllCategories); }
std::optional<GrantorRole> ParseGrantorRole(std::string_view s) {
  return Lookup(s, std::array{GrantorRole::kOuder, GrantorRole::kJongere});
}
std::optional<LegalBasis> ParseLegalBasis(std::string_view s) {
  return Lookup(s, std::array{LegalBasis::kConsent, LegalBasis::kLegalObligation, LegalBasis::kMeldcode});
}

std::array<Category, kCategoryCount> CategoriesByName() {
  auto out = kAllCategories;
  std::sort(out.begin(), out.end(), [](Category a, Category b) { return Name(a) < Name(b); });
  return out;
}

std::string CategoryNames(CategorySet set) {
  std::string out;
  for (Category c : CategoriesByName()) {
    if (!set.Has(c)) continue;
    if (!out.empty()) out += ',';
    out += Name(c);
  }
  return out;
}

}  // namespace schakel::consent
