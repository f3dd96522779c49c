// Names instead of ids on the pages people read: the sender's organisation
// and the colleague a share is assigned to, never their ids; an unknown id
// is shown as it is.
#include <gtest/gtest.h>

#include "console_pages.h"

namespace schakel::daemon::console {
namespace {

TEST(ConsoleNames, TheInboxNamesTheSenderAndTheColleague) {
  Viewer v{"Cor",  store::Role::kCoordinator,
           "csrf", "Wijkteam Overvecht",
           "u-co", {{"school-trajectum", "Trajectum College"}, {"u-7f3a", "Fatima Ouali"}}};
  service::InboxListItem mine;
  mine.record.sender_id = "school-trajectum";
  mine.record.message_id = "m-1";
  mine.record.student_id = "stu-1";
  mine.record.purpose = "doorverwijzing";
  mine.record.state = "received";
  mine.record.received = "2026-12-01T09:00:00.000Z";
  mine.record.assigned_to = "u-7f3a";
  mine.unread = true;
  service::InboxListItem other = mine;
  other.record.message_id = "m-2";
  other.record.sender_id = "ggd-onbekend";
  other.record.assigned_to.reset();
  other.unread = false;
  const std::string page = InboxPage(v, {mine, other});
  EXPECT_NE(page.find("Trajectum College"), std::string::npos);
  EXPECT_NE(page.find("Fatima Ouali"), std::string::npos);
  EXPECT_EQ(page.find("u-7f3a"), std::string::npos);
  EXPECT_EQ(page.find(">school-trajectum<"), std::string::npos);
  EXPECT_NE(page.find("ggd-onbekend"), std::string::npos);            // no name known: the id
  EXPECT_NE(page.find("1 december 2026, 10:00"), std::string::npos);  // Amsterdam time
  // One "nieuw" marker: m-1 only.
  const size_t first = page.find("class=\"nieuw\"");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(page.find("class=\"nieuw\"", first + 1), std::string::npos);
}

}  // namespace
}  // namespace schakel::daemon::console
