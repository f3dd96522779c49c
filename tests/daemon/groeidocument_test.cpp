// The groeidocument as people read and edit it (daemon/src/groeidocument.h):
// every key of the example cases has a Dutch label and no page shows a JSON
// key; the form, posted back as a browser would, gives the same summary;
// multi-line text, added and removed rows, Dutch errors beside the field,
// keys the form does not show kept; limits.
#include "groeidocument.h"

#include "dutch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace schakel::daemon::groeidocument {
namespace {

Json Fixture(const std::string& name) {
  std::ifstream in(std::string(SCHAKEL_FIXTURES_DIR) + "/cases/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return Json::parse(s.str());
}

const std::vector<std::string> kCases = {"sanne.json", "noor.json", "daan.json"};

std::string Unescape(std::string s) {
  const std::vector<std::pair<std::string, std::string>> kEntities = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  }
  return s;
}

// The text between `open` and `close` after `from`; npos when absent.
std::string Between(const std::string& html, size_t from, const std::string& open, const std::string& close,
                    size_t* end = nullptr) {
  size_t a = html.find(open, from);
  if (a == std::string::npos) return "";
  a += open.size();
  size_t b = html.find(close, a);
  if (end != nullptr) *end = b;
  return html.substr(a, b - a);
}

// What a browser posts for the form as shown: every input, textarea and
// selected option (no button pressed).
std::map<std::string, std::string> Posted(const std::string& html) {
  std::map<std::string, std::string> form;
  for (size_t p = html.find("<input "); p != std::string::npos; p = html.find("<input ", p + 1)) {
    std::string tag = html.substr(p, html.find('>', p) - p);
    form[Between(tag, 0, "name=\"", "\"")] = Unescape(Between(tag, 0, "value=\"", "\""));
  }
  for (size_t p = html.find("<textarea "); p != std::string::npos; p = html.find("<textarea ", p + 1)) {
    std::string name = Between(html, p, "name=\"", "\"");
    size_t open_end = html.find('>', p);
    form[name] = Unescape(html.substr(open_end + 1, html.find("</textarea>", open_end) - open_end - 1));
  }
  for (size_t p = html.find("<select "); p != std::string::npos; p = html.find("<select ", p + 1)) {
    std::string name = Between(html, p, "name=\"", "\"");
    std::string options = html.substr(p, html.find("</select>", p) - p);
    size_t sel = options.find(" selected");
    form[name] = sel == std::string::npos
                     ? ""
                     : Unescape(options.substr(options.rfind("value=\"", sel) + 7,
                                               options.rfind('"', sel) - (options.rfind("value=\"", sel) + 7)));
  }
  return form;
}

// Every <dt> and <h2> text of a rendered summary.
std::vector<std::string> Labels(const std::string& html) {
  std::vector<std::string> out;
  for (const std::string tag : {"dt", "h2"}) {
    size_t end = 0;
    for (size_t p = html.find("<" + tag + ">"); p != std::string::npos; p = html.find("<" + tag + ">", end)) {
      out.push_back(Unescape(Between(html, p, "<" + tag + ">", "</" + tag + ">", &end)));
    }
  }
  return out;
}

TEST(Groeidocument, EveryKeyOfTheExampleCasesHasADutchLabelAndNoPageShowsAKey) {
  const std::vector<std::string> known = KnownLabels();
  for (const std::string& name : kCases) {
    Json c = Fixture(name);
    std::string html = RenderSummaryNl(c);
    std::vector<std::string> shown = Labels(html);
    ASSERT_FALSE(shown.empty()) << name;
    for (const std::string& label : shown) {
      EXPECT_NE(std::find(known.begin(), known.end(), label), known.end()) << name << ": '" << label << "'";
    }
    EXPECT_EQ(html.find("unauthorised"), std::string::npos) << name;
    EXPECT_EQ(html.find("guardians"), std::string::npos) << name;
    EXPECT_EQ(html.find(">true<"), std::string::npos) << name;  // booleans as ja/nee
  }
  EXPECT_EQ(FieldLabelNl("unauthorised_hours_4w"), "Ongeoorloofd verzuim (uren in 4 weken)");
  EXPECT_EQ(FieldLabelNl("gezondheid"), "Gezondheid");
}

TEST(Groeidocument, TheFormPostedBackAsShownGivesTheSameSummary) {
  for (const std::string& name : kCases) {
    Json c = Fixture(name);
    std::map<std::string, std::string> form = Posted(GroeidocumentForm(c, /*is_new=*/false, {}));
    FormReading read = GroeidocumentFromForm(form, c, /*is_new=*/false);
    EXPECT_TRUE(read.errors.empty()) << name << ": " << (read.errors.empty() ? "" : read.errors.begin()->first);
    EXPECT_FALSE(read.redisplay);
    Json want = c;
    for (const char* category : {"justitie", "gezondheid"}) {
      if (want[category].is_null()) want.erase(category);  // null and absent are the same: nothing known
    }
    EXPECT_EQ(read.summary, want) << name << "\n" << read.summary.dump(1) << "\n" << want.dump(1);
  }
}

TEST(Groeidocument, MultiLineTextRowsAndErrorsBesideTheField) {
  Json noor = Fixture("noor.json");
  std::map<std::string, std::string> form = Posted(GroeidocumentForm(noor, false, {}));
  form["gz_notes"] = "Moeder alleenstaand.\nDrie kinderen.";
  form["hv_signals_2"] = "slaapt slecht";  // the empty row after the last
  FormReading read = GroeidocumentFromForm(form, noor, false);
  ASSERT_TRUE(read.errors.empty());
  EXPECT_EQ(read.summary["gezinssituatie"]["notes"], "Moeder alleenstaand.\nDrie kinderen.");
  EXPECT_EQ(read.summary["hulpvraag"]["signals"], Json({"faalangst", "buikpijnklachten", "slaapt slecht"}));
  EXPECT_NE(RenderSummaryNl(read.summary).find("Moeder alleenstaand.<br>Drie kinderen."), std::string::npos);

  // "Verwijderen" on the first signal and on the only action: shown again.
  form["weg"] = "hv_signals_0";
  read = GroeidocumentFromForm(form, noor, false);
  EXPECT_TRUE(read.redisplay);
  EXPECT_EQ(read.summary["hulpvraag"]["signals"], Json({"buikpijnklachten", "slaapt slecht"}));
  form.erase("weg");
  form["meer"] = "act";
  read = GroeidocumentFromForm(form, noor, false);
  EXPECT_TRUE(read.redisplay);
  std::string again = GroeidocumentForm(read.summary, false, read.errors);
  EXPECT_NE(again.find("name=\"act_2_what\""), std::string::npos);  // one added and the empty one after it
  EXPECT_EQ(again.find("name=\"act_3_what\""), std::string::npos);

  form.erase("meer");
  form["bsn"] = "123456789";
  form["vz_unauthorised"] = "veel";
  form["af_next"] = "2027-02-30";
  read = GroeidocumentFromForm(form, noor, false);
  EXPECT_EQ(read.errors.size(), 3U);
  std::string shown = GroeidocumentForm(read.summary, false, read.errors);
  EXPECT_NE(shown.find("Dit BSN klopt niet"), std::string::npos);
  EXPECT_NE(shown.find("Vul een heel getal in van 0 tot en met 10000."), std::string::npos);
  EXPECT_NE(shown.find("id=\"af_next\" name=\"af_next\" type=\"date\" value=\"\" aria-invalid=\"true\""),
            std::string::npos)
      << shown;
  EXPECT_NE(shown.find("3 velden kloppen"), std::string::npos);
}

TEST(Groeidocument, KeysTheFormDoesNotShowAreKept) {
  Json c = Fixture("sanne.json");
  c["identificatie"]["roepnaam"] = "San";
  c["contact"]["guardians"][0]["werkdagen"] = "ma-wo";
  c["gezondheid"] = "Slaapproblemen.";  // a text written through the API
  std::map<std::string, std::string> form = Posted(GroeidocumentForm(c, false, {}));
  EXPECT_EQ(form["gh_notes"], "Slaapproblemen.");
  FormReading read = GroeidocumentFromForm(form, c, false);
  ASSERT_TRUE(read.errors.empty());
  EXPECT_EQ(read.summary["identificatie"]["roepnaam"], "San");
  EXPECT_EQ(read.summary["contact"]["guardians"][0]["werkdagen"], "ma-wo");
  EXPECT_EQ(read.summary["gezondheid"], Json({{"notes", "Slaapproblemen."}}));
  EXPECT_FALSE(read.summary["contact"]["guardians"][0].contains("_bron"));
}

TEST(Groeidocument, ANewCaseNeedsAStudentAndABirthDateAndLimitsHold) {
  FormReading empty = GroeidocumentFromForm({}, Json::object(), /*is_new=*/true);
  EXPECT_EQ(empty.errors.count("student_id"), 1U);
  EXPECT_EQ(empty.errors.count("birth_date"), 1U);

  std::map<std::string, std::string> form = {{"student_id", "stu-9"},
                                             {"birth_date", "2014-03-02"},
                                             {"id_name", "Sanne"},
                                             {"hv_question", std::string(10'001, 'x')},
                                             {"id_school", std::string(201, 'y')},
                                             {"hv_tried_rows", "100000"}};
  for (int i = 0; i < 100; ++i) form["hv_tried_" + std::to_string(i)] = "poging " + std::to_string(i);
  FormReading read = GroeidocumentFromForm(form, Json::object(), true);
  EXPECT_EQ(read.errors.at("hv_question"), "Maximaal 10.000 tekens.");
  EXPECT_EQ(read.errors.at("id_school"), "Maximaal 200 tekens.");
  EXPECT_EQ(read.summary["hulpvraag"]["tried"].size(), static_cast<size_t>(kMaxRows));  // rows beyond are not read
  form.erase("hv_question");
  form.erase("id_school");
  read = GroeidocumentFromForm(form, Json::object(), true);
  ASSERT_TRUE(read.errors.empty());
  EXPECT_EQ(read.summary["student_id"], "stu-9");
  EXPECT_EQ(read.summary["identificatie"], Json({{"name", "Sanne"}}));
  // The multi-line fields are exactly the textareas.
  std::string html = GroeidocumentForm(Json::object(), true, {});
  size_t textareas = 0;
  for (size_t p = html.find("<textarea "); p != std::string::npos; p = html.find("<textarea ", p + 1)) ++textareas;
  EXPECT_EQ(textareas, MultilineFields().size());
}

// Dates and times as a Dutch reader writes them, on the Amsterdam clock:
// winter time is UTC+1, summer time UTC+2.
TEST(Dutch, DatesAndTimesOnTheAmsterdamClock) {
  EXPECT_EQ(DateNl("2027-03-15"), "15 maart 2027");
  EXPECT_EQ(DateNl("2027-02-30"), "2027-02-30");  // not a date: as it is
  EXPECT_EQ(TimeNl("2026-12-01T23:40:12.345Z"), "2 december 2026, 00:40");
  EXPECT_EQ(TimeNl("2026-07-01T08:05:07Z", /*seconds=*/true), "1 juli 2026, 10:05:07");
  EXPECT_EQ(TimeNl("2026-03-29T00:59:59Z"), "29 maart 2026, 01:59");  // the last minute of winter time
  EXPECT_EQ(TimeNl("2026-03-29T01:00:00Z"), "29 maart 2026, 03:00");
  EXPECT_EQ(TimeNl("2026-11-30"), "30 november 2026");
  EXPECT_EQ(TimeNl("gisteren"), "gisteren");
}

// The access log's words: every action a subject report about a student
// shows is in Dutch; one the table does not know stays its code.
TEST(Dutch, AuditActionsAndOutcomesInWords) {
  for (const char* action : {"case.read", "consent.record", "consent.withdraw", "share.permitted", "share.denied",
                             "share.delivered", "share.revoked", "share.purged", "link.created", "link.read",
                             "inbox.received", "inbox.read", "inbox.purged", "audit.subject_report"}) {
    const std::string nl = ActionNl(action);
    EXPECT_NE(nl, action);
    EXPECT_EQ(nl.find('.'), std::string::npos) << nl;
    EXPECT_EQ(nl.find('_'), std::string::npos) << nl;
  }
  EXPECT_EQ(ActionNl("share.permitted"), "deling toegestaan en klaargezet");
  EXPECT_EQ(ActionNl("node.mystery"), "node.mystery");
  EXPECT_EQ(OutcomeNl("permit"), "toegestaan");
  EXPECT_EQ(OutcomeNl("deny"), "geweigerd");
  EXPECT_EQ(OutcomeNl("ok"), "gedaan");
}

}  // namespace
}  // namespace schakel::daemon::groeidocument
