// Dates and instants (base/time.h): parsing, formatting, ages, and the
// Europe/Amsterdam calendar date checked against the system's tzdata.
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "schakel/base/time.h"

namespace schakel {
namespace {

using namespace std::chrono;

Date D(int y, unsigned m, unsigned d) { return Date{year{y}, month{m}, day{d}}; }

Instant I(std::string_view s) {
  auto t = ParseInstant(s);
  EXPECT_TRUE(t.ok()) << s << ": " << t.status().message();
  return t.ok() ? t.value() : Instant{};
}

// ---- ParseDate / FormatDate ----------------------------------------------

TEST(ParseDate, AcceptsCalendarDays) {
  EXPECT_EQ(ParseDate("2026-11-23").value(), D(2026, 11, 23));
  EXPECT_EQ(ParseDate("2024-02-29").value(), D(2024, 2, 29));
  EXPECT_EQ(ParseDate("1900-01-01").value(), D(1900, 1, 1));
  EXPECT_EQ(ParseDate("9999-12-31").value(), D(9999, 12, 31));
  EXPECT_EQ(FormatDate(D(2010, 5, 1)), "2010-05-01");
}

TEST(ParseDate, RefusesEverythingElse) {
  for (const char* bad : {"", "2026-11-2", "2026-1-23", "26-11-23", "2026/11/23", "2026-11-23x", "2026-11-23 ",
                          " 2026-11-23", "2026-13-01", "2026-00-10", "2026-11-31", "2025-02-29", "1900-02-29",
                          "1899-12-31", "abcd-ef-gh", "2026-11-23T00:00:00Z", "+026-11-23"}) {
    auto d = ParseDate(bad);
    EXPECT_FALSE(d.ok()) << '"' << bad << '"';
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), Code::kInvalidInput);
    }
  }
  EXPECT_EQ(ParseDate("2026-1-23").status().message(), "expected a date YYYY-MM-DD");
  EXPECT_EQ(ParseDate("2025-02-29").status().message(), "not a calendar date");
}

// ---- ParseInstant / FormatInstant(Ms) ---------------------------------------

TEST(ParseInstant, ZonesAndFractions) {
  const Instant base = sys_days{D(2026, 11, 23)} + hours{10};
  EXPECT_EQ(I("2026-11-23T10:00:00Z"), base);
  EXPECT_EQ(I("2026-11-23t10:00:00z"), base);
  EXPECT_EQ(I("2026-11-23T11:00:00+01:00"), base);
  EXPECT_EQ(I("2026-11-23T05:30:00-04:30"), base);
  EXPECT_EQ(I("2026-11-23T10:00:00.250Z"), base + milliseconds{250});
  EXPECT_EQ(I("2026-11-23T10:00:00.2Z"), base + milliseconds{200});
  EXPECT_EQ(I("2026-11-23T10:00:00.999999999Z"), base + milliseconds{999});  // truncated
  EXPECT_EQ(I("2026-11-24T00:00:00+14:00"), base);
  EXPECT_EQ(I("2026-11-23T00:00:00+00:00"), sys_days{D(2026, 11, 23)});
}

TEST(ParseInstant, RefusesLocalTimesAndNonsense) {
  struct Case {
    const char* text;
    const char* message_part;
  };
  for (auto c : {Case{"2026-11-23T10:00:00", "no zone"}, Case{"2026-11-23T10:00:00.5", "no zone"},
                 Case{"2026-11-23 10:00:00Z", "expected"}, Case{"2026-11-23", "expected"},
                 Case{"2026-11-23T24:00:00Z", "out of range"}, Case{"2026-11-23T10:60:00Z", "out of range"},
                 Case{"2026-12-31T23:59:60Z", "out of range"},  // no leap seconds
                 Case{"2026-11-23T10:00:00.Z", "fraction"}, Case{"2026-11-23T10:00:00.1234567890Z", "fraction"},
                 Case{"2026-11-23T10:00:00+0100", "offset"}, Case{"2026-11-23T10:00:00+24:00", "offset"},
                 Case{"2026-11-23T10:00:00ZZ", "trailing"}, Case{"2026-11-23T10:00:00 Z", "no zone"},
                 Case{"2026-02-30T10:00:00Z", "calendar"}}) {
    auto t = ParseInstant(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.status().message().find(c.message_part), std::string::npos) << c.text << ": " << t.status().message();
  }
}

