#include "schakel/crypto/node_card.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <map>
#include <optional>

#include "schakel/base/strings.h"
#include "schakel/base/time.h"

namespace schakel::crypto {
namespace {

using Json = nlohmann::json;

constexpr char kCardLabel[] = "schakel/node-card/v1";  // followed by NUL
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxAddressBytes = 262;  // "[" 45 "]" or 253-byte host, ":", port

// The fields of a card, sorted by their bytes: the canonical order.
constexpr std::string_view kSignedFields[] = {"address", "created",  "enc_pk",  "enc_pk_sig",      "name",
                                              "node_id", "org_type", "sign_pk", "tls_spki_sha256", "version"};

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0x0f]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

// The value of each signed field as JSON text, in canonical order.
std::vector<std::pair<std::string_view, std::string>> SignedMembers(const NodeCard& card) {
  auto str = [](std::string_view v) {
    std::string s;
    AppendJsonString(s, v);
    return s;
  };
  std::vector<std::pair<std::string_view, std::string>> m;
  m.emplace_back("address", str(card.address));
  m.emplace_back("created", str(card.created));
  m.emplace_back("enc_pk", str(Base64Encode(card.enc_pk)));
  m.emplace_back("enc_pk_sig", str(Base64Encode(card.enc_pk_sig)));
  m.emplace_back("name", str(card.name));
  m.emplace_back("node_id", str(card.node_id));
  m.emplace_back("org_type", str(card.org_type));
  m.emplace_back("sign_pk", str(Base64Encode(card.sign_pk)));
  m.emplace_back("tls_spki_sha256", str(ToHex(card.tls_spki_sha256)));
  m.emplace_back("version", std::to_string(card.version));
  return m;
}

std::string CardSignedMessage(const NodeCard& card) {
  std::string m(kCardLabel, sizeof kCardLabel);  // label and its NUL
  m += CanonicalCardText(card);
  return m;
}

bool IsValidOrgType(std::string_view s) {
  if (s.size() < 2 || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

bool IsValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  bool digits_and_dots = true;
  size_t label = 0;
  char prev = '.';
  for (char c : host) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!((c >= '0' && c <= '9') || c == '.')) digits_and_dots = false;
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (alnum || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  if (label == 0 || prev == '-') return false;  // empty last label, trailing dot or dash
  if (digits_and_dots) {
    // Looks like an IPv4 address, so it must be one ("999.1.1.1" is not).
    in_addr a{};
    std::string h(host);
    return inet_pton(AF_INET, h.c_str(), &a) == 1;
  }
  return true;
}

// host:port where host is a DNS name, an IPv4 address or a bracketed IPv6
// address, and port is 1..65535 in decimal without leading zeros.
bool IsValidAddress(std::string_view a) {
  if (a.empty() || a.size() > kMaxAddressBytes) return false;
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = a.substr(0, colon);
  std::string_view port = a.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port[0] == '0') return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' || host.size() > 47) return false;
    in6_addr a6{};
    std::string h(host.substr(1, host.size() - 2));
    return inet_pton(AF_INET6, h.c_str(), &a6) == 1;
  }
  if (host.find(':') != std::string_view::npos) return false;
  return IsValidHostName(host);
}

// A top-level value of the card as the SAX reader saw it.
struct Member {
  enum class Kind { kString, kInteger, kOther } kind = Kind::kOther;
  std::string text;       // kString
  long long integer = 0;  // kInteger
  std::string other;      // kOther: what it was ("a boolean", ...)
};

std::string Quoted(std::string_view key) {
  if (key.size() > 40 || !IsPrintableUtf8(key)) return "(an unprintable or long name)";
  return "\"" + std::string(key) + "\"";
}

