// The console's audit page (console_pages.h AuditPage): an auditor reads who
// (names beside ids), to whom, which categories and on which consents, with
// every value escaped.
#include <gtest/gtest.h>

#include "console_pages.h"

namespace schakel::daemon::console {
namespace {

TEST(ConsoleAuditPage, ARowSaysWhoSentWhatToWhomOnWhichConsents) {
  Viewer v{"Ans Auditor", store::Role::kAuditor, "csrf", "school-a", "u-aud", {}};
  service::AuditFound found;
  audit::AuditEntry e;
  e.seq = 7;
  e.actor_user = "u-1";
  e.actor_role = "staff";
  e.actor_org = "school-a";
  e.action = "share.permitted";
  e.subject = "stu-1042";
  e.object = "msg-1";
  e.purpose = "doorverwijzing";
  e.legal_basis = "consent";
  e.outcome = "permit";
  e.source = "api";
  e.recipient = "wijkteam-b";
  e.categories = "hulpvraag,onderwijs";
  e.consents = "c-1,c-2";
  found.entries.push_back(e);
  audit::AuditEntry link = e;
  link.seq = 8;
  link.action = "link.created";
  link.recipient = "dr. <b>Jansen</b> (huisarts)";
  found.entries.push_back(link);
  found.names = {{"u-1", "Mentor Mirjam"}, {"wijkteam-b", "Wijkteam Overvecht"}, {"school-a", "School A"}};
  std::string page = AuditPage(v, {}, &found, "");
  EXPECT_NE(page.find("Mentor Mirjam <code>u-1</code>"), std::string::npos);
  EXPECT_NE(page.find("Wijkteam Overvecht <code>wijkteam-b</code>"), std::string::npos);
  EXPECT_NE(page.find("<th scope=\"col\">Aan</th>"), std::string::npos);
  EXPECT_NE(page.find("Hulpvraag"), std::string::npos) << "categories in Dutch";
  EXPECT_NE(page.find("<a href=\"/toestemmingen?leerling=stu-1042\">c-1,c-2</a>"), std::string::npos);
  // A link holder's name is text, never markup.
  EXPECT_EQ(page.find("<b>Jansen</b>"), std::string::npos);
  EXPECT_NE(page.find("dr. &lt;b&gt;Jansen&lt;/b&gt; (huisarts)"), std::string::npos);
}

}  // namespace
}  // namespace schakel::daemon::console

namespace schakel::daemon::console {
namespace {

// The inbox item's "Opnemen in het dossier": a form for a coordinator, the
// basis shown escaped once adopted, nothing for staff or a purged share.
TEST(ConsoleAdoptForm, ACoordinatorAdoptsOnABasisStaffSeeNothing) {
  Viewer coordinator{"Cor Coördinator", store::Role::kCoordinator, "csrf-token", "wijkteam-b", "u-co", {}};
  Viewer staff{"Sam Staff", store::Role::kStaff, "csrf-token", "wijkteam-b", "u-st", {}};
  store::InboxRecord r;
  r.message_id = "m-1";
  r.sender_id = "school-a";
  r.state = "received";
  std::string form = AdoptForm(coordinator, r);
  EXPECT_NE(form.find("action=\"/inbox/m-1/opnemen?van=school-a\""), std::string::npos) << form;
  EXPECT_NE(form.find("csrf-token"), std::string::npos);
  EXPECT_NE(form.find("<label for=\"grondslag\">"), std::string::npos);
  EXPECT_EQ(AdoptForm(staff, r), "");
  r.adopted_at = "2026-12-01T10:00:00.000Z";
  r.adopted_basis = "Jeugdwet <art. 7.3.8>";
  std::string adopted = AdoptForm(coordinator, r);
  EXPECT_EQ(adopted.find("<form"), std::string::npos);
  EXPECT_NE(adopted.find("Jeugdwet &lt;art. 7.3.8&gt;"), std::string::npos) << adopted;
  r.state = "purged";
  EXPECT_EQ(AdoptForm(coordinator, r), "");
}

}  // namespace
}  // namespace schakel::daemon::console