TEST(FormatInstant, MillisecondsUtc) {
  EXPECT_EQ(FormatInstantMs(I("2026-11-23T11:00:00.007+01:00")), "2026-11-23T10:00:00.007Z");
  EXPECT_EQ(FormatInstantMs(I("1999-12-31T23:59:59.999Z")), "1999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatInstantMs(Instant{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(I("2026-11-23T10:00:00.999Z")), "2026-11-23T10:00:00Z");
  // Round trip through the text form.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    Instant t{milliseconds{static_cast<int64_t>(rng() % 4102444800000ULL)}};  // 1970..2100
    EXPECT_EQ(I(FormatInstantMs(t)), t);
  }
}

// ---- AgeInYears / AddDays ----------------------------------------------------

TEST(AgeInYears, CountsCompletedYears) {
  EXPECT_EQ(AgeInYears(D(2010, 11, 23), D(2026, 11, 22)), 15);
  EXPECT_EQ(AgeInYears(D(2010, 11, 23), D(2026, 11, 23)), 16);
  EXPECT_EQ(AgeInYears(D(2010, 11, 23), D(2026, 11, 24)), 16);
  EXPECT_EQ(AgeInYears(D(2014, 1, 1), D(2025, 12, 31)), 11);
  EXPECT_EQ(AgeInYears(D(2014, 1, 1), D(2026, 1, 1)), 12);
  EXPECT_EQ(AgeInYears(D(2014, 12, 31), D(2026, 12, 31)), 12);
  EXPECT_EQ(AgeInYears(D(2026, 11, 23), D(2026, 11, 23)), 0);
  EXPECT_EQ(AgeInYears(D(2026, 11, 24), D(2026, 11, 23)), -1);
}

TEST(AgeInYears, TwentyNinthOfFebruary) {
  const Date born = D(2012, 2, 29);
  EXPECT_EQ(AgeInYears(born, D(2024, 2, 28)), 11);
  EXPECT_EQ(AgeInYears(born, D(2024, 2, 29)), 12);  // leap year: on the day
  EXPECT_EQ(AgeInYears(born, D(2025, 2, 28)), 12);  // common year: not yet
  EXPECT_EQ(AgeInYears(born, D(2025, 3, 1)), 13);   // ... but on 1 March
  EXPECT_EQ(AgeInYears(born, D(2100, 2, 28)), 87);  // 2100 is a common year
  EXPECT_EQ(AgeInYears(born, D(2100, 3, 1)), 88);
}

TEST(AddDays, AcrossMonthsAndYears) {
  EXPECT_EQ(AddDays(D(2026, 12, 31), 1), D(2027, 1, 1));
  EXPECT_EQ(AddDays(D(2024, 2, 28), 1), D(2024, 2, 29));
  EXPECT_EQ(AddDays(D(2026, 3, 1), -1), D(2026, 2, 28));
  EXPECT_EQ(AddDays(D(2026, 1, 1), 365), D(2027, 1, 1));
}

// ---- Europe/Amsterdam -------------------------------------------------------