// Reads a flat JSON object of strings and integers and nothing else: no
// nesting, no duplicate or unknown keys. Whatever else it meets stops the
// parse at once with a message naming the field.
class CardReader {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  bool null() { return Other("null"); }
  bool boolean(bool /*value*/) { return Other("a boolean"); }
  bool number_integer(number_integer_t v) {
    if (!InMember()) return TopLevelNotObject();
    Member m;
    m.kind = Member::Kind::kInteger;
    m.integer = v;
    return Store(std::move(m));
  }
  bool number_unsigned(number_unsigned_t v) {
    if (v > static_cast<number_unsigned_t>(LLONG_MAX)) return Other("a number out of range");
    return number_integer(static_cast<number_integer_t>(v));
  }
  bool number_float(number_float_t /*v*/, const string_t& /*text*/) {
    return Other("a number with a fraction or exponent");
  }
  bool string(string_t& v) {
    if (!InMember()) return TopLevelNotObject();
    Member m;
    m.kind = Member::Kind::kString;
    m.text = std::move(v);
    return Store(std::move(m));
  }
  bool binary(binary_t& /*v*/) { return Other("binary data"); }
  bool start_object(std::size_t /*size*/) {
    if (depth_ == 0 && !seen_object_) {
      depth_ = 1;
      seen_object_ = true;
      return true;
    }
    return Other("an object");
  }
  bool key(string_t& k) {
    bool known = false;
    for (auto f : kSignedFields) known = known || f == k;
    known = known || k == "sig";
    if (!known) return Fail("unknown field " + Quoted(k));
    if (members_.count(k)) return Fail("field " + Quoted(k) + " appears twice");
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t /*size*/) { return Other("an array"); }
  bool end_array() { return false; }  // unreachable: start_array stops the parse
  bool parse_error(std::size_t position, const std::string& /*last_token*/, const nlohmann::json::exception& ex) {
    if (error_.empty()) {
      std::string_view what = ex.what();
      bool utf8 = what.find("UTF-8") != std::string_view::npos;
      error_ = std::string(utf8 ? "invalid UTF-8" : "not valid JSON") + " (at byte " + std::to_string(position) + ")";
    }
    return false;
  }

  const std::string& error() const { return error_; }
  std::map<std::string, Member>& members() { return members_; }

 private:
  bool InMember() const { return depth_ == 1 && key_.has_value(); }
  bool TopLevelNotObject() { return Fail("expected a JSON object"); }
  bool Other(const std::string& what) {
    if (!InMember()) return TopLevelNotObject();
    return Fail("field " + Quoted(*key_) + ": expected " + (*key_ == "version" ? "an integer" : "a string") + ", got " +
                what);
  }
  bool Store(Member m) {
    members_.emplace(std::move(*key_), std::move(m));
    key_.reset();
    return true;
  }
  bool Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }

  int depth_ = 0;
  bool seen_object_ = false;
  std::optional<std::string> key_;
  std::map<std::string, Member> members_;
  std::string error_;
};

Status CardError(const std::string& msg) { return Status::InvalidInput("node card: " + msg); }

template <size_t N>
Status DecodeFixed(const std::map<std::string, Member>& m, const char* field, std::array<uint8_t, N>& out) {
  const Member& v = m.at(field);
  auto bytes = Base64Decode(v.text, N);
  if (!bytes.ok() || bytes->size() != N) {
    return CardError(std::string("field \"") + field + "\": expected base64 of exactly " + std::to_string(N) +
                     " bytes");
  }
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return Status::Ok();
}

}  // namespace

namespace {

std::string CanonicalObject(const std::vector<std::pair<std::string_view, std::string>>& members) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : members) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, key);
    out.push_back(':');
    out += value;
  }
  out.push_back('}');
  return out;
}

}  // namespace

