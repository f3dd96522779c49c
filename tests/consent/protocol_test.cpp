// The privacy protocol: the default table as CONTRACT.md writes it, flow
// matching, validation, and the TOML file (errors with file:line, round trip).
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "consent_test_util.h"
#include "schakel/config/protocol_file.h"
#include "schakel/consent/protocol.h"

namespace schakel::consent {
namespace {

using testing::C;
using testing::Cats;
using O = OrgType;

// CONTRACT.md "Default privacy protocol", transcribed independently of
// protocol.cpp.
struct Row {
  const char* purpose;
  std::vector<OrgType> from, to;
  LegalBasis basis;
  const char* source;
  CategorySet cats;
};

// The consent flows' source: the consent articles, and the ages taken over
// by analogy (docs/legal-basis.md).
constexpr const char* kConsentSource =
    "Toestemming: AVG art. 6 lid 1 onder a, art. 7 en art. 9 lid 2 onder a; UAVG art. 5; "
    "leeftijden naar analogie van WGBO art. 7:450 BW en Jeugdwet art. 7.3.4, 7.3.5 en 7.3.15";

std::vector<Row> ContractTable() {
  const std::vector<OrgType> any(kAllOrgTypes.begin(), kAllOrgTypes.end());
  return {
      {"kernteamoverleg",
       {O::kSchool},
       {O::kWijkteam, O::kGgd, O::kLvs, O::kSwv},
       LegalBasis::kConsent,
       kConsentSource,
       Cats({C::kIdentificatie, C::kContact, C::kOnderwijs, C::kVerzuim, C::kHulpvraag, C::kGezinssituatie,
             C::kGezondheid, C::kAfspraken})},
      {"doorverwijzing",
       {O::kSchool},
       {O::kWijkteam, O::kGgd},
       LegalBasis::kConsent,
       kConsentSource,
       Cats({C::kIdentificatie, C::kContact, C::kHulpvraag, C::kGezinssituatie, C::kGezondheid, C::kAfspraken})},
      {"overdracht_rmc",
       {O::kSchool},
       {O::kRmc},
       LegalBasis::kConsent,
       kConsentSource,
       Cats({C::kIdentificatie, C::kContact, C::kOnderwijs, C::kVerzuim, C::kHulpvraag, C::kAfspraken})},
      {"verzuimmelding",
       {O::kSchool},
       {O::kLvs},
       LegalBasis::kLegalObligation,
       "Leerplichtwet 1969, art. 18 lid 3 en 21a; Wet register onderwijsdeelnemers, art. 12",
       Cats({C::kIdentificatie, C::kBsn, C::kVerzuim})},
      {"vsv_melding",
       {O::kSchool},
       {O::kRmc},
       LegalBasis::kLegalObligation,
       "WVO 2020, art. 8.21 lid 1 en 8.17 lid 4; WEB, art. 9.2.1–9.2.3",
       Cats({C::kIdentificatie, C::kBsn, C::kOnderwijs, C::kVerzuim})},
      {"terugkoppeling",
       {O::kWijkteam, O::kGgd, O::kLvs, O::kRmc, O::kSwv},
       {O::kSchool},
       LegalBasis::kConsent,
       kConsentSource,
       Cats({C::kIdentificatie, C::kAfspraken})},
      {"meldcode",
       any,
       {O::kVeiligThuis},
       LegalBasis::kMeldcode,
       "Wmo 2015, art. 5.2.6; Besluit verplichte meldcode, art. 2",
       // All but the BSN: Veilig Thuis finds it itself (Wmo 2015 art. 5.2.9).
       CategorySet::All().Minus(Cats({C::kBsn}))},
  };
}

TEST(DefaultProtocol, IsTheContractTable) {
  const Protocol& p = DefaultProtocol();
  const auto table = ContractTable();
  ASSERT_EQ(p.flows().size(), table.size());
  EXPECT_EQ(p.ages(), AgeRules{});
  EXPECT_EQ(p.ages().jongere_also_from, 12);
  EXPECT_EQ(p.ages().jongere_alone_from, 16);
  for (const Row& row : table) {
    SCOPED_TRACE(row.purpose);
    EXPECT_TRUE(p.HasPurpose(row.purpose));
    // Every (from, to) pair of the row finds the row's flow ...
    for (OrgType from : row.from) {
      for (OrgType to : row.to) {
        const Flow* f = p.FindFlow(row.purpose, from, Party{"some-org", to});
        ASSERT_NE(f, nullptr) << Name(from) << " -> " << Name(to);
        EXPECT_EQ(f->basis, row.basis);
        EXPECT_EQ(f->categories, row.cats);
        // Each flow's source, as CONTRACT.md and docs/legal-basis.md give it.
        EXPECT_EQ(f->legal_source, row.source);
      }
    }
    // ... and no other pair does.
    for (OrgType from : kAllOrgTypes) {
      for (OrgType to : kAllOrgTypes) {
        bool in_row =
            std::count(row.from.begin(), row.from.end(), from) && std::count(row.to.begin(), row.to.end(), to);
        if (in_row) continue;
        EXPECT_EQ(p.FindFlow(row.purpose, from, Party{"some-org", to}), nullptr) << Name(from) << " -> " << Name(to);
      }
    }
  }
  EXPECT_FALSE(p.HasPurpose("marketing"));
}

TEST(ProtocolCreate, NormalisesListsSoEqualProtocolsCompareEqual) {
  Flow a;
  a.purpose = "x";
  a.from = {O::kSwv, O::kSchool, O::kSchool};
  a.to = {O::kGgd, O::kWijkteam};
  a.to_orgs = {"org-b", "org-a"};
  a.categories = Cats({C::kIdentificatie});
  Flow b = a;
  b.from = {O::kSchool, O::kSwv};
  b.to = {O::kWijkteam, O::kGgd};
  b.to_orgs = {"org-a", "org-b", "org-a"};
  auto pa = Protocol::Create({a});
  auto pb = Protocol::Create({b});
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa.value(), pb.value());
  EXPECT_EQ(pa->flows()[0].from, (std::vector<OrgType>{O::kSchool, O::kSwv}));
}

Flow Simple(std::string purpose, OrgType from, OrgType to) {
  Flow f;
  f.purpose = std::move(purpose);
  f.from = {from};
  f.to = {to};
  f.categories = Cats({C::kIdentificatie});
  return f;
}

TEST(ProtocolCreate, RefusesBadFlows) {
  struct Case {
    const char* name;
    std::function<void(std::vector<Flow>&, AgeRules&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"purpose", [](auto& f, auto&) { f[0].purpose = "Door verwijzing"; },
       "flow[0].purpose: expected 1 to 64 characters"},
      {"from", [](auto& f, auto&) { f[0].from.clear(); }, "flow[0].from: names no sender"},
      {"to", [](auto& f, auto&) { f[0].to.clear(); }, "flow[0].to: names no recipient"},
      {"to_orgs", [](auto& f, auto&) { f[0].to_orgs = {"X"}; }, "flow[0].to_orgs: not an org id"},
      {"categories", [](auto& f, auto&) { f[0].categories = CategorySet(); }, "flow[0].categories: names no category"},
      {"legal_source", [](auto& f, auto&) { f[0].basis = LegalBasis::kLegalObligation; },
       "flow[0].legal_source: a flow on legal basis legal_obligation must name"},
      {"retention", [](auto& f, auto&) { f[0].retention_days = 0; }, "flow[0].retention_days: out of range 1..3650"},
      {"overlap_type", [](auto& f, auto&) { f.push_back(Simple("a", O::kSchool, O::kGgd)); },
       "flow[2]: overlaps flow[0]: both allow purpose a from school to ggd"},
      {"overlap_org",
       [](auto& f, auto&) {
         f[0].to_orgs = {"ggd-x"};
         f[1].to_orgs = {"ggd-x"};
         f[1].purpose = "a";
         f[1].from = {O::kSchool};
         f[1].to = {O::kRmc};
       },
       "flow[1]: overlaps flow[0]: both allow purpose a from school to ggd-x"},
      {"ages_order",
       [](auto&, auto& a) {
         a = AgeRules{17, 16};
       },
       "ages.jongere_also_from: must lie between 0 and jongere_alone_from"},
      {"ages_high",
       [](auto&, auto& a) {
         a = AgeRules{12, 21};
       },
       "ages.jongere_alone_from: must be at most 18"},
  };
  for (const Case& c : cases) {
    std::vector<Flow> flows = {Simple("a", O::kSchool, O::kGgd), Simple("b", O::kSchool, O::kGgd)};
    AgeRules ages;
    c.mutate(flows, ages);
    auto p = Protocol::Create(flows, ages);
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().message().rfind(c.message, 0), 0u) << c.name << ": " << p.status().message();
  }
  // Same purpose, different recipients: fine. Same recipients, other purpose: fine.
  EXPECT_TRUE(Protocol::Create({Simple("a", O::kSchool, O::kGgd), Simple("a", O::kSchool, O::kRmc),
                                Simple("b", O::kSchool, O::kGgd)})
                  .ok());
}

