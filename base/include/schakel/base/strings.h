// Small string helpers shared by the modules: identifier checks, hex, joins.
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace schakel {

// Node and organisation ids: [a-z0-9-]{3,64} (CONTRACT.md).
bool IsValidNodeId(std::string_view id);
// Generic object ids (users, cases, students, consents): [A-Za-z0-9._-]{1,128}.
bool IsValidObjectId(std::string_view id);
// A function a user holds inside the organisation ("aandachtsfunctionaris";
// `[meldcode] approver_role`): [a-z][a-z0-9-]{2,39}, and not one of the
// role names (staff, coordinator, auditor, admin) or "none".
bool IsValidFunctionName(std::string_view name);
// Purpose names (protocol flows, consents, shares, links, the envelope
// header): [a-z0-9_-]{1,64}. The one definition of the grammar; consent/
// re-exports it (consent/vocabulary.h), crypto/ (which cannot use consent/)
// checks envelope headers with it.
bool IsValidPurpose(std::string_view p);

std::string ToHex(std::span<const uint8_t> bytes);
// Lower- or upper-case hex of even length; nullopt otherwise.
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// The parts of `s` between `sep`s: "a,b" -> {"a", "b"}; "" -> {}.
std::vector<std::string> Split(std::string_view s, char sep);

// True when every byte is printable ASCII or valid UTF-8 without control
// characters other than tab; used to keep names and reasons log-safe.
bool IsPrintableUtf8(std::string_view s);

// What an outside server said (an SMTP reply, an HTTP reason phrase or
// Location header), made safe for a log line or an error: the first
// `max_bytes` bytes, each byte outside printable ASCII shown as '?'.
std::string ShownAscii(std::string_view text, size_t max_bytes = 200);

// One plain e-mail address as a mail header may carry it: one @ with text
// on both sides, no spaces, brackets, quotes, commas, semicolons or control
// characters, at most 254 bytes.
bool IsPlainEmail(std::string_view address);

}  // namespace schakel
