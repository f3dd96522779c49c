// The privacy-protocol file: a TOML document that replaces the built-in
// default protocol when the node's config names it ([policy] file), or when
// `schakel policy eval/show --policy FILE` is given. docs/privacy-protocol.md
// describes the format for privacy officers; in short:
//
//   [ages]                          # optional; these are the defaults
//   jongere_also_from = 12
//   jongere_alone_from = 16
//
//   [[flow]]                        # one per row of the protocol table
//   purpose = "verzuimmelding"
//   from = ["school"]               # org types, or ["any"]
//   to = ["lvs"]                    # org types, or ["any"]; may be [] when
//   to_orgs = ["lvs-zhz"]           #   to_orgs names specific org ids
//   legal_basis = "legal_obligation"   # consent | legal_obligation | meldcode
//   legal_source = "Leerplichtwet 1969, art. 18 lid 3"   # required unless consent
//   categories = ["identificatie", "bsn", "verzuim"]  # ["all"]: not for consent
//   retention_days = 365            # optional
//
// Parsing is strict: unknown keys, wrong types, missing keys, unknown names,
// duplicates within a list and overlapping flows are errors of kind
// kInvalidInput with the message "FILE:LINE: KEY: WHY", e.g.
// "policy.toml:14: flow[2].categories[3]: unknown category \"gezondhied\"".
// Flow indexes count from 0 in file order.
//
// toml++ is used with exceptions; they are caught here, so nothing throws
// across this API. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/config/node_config.h"
#include "schakel/consent/protocol.h"

namespace schakel::config {

// Largest protocol file accepted.
inline constexpr size_t kMaxProtocolFileBytes = 1 << 20;

// Parses protocol TOML; file_name is used only in error messages.
Result<consent::Protocol> ParseProtocolToml(std::string_view text, std::string_view file_name);

// Reads (at most kMaxProtocolFileBytes) and parses a protocol file. A
// missing file is kNotFound, an unreadable one kIoError.
Result<consent::Protocol> LoadProtocolFile(const std::string& path);

// The protocol as TOML in the format above, with comments; parsing the
// result gives back an equal protocol.
std::string ProtocolToToml(const consent::Protocol& protocol);

// The protocol a node uses: its [policy] file (relative to the node
// directory, or absolute), or the built-in default when the key is empty.
Result<consent::Protocol> LoadProtocolInForce(const NodeConfig& config, const std::string& dir);

}  // namespace schakel::config