TEST(AmsterdamDate, KnownTransitions) {
  // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
  EXPECT_EQ(AmsterdamOffset(I("2026-03-29T00:59:59.999Z")), minutes{60});
  EXPECT_EQ(AmsterdamOffset(I("2026-03-29T01:00:00Z")), minutes{120});
  EXPECT_EQ(AmsterdamOffset(I("2026-10-25T00:59:59.999Z")), minutes{120});
  EXPECT_EQ(AmsterdamOffset(I("2026-10-25T01:00:00Z")), minutes{60});
  EXPECT_EQ(AmsterdamDate(I("2026-11-22T22:59:59.999Z")), D(2026, 11, 22));
  EXPECT_EQ(AmsterdamDate(I("2026-11-22T23:00:00Z")), D(2026, 11, 23));
  EXPECT_EQ(AmsterdamDate(I("2026-06-14T21:59:59.999Z")), D(2026, 6, 14));
  EXPECT_EQ(AmsterdamDate(I("2026-06-14T22:00:00Z")), D(2026, 6, 15));
  EXPECT_EQ(AmsterdamDate(I("2026-12-31T23:00:00Z")), D(2027, 1, 1));
}

// Sets TZ for the test and restores it afterwards.
class SystemTz : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZ");
    had_tz_ = old != nullptr;
    if (had_tz_) old_tz_ = old;
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  // The system's view of t: (local date, offset).
  static std::pair<Date, minutes> System(Instant t) {
    time_t secs = static_cast<time_t>(floor<seconds>(t).time_since_epoch().count());
    struct tm tm {};
    EXPECT_NE(localtime_r(&secs, &tm), nullptr);
    Date d{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
           day{static_cast<unsigned>(tm.tm_mday)}};
    return {d, minutes{tm.tm_gmtoff / 60}};
  }

  static ::testing::AssertionResult Check(Instant t) {
    auto [date, offset] = System(t);
    if (AmsterdamDate(t) == date && AmsterdamOffset(t) == offset) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << FormatInstantMs(t) << ": ours " << FormatDate(AmsterdamDate(t)) << " +"
                                         << AmsterdamOffset(t).count() << "min, tzdata " << FormatDate(date) << " +"
                                         << offset.count() << "min";
  }

 private:
  bool had_tz_ = false;
  std::string old_tz_;
};

TEST_F(SystemTz, AgreesWithTzdataFrom2000To2040) {
  ASSERT_EQ(access("/usr/share/zoneinfo/Europe/Amsterdam", R_OK), 0)
      << "tzdata is not installed (apt-get install tzdata); without it this check means nothing";
  // The system really applies Amsterdam time (not a silent UTC fallback).
  ASSERT_EQ(System(I("2026-01-15T12:00:00Z")).second, minutes{60});
  ASSERT_EQ(System(I("2026-07-15T12:00:00Z")).second, minutes{120});

  // Around every transition (minute by minute over six hours, second by
  // second over four minutes) and every Amsterdam midnight near them.
  for (int y = 2000; y <= 2040; ++y) {
    for (unsigned m : {3u, 10u}) {
      sys_days last{year_month_day_last{year{y}, month_day_last{month{m}}}};
      sys_days sunday = last - (weekday{last} - Sunday);
      Instant switch_at = Instant{sunday} + hours{1};
      for (int s = -3 * 3600; s <= 3 * 3600; s += 60) ASSERT_TRUE(Check(switch_at + seconds{s}));
      for (int s = -120; s <= 120; ++s) ASSERT_TRUE(Check(switch_at + seconds{s}));
      ASSERT_TRUE(Check(switch_at - milliseconds{1}));
      // Amsterdam midnights of the days around the switch.
      for (int dd = -2; dd <= 2; ++dd) {
        for (int h : {21, 22, 23}) {
          Instant t = Instant{sunday + days{dd}} + hours{h};
          ASSERT_TRUE(Check(t - milliseconds{1}));
          ASSERT_TRUE(Check(t));
        }
      }
    }
  }
  // And many random instants across the whole range.
  std::mt19937_64 rng(2040);
  const int64_t from = I("2000-01-01T00:00:00Z").time_since_epoch().count();
  const int64_t to = I("2040-12-31T23:59:59Z").time_since_epoch().count();
  for (int i = 0; i < 200000; ++i) {
    int64_t ms = from + static_cast<int64_t>(rng() % static_cast<uint64_t>(to - from));
    ASSERT_TRUE(Check(Instant{milliseconds{ms}}));
  }
}

}  // namespace
}  // namespace schakel
