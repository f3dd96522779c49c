#include "schakel/consent/protocol.h"

#include <algorithm>
#include <utility>

#include "schakel/base/strings.h"

namespace schakel::consent {
namespace {

template <typename T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

template <typename T>
std::optional<T> FirstShared(const std::vector<T>& a, const std::vector<T>& b) {
  for (const T& x : a) {
    if (Contains(b, x)) return x;
  }
  return std::nullopt;
}

template <typename T>
void SortUnique(std::vector<T>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

std::string Index(size_t i) { return "flow[" + std::to_string(i) + "]"; }

std::optional<FlowProblem> CheckFlow(const Flow& f, size_t i) {
  auto problem = [i](std::string field, std::string message) {
    return FlowProblem{i, std::move(field), std::move(message)};
  };
  if (!IsValidPurpose(f.purpose)) {
    return problem("purpose", "expected 1 to 64 characters a-z, 0-9, _ or -");
  }
  if (f.from.empty()) return problem("from", "names no sender org type");
  if (f.to.empty() && f.to_orgs.empty()) {
    return problem("to", "names no recipient org type (nor to_orgs an org id)");
  }
  for (const auto& org : f.to_orgs) {
    if (!IsValidNodeId(org)) {
      return problem("to_orgs", "not an org id ([a-z0-9-]{3,64})");
    }
  }
  if (f.categories.Empty()) return problem("categories", "names no category");
  if (f.legal_source.size() > 256 || !IsPrintableUtf8(f.legal_source)) {
    return problem("legal_source", "expected printable text of at most 256 bytes");
  }
  if (f.basis != LegalBasis::kConsent && f.legal_source.empty()) {
    return problem("legal_source", "a flow on legal basis " + std::string(Name(f.basis)) +
                                       " must name its legal source, e.g. the law and article");
  }
  if (f.retention_days && (*f.retention_days < 1 || *f.retention_days > 3650)) {
    return problem("retention_days", "out of range 1..3650");
  }
  if (f.youth_alone_from) {
    if (*f.youth_alone_from < 12 || *f.youth_alone_from > 16) {
      return problem("youth_alone_from", "out of range 12..16");
    }
    if (f.basis != LegalBasis::kConsent) {
      return problem("youth_alone_from",
                     "only a consent flow asks for consent; this flow rests on " + std::string(Name(f.basis)));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<FlowProblem> CheckProtocol(const std::vector<Flow>& flows, const AgeRules& ages) {
  if (ages.jongere_also_from < 0 || ages.jongere_also_from > ages.jongere_alone_from) {
    return FlowProblem{FlowProblem::kAgeRules, "jongere_also_from", "must lie between 0 and jongere_alone_from"};
  }
  if (ages.jongere_alone_from > 18) {
    return FlowProblem{FlowProblem::kAgeRules, "jongere_alone_from", "must be at most 18"};
  }
  for (size_t i = 0; i < flows.size(); ++i) {
    if (auto p = CheckFlow(flows[i], i)) return p;
    const Flow& f = flows[i];
    for (size_t j = 0; j < i; ++j) {
      const Flow& g = flows[j];
      if (g.purpose != f.purpose) continue;
      auto sender = FirstShared(f.from, g.from);
      if (!sender) continue;
      std::string what;
      if (auto t = FirstShared(f.to, g.to)) {
        what = std::string(Name(*t));
      } else if (auto o = FirstShared(f.to_orgs, g.to_orgs)) {
        what = *o;
      } else {
        continue;
      }
      return FlowProblem{i, "",
                         "overlaps " + Index(j) + ": both allow purpose " + f.purpose + " from " +
                             std::string(Name(*sender)) + " to " + what + "; merge them into one flow"};
    }
  }
  return std::nullopt;
}

Result<Protocol> Protocol::Create(std::vector<Flow> flows, AgeRules ages) {
  if (auto p = CheckProtocol(flows, ages)) {
    std::string where = p->flow_index == FlowProblem::kAgeRules ? std::string("ages") : Index(p->flow_index);
    if (!p->field.empty()) where += "." + p->field;
    return Status::InvalidInput(where + ": " + p->message);
  }
  for (Flow& f : flows) {
    SortUnique(&f.from);
    SortUnique(&f.to);
    SortUnique(&f.to_orgs);
  }
  Protocol out;
  out.flows_ = std::move(flows);
  out.ages_ = ages;
  return out;
}

bool Protocol::HasPurpose(std::string_view purpose) const {
  return std::any_of(flows_.begin(), flows_.end(), [&](const Flow& f) { return f.purpose == purpose; });
}

const Flow* Protocol::FindFlow(std::string_view purpose, OrgType sender_type, const Party& recipient) const {
  const Flow* by_type = nullptr;
  for (const Flow& f : flows_) {
    if (f.purpose != purpose || !Contains(f.from, sender_type)) continue;
    if (Contains(f.to_orgs, recipient.org_id)) return &f;  // the specific flow wins
    if (by_type == nullptr && Contains(f.to, recipient.org_type)) by_type = &f;
  }
  return by_type;
}

namespace {

CategorySet Cats(std::initializer_list<Category> cs) {
  CategorySet s;
  for (Category c : cs) s.Add(c);
  return s;
}

Protocol BuildDefault() {
  using C = Category;
  using O = OrgType;
  constexpr std::string_view kConsentSource =
      "Toestemming: AVG art. 6 lid 1 onder a, art. 7 en art. 9 lid 2 onder a; UAVG art. 5; "
      "leeftijden naar analogie van WGBO art. 7:450 BW en Jeugdwet art. 7.3.4, 7.3.5 en 7.3.15";
  std::vector<Flow> flows;
  flows.push_back(Flow{"kernteamoverleg",
                       {O::kSchool},
                       {O::kWijkteam, O::kGgd, O::kLvs, O::kSwv},
                       {},
                       LegalBasis::kConsent,
                       std::string(kConsentSource),
                       Cats({C::kIdentificatie, C::kContact, C::kOnderwijs, C::kVerzuim, C::kHulpvraag,
                             C::kGezinssituatie, C::kGezondheid, C::kAfspraken}),
                       std::nullopt,
                       std::nullopt});
  flows.push_back(
      Flow{"doorverwijzing",
           {O::kSchool},
           {O::kWijkteam, O::kGgd},
           {},
           LegalBasis::kConsent,
           std::string(kConsentSource),
           Cats({C::kIdentificatie, C::kContact, C::kHulpvraag, C::kGezinssituatie, C::kGezondheid, C::kAfspraken}),
           std::nullopt,
           std::nullopt});
  flows.push_back(Flow{"overdracht_rmc",
                       {O::kSchool},
                       {O::kRmc},
                       {},
                       LegalBasis::kConsent,
                       std::string(kConsentSource),
                       Cats({C::kIdentificatie, C::kContact, C::kOnderwijs, C::kVerzuim, C::kHulpvraag, C::kAfspraken}),
                       std::nullopt,
                       std::nullopt});
  flows.push_back(Flow{"verzuimmelding",
                       {O::kSchool},
                       {O::kLvs},
                       {},
                       LegalBasis::kLegalObligation,
                       "Leerplichtwet 1969, art. 18 lid 3 en 21a; Wet register onderwijsdeelnemers, art. 12",
                       Cats({C::kIdentificatie, C::kBsn, C::kVerzuim}),
                       std::nullopt,
                       std::nullopt});
  flows.push_back(Flow{"vsv_melding",
                       {O::kSchool},
                       {O::kRmc},
                       {},
                       LegalBasis::kLegalObligation,
                       "WVO 2020, art. 8.21 lid 1 en 8.17 lid 4; WEB, art. 9.2.1–9.2.3",
                       Cats({C::kIdentificatie, C::kBsn, C::kOnderwijs, C::kVerzuim}),
                       std::nullopt,
                       std::nullopt});
  flows.push_back(Flow{"terugkoppeling",
                       {O::kWijkteam, O::kGgd, O::kLvs, O::kRmc, O::kSwv},
                       {O::kSchool},
                       {},
                       LegalBasis::kConsent,
                       std::string(kConsentSource),
                       Cats({C::kIdentificatie, C::kAfspraken}),
                       std::nullopt,
                       std::nullopt});
  flows.push_back(Flow{"meldcode",
                       {kAllOrgTypes.begin(), kAllOrgTypes.end()},
                       {O::kVeiligThuis},
                       {},
                       LegalBasis::kMeldcode,
                       "Wmo 2015, art. 5.2.6; Besluit verplichte meldcode, art. 2",
                       // Only what is necessary, and never the BSN: Veilig
                       // Thuis finds it itself (Wmo 2015 art. 5.2.9).
                       CategorySet::All().Minus(Cats({C::kBsn})),
                       std::nullopt,
                       std::nullopt});
  auto p = Protocol::Create(std::move(flows), AgeRules{});
  // The table above is checked by the tests; a failure here is a bug in it.
  if (!p.ok()) return Protocol();
  return std::move(p).value();
}

}  // namespace

const Protocol& DefaultProtocol() {
  static const Protocol kDefault = BuildDefault();
  return kDefault;
}

}  // namespace schakel::consent