TEST(ProtocolCreate, EmptyProtocolDeniesEverything) {
  Protocol empty;
  EXPECT_FALSE(empty.HasPurpose("meldcode"));
  EXPECT_EQ(empty.FindFlow("meldcode", O::kSchool, Party{"vt-x", O::kVeiligThuis}), nullptr);
}

// ---- TOML -------------------------------------------------------------------

TEST(ProtocolToml, DefaultRoundTrips) {
  const std::string toml = config::ProtocolToToml(DefaultProtocol());
  auto back = config::ParseProtocolToml(toml, "default.toml");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << toml;
  EXPECT_EQ(back.value(), DefaultProtocol());
  EXPECT_NE(toml.find("from = [\"any\"]"), std::string::npos) << toml;
  EXPECT_EQ(config::ProtocolToToml(back.value()), toml);
}

TEST(ProtocolToml, CustomProtocolRoundTrips) {
  Flow f = Simple("overleg_jgz", O::kSchool, O::kGgd);
  f.to_orgs = {"ggd-jgz-utrecht"};
  f.basis = LegalBasis::kLegalObligation;
  f.legal_source = "Convenant \"JGZ\" \\ art. 3\tlid 2 — Utrecht";
  f.categories = Cats({C::kIdentificatie, C::kJustitie, C::kGezondheid});
  f.retention_days = 365;
  Flow g = Simple("alleen_org", O::kWijkteam, O::kSchool);
  g.to.clear();
  g.to_orgs = {"school-x"};
  AgeRules ages{13, 17};
  ages.parents = AgeRules::Parents::kAllWithAuthority;
  auto p = Protocol::Create({f, g}, ages);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const std::string toml = config::ProtocolToToml(*p);
  EXPECT_NE(toml.find("parents = \"all_with_authority\""), std::string::npos) << toml;
  auto back = config::ParseProtocolToml(toml, "custom.toml");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << toml;
  EXPECT_EQ(back.value(), p.value());
}

