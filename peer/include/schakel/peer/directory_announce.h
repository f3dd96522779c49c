// A regional directory passed along by a partner (peer protocol 7;
// docs/region.md "Passed along", docs/peer-protocol.md).
//
// Request (DELIVER payload): "SCHD", one version byte 0x01, then the signed
// directory's JSON as the keeper wrote it (at most crypto::kMaxDirectoryBytes).
// Answer (RESPONSE payload): "SCHD", 0x01, then "taken" (it replaced the
// directory held), "held" (the one held is this one or newer) or "unknown"
// (this node does not trust that region). A refused directory (another key,
// expired, two versions under one serial) is a FAILURE with the recipient's
// Status.
//
// Thread-safety: pure functions. Errors: kInvalidInput naming what is wrong.
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"

namespace schakel::peer {

inline constexpr std::string_view kDirectoryTaken = "taken";
inline constexpr std::string_view kDirectoryHeld = "held";
inline constexpr std::string_view kDirectoryUnknown = "unknown";

bool IsDirectoryAnnouncement(std::string_view payload);
std::string EncodeDirectoryAnnouncement(std::string_view directory_json);
// The directory's JSON inside an announcement (not yet parsed or verified).
Result<std::string_view> DirectoryAnnouncementJson(std::string_view payload);
std::string EncodeDirectoryAnswer(std::string_view word);
// One of the three words; kInvalidInput for anything else.
Result<std::string_view> ParseDirectoryAnswer(std::string_view payload);

}  // namespace schakel::peer
