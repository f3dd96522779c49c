#include "schakel/consent/engine.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

namespace schakel::consent {
namespace {

constexpr size_t kOuder = 0;
constexpr size_t kJongere = 1;

size_t RoleIndex(GrantorRole r) { return r == GrantorRole::kOuder ? kOuder : kJongere; }

const std::array<Category, kCategoryCount>& SortedCategories() {
  static const std::array<Category, kCategoryCount> kSorted = CategoriesByName();
  return kSorted;
}

constexpr CategorySet kSpecial = CategorySet::FromBits((1u << static_cast<unsigned>(Category::kGezondheid)) |
                                                       (1u << static_cast<unsigned>(Category::kJustitie)));

// Identifiers from the request go into messages only when they look like
// identifiers; anything else is replaced, so a message cannot carry text
// someone typed into an id field.
std::string Safe(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
  return ok ? std::string(s) : std::string("(unnamed)");
}

bool Named(const std::vector<std::string>& list, std::string_view x) {
  for (const auto& s : list) {
    if (s == x) return true;
  }
  return false;
}

// kFallen: valid by its dates, but another parent's consent given on the
// same permission request was withdrawn (Consent::request_id).
enum class Standing : uint8_t { kValid, kNotYetValid, kExpired, kWithdrawn, kFallen };

// What pass 1 of DecideByConsent found about each consent.
constexpr uint8_t kMarkIgnored = 0;  // does not cover the share, or grantor not needed
constexpr uint8_t kMarkValid = 1;    // covers it; grantor needed
constexpr uint8_t kMarkStale = 2;    // would cover it, but expired/withdrawn/not yet valid

// Whether consent c is about this share, leaving time, grantor and
// categories aside.
bool Matches(const Consent& c, std::string_view subject_id, std::string_view purpose, std::string_view recipient_id,
             std::string_view recipient_type) {
  if (c.subject_id != subject_id || !Named(c.purposes, purpose)) return false;
  for (const auto& rcp : c.recipients) {
    if (rcp == recipient_id || rcp == recipient_type) return true;
  }
  return false;
}

// Withdrawal is reported before expiry and expiry before a future start:
// the first is the one a coordinator must not try to work around.
Standing TimeStanding(const Consent& c, Date today, Instant now) {
  if (c.withdrawn_at && *c.withdrawn_at <= now) return Standing::kWithdrawn;
  if (c.valid_until && today > *c.valid_until) return Standing::kExpired;
  if (today < c.valid_from) return Standing::kNotYetValid;
  return Standing::kValid;
}

std::string RoleWords(GrantorRole r) {
  return r == GrantorRole::kOuder ? "a parent or guardian (ouder)" : "the young person (jongere)";
}

std::string RolePossessive(GrantorRole r) {
  return r == GrantorRole::kOuder ? "the parent's (ouder)" : "the young person's (jongere)";
}

std::string AgeBand(int age, const AgeRules& ages) {
  const std::string also = std::to_string(ages.jongere_also_from);
  const std::string alone = std::to_string(ages.jongere_alone_from);
  if (age < ages.jongere_also_from) {
    return "the student is under " + also + ", so a parent or guardian decides";
  }
  if (age < ages.jongere_alone_from) {
    return "the student is " + also + " to " + std::to_string(ages.jongere_alone_from - 1) +
           ", so both a parent or guardian and the young person must consent";
  }
  return "the student is " + alone + " or older and decides alone";
}

std::string ShareWords(const Request& r) {
  return Safe(r.purpose) + " to " + Safe(r.recipient.org_id) + " (" + std::string(Name(r.recipient.org_type)) + ")";
}

void AddReason(Decision* d, std::string_view code, std::string message,
               std::optional<Category> category = std::nullopt) {
  d->reasons.push_back(Reason{std::string(code), std::move(message), category});
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// Meldcode: the four-eyes override. True when it holds.
bool CheckOverride(const Request& r, Decision* d) {
  if (!r.override) {
    AddReason(d, kReasonOverrideMissing,
              "A share under the Meldcode (a report to Veilig Thuis) needs a written "
              "justification and the approval of a second person (four-eyes principle); none "
              "was given. Record the "
              "justification and ask a second coordinator to approve the share.");
    return false;
  }
  const Override& o = *r.override;
  bool ok = true;
  if (Blank(o.justification)) {
    AddReason(d, kReasonOverrideInvalid,
              "The Meldcode override has no justification: write down why this report is "
              "made (the signals and the step of the meldcode reached).");
    ok = false;
  }
  if (Blank(o.requested_by) || Blank(o.approved_by)) {
    AddReason(d, kReasonOverrideInvalid,
              "The Meldcode override must name both the person who requests the share and the "
              "person who approves it.");
    ok = false;
  } else if (o.requested_by == o.approved_by) {
    AddReason(d, kReasonOverrideInvalid,
              "The Meldcode share was approved by the person who requested it; a second "
              "coordinator must approve it (four-eyes principle).");
    ok = false;
  }
  return ok;
}

void AddStaleReason(Decision* d, const Consent& c, Standing s, const Request& r) {
  const std::string head = "Consent " + Safe(c.id) + " of " + RoleWords(c.grantor_role) + " for " + ShareWords(r) + " ";
  switch (s) {
    case Standing::kWithdrawn:
      AddReason(d, kReasonConsentWithdrawn,
                head + "was withdrawn on " + FormatInstant(*c.withdrawn_at) +
                    " and no longer counts. Share only with a new consent.");
      break;
    case Standing::kExpired:
      AddReason(d, kReasonConsentExpired,
                head + "expired after " + FormatDate(*c.valid_until) +
                    ". Ask whether consent is still given and record a new consent.");
      break;
    case Standing::kFallen:
      for (const Consent& other : r.consents) {
        if (other.grantor_role != GrantorRole::kOuder || other.request_id != c.request_id || !other.withdrawn_at ||
            *other.withdrawn_at > r.now) {
          continue;
        }
        AddReason(d, kReasonConsentWithdrawn,
                  head + "no longer counts: consent " + Safe(other.id) +
                      " of another parent with parental authority, given on the same request, was withdrawn on " +
                      FormatInstant(*other.withdrawn_at) +
                      ". When one parent withdraws, the permission falls. Share only with new consents.");
        break;
      }
      break;
    case Standing::kNotYetValid:
      AddReason(d, kReasonConsentNotYetValid,
                head + "is valid only from " + FormatDate(c.valid_from) +
                    ". Wait until then or record a consent valid today.");
      break;
    case Standing::kValid:
      break;
  }
}

// What pass 1 of DecideByConsent found, per grantor role (kOuder, kJongere).
struct ConsentScan {
  bool have[2] = {false, false};  // valid consents cover the share (enough parents for kOuder)
  CategorySet named[2];           // the categories those consents name (every needed parent's, for kOuder)
  bool any_stale = false;         // some consent of a needed grantor is not valid now
  bool ouder_not_needed = false;  // a valid parent's consent where none is needed
  int parents_found = 0;          // distinct parents (Consent::guardian) with a valid covering consent
  int parents_needed = 1;
};

// What fell on each permission request (Consent::request_id) through a
// parent's withdrawal: the categories that parent withdrew, for every
// parent's consent on it. A parent who withdrew everything they gave on the
// request (no consent of theirs on it stands) takes the whole request down;
// a parent who withdrew some categories (their narrowed consent stands on
// the same request, docs/consent-requests.md) takes those categories down.
using FallenRequests = std::vector<std::pair<std::string, CategorySet>>;
bool Withdrawn(const Consent& c, Instant now) { return c.withdrawn_at && *c.withdrawn_at <= now; }

FallenRequests FindFallen(const Request& r, std::string_view type_name) {
  FallenRequests fallen;
  auto parents_on = [&](const Consent& c) {
    return c.grantor_role == GrantorRole::kOuder && !c.request_id.empty() &&
           Matches(c, r.subject_id, r.purpose, r.recipient.org_id, type_name);
  };
  for (const Consent& c : r.consents) {
    if (!parents_on(c) || !Withdrawn(c, r.now)) continue;
    bool still_stands = false;  // a consent of the same parent on the same request
    CategorySet kept;
    for (const Consent& o : r.consents) {
      if (!parents_on(o) || Withdrawn(o, r.now) || o.request_id != c.request_id || o.guardian != c.guardian) continue;
      still_stands = true;
      kept = kept.Union(o.categories);
    }
    const CategorySet lost = still_stands ? c.categories.Minus(kept) : CategorySet::All();
    auto it = std::find_if(fallen.begin(), fallen.end(), [&](const auto& f) { return f.first == c.request_id; });
    if (it == fallen.end()) {
      fallen.emplace_back(c.request_id, lost);
    } else {
      it->second = it->second.Union(lost);
    }
  }
  return fallen;
}

// Pass 1: per needed grantor role, whether valid covering consents exist
// and the categories they name: for the young person, and for a parent when
// one parent is enough, the union of what their consents name; when every
// parent with authority must agree, what each of them named (the
// intersection of each parent's union). Each consent's standing is kept in
// marks (one per consent) so that the later passes do not compare its
// strings again.
ConsentScan ScanConsents(const Request& r, const bool (&needed)[2], int parents_needed, Date today, uint8_t* marks) {
  const std::string_view type_name = Name(r.recipient.org_type);
  const FallenRequests fallen = FindFallen(r, type_name);
  ConsentScan scan;
  scan.parents_needed = parents_needed;
  std::vector<std::pair<std::string, CategorySet>> by_parent;  // guardian -> the union of what they named
  for (size_t i = 0; i < r.consents.size(); ++i) {
    const Consent& c = r.consents[i];
    marks[i] = kMarkIgnored;
    if (!Matches(c, r.subject_id, r.purpose, r.recipient.org_id, type_name)) continue;
    const size_t role = RoleIndex(c.grantor_role);
    Standing s = TimeStanding(c, today, r.now);
    CategorySet categories = c.categories;
    if (s == Standing::kValid && role == kOuder && !c.request_id.empty()) {
      auto f = std::find_if(fallen.begin(), fallen.end(), [&](const auto& x) { return x.first == c.request_id; });
      if (f != fallen.end()) categories = categories.Minus(f->second);
      if (categories.Empty()) s = Standing::kFallen;
    }
    if (!needed[role]) {
      if (role == kOuder && s == Standing::kValid) scan.ouder_not_needed = true;
      continue;
    }
    if (s != Standing::kValid) {
      marks[i] = kMarkStale;
      scan.any_stale = true;
      continue;
    }
    marks[i] = kMarkValid;
    if (role == kOuder) {
      auto it = std::find_if(by_parent.begin(), by_parent.end(), [&](const auto& p) { return p.first == c.guardian; });
      if (it == by_parent.end()) {
        by_parent.emplace_back(c.guardian, categories);
      } else {
        it->second = it->second.Union(categories);
      }
      continue;
    }
    scan.have[role] = true;
    scan.named[role] = scan.named[role].Union(categories);
  }
  scan.parents_found = static_cast<int>(by_parent.size());
  scan.have[kOuder] = scan.parents_found > 0 && scan.parents_found >= parents_needed;
  if (scan.have[kOuder]) {
    CategorySet named = parents_needed > 1 ? CategorySet::All() : CategorySet();
    for (const auto& [guardian, cats] : by_parent)
      named = parents_needed > 1 ? named.Intersect(cats) : named.Union(cats);
    scan.named[kOuder] = named;
  }
  return scan;
}

// A needed grantor without a valid covering consent.
void AddMissingConsentReasons(Decision* d, const Request& r, const NeededGrantors& need, const ConsentScan& scan,
                              int age, const AgeRules& ages) {
  const bool needed[2] = {need.ouder, need.jongere};
  for (size_t role : {kOuder, kJongere}) {
    if (!needed[role] || scan.have[role]) continue;
    const GrantorRole g = role == kOuder ? GrantorRole::kOuder : GrantorRole::kJongere;
    std::string msg =
        "No valid consent of " + RoleWords(g) + " covers " + ShareWords(r) + "; " + AgeBand(age, ages) + ".";
    if (g == GrantorRole::kOuder && scan.parents_found > 0) {
      msg = "Only " + std::to_string(scan.parents_found) + " of the " + std::to_string(scan.parents_needed) +
            " parents with parental authority consented to " + ShareWords(r) +
            "; the protocol asks every parent with authority ([consent] parents = \"all_with_authority\"); " +
            AgeBand(age, ages) + ".";
    }
    if (g == GrantorRole::kJongere && !need.ouder && scan.ouder_not_needed) {
      msg += " A parent's consent alone is not enough at this age.";
    }
    msg += " Record a consent of " + RoleWords(g) + " for this purpose and recipient.";
    AddReason(d, g == GrantorRole::kOuder ? kReasonMissingConsentOuder : kReasonMissingConsentJongere, std::move(msg));
  }
}

// Withdrawn, expired and future consents of needed grantors that would
// otherwise cover the share: reported when they matter, i.e. when their
// grantor has no valid consent or they name a category now withheld.
// Sorted by consent id so that the order of consents does not matter.
void AddStaleReasons(Decision* d, const Request& r, const uint8_t* marks, const ConsentScan& scan,
                     CategorySet not_consented, Date today) {
  if (!scan.any_stale) return;
  std::vector<std::pair<const Consent*, Standing>> stale;
  for (size_t i = 0; i < r.consents.size(); ++i) {
    if (marks[i] != kMarkStale) continue;
    const Consent& c = r.consents[i];
    if (scan.have[RoleIndex(c.grantor_role)] && c.categories.Intersect(not_consented).Empty()) {
      continue;
    }
    const Standing s = TimeStanding(c, today, r.now);
    stale.emplace_back(&c, s == Standing::kValid ? Standing::kFallen : s);
  }
  std::sort(stale.begin(), stale.end(), [](const auto& a, const auto& b) {
    const Consent& x = *a.first;
    const Consent& y = *b.first;
    return std::tie(x.id, a.second, x.grantor_role, x.valid_from, x.valid_until, x.withdrawn_at) <
           std::tie(y.id, b.second, y.grantor_role, y.valid_from, y.valid_until, y.withdrawn_at);
  });
  for (const auto& [c, s] : stale) AddStaleReason(d, *c, s, r);
}

// Categories the flow allows but a needed grantor did not name. When a
// grantor is missing altogether, its missing_consent reason explains them.
void AddNotConsentedReasons(Decision* d, const Request& r, const NeededGrantors& need, const ConsentScan& scan,
                            CategorySet not_consented) {
  if ((need.ouder && !scan.have[kOuder]) || (need.jongere && !scan.have[kJongere])) return;
  for (Category cat : SortedCategories()) {
    if (!not_consented.Has(cat)) continue;
    const bool ouder_lacks = need.ouder && !scan.named[kOuder].Has(cat);
    const bool jongere_lacks = need.jongere && !scan.named[kJongere].Has(cat);
    const std::string who =
        ouder_lacks && jongere_lacks
            ? "neither " + RolePossessive(GrantorRole::kOuder) + " nor " + RolePossessive(GrantorRole::kJongere)
            : RolePossessive(ouder_lacks ? GrantorRole::kOuder : GrantorRole::kJongere);
    std::string msg = std::string(Name(cat)) + " is withheld: " + who + " valid consent for " + ShareWords(r) +
                      (ouder_lacks && jongere_lacks ? " names it." : " does not name it.");
    if (IsSpecialCategory(cat)) {
      msg += cat == Category::kGezondheid ? " Health data is a special category (AVG art. 9) and is shared only where "
                                            "the consent names it."
                                          : " Criminal-law data is protected by AVG art. 10 and is shared only where "
                                            "the consent names it.";
    }
    msg += " Ask for consent that names it, or share without it.";
    AddReason(d, kReasonCategoryNotConsented, std::move(msg), cat);
  }
}

// Pass 2: the consents the permit rests on, into d->consents_used.
void AddConsentsUsed(Decision* d, const Request& r, const uint8_t* marks, CategorySet allowed) {
  if (allowed.Empty()) return;
  for (size_t i = 0; i < r.consents.size(); ++i) {
    const Consent& c = r.consents[i];
    if (marks[i] == kMarkValid && !c.categories.Intersect(allowed).Empty()) {
      d->consents_used.push_back(c.id);
    }
  }
  std::sort(d->consents_used.begin(), d->consents_used.end());
  d->consents_used.erase(std::unique(d->consents_used.begin(), d->consents_used.end()), d->consents_used.end());
}

// The consent part of the rules. Adds its reasons and, when something is
// allowed, fills d->consents_used.
CategorySet DecideByConsent(const AgeRules& ages, const Request& r, CategorySet in_flow, Decision* d) {
  const Date today = AmsterdamDate(r.now);
  const int age = AgeInYears(r.birth_date, today);
  if (age < 0) {
    AddReason(d, kReasonBirthDateInFuture,
              "The student's birth date lies after the date of the decision; correct the "
              "birth date.");
    return CategorySet();
  }
  const NeededGrantors need = NeededFor(age, ages);
  const bool needed[2] = {need.ouder, need.jongere};

  // Each consent's mark, on the stack for up to 64 consents.
  std::array<uint8_t, 64> small_marks{};
  std::vector<uint8_t> big_marks;
  uint8_t* marks = small_marks.data();
  if (r.consents.size() > small_marks.size()) {
    big_marks.assign(r.consents.size(), kMarkIgnored);
    marks = big_marks.data();
  }
  const int parents_needed =
      ages.parents == AgeRules::Parents::kAllWithAuthority ? std::max(1, r.parents_with_authority) : 1;
  const ConsentScan scan = ScanConsents(r, needed, parents_needed, today, marks);

  // The categories every needed grantor named; a needed grantor without a
  // valid consent names nothing.
  CategorySet named_by_all = CategorySet::All();
  for (size_t role : {kOuder, kJongere}) {
    if (needed[role]) named_by_all = named_by_all.Intersect(scan.have[role] ? scan.named[role] : CategorySet());
  }
  CategorySet allowed = in_flow.Intersect(named_by_all);
  // Special categories (AVG art. 9 gezondheid, art. 10 justitie) pass only
  // where the consents name them. The intersection above already implies
  // this; it is spelled out so that no change to the rule can loosen it.
  allowed = allowed.Minus(kSpecial.Minus(named_by_all));
  const CategorySet not_consented = in_flow.Minus(allowed);

  AddMissingConsentReasons(d, r, need, scan, age, ages);
  AddStaleReasons(d, r, marks, scan, not_consented, today);
  AddNotConsentedReasons(d, r, need, scan, not_consented);
  AddConsentsUsed(d, r, marks, allowed);
  return allowed;
}

}  // namespace

NeededGrantors NeededFor(int age, const AgeRules& ages) {
  NeededGrantors n;
  n.ouder = age < ages.jongere_alone_from;
  n.jongere = age >= ages.jongere_also_from;
  return n;
}

AgeRules AgesFor(const Protocol& protocol, const Flow& flow) {
  AgeRules ages = protocol.ages();
  if (flow.youth_alone_from && *flow.youth_alone_from < ages.jongere_alone_from) {
    ages.jongere_alone_from = *flow.youth_alone_from;
    ages.jongere_also_from = std::min(ages.jongere_also_from, ages.jongere_alone_from);
  }
  return ages;
}

bool Covers(const Consent& c, std::string_view subject_id, std::string_view purpose, const Party& recipient,
            Instant now) {
  return Matches(c, subject_id, purpose, recipient.org_id, Name(recipient.org_type)) &&
         TimeStanding(c, AmsterdamDate(now), now) == Standing::kValid;
}

Decision Decide(const Protocol& protocol, const Request& r) {
  Decision d;
  CategorySet requested;
  for (Category c : r.categories) requested.Add(c);
  d.withheld = requested;

  if (requested.Empty()) {
    AddReason(&d, kReasonNoCategories, "The request names no data category; ask for at least one.");
    return d;
  }
  if (!protocol.HasPurpose(r.purpose)) {
    AddReason(&d, kReasonUnknownPurpose,
              "The privacy protocol has no purpose " + Safe(r.purpose) +
                  "; use one of the purposes it lists (schakel policy show).");
    return d;
  }
  const Flow* flow = protocol.FindFlow(r.purpose, r.sender.org_type, r.recipient);
  if (flow == nullptr) {
    AddReason(&d, kReasonNoFlow,
              "The privacy protocol has no flow for " + Safe(r.purpose) + " from " +
                  std::string(Name(r.sender.org_type)) + " to " + Safe(r.recipient.org_id) + " (" +
                  std::string(Name(r.recipient.org_type)) +
                  "); nothing may be shared with this recipient for this purpose.");
    return d;
  }

  const CategorySet in_flow = requested.Intersect(flow->categories);
  for (Category c : SortedCategories()) {
    if (!requested.Has(c) || in_flow.Has(c)) continue;
    AddReason(&d, kReasonCategoryNotInFlow,
              std::string(Name(c)) + " is withheld: the privacy protocol's flow " + flow->purpose + " from " +
                  std::string(Name(r.sender.org_type)) + " to " + std::string(Name(r.recipient.org_type)) +
                  " does not include it.",
              c);
  }

  CategorySet allowed;
  switch (flow->basis) {
    case LegalBasis::kLegalObligation:
      allowed = in_flow;
      break;
    case LegalBasis::kMeldcode:
      if (CheckOverride(r, &d)) allowed = in_flow;
      break;
    case LegalBasis::kConsent:
      allowed = DecideByConsent(AgesFor(protocol, *flow), r, in_flow, &d);
      break;
  }

  if (allowed.Empty()) {
    d.consents_used.clear();
    return d;  // deny: withheld is the whole request
  }
  d.permit = true;
  d.legal_basis = flow->basis;
  d.categories = allowed;
  d.withheld = requested.Minus(allowed);
  d.legal_source = flow->legal_source;
  d.retention_days = flow->retention_days;
  return d;
}

}  // namespace schakel::consent
