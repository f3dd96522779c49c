#include "schakel/crypto/directory.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "schakel/base/json.h"
#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

constexpr char kDirectoryLabel[] = "schakel/directory/v1";  // followed by NUL
constexpr size_t kMaxOrgNameBytes = 200;
constexpr size_t kMaxDepth = 3;  // the object, members, a card
constexpr auto kFutureSkew = std::chrono::minutes(10);

Status DirError(const std::string& msg) { return Status::InvalidInput("directory: " + msg); }

std::vector<NodeCard> SortedMembers(std::vector<NodeCard> members) {
  std::sort(members.begin(), members.end(), [](const NodeCard& a, const NodeCard& b) { return a.node_id < b.node_id; });
  return members;
}

std::string SignedMessage(const Directory& dir) {
  std::string m(kDirectoryLabel, sizeof kDirectoryLabel);  // label and its NUL
  m += CanonicalDirectoryText(dir);
  return m;
}

// A base64 field of exactly N bytes in its one canonical encoding.
template <size_t N>
Result<std::array<uint8_t, N>> ReadFixed(const JsonFields& f, std::string_view key) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, f.String(key, 2 * N));
  auto bytes = Base64Decode(text, N);
  if (!bytes.ok() || bytes->size() != N || Base64Encode(*bytes) != text) {
    return DirError("field \"" + std::string(key) + "\": expected base64 of exactly " + std::to_string(N) + " bytes");
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Result<std::string> ReadInstantText(const JsonFields& f, std::string_view key) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, f.String(key, 64));
  if (auto t = ParseInstant(text); !t.ok()) {
    return DirError("field \"" + std::string(key) + "\": " + t.status().message());
  }
  return text;
}

Result<DirectoryClaim> Peek(std::string_view json) {
  if (json.size() > kMaxDirectoryBytes) {
    return DirError("larger than " + std::to_string(kMaxDirectoryBytes) + " bytes");
  }
  auto parsed = ParseJsonLimited(json, JsonLimits{kMaxDirectoryBytes, kMaxDepth});
  if (!parsed.ok()) return DirError(parsed.status().message());
  if (!parsed->is_object()) return DirError("expected a JSON object");
  JsonFields f(*parsed, "");
  DirectoryClaim claim;
  auto region = f.String("region", 64);
  if (!region.ok()) return DirError(region.status().message());
  if (!IsValidNodeId(*region)) return DirError("field \"region\": expected 3..64 characters of a-z, 0-9 and -");
  claim.region = *region;
  auto serial = f.Integer("serial", 1, kMaxDirectorySerial);
  if (!serial.ok()) return DirError(serial.status().message());
  claim.serial = *serial;
  return claim;
}

