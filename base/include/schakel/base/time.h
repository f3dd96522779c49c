// Calendar dates and instants as Schakel reads, writes and compares them.
//
// Instants are UTC with millisecond precision (Instant). Text forms follow
// RFC 3339: an instant must carry a zone ("Z" or "+01:00"); a bare local time
// is refused, because a consent withdrawn "at 09:00" means nothing without
// one. Dates are proleptic Gregorian "YYYY-MM-DD".
//
// The consent rules count ages and validity windows on the calendar of
// Europe/Amsterdam. AmsterdamDate() applies the zone's rule in force since
// 1996 (CET, UTC+1; CEST, UTC+2 from the last Sunday of March 01:00 UTC to
// the last Sunday of October 01:00 UTC) as a pure function, so the consent
// engine reads no time-zone files. tests/base checks it against the system's
// tzdata.
//
// All functions are pure and thread-safe; parse errors are Status values
// whose message says what was expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel {

using Date = std::chrono::year_month_day;
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// "2026-11-23": exactly four-digit year (1900..9999), two-digit month and day,
// a real calendar day.
Result<Date> ParseDate(std::string_view text);
std::string FormatDate(Date date);

// RFC 3339 date-time: "2026-11-23T10:00:00Z", "2026-11-23T11:00:00.250+01:00".
// Fractions beyond milliseconds are truncated. Leap second 60 is refused.
Result<Instant> ParseInstant(std::string_view text);
// "2026-11-23T10:00:00.000Z" (UTC, milliseconds), as the audit log writes it.
std::string FormatInstantMs(Instant t);
// "2026-11-23T10:00:00Z" (UTC, whole seconds).
std::string FormatInstant(Instant t);

// Offset of Europe/Amsterdam from UTC at t: +1 h or +2 h.
std::chrono::minutes AmsterdamOffset(Instant t);
// The calendar date in Europe/Amsterdam at t.
Date AmsterdamDate(Instant t);

// Completed years of someone born on `birth` on the day `on`. Someone born on
// 29 February has their birthday on 1 March in common years (Dutch civil law
// counts the day after 28 February). Negative when `on` precedes `birth`.
int AgeInYears(Date birth, Date on);

// Date plus a number of days.
Date AddDays(Date d, int64_t days);

// The current time from the system clock; code that must be testable takes a
// Clock (see clock.h) instead of calling this.
Instant NowUtc();

}  // namespace schakel
