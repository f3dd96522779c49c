// The texts a parent or young person reads on a permission page
// (docs/consent-requests.md), version "toestemming-1". Plain Dutch (B1); the
// young person's version speaks to them directly. A change of wording is a
// new version: the SHA-256 of the exact text shown is kept with every
// answer, so an old answer must still be matched to the words it was given
// on (docs/consent-requests.md keeps each version's text).
#include <map>

#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/identity.h"
#include "schakel/service/consent_requests.h"

namespace schakel::service {
namespace {

struct Explained {
  const char* ouder;
  const char* jongere;
};

// What each category holds, in plain words.
const std::map<std::string, Explained>& Explanations() {
  static const std::map<std::string, Explained> k = {
      {"identificatie", {"Naam, geboortedatum en school van uw kind.", "Je naam, geboortedatum en school."}},
      {"bsn",
       {"Het burgerservicenummer van uw kind, zodat de organisaties zeker weten over wie het gaat.",
        "Je burgerservicenummer, zodat de organisaties zeker weten over wie het gaat."}},
      {"contact",
       {"Adres, telefoonnummer en e-mail van u en uw kind.",
        "Je adres, telefoonnummer en e-mail, en die van je ouders."}},
      {"onderwijs", {"Klas, niveau en hoe het op school gaat.", "Je klas, je niveau en hoe het op school gaat."}},
      {"verzuim",
       {"Hoeveel uur uw kind de laatste tijd niet op school was, met en zonder geldige reden.",
        "Hoeveel uur je de laatste tijd niet op school was, met en zonder geldige reden."}},
      {"hulpvraag",
       {"Waar uw kind hulp bij nodig heeft, wat de school merkt en wat al is geprobeerd.",
        "Waar je hulp bij nodig hebt, wat de school merkt en wat al is geprobeerd."}},
      {"gezinssituatie",
       {"Hoe het thuis gaat, voor zover dat van belang is voor de hulp.",
        "Hoe het thuis gaat, voor zover dat van belang is voor de hulp."}},
      {"gezondheid",
       {"Gegevens over de gezondheid van uw kind. Dit zijn extra gevoelige gegevens.",
        "Gegevens over je gezondheid. Dit zijn extra gevoelige gegevens."}},
      {"justitie",
       {"Contact met politie of justitie. Dit zijn extra gevoelige gegevens.",
        "Contact met politie of justitie. Dit zijn extra gevoelige gegevens."}},
      {"afspraken",
       {"Wat er is afgesproken: wie wat doet en wanneer.", "Wat er is afgesproken: wie wat doet en wanneer."}},
  };
  return k;
}

std::string DutchList(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  if (items.size() == 1) return items[0];
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return Join(head, ", ") + " en " + items.back();
}

std::string DutchDate(const std::string& ymd) {
  static const char* kMonths[] = {"januari", "februari", "maart",     "april",   "mei",      "juni",
                                  "juli",    "augustus", "september", "oktober", "november", "december"};
  auto d = ParseDate(ymd);
  if (!d.ok()) return ymd;
  return std::to_string(static_cast<unsigned>(d->day())) + " " + kMonths[static_cast<unsigned>(d->month()) - 1] + " " +
         std::to_string(static_cast<int>(d->year()));
}

}  // namespace

GrantTexts TextsFor(const GrantContent& g) {
  const bool young = g.grantor_role == "jongere";
  GrantTexts t;
  std::vector<std::string> to;
  for (const auto& r : g.recipients) to.push_back(r.name);
  std::vector<std::string> purposes;
  for (const auto& p : g.purposes) purposes.push_back(p);
  const std::string who = g.student_name.empty() ? (young ? "jou" : "uw kind") : g.student_name;
  t.title = young ? "Mogen we gegevens over jou delen?" : "Toestemming voor het delen van gegevens over uw kind";
  if (young) {
    t.intro.emplace_back(g.organisation + " vraagt jou om toestemming.");
    t.intro.emplace_back("We willen gegevens over " + who + " delen met " + DutchList(to) + ".");
  } else {
    t.intro.emplace_back(g.organisation + " vraagt u" + (g.guardian.empty() ? "" : " (" + g.guardian + ")") +
                         " om toestemming.");
    t.intro.emplace_back("We willen gegevens over " + who + " delen met " + DutchList(to) + ".");
  }
  t.intro.emplace_back("Waarom: " + DutchList(purposes) + ".");
  t.intro.emplace_back((young ? "Je toestemming geldt tot en met " : "Uw toestemming geldt tot en met ") +
                       DutchDate(g.valid_until) + ".");
  t.intro.emplace_back(young ? "Hieronder staat welke gegevens het zijn. Je kiest zelf: alles, een deel of niets."
                             : "Hieronder staat welke gegevens het zijn. U kiest zelf: alles, een deel of niets.");
  for (const auto& name : g.categories) {
    auto it = Explanations().find(name);
    std::string plain = it == Explanations().end() ? "" : (young ? it->second.jongere : it->second.ouder);
    t.categories.emplace_back(name, std::string(consent::DutchCategoryLabel(name)) + ": " + plain);
  }
  if (young) {
    t.after.emplace_back(
        "Zeg je nee, dan delen we deze gegevens niet op grond van toestemming. Je hulp stopt daardoor "
        "niet; we zoeken dan samen met jou naar een andere weg.");
    t.after.emplace_back(
        "Je kunt je toestemming later altijd intrekken, met dezelfde link en code. Wat al gedeeld is, "
        "wordt dan bij de ontvanger verwijderd.");
  } else {
    t.after.emplace_back(
        "Zegt u nee, dan delen we deze gegevens niet op grond van toestemming. De hulp aan uw kind "
        "stopt daardoor niet; we zoeken dan samen met u naar een andere weg.");
    t.after.emplace_back(
        "U kunt uw toestemming later altijd intrekken, met dezelfde link en code. Wat al gedeeld is, "
        "wordt dan bij de ontvanger verwijderd.");
  }
  return t;
}

std::string TextsSha256(const GrantTexts& t) {
  std::string all = t.title + "\n";
  for (const auto& p : t.intro) all += p + "\n";
  for (const auto& [name, text] : t.categories) all += text + "\n";
  for (const auto& p : t.after) all += p + "\n";
  auto digest = crypto::Sha256({reinterpret_cast<const uint8_t*>(all.data()), all.size()});
  return ToHex(digest);
}

}  // namespace schakel::service
