// The node's configuration, DIR/schakel.toml (CONTRACT.md "Config").
//
// ParseNodeConfig validates everything it reads and reports the first problem
// as "file:line: key: why" (kInvalidInput, exit 2): unknown tables and keys,
// wrong types, missing required keys, bad addresses, bad ids. Nothing here
// opens sockets or the database.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/config/networks.h"
#include "schakel/consent/vocabulary.h"

namespace schakel::config {

inline constexpr size_t kMaxConfigBytes = size_t{256} * 1024;
inline constexpr int kDefaultRetentionMaxDays = 730;

// "127.0.0.1:7401", "[::1]:7401", "node.example.nl:7401".
struct Address {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  std::string ToString() const;  // brackets IPv6 hosts again
};
// Parses HOST:PORT; port 1..65535, host an IPv4 address, a bracketed IPv6
// address or a DNS name.
Result<Address> ParseAddress(std::string_view text);

// Whether `host` is a literal wildcard address (0.0.0.0, ::, and their
// other spellings): one to listen on, never one to dial or to publish.
bool IsUnspecifiedHost(std::string_view host);
// Whether `host` is a loopback address (127.0.0.0/8, ::1) or "localhost".
bool IsLoopbackHost(std::string_view host);

// The host of a [links] public_url ("https://HOST[:PORT][/PATH]"), without
// brackets for IPv6; kInvalidInput saying what is wrong otherwise.
Result<std::string> PublicUrlHost(std::string_view url);

// A certificate configured for an HTTPS listener instead of the node's
// generated one: PEM files, relative to the node directory or absolute.
struct WebCertFiles {
  std::string cert_file;  // the certificate, optionally followed by its chain
  std::string key_file;   // the unencrypted private key (ECDSA or RSA)
  bool configured() const { return !cert_file.empty(); }
};

// [notify]: e-mail notices through the organisation's own SMTP server
// (docs/console.md "What is new"). A notice says only that something waits
// in Schakel and links to the console; never a name or a category. STARTTLS
// is always required; the server's certificate is verified (system CAs, or
// ca_file) against smtp_host.
struct NotifyConfig {
  std::string smtp_host;  // empty: no notices
  uint16_t smtp_port = 587;
  std::string from;           // the sender address, e.g. schakel@school.example
  std::string user;           // SMTP AUTH user; empty: no AUTH
  std::string password_file;  // the AUTH password's file (node dir relative or absolute)
  std::string ca_file;        // PEM CA certificates to trust instead of the system's
  std::string console_url;    // https://...: the link in the mail
  int check_seconds = 60;     // how often to look for something new, 1..3600
  bool enabled() const { return !smtp_host.empty(); }
};

struct NodeConfig {
  // [node]
  std::string node_id;  // REQUIRES: [a-z0-9-]{3,64}
  std::string name;     // REQUIRES: printable, 1..200 bytes
  consent::OrgType org_type = consent::OrgType::kSchool;

  // [peer] listen: mutual TLS between nodes. Required.
  Address peer_listen;
  // [peer] advertise: the address partners dial, put on the node card.
  // Default: peer_listen. REQUIRES: set when peer_listen is a wildcard
  // address; never a wildcard address itself.
  std::optional<Address> peer_advertise;
  // [peer] allowed_networks: when set, the only networks a partner's
  // address may lie in, at import (`schakel partner add`) and when the
  // delivery worker dials (docs/node-card.md "A partner's address").
  // Default: empty, no restriction. At most kMaxAllowedNetworks.
  std::vector<IpNetwork> peer_allowed_networks;
  // [peer] max_buffered_mib: inbound frame bytes the node holds at once
  // (PeerServerOptions::max_buffered_bytes). Default: 64. REQUIRES: 49..65536
  // (three times the largest frame, 16 MiB + 64 KiB, at least).
  int64_t peer_max_buffered_mib = 64;
  // [api] listen: the local HTTP/JSON API. Required. REQUIRES: a loopback
  // address (IsLoopbackHost): the API is plain HTTP with bearer tokens, so
  // anything else is refused (put a TLS proxy on the same machine in front
  // of it to reach it from elsewhere).
  Address api_listen;
  // [links] listen/public_url: the dossier link server. Default: disabled.
  std::optional<Address> links_listen;
  // No trailing slash. Default: "https://" + links_listen.
  std::string links_public_url;
  // [links] cert_file/key_file: both or neither. Default: the generated
  // web certificate (crypto::GenerateWebTlsIdentity), kept in the database.
  WebCertFiles links_cert;
  // [console] listen: the staff console. Default: disabled.
  std::optional<Address> console_listen;
  // [console] cert_file/key_file: as for [links].
  WebCertFiles console_cert;

