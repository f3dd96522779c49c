// Logging for the daemon: one line per event on stderr, journald-friendly.
//
// When stderr is connected to the journal (JOURNAL_STREAM is set), lines
// carry the sd-daemon priority prefix ("<6>"), so journald files them at the
// right level; otherwise they start with an ISO time and the level name.
//
// What may be logged: event names, node ids, message ids, counts, error
// messages built from field names. What may never be logged: secrets, tokens,
// case contents, student names or BSNs. Callers keep to that; Log() also
// replaces control characters so one event is always one line.
//
// Thread-safe.
#pragma once

#include <string_view>

namespace schakel {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
// "debug", "info", "warn", "error"; false when unknown.
bool ParseLogLevel(std::string_view name, LogLevel* out);
void Log(LogLevel level, std::string_view message);

inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace schakel
