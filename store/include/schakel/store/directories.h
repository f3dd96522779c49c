// Regional directories this node trusts (docs/region.md): per region the
// pinned directory key, the org types the administrator accepts from it and
// the newest signed directory taken. The members themselves are partners
// (partners.h) with source "directory:REGION".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/identity.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct RegionDirectory {
  std::string region;
  crypto::PublicKey directory_pk{};
  std::vector<std::string> accept_types;  // org types, stored comma-separated
  int64_t serial = 0;
  std::string issued;          // RFC 3339, of the held directory
  std::string expires;         // RFC 3339, of the held directory
  std::string directory_json;  // the signed directory held, as received
  std::string trusted_at;      // RFC 3339
  std::string updated_at;      // RFC 3339: when the held directory was taken
  std::string source;          // where the held directory came from ("file dir.json", "partner ID")
  // The administrator let members with a loopback or link-local address in
  // at `directory trust --allow-local-address` (a test or demo on one
  // machine); directories partners pass along are checked the same way.
  bool allow_local_address = false;
  // Where the daemon fetches newer directories of the region (an https://
  // URL, config/https_url.h); empty: none (files and partners only).
  std::string url;
};

// A trusted region's held serial: what the delivery worker looks at every
// poll to see whether a directory must be passed along.
struct RegionSerial {
  std::string region;
  int64_t serial = 0;
};
Result<std::vector<RegionSerial>> ListRegionSerials(Database& db);

Result<std::optional<RegionDirectory>> FindRegionDirectory(Database& db, const std::string& region);
Result<std::vector<RegionDirectory>> ListRegionDirectories(Database& db);
// kAlreadyExists when the region, or another region with the same key, is
// trusted already.
Status InsertRegionDirectory(Database& db, const RegionDirectory& dir);
// Replaces the held directory (serial, issued, expires, directory_json,
// updated_at, source); kNotFound when the region is not trusted.
Status UpdateRegionDirectory(Database& db, const RegionDirectory& dir);

}  // namespace schakel::store