Result<Directory> Parse(std::string_view json, bool draft) {
  if (json.size() > kMaxDirectoryBytes) {
    return DirError("larger than " + std::to_string(kMaxDirectoryBytes) + " bytes");
  }
  auto parsed = ParseJsonLimited(json, JsonLimits{kMaxDirectoryBytes, kMaxDepth});
  if (!parsed.ok()) return DirError(parsed.status().message());
  const Json& root = *parsed;
  if (!root.is_object()) return DirError("expected a JSON object");
  JsonFields f(root, "");
  auto field = [](Status s) { return s.ok() ? s : DirError(s.message()); };
  SCHAKEL_RETURN_IF_ERROR(field(
      f.OnlyKeys({"version", "region", "name", "serial", "issued", "expires", "directory_pk", "members", "sig"})));

  Directory dir;
  auto version = f.Integer("version", 1, 1000000);
  if (!version.ok()) return DirError(version.status().message());
  if (*version != 1) {
    return DirError("unsupported version " + std::to_string(*version) + " (this node reads version 1)");
  }
  auto region = f.String("region", 64);
  if (!region.ok()) return DirError(region.status().message());
  if (!IsValidNodeId(*region)) return DirError("field \"region\": expected 3..64 characters of a-z, 0-9 and -");
  dir.region = *region;
  auto name = f.String("name", kMaxOrgNameBytes);
  if (!name.ok()) return DirError(name.status().message());
  if (name->empty() || !IsPrintableUtf8(*name)) {
    return DirError("field \"name\": expected 1.." + std::to_string(kMaxOrgNameBytes) + " bytes of printable UTF-8");
  }
  dir.name = *name;
  auto serial = f.Integer("serial", draft ? 0 : 1, kMaxDirectorySerial);
  if (!serial.ok()) return DirError(serial.status().message());
  dir.serial = *serial;

  bool dated = !draft || root.contains("issued") || root.contains("expires");
  if (dated) {
    SCHAKEL_ASSIGN_OR_RETURN(dir.issued, ReadInstantText(f, "issued"));
    SCHAKEL_ASSIGN_OR_RETURN(dir.expires, ReadInstantText(f, "expires"));
    Instant issued = *ParseInstant(dir.issued);
    Instant expires = *ParseInstant(dir.expires);
    if (expires <= issued) return DirError("field \"expires\": must come after \"issued\"");
    if (expires - issued > std::chrono::days(kMaxDirectoryValidityDays)) {
      return DirError("field \"expires\": at most " + std::to_string(kMaxDirectoryValidityDays) +
                      " days after \"issued\"");
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(dir.directory_pk, ReadFixed<32>(f, "directory_pk"));

  auto members = f.Array("members", kMaxDirectoryMembers);
  if (!members.ok()) return DirError(members.status().message());
  std::set<std::string> ids;
  std::set<PublicKey> keys;
  dir.members.reserve((*members)->size());
  for (size_t i = 0; i < (*members)->size(); ++i) {
    const Json& m = (**members)[i];
    std::string where = "members[" + std::to_string(i) + "]";
    if (!m.is_object()) return DirError(where + ": expected a node card object");
    // The card's own reader checks it as it checks a card file; the dump is
    // bounded by the input, which is bounded above.
    auto card = ParseNodeCard(m.dump());
    if (!card.ok()) return DirError(where + ": " + card.status().message());
    if (!ids.insert(card->node_id).second) {
      return DirError(where + ": node \"" + card->node_id + "\" is listed twice");
    }
    if (!keys.insert(card->sign_pk).second) {
      return DirError(where + ": node \"" + card->node_id + "\" has the identity key of another member");
    }
    dir.members.push_back(std::move(*card));
  }
  dir.members = SortedMembers(std::move(dir.members));

  if (root.contains("sig") || !draft) {
    SCHAKEL_ASSIGN_OR_RETURN(Signature sig, ReadFixed<64>(f, "sig"));
    dir.sig = sig;
  }
  if (!draft && !Verify(dir.directory_pk, SignedMessage(dir), *dir.sig)) {
    return DirError(
        "signature does not verify against directory_pk: the directory was altered or not signed by this "
        "key");
  }
  return dir;
}

}  // namespace

std::string CanonicalDirectoryText(const Directory& dir) {
  std::string out = "{\"directory_pk\":";
  out += CanonicalJsonString(Base64Encode(dir.directory_pk));
  out += ",\"expires\":" + CanonicalJsonString(dir.expires);
  out += ",\"issued\":" + CanonicalJsonString(dir.issued);
  out += ",\"members\":[";
  bool first = true;
  for (const NodeCard& card : SortedMembers(dir.members)) {
    if (!first) out.push_back(',');
    first = false;
    out += CanonicalSignedCardText(card);
  }
  out += "],\"name\":" + CanonicalJsonString(dir.name);
  out += ",\"region\":" + CanonicalJsonString(dir.region);
  out += ",\"serial\":" + std::to_string(dir.serial);
  out += ",\"version\":" + std::to_string(dir.version) + "}";
  return out;
}

void SignDirectory(Directory& dir, const SigningKeyPair& key) {
  dir.members = SortedMembers(std::move(dir.members));
  dir.directory_pk = key.public_key;
  dir.sig = Sign(key, SignedMessage(dir));
}

std::string DirectoryToJson(const Directory& dir) {
  nlohmann::ordered_json j;
  j["version"] = dir.version;
  j["region"] = dir.region;
  j["name"] = dir.name;
  j["serial"] = dir.serial;
  if (!dir.issued.empty()) j["issued"] = dir.issued;
  if (!dir.expires.empty()) j["expires"] = dir.expires;
  j["directory_pk"] = Base64Encode(dir.directory_pk);
  j["members"] = nlohmann::ordered_json::array();
  for (const NodeCard& card : dir.members) {
    // The card's own JSON, in the order people read it.
    j["members"].push_back(nlohmann::ordered_json::parse(NodeCardToJson(card)));
  }
  if (dir.sig) j["sig"] = Base64Encode(*dir.sig);
  return j.dump(2) + "\n";
}

Result<DirectoryClaim> PeekDirectory(std::string_view json) { return Peek(json); }

Result<Directory> ParseDirectory(std::string_view json) { return Parse(json, /*draft=*/false); }

Result<Directory> ParseDirectoryDraft(std::string_view json) { return Parse(json, /*draft=*/true); }

Status CheckDirectoryUpdate(const PublicKey& pinned_pk, std::string_view pinned_region, const Directory* held,
                            const Directory& next, Instant now) {
  if (next.directory_pk != pinned_pk) {
    return Status::Denied("directory: signed by another key than the one this node trusts for region \"" +
                          std::string(pinned_region) + "\"");
  }
  if (next.region != pinned_region) {
    return Status::Denied("directory: names region \"" + next.region + "\", but this key is trusted for region \"" +
                          std::string(pinned_region) + "\"");
  }
  auto issued = ParseInstant(next.issued);
  auto expires = ParseInstant(next.expires);
  if (!issued.ok() || !expires.ok()) return Status::Denied("directory: not signed (no issued or expires)");
  if (*expires <= now) {
    return Status::Denied("directory: serial " + std::to_string(next.serial) + " expired at " + next.expires +
                          "; ask the keeper of region \"" + next.region + "\" for a newer one");
  }
  if (*issued > now + kFutureSkew) {
    return Status::Denied("directory: issued at " + next.issued +
                          ", in the future; check this node's clock and the keeper's");
  }
  if (held != nullptr) {
    if (next.serial < held->serial) {
      return Status::Denied("directory: serial " + std::to_string(next.serial) + " is older than serial " +
                            std::to_string(held->serial) + " held; an older directory is never taken back");
    }
    if (next.serial == held->serial) {
      if (CanonicalDirectoryText(next) == CanonicalDirectoryText(*held)) {
        return Status::AlreadyExists("directory: serial " + std::to_string(next.serial) + " is held already");
      }
      return Status::Denied("directory: serial " + std::to_string(next.serial) +
                            " differs from the one held with the same serial; the directory key signed two "
                            "versions: tell the keeper of region \"" +
                            next.region + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace schakel::crypto