  // [policy] file: a privacy-protocol TOML file, relative to the node
  // directory or absolute. Default: "" (the built-in protocol).
  std::string policy_file;

  // [meldcode] approver_role: who decides on a Meldcode report (Besluit
  // verplichte meldcode art. 2: the organisation names the function that
  // decides). "coordinator" (default): any coordinator other than the
  // requester. Otherwise a function name (IsValidFunctionName): only a
  // coordinator holding that function (`schakel user set-function`)
  // approves or rejects, still never the requester.
  std::string meldcode_approver_role = "coordinator";

  // [notify]: e-mail notices (NotifyConfig). Default: none.
  NotifyConfig notify;

  // [directory] fetch_seconds: how often the daemon fetches the directory of
  // each trusted region that has a URL (`directory trust --url`,
  // docs/region.md "Fetched over HTTPS"), the first time right after it
  // starts. Default: 3600. REQUIRES: 0 (never) or 1..86400.
  int64_t directory_fetch_seconds = 3600;
  // [directory] ca_file: PEM CA certificates to trust for those fetches
  // instead of the system's (relative to the node directory or absolute).
  // Default: "" (the system's).
  std::string directory_ca_file;

  // [retention] default_days: retain-until for shares without a
  // purpose-specific value. Default: 180. REQUIRES: 1..3650.
  int retention_default_days = 180;
  // [retention] max_days: the latest retain-until this node accepts on a
  // received share, counted from its arrival (the recipient's gate,
  // docs/consent.md); a flow's retention_days above it is cut to it.
  // Default: kDefaultRetentionMaxDays (730), or default_days when that is
  // larger. REQUIRES: default_days..3650.
  int retention_max_days = kDefaultRetentionMaxDays;

  // [limits] inbound_shares_per_minute / inbound_bytes_per_day: what one
  // partner may send this node; beyond it a share is refused with "quota".
  // Counted from the inbox, so restarts do not reset them. Defaults: 120
  // shares a minute, 256 MiB a day. REQUIRES: 1..1000000 shares,
  // 1024..2^40 bytes.
  int64_t inbound_shares_per_minute = 120;
  int64_t inbound_bytes_per_day = int64_t{256} * 1024 * 1024;

  // [users] token_days: a bearer token expires this many days after it was
  // made (`user add`) or rotated (`user rotate-token`). Default: 90.
  // REQUIRES: 1..3650.
  int token_days = 90;

  // [store] key_file: the raw database key, relative to the node directory.
  // Default: "secrets/db.key". passphrase_env: when set, the key is derived
  // from the passphrase in that environment variable instead.
  std::string key_file = "secrets/db.key";
  std::string passphrase_env;

  // [delivery] retry_base_ms / retry_max_ms: the first retry of a failed
  // delivery and the cap of its exponential backoff. Defaults: 1000 and
  // 300000. REQUIRES: 10 <= base <= max <= 86400000.
  int64_t retry_base_ms = 1000;
  int64_t retry_max_ms = 300000;

  // [keys] retired_key_days: how long a retired encryption key stays usable
  // after `schakel node rotate-keys`, so shares sealed by partners who have
  // not yet imported the new card still open; then its secret is wiped.
  // Default: 90. REQUIRES: 1..3650.
  int retired_key_days = 90;

  // [audit] retention_years: access-log entries older than this are deleted
  // in whole segments after a signed boundary (docs/audit.md "Retention").
  // Default: 5 (docs/legal-basis.md "Retention"). REQUIRES: 2..100.
  int audit_retention_years = 5;

  // [log] level: "debug", "info", "warn", "error". Default: "info".
  std::string log_level = "info";

  // The address partners dial.
  const Address& AdvertisedPeerAddress() const { return peer_advertise ? *peer_advertise : peer_listen; }
};

// A web listener ([links] or [console]) that people on other machines reach
// while it serves the node's own self-signed certificate: no cert_file, and
// its listen address (or, for [links], its public_url) is not loopback.
// Their browsers warn; `schakel status` says so (docs/links.md).
struct SelfSignedPublicListener {
  std::string section;  // "links" or "console"
  std::string url;      // where people reach it: the public URL, or https://LISTEN
};
std::vector<SelfSignedPublicListener> SelfSignedPublicListeners(const NodeConfig& c);

// Parses the text of a config file; file_name appears in error messages.
Result<NodeConfig> ParseNodeConfig(std::string_view text, std::string_view file_name);
// Reads DIR/schakel.toml.
Result<NodeConfig> LoadNodeConfig(const std::string& dir);
// The TOML that `schakel init` writes for a config.
std::string NodeConfigToToml(const NodeConfig& config);

}  // namespace schakel::config
