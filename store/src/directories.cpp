#include "schakel/store/directories.h"

#include <algorithm>

#include "rows.h"

namespace schakel::store {
namespace {

constexpr const char* kDirectoryColumns =
    "region, directory_pk, accept_types, serial, issued, expires, directory_json, trusted_at, updated_at, source, "
    "allow_local_address, url";

std::string JoinTypes(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ",") + t;
  return out;
}

std::vector<std::string> SplitTypes(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Result<RegionDirectory> ReadDirectory(Statement& s) {
  RegionDirectory d;
  d.region = s.Text(0);
  std::vector<uint8_t> pk = s.Blob(1);
  if (pk.size() != d.directory_pk.size()) {
    return Status::Corruption("stored directory key of region " + d.region + " has a bad length");
  }
  std::copy(pk.begin(), pk.end(), d.directory_pk.begin());
  d.accept_types = SplitTypes(s.Text(2));
  d.serial = s.Int(3);
  d.issued = s.Text(4);
  d.expires = s.Text(5);
  d.directory_json = s.Text(6);
  d.trusted_at = s.Text(7);
  d.updated_at = s.Text(8);
  d.source = s.Text(9);
  d.allow_local_address = s.Int(10) != 0;
  d.url = s.Text(11);
  return d;
}

}  // namespace

Result<std::optional<RegionDirectory>> FindRegionDirectory(Database& db, const std::string& region) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string("SELECT ") + kDirectoryColumns +
                                                   " FROM region_directories WHERE region = ?;"));
  s.Bind(1, region);
  return OneRow<RegionDirectory>(s, ReadDirectory);
}

Result<std::vector<RegionDirectory>> ListRegionDirectories(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string("SELECT ") + kDirectoryColumns +
                                                   " FROM region_directories ORDER BY region;"));
  return AllRows<RegionDirectory>(s, ReadDirectory);
}

Status InsertRegionDirectory(Database& db, const RegionDirectory& dir) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string("INSERT INTO region_directories (") + kDirectoryColumns +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);"));
  s.Bind(1, dir.region)
      .BindBlob(2, dir.directory_pk)
      .Bind(3, JoinTypes(dir.accept_types))
      .Bind(4, dir.serial)
      .Bind(5, dir.issued)
      .Bind(6, dir.expires)
      .Bind(7, dir.directory_json)
      .Bind(8, dir.trusted_at)
      .Bind(9, dir.updated_at)
      .Bind(10, dir.source)
      .Bind(11, static_cast<int64_t>(dir.allow_local_address ? 1 : 0))
      .Bind(12, dir.url);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return Status::AlreadyExists("region " + dir.region +
                                 ", or another region with the same directory key, is trusted already");
  }
  return st;
}

Status UpdateRegionDirectory(Database& db, const RegionDirectory& dir) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare("UPDATE region_directories SET serial = ?2, issued = ?3, expires = ?4, "
                                      "directory_json = ?5, updated_at = ?6, source = ?7 WHERE region = ?1;"));
  s.Bind(1, dir.region)
      .Bind(2, dir.serial)
      .Bind(3, dir.issued)
      .Bind(4, dir.expires)
      .Bind(5, dir.directory_json)
      .Bind(6, dir.updated_at)
      .Bind(7, dir.source);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  if (db.Changes() == 0) return Status::NotFound("region " + dir.region + " is not trusted on this node");
  return Status::Ok();
}

Result<std::vector<RegionSerial>> ListRegionSerials(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT region, serial FROM region_directories ORDER BY region;"));
  return AllRows<RegionSerial>(s, [](Statement& row) -> Result<RegionSerial> {
    return RegionSerial{row.Text(0), row.Int(1)};
  });
}

}  // namespace schakel::store
