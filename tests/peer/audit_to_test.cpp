// What went to whom (service/node_core.h AuditTo): the fields of audit entry
// format 2 always fit their limits, so a share or link never fails on its
// entry because it rests on many consents or has a long holder's name.
#include <gtest/gtest.h>

#include "schakel/audit/format.h"
#include "schakel/service/node_core.h"

namespace schakel::service {
namespace {

audit::AuditEvent EventWith(const AuditTo& to) {
  return SystemEvent({"share.permitted", "stu-1042", "msg-1", "doorverwijzing", "consent", "permit", ""}, "api", to);
}

TEST(AuditTo, AShareNamesItsPartnerCategoriesAndConsents) {
  store::ShareRecord s;
  s.recipient_id = "wijkteam-b";
  s.categories.Add(consent::Category::kOnderwijs);
  s.categories.Add(consent::Category::kHulpvraag);
  s.consent_ids = {"c-1", "c-2"};
  AuditTo to = ShareTo(s);
  EXPECT_EQ(to.recipient, "wijkteam-b");
  EXPECT_EQ(to.categories, "hulpvraag,onderwijs");
  EXPECT_EQ(to.consents, "c-1,c-2");
  audit::AuditEvent e = EventWith(to);
  EXPECT_EQ(e.recipient, "wijkteam-b");
  EXPECT_TRUE(audit::ValidateEvent(e).ok());
}

TEST(AuditTo, ManyConsentsFitAndSayHowManyAreLeftOut) {
  store::ShareRecord s;
  s.recipient_id = "wijkteam-b";
  for (int i = 0; i < 200; ++i) s.consent_ids.push_back("c-" + std::string(30, 'a') + std::to_string(1000 + i));
  AuditTo to = ShareTo(s);
  EXPECT_LE(to.consents.size(), audit::kMaxReasonBytes);
  EXPECT_EQ(to.consents.rfind("c-", 0), 0u);
  EXPECT_NE(to.consents.find(" more"), std::string::npos) << to.consents;
  EXPECT_TRUE(audit::ValidateEvent(EventWith(to)).ok());
}

TEST(AuditTo, ALinkNamesItsHolderWithinTheFieldLimit) {
  store::LinkRecord l;
  l.recipient_name = "dr. A. Jansen";
  l.recipient_type = "huisarts";
  l.categories = "hulpvraag,school";
  l.consent_ids = "c-1,c-2";
  AuditTo to = LinkTo(l);
  EXPECT_EQ(to.recipient, "dr. A. Jansen (huisarts)");
  // A tab (refused at creation since format 2, but stored by earlier
  // releases) becomes a space: the entry is still written.
  l.recipient_name = "dr.\tA. Jansen";
  EXPECT_EQ(LinkTo(l).recipient, "dr. A. Jansen (huisarts)");
  EXPECT_TRUE(audit::ValidateEvent(EventWith(LinkTo(l))).ok());
  EXPECT_EQ(to.consents, "c-1,c-2");
  // 200 bytes of two-byte characters and a type: cut on a character boundary.
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xc3\xa9";
  l.recipient_name = name;
  l.recipient_type = std::string(80, 't');
  to = LinkTo(l);
  EXPECT_LE(to.recipient.size(), audit::kMaxFieldBytes);
  EXPECT_TRUE(audit::ValidateEvent(EventWith(to)).ok()) << to.recipient;
}

TEST(AuditTo, AnInboxItemNamesWhomItIsAssignedTo) {
  store::InboxRecord r;
  r.categories.Add(consent::Category::kOnderwijs);
  r.consent_ids = {"c-9"};
  EXPECT_EQ(InboxTo(r).recipient, "");
  r.assigned_to = "u-1";
  EXPECT_EQ(InboxTo(r).recipient, "u-1");
  EXPECT_EQ(AssignedTo(r, "u-2").recipient, "u-2");
  EXPECT_EQ(AssignedTo(r, "u-2").categories, "onderwijs");
}

}  // namespace
}  // namespace schakel::service