std::string CanonicalJsonString(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string CanonicalCardText(const NodeCard& card) { return CanonicalObject(SignedMembers(card)); }

std::string CanonicalSignedCardText(const NodeCard& card) {
  auto members = SignedMembers(card);
  std::string sig;
  AppendJsonString(sig, Base64Encode(card.sig));
  // "sig" sorts after "org_type" and before "sign_pk".
  auto at = std::find_if(members.begin(), members.end(), [](const auto& m) { return m.first == "sign_pk"; });
  members.insert(at, {"sig", std::move(sig)});
  return CanonicalObject(members);
}

void SignNodeCard(NodeCard& card, const SigningKeyPair& identity) {
  card.sign_pk = identity.public_key;
  card.sig = Sign(identity, CardSignedMessage(card));
}

std::string NodeCardToJson(const NodeCard& card) {
  auto members = SignedMembers(card);
  auto value_of = [&](std::string_view key) -> const std::string& {
    for (const auto& [k, v] : members) {
      if (k == key) return v;
    }
    return members.front().second;  // unreachable: every key is present
  };
  // The order of CONTRACT.md, for people; the signature does not depend on it.
  constexpr std::string_view kOrder[] = {"version", "node_id", "name",       "org_type",        "address",
                                         "sign_pk", "enc_pk",  "enc_pk_sig", "tls_spki_sha256", "created"};
  std::string out = "{\n";
  for (auto key : kOrder) {
    out += "  ";
    AppendJsonString(out, key);
    out += ": ";
    out += value_of(key);
    out += ",\n";
  }
  out += "  \"sig\": ";
  AppendJsonString(out, Base64Encode(card.sig));
  out += "\n}\n";
  return out;
}

Result<NodeCard> ParseNodeCard(std::string_view json) {
  if (json.size() > kMaxNodeCardBytes) {
    return CardError("larger than " + std::to_string(kMaxNodeCardBytes) + " bytes");
  }
  CardReader reader;
  bool parsed = Json::sax_parse(json.begin(), json.end(), &reader, nlohmann::json::input_format_t::json,
                                /*strict=*/true, /*ignore_comments=*/false);
  if (!parsed || !reader.error().empty()) {
    return CardError(reader.error().empty() ? "not valid JSON" : reader.error());
  }
  auto& m = reader.members();
  for (std::string_view f : kSignedFields) {
    if (!m.count(std::string(f))) return CardError("missing field \"" + std::string(f) + "\"");
  }
  if (!m.count("sig")) return CardError("missing field \"sig\"");
  for (const auto& [k, v] : m) {
    bool want_integer = k == "version";
    if (want_integer != (v.kind == Member::Kind::kInteger)) {
      return CardError("field \"" + k + "\": expected " + (want_integer ? "an integer" : "a string"));
    }
  }

  NodeCard card;
  if (m["version"].integer != 1) {
    return CardError("unsupported version " + std::to_string(m["version"].integer) + " (this node reads version 1)");
  }
  card.version = 1;
  card.node_id = m["node_id"].text;
  if (!IsValidNodeId(card.node_id)) {
    return CardError("field \"node_id\": expected 3..64 characters of a-z, 0-9 and -");
  }
  card.name = m["name"].text;
  if (card.name.empty() || card.name.size() > kMaxNameBytes || !IsPrintableUtf8(card.name)) {
    return CardError("field \"name\": expected 1.." + std::to_string(kMaxNameBytes) + " bytes of printable UTF-8");
  }
  card.org_type = m["org_type"].text;
  if (!IsValidOrgType(card.org_type)) {
    return CardError("field \"org_type\": expected 2..32 characters of a-z and _");
  }
  card.address = m["address"].text;
  if (!IsValidAddress(card.address)) {
    return CardError(
        "field \"address\": expected host:port (a DNS name, an IPv4 address or [IPv6], and a "
        "port 1..65535)");
  }
  SCHAKEL_RETURN_IF_ERROR(DecodeFixed(m, "sign_pk", card.sign_pk));
  SCHAKEL_RETURN_IF_ERROR(DecodeFixed(m, "enc_pk", card.enc_pk));
  SCHAKEL_RETURN_IF_ERROR(DecodeFixed(m, "enc_pk_sig", card.enc_pk_sig));
  SCHAKEL_RETURN_IF_ERROR(DecodeFixed(m, "sig", card.sig));
  {
    const std::string& hex = m["tls_spki_sha256"].text;
    bool lower_hex = hex.size() == 64;
    for (char c : hex) lower_hex = lower_hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    auto bytes = lower_hex ? FromHex(hex) : std::nullopt;
    if (!bytes || bytes->size() != 32) {
      return CardError("field \"tls_spki_sha256\": expected 64 lower-case hex digits");
    }
    std::copy(bytes->begin(), bytes->end(), card.tls_spki_sha256.begin());
  }
  card.created = m["created"].text;
  if (auto t = ParseInstant(card.created); !t.ok()) {
    return CardError("field \"created\": " + t.status().message());
  }

  if (!Verify(card.sign_pk, CardSignedMessage(card), card.sig)) {
    return CardError(
        "signature does not verify against sign_pk: the card was altered or not signed by this "
        "identity");
  }
  if (!Verify(card.sign_pk, EncKeySignedMessage(card.enc_pk), card.enc_pk_sig)) {
    return CardError("enc_pk_sig does not verify: the encryption key is not signed by this card's identity");
  }
  return card;
}

Result<NodeCard> ParseNodeCardWithFingerprint(std::string_view json, std::string_view fingerprint) {
  SCHAKEL_ASSIGN_OR_RETURN(NodeCard card, ParseNodeCard(json));
  if (!FingerprintMatches(card.sign_pk, fingerprint)) {
    return CardError(
        "the fingerprint given does not match this card's identity key; compare it again with "
        "the partner by phone");
  }
  return card;
}

}  // namespace schakel::crypto
