// The student register's roster file (formats/roster.h): what is accepted,
// and that each bad file is refused with the line of its first problem.
#include <gtest/gtest.h>

#include "schakel/formats/roster.h"

namespace schakel::formats {
namespace {

TEST(Roster, ReadsStudentsWithGuardiansInAnyColumnOrder) {
  auto rows = ParseRoster(
      "\xEF\xBB\xBF"
      "name,guardian1_authority,student_id,guardian1_name,birth_date\r\n"
      "\"de Vries, Sanne\",ja,stu-1042,M. de Vries,2012-05-01\r\n"
      "\r\n"
      "\"Noor \"\"N\"\" El Amrani\",,stu-3155,,2015-02-11\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].student_id, "stu-1042");
  EXPECT_EQ((*rows)[0].name, "de Vries, Sanne");
  EXPECT_EQ(FormatDate((*rows)[0].birth_date), "2012-05-01");
  ASSERT_EQ((*rows)[0].guardians.size(), 1u);
  EXPECT_EQ((*rows)[0].guardians[0].name, "M. de Vries");
  EXPECT_TRUE((*rows)[0].guardians[0].authority);
  EXPECT_EQ((*rows)[1].name, "Noor \"N\" El Amrani");
  EXPECT_TRUE((*rows)[1].guardians.empty());
  EXPECT_EQ((*rows)[1].line, 4u);
}

TEST(Roster, EachBadFileIsRefusedWithTheLineOfItsFirstProblem) {
  const std::string header = "student_id,name,birth_date,guardian1_name,guardian1_authority\n";
  const std::string good = "stu-1,Sanne,2012-05-01,,\n";
  struct Case {
    std::string file;
    std::string expected;
  };
  const Case cases[] = {
      {"", "line 1: the file has no header row"},
      {"student_id,name\n", "line 1: the header has no column birth_date"},
      {"student_id,name,birth_date,shoe_size\n", "line 1: unknown column \"shoe_size\""},
      {"student_id,name,birth_date,name\n", "line 1: column \"name\" appears twice"},
      {header + good + "stu-2,Noor,2015-02-30,,\n", "line 3: birth_date: not a date"},
      {header + good + "stu 2,Noor,2015-02-11,,\n", "line 3: student_id"},
      {header + good + "stu-2,,2015-02-11,,\n", "line 3: name: empty"},
      {header + good + "stu-2,Noor,2015-02-11\n", "line 3: 3 fields where the header has 5"},
      {header + good + "stu-1,Sanne,2012-05-01,,\n", "line 3: student stu-1 appears twice"},
      {header + good + "stu-2,Noor,2015-02-11,F. El Amrani,misschien\n", "line 3: guardian authority"},
      {header + good + "stu-2,Noor,2015-02-11,,ja\n", "line 3: guardian1_authority without a guardian name"},
      {header + good + "stu-2,\"Noor,2015-02-11,,\n", "line 3: a quoted field is not closed"},
      {header + good + "stu-2,No\"or,2015-02-11,,\n", "line 3: a quote inside an unquoted field"},
      {header + good + "stu-2,No\x01or,2015-02-11,,\n", "line 3: a field holds control characters"},
      {header + "stu-2," + std::string(201, 'x') + ",2015-02-11,,\n", "line 2: a field is longer than 200"},
  };
  for (const auto& c : cases) {
    auto rows = ParseRoster(c.file);
    ASSERT_FALSE(rows.ok()) << c.file;
    EXPECT_EQ(rows.status().code(), Code::kInvalidInput);
    EXPECT_NE(rows.status().message().find(c.expected), std::string::npos)
        << rows.status().message() << " / expected " << c.expected;
  }
}

TEST(Roster, LimitsOnSizeAndRows) {
  RosterLimits limits;
  limits.max_rows = 2;
  std::string file = "student_id,name,birth_date\n";
  for (int i = 0; i < 3; ++i) file += "stu-" + std::to_string(i) + ",N,2012-05-01\n";
  auto rows = ParseRoster(file, limits);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("line 4: more than 2 students"), std::string::npos);
  limits.max_bytes = 10;
  EXPECT_FALSE(ParseRoster(file, limits).ok());
}

TEST(Roster, WrittenRowsReadBackTheSame) {
  RosterRow row;
  row.student_id = "stu-9";
  row.name = "A, \"B\" C";
  row.birth_date = *ParseDate("2010-10-10");
  row.guardians = {{"G, One", true}, {"G Two", false}};
  std::string file = WriteRosterHeader(3) + WriteRosterRow(row, 3);
  auto rows = ParseRoster(file);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  RosterRow back = rows->front();
  back.line = 0;
  EXPECT_EQ(back, row);
}

}  // namespace
}  // namespace schakel::formats
