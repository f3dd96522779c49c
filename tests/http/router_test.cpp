// http::RouteTable: exact segments, "*" parameters, method, first row wins,
// limits on the number of segments.
#include <gtest/gtest.h>

#include <string>

#include "schakel/http/router.h"

namespace schakel::http {
namespace {

TEST(RouteTable, MatchesMethodSegmentsAndParameters) {
  RouteTable<int> t({{"GET", "/", 0, 1},
                     {"GET", "/dossiers", 0, 2},
                     {"POST", "/dossiers", 0, 3},
                     {"GET", "/dossiers/*", 0, 4},
                     {"POST", "/dossiers/*/link", 4, 5},
                     {"GET", "/a/*/b/*", 0, 6}});
  EXPECT_EQ(t.Find("GET", "/").route->handler, 1);
  EXPECT_EQ(t.Find("GET", "").route->handler, 1);
  EXPECT_EQ(t.Find("GET", "/dossiers").route->handler, 2);
  EXPECT_EQ(t.Find("GET", "/dossiers/").route->handler, 2);  // a trailing slash is no segment
  EXPECT_EQ(t.Find("POST", "/dossiers").route->handler, 3);
  auto one = t.Find("GET", "/dossiers/c-1");
  ASSERT_NE(one.route, nullptr);
  EXPECT_EQ(one.route->handler, 4);
  EXPECT_EQ(one.params, std::vector<std::string>{"c-1"});
  auto link = t.Find("POST", "/dossiers/c-2/link");
  ASSERT_NE(link.route, nullptr);
  EXPECT_EQ(link.route->roles, 4u);
  EXPECT_EQ(link.params, std::vector<std::string>{"c-2"});
  auto two = t.Find("GET", "/a/x/b/y");
  ASSERT_NE(two.route, nullptr);
  EXPECT_EQ(two.params, (std::vector<std::string>{"x", "y"}));
  // No row: other method, other case, extra or missing segments.
  EXPECT_EQ(t.Find("DELETE", "/dossiers").route, nullptr);
  EXPECT_EQ(t.Find("GET", "/Dossiers").route, nullptr);
  EXPECT_EQ(t.Find("GET", "/dossiers/c-1/link").route, nullptr);
  EXPECT_EQ(t.Find("GET", "/a/x/b").route, nullptr);
}

TEST(RouteTable, FirstRowWinsAndLongPathsMatchNothing) {
  RouteTable<int> t({{"GET", "/x/*", 0, 1}, {"GET", "/x/y", 0, 2}, {"GET", "/*/*/*/*/*/*/*/*", 0, 3}});
  EXPECT_EQ(t.Find("GET", "/x/y").route->handler, 1);
  EXPECT_EQ(t.Find("GET", "/1/2/3/4/5/6/7/8").route->handler, 3);
  EXPECT_EQ(t.Find("GET", "/1/2/3/4/5/6/7/8/9").route, nullptr);
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "/a";
  EXPECT_EQ(t.Find("GET", deep).route, nullptr);
}

}  // namespace
}  // namespace schakel::http