TEST(ProtocolToml, ShorthandsAndDefaults) {
  auto p = config::ParseProtocolToml(R"(
[[flow]]
purpose = "meldcode"
from = ["any"]
to = ["veilig_thuis"]
legal_basis = "meldcode"
legal_source = "Wet verplichte meldcode"
categories = ["all"]
)",
                                     "short.toml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->ages(), AgeRules{});
  ASSERT_EQ(p->flows().size(), 1u);
  EXPECT_EQ(p->flows()[0].from.size(), kAllOrgTypes.size());
  EXPECT_EQ(p->flows()[0].categories, CategorySet::All());
  EXPECT_FALSE(p->flows()[0].retention_days.has_value());
}

constexpr const char* kGoodFlow = R"([[flow]]
purpose = "doorverwijzing"
from = ["school"]
to = ["wijkteam"]
legal_basis = "consent"
categories = ["identificatie", "hulpvraag"]
)";

struct TomlCase {
  const char* name;
  std::string text;
  const char* message;  // expected prefix
};

class BadToml : public ::testing::TestWithParam<TomlCase> {};

TEST_P(BadToml, NamesFileLineAndKey) {
  auto p = config::ParseProtocolToml(GetParam().text, "p.toml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kInvalidInput);
  EXPECT_EQ(p.status().message().rfind(GetParam().message, 0), 0u) << "got: " << p.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadToml,
    ::testing::Values(
        TomlCase{"syntax", "[[flow]]\npurpose = \"x\nfrom = []\n", "p.toml:2: not valid TOML"},
        TomlCase{"duplicate_key", "[[flow]]\npurpose = \"a\"\npurpose = \"b\"\n", "p.toml:3: not valid TOML"},
        TomlCase{"unknown_top", std::string("version = 1\n") + kGoodFlow, "p.toml:1: version: unknown key"},
        TomlCase{"consent_parents", std::string("[consent]\nparents = \"two\"\n") + kGoodFlow,
                 "p.toml:2: consent.parents: expected \"one\" or \"all_with_authority\""},
        TomlCase{"consent_key", std::string("[consent]\nouders = \"one\"\n") + kGoodFlow,
                 "p.toml:2: consent.ouders: unknown key"},
        TomlCase{"unknown_flow_key", std::string(kGoodFlow) + "retention = 3\n",
                 "p.toml:7: flow[0].retention: unknown key"},
        TomlCase{"missing_purpose",
                 "\n[[flow]]\nfrom = [\"school\"]\nto = [\"wijkteam\"]\n"
                 "legal_basis = \"consent\"\ncategories = [\"bsn\"]\n",
                 "p.toml:2: flow[0].purpose: missing"},
        TomlCase{"purpose_type", "[[flow]]\npurpose = 3\n", "p.toml:2: flow[0].purpose: expected a string"},
        TomlCase{"purpose_syntax",
                 "[[flow]]\npurpose = \"Door verwijzing\"\nfrom = [\"school\"]\nto = "
                 "[\"wijkteam\"]\nlegal_basis = \"consent\"\ncategories = [\"bsn\"]\n",
                 "p.toml:2: flow[0].purpose: expected 1 to 64 characters"},
        TomlCase{"legal_basis", "[[flow]]\npurpose = \"a\"\nlegal_basis = \"gentlemens_agreement\"\n",
                 "p.toml:3: flow[0].legal_basis: unknown legal basis \"gentlemens_agreement\""},
        TomlCase{"org_type",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = [\"school\", "
                 "\"politie\"]\n",
                 "p.toml:4: flow[0].from[1]: unknown org type \"politie\""},
        TomlCase{"from_string", "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = \"school\"\n",
                 "p.toml:4: flow[0].from: expected a list of strings"},
        TomlCase{"any_not_alone",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = [\"school\", "
                 "\"any\"]\n",
                 "p.toml:4: flow[0].from[1]: \"any\" must stand alone"},
        TomlCase{"to_missing", "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = [\"school\"]\n",
                 "p.toml:1: flow[0].to: missing"},
        TomlCase{"to_empty",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = "
                 "[\"school\"]\nto = []\ncategories = [\"bsn\"]\n",
                 "p.toml:5: flow[0].to: names no recipient"},
        TomlCase{"to_orgs_bad",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = "
                 "[\"school\"]\nto_orgs = [\"GGD\"]\n",
                 "p.toml:5: flow[0].to_orgs[0]: not an org id"},
        TomlCase{"category_unknown",
                 std::string(kGoodFlow) + "\n[[flow]]\npurpose = \"b\"\nfrom = [\"school\"]\nto = "
                                          "[\"ggd\"]\nlegal_basis = \"consent\"\ncategories = "
                                          "[\"identificatie\", \"gezondhied\"]\n",
                 "p.toml:13: flow[1].categories[1]: unknown category \"gezondhied\""},
        TomlCase{"category_twice",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = "
                 "[\"school\"]\nto = [\"ggd\"]\ncategories = [\"bsn\", \"bsn\"]\n",
                 "p.toml:6: flow[0].categories[1]: listed twice"},
        TomlCase{"all_in_consent_flow",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = "
                 "[\"school\"]\nto = [\"ggd\"]\ncategories = [\"all\"]\n",
                 "p.toml:6: flow[0].categories[0]: a consent flow must name its categories"},
        TomlCase{"categories_missing",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"consent\"\nfrom = "
                 "[\"school\"]\nto = [\"ggd\"]\n",
                 "p.toml:1: flow[0].categories: missing"},
        TomlCase{"legal_source_missing",
                 "[[flow]]\npurpose = \"a\"\nlegal_basis = \"legal_obligation\"\nfrom = "
                 "[\"school\"]\nto = [\"lvs\"]\ncategories = [\"bsn\"]\n",
                 "p.toml:1: flow[0].legal_source: a flow on legal basis legal_obligation"},
        TomlCase{"retention_range", std::string(kGoodFlow) + "retention_days = 0\n",
                 "p.toml:7: flow[0].retention_days: out of range 1..3650"},
        TomlCase{"retention_type", std::string(kGoodFlow) + "retention_days = \"30\"\n",
                 "p.toml:7: flow[0].retention_days: expected an integer"},
        TomlCase{"overlap", std::string(kGoodFlow) + "\n" + kGoodFlow,
                 "p.toml:8: flow[1]: overlaps flow[0]: both allow purpose doorverwijzing from "
                 "school to wijkteam"},
        TomlCase{"ages_order", std::string("[ages]\njongere_also_from = 17\n") + kGoodFlow,
                 "p.toml:2: ages.jongere_also_from: must lie between"},
        TomlCase{"ages_range", std::string("[ages]\njongere_alone_from = 30\n") + kGoodFlow,
                 "p.toml:2: ages.jongere_alone_from: out of range 0..18"},
        TomlCase{"ages_unknown", std::string("[ages]\nadult = 18\n") + kGoodFlow, "p.toml:2: ages.adult: unknown key"},
        TomlCase{"no_flows", "[ages]\njongere_also_from = 12\n",
                 "p.toml: flow: missing: the protocol needs at least one [[flow]]"},
        TomlCase{"flow_as_table", "[flow]\npurpose = \"a\"\n", "p.toml:1: flow: expected flows as [[flow]] tables"},
        TomlCase{"empty_file", "", "p.toml: flow: missing"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ProtocolFile, LoadsAndRefusesMissingOrHugeFiles) {
  char dir_template[] = "/tmp/schakel-protocol-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string good = dir + "/good.toml";
  {
    std::ofstream out(good);
    out << config::ProtocolToToml(DefaultProtocol());
  }
  auto p = config::LoadProtocolFile(good);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p.value(), DefaultProtocol());

  auto missing = config::LoadProtocolFile(dir + "/missing.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.toml"), std::string::npos);

  const std::string bad = dir + "/bad.toml";
  {
    std::ofstream out(bad);
    out << kGoodFlow << "color = \"red\"\n";
  }
  auto b = config::LoadProtocolFile(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), bad + ":7: flow[0].color: unknown key");

  const std::string huge = dir + "/huge.toml";
  {
    std::ofstream out(huge);
    out << std::string(config::kMaxProtocolFileBytes + 1, '#');
  }
  auto h = config::LoadProtocolFile(huge);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("larger than"), std::string::npos);

  for (const auto& f : {good, bad, huge}) std::remove(f.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace schakel::consent
