// Repeated denials counted, not logged one by one (issue 25 (2);
// docs/audit.md "Repeated denials").
//
// An anonymous visitor can ask for a dead or locked link as often as they
// like; one entry per request would grow a log that is kept for years
// without telling an auditor more. For such events the first of an hour is
// appended as it is; the ones after it in the same UTC hour (same action,
// object, outcome and reason) are only counted, in the table audit_repeats;
// once the hour has ended, FlushRepeats appends one entry with how many more
// there were and between which times. The counts are in the database, so a
// restart or a crash loses none: a count is flushed by the next run.
#pragma once

#include "schakel/audit/audit_log.h"
#include "schakel/audit/format.h"
#include "schakel/base/clock.h"
#include "schakel/base/status.h"
#include "schakel/store/database.h"

namespace schakel::audit {

// Appends `event` if it is the first of its kind this hour (true), else
// counts it (false). `db` is the log's database; joins the caller's
// transaction if one is open, else runs in its own.
Result<bool> AppendOrCount(store::Database& db, AuditLog& log, const AuditEvent& event, Instant now);

// For every hour that ended before `now`: one entry per counted kind, the
// original event with the reason "<reason>; repeated N more times from
// <first> to <last>" (times in UTC, to the second), and the count removed, in
// one transaction. Returns how many entries it appended. At most `limit`
// kinds per call; the maintenance loop calls it every 30 s.
Result<int> FlushRepeats(store::Database& db, AuditLog& log, Instant now, int limit = 1000);

// "2026-12-02T16": the UTC hour `t` falls in.
std::string HourOf(Instant t);

}  // namespace schakel::audit
