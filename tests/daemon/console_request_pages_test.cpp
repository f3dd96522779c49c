// The console's permission request pages (console_request_pages.cpp): the
// letter carries the link as text and as a QR code that a reader decodes
// back to the link (zbarimg, from Debian's zbar-tools), never the code; the
// code is on its own slip; names are escaped; the requests list answers in
// Dutch.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>

#include "console_pages.h"
#include "process_support.h"
#include "qr_svg.h"
#include "test_support.h"

namespace schakel::daemon::console {
namespace {

// The modules of a QrSvg drawing, read back from its path ("M{x} {y}h1v1h-1z"
// per dark module), as a PGM image, 8 pixels per module.
std::string PgmOf(const std::string& svg) {
  std::smatch box;
  EXPECT_TRUE(std::regex_search(svg, box, std::regex("viewBox=\"0 0 ([0-9]+) ([0-9]+)\"")));
  const int side = std::stoi(box[1]);
  std::set<std::pair<int, int>> dark;
  std::regex module("M([0-9]+) ([0-9]+)h1v1h-1z");
  for (std::sregex_iterator it(svg.begin(), svg.end(), module), end; it != end; ++it) {
    dark.emplace(std::stoi((*it)[1]), std::stoi((*it)[2]));
  }
  constexpr int kScale = 8;
  const int px = side * kScale;
  std::string pgm = "P5\n" + std::to_string(px) + " " + std::to_string(px) + "\n255\n";
  for (int y = 0; y < px; ++y) {
    for (int x = 0; x < px; ++x) pgm += dark.count({x / kScale, y / kScale}) ? '\0' : '\xff';
  }
  return pgm;
}

std::string Decode(const std::string& pgm_path) {
  return testing::RunCommand("zbarimg --raw -q '" + pgm_path + "' 2>/dev/null");
}

TEST(QrSvg, ReadsBackAsTheLink) {
  const std::string url = "https://links.school.example:8443/t/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE";
  auto svg = QrSvg(url, 40, "QR-code");
  ASSERT_TRUE(svg.ok()) << svg.status().message();
  EXPECT_NE(svg->find("role=\"img\" aria-label=\"QR-code\""), std::string::npos);
  testing::TempDir tmp;
  const std::string path = tmp / "qr.pgm";
  {
    std::ofstream f(path, std::ios::binary);
    f << PgmOf(*svg);
  }
  EXPECT_EQ(Decode(path), url) << "zbarimg (zbar-tools, installed by ./dev setup) reads the code back";
  EXPECT_FALSE(QrSvg("", 40, "x").ok());
  EXPECT_FALSE(QrSvg(std::string(2000, 'a'), 40, "x").ok());
}

service::ConsentRequestCreated Made() {
  service::ConsentRequestCreated made;
  made.request_id = "cr-1";
  made.expires = "2026-12-15T10:00:00.000Z";
  made.student_name = "Sanne <de> Vries";
  made.organisation = "Het Trajectum";
  made.recipient_names = {"Wijkteam Overvecht"};
  made.links = {{"g-1", "ouder", "M. de Vries", "https://l.example/t/OUDERTOKEN", "AAAAA-BBBBB"},
                {"g-2", "jongere", "", "https://l.example/t/JONGERETOKEN", "CCCCC-DDDDD"}};
  return made;
}

TEST(ConsoleRequestPages, EachLetterCarriesItsLinkAndQrCodeAndTheCodeIsOnItsOwnSlip) {
  Viewer v{"Cor Coördinator", store::Role::kCoordinator, "csrf", "school-a", "u-co", {}};
  const std::string page = ConsentRequestMadePage(v, "stu-1042", Made());
  // Two letters, two slips; the letters hold no code. (Found with find(),
  // not std::regex: libstdc++'s regex recurses per character and overflows
  // the stack on a page this size under ASan.)
  auto sections = [&](const std::string& cls) {
    std::vector<std::string> out;
    const std::string open = "<section class=\"" + cls + "\"";
    for (size_t at = page.find(open); at != std::string::npos; at = page.find(open, at + 1)) {
      out.push_back(page.substr(at, page.find("</section>", at) - at));
    }
    return out;
  };
  const auto letters = sections("brief");
  ASSERT_EQ(letters.size(), 2u);
  for (const auto& body : letters) {
    EXPECT_EQ(body.find("AAAAA-BBBBB"), std::string::npos) << body;
    EXPECT_EQ(body.find("CCCCC-DDDDD"), std::string::npos) << body;
    EXPECT_NE(body.find("<svg"), std::string::npos) << "a QR code";
    EXPECT_NE(body.find("Verzoek om toestemming"), std::string::npos);
  }
  EXPECT_NE(page.find("Beste M. de Vries,"), std::string::npos);
  EXPECT_NE(page.find("over jou delen met Wijkteam Overvecht"), std::string::npos) << "the young person: je/jij";
  EXPECT_NE(page.find("15 december 2026"), std::string::npos) << "the answer date in Dutch";
  const auto slips = sections("codebriefje");
  ASSERT_EQ(slips.size(), 2u);
  EXPECT_NE(slips[0].find("<p class=\"code\">AAAAA-BBBBB</p>"), std::string::npos) << slips[0];
  EXPECT_NE(slips[1].find("<p class=\"code\">CCCCC-DDDDD</p>"), std::string::npos) << slips[1];
  EXPECT_EQ(page.find("Sanne <de> Vries"), std::string::npos) << "escaped";
  EXPECT_NE(page.find("Sanne &lt;de&gt; Vries"), std::string::npos);
  EXPECT_NE(page.find("alleen nu"), std::string::npos) << "shown once, said so";
}

TEST(ConsoleRequestPages, TheListSaysEachAnswerInDutchAndOnlyCoordinatorsGetTheForm) {
  service::ConsentRequestView r;
  r.request_id = "cr-7";
  r.purposes = {"doorverwijzing"};
  r.recipients = {"wijkteam-b"};
  r.categories = {"hulpvraag", "afspraken"};
  r.valid_until = "2027-06-01";
  r.created = "2026-12-01T10:00:00.000Z";
  r.expires = "2026-12-15T10:00:00.000Z";
  r.grantors = {{"g-1", "ouder", "M. de Vries", "agreed", "", {"hulpvraag"}, "c-1"},
                {"g-2", "jongere", "", "refused", "", {}, ""}};
  Viewer coordinator{"Cor", store::Role::kCoordinator, "csrf", "school-a", "u-co", {}};
  Viewer auditor{"Ans", store::Role::kAuditor, "csrf", "school-a", "u-au", {}};
  const std::string c = ConsentRequestsSection(coordinator, "stu-1042", {r});
  EXPECT_NE(c.find("ouder (M. de Vries): ja voor Hulpvraag"), std::string::npos) << c;
  EXPECT_NE(c.find("jongere: nee"), std::string::npos);
  EXPECT_NE(c.find("action=\"/toestemmingen/verzoek\""), std::string::npos);
  const std::string a = ConsentRequestsSection(auditor, "stu-1042", {r});
  EXPECT_NE(a.find("jongere: nee"), std::string::npos);
  EXPECT_EQ(a.find("<form"), std::string::npos) << "auditors read, they do not ask";
}

}  // namespace
}  // namespace schakel::daemon::console
