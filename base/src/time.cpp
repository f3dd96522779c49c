#include "schakel/base/time.h"

#include <array>
#include <cstdio>

namespace schakel {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Result<Date> ParseDatePrefix(std::string_view text, std::string_view what) {
  int y = 0, m = 0, d = 0;
  if (text.size() < 10 || !ParseDigits(text, 0, 4, &y) || text[4] != '-' || !ParseDigits(text, 5, 2, &m) ||
      text[7] != '-' || !ParseDigits(text, 8, 2, &d)) {
    return Status::InvalidInput(std::string("expected ") + std::string(what));
  }
  if (y < 1900 || y > 9999) {
    return Status::InvalidInput("year out of range 1900..9999");
  }
  Date date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
            std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return Status::InvalidInput("not a calendar date");
  return date;
}

// Last Sunday of `month` in `year`, at 01:00 UTC.
Instant LastSundayOneUtc(int year, unsigned month) {
  using namespace std::chrono;
  sys_days last{year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}};
  weekday wd{last};
  sys_days sunday = last - (wd - Sunday);
  return Instant{sunday} + hours{1};
}

}  // namespace

Result<Date> ParseDate(std::string_view text) {
  if (text.size() != 10) return Status::InvalidInput("expected a date YYYY-MM-DD");
  return ParseDatePrefix(text, "a date YYYY-MM-DD");
}

std::string FormatDate(Date date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()));
  return buf;
}

Result<Instant> ParseInstant(std::string_view text) {
  constexpr std::string_view kWant = "an RFC 3339 instant with a zone, like 2026-11-23T10:00:00Z";
  if (text.size() < 19 || text.size() > 40) return Status::InvalidInput(std::string("expected ") + std::string(kWant));
  auto date = ParseDatePrefix(text, kWant);
  if (!date.ok()) return date.status();
  int hh = 0, mi = 0, ss = 0;
  if ((text[10] != 'T' && text[10] != 't') || !ParseDigits(text, 11, 2, &hh) || text[13] != ':' ||
      !ParseDigits(text, 14, 2, &mi) || text[16] != ':' || !ParseDigits(text, 17, 2, &ss)) {
    return Status::InvalidInput(std::string("expected ") + std::string(kWant));
  }
  if (hh > 23 || mi > 59 || ss > 59) return Status::InvalidInput("time of day out of range");
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return Status::InvalidInput("bad fraction of a second");
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos >= text.size()) {
    return Status::InvalidInput("instant has no zone: add Z or an offset like +01:00");
  }
  int offset_minutes = 0;
  char z = text[pos];
  if (z == 'Z' || z == 'z') {
    ++pos;
  } else if (z == '+' || z == '-') {
    int oh = 0, om = 0;
    if (!ParseDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return Status::InvalidInput("bad zone offset: expected +HH:MM or -HH:MM");
    }
    offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
    pos += 6;
  } else {
    return Status::InvalidInput("instant has no zone: add Z or an offset like +01:00");
  }
  if (pos != text.size()) return Status::InvalidInput("trailing characters after the instant");
  using namespace std::chrono;
  Instant t = Instant{sys_days{date.value()}} + hours{hh} + minutes{mi} + seconds{ss} + milliseconds{millis} -
              minutes{offset_minutes};
  return t;
}

std::string FormatInstantMs(Instant t) {
  using namespace std::chrono;
  sys_days day = floor<days>(t);
  Date date{day};
  auto ms = (t - day).count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%03dZ", FormatDate(date).c_str(), static_cast<int>(ms / 3600000),
                static_cast<int>(ms / 60000 % 60), static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
  return buf;
}

std::string FormatInstant(Instant t) {
  std::string s = FormatInstantMs(t);
  return s.substr(0, 19) + "Z";
}

std::chrono::minutes AmsterdamOffset(Instant t) {
  using namespace std::chrono;
  int year = static_cast<int>(Date{floor<days>(t)}.year());
  Instant summer_start = LastSundayOneUtc(year, 3);
  Instant summer_end = LastSundayOneUtc(year, 10);
  return (t >= summer_start && t < summer_end) ? minutes{120} : minutes{60};
}

Date AmsterdamDate(Instant t) {
  using namespace std::chrono;
  return Date{floor<days>(t + AmsterdamOffset(t))};
}

int AgeInYears(Date birth, Date on) {
  int years = static_cast<int>(on.year()) - static_cast<int>(birth.year());
  unsigned bm = static_cast<unsigned>(birth.month());
  unsigned bd = static_cast<unsigned>(birth.day());
  // A 29 February birthday falls on 1 March in a common year.
  if (bm == 2 && bd == 29 && !on.year().is_leap()) {
    bm = 3;
    bd = 1;
  }
  unsigned om = static_cast<unsigned>(on.month());
  unsigned od = static_cast<unsigned>(on.day());
  if (om < bm || (om == bm && od < bd)) --years;
  return years;
}

Date AddDays(Date d, int64_t n) { return Date{std::chrono::sys_days{d} + std::chrono::days{n}}; }

Instant NowUtc() { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

}  // namespace schakel
