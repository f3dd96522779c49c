// Node cards: canonical text, signing, parsing with limits, tampering.
#include "schakel/crypto/node_card.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "schakel/base/strings.h"
#include "seeded_key.h"

namespace schakel::crypto {
namespace {

using Json = nlohmann::json;

EncryptionKeyPair SeededEncryptionKey(const SigningKeyPair& identity) {
  std::array<uint8_t, 32> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0x40 + i);
  return std::move(EncryptionKeyPairFromSecret(secret, identity)).value();
}

NodeCard UnsignedCard(const SigningKeyPair& identity, const EncryptionKeyPair& enc) {
  NodeCard card;
  card.node_id = "school-trajectum";
  card.name = "Trajectum College";
  card.org_type = "school";
  card.address = "127.0.0.1:7401";
  card.sign_pk = identity.public_key;
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  for (size_t i = 0; i < card.tls_spki_sha256.size(); ++i) {
    card.tls_spki_sha256[i] = static_cast<uint8_t>(0xf0 ^ i);
  }
  card.created = "2026-11-23T10:00:00Z";
  return card;
}

struct CardFixture {
  SigningKeyPair identity = kat::SeededKey();
  EncryptionKeyPair enc = SeededEncryptionKey(identity);
  NodeCard card;
  CardFixture() {
    card = UnsignedCard(identity, enc);
    SignNodeCard(card, identity);
  }
  // The card with one change, signed again properly, as JSON.
  template <typename F>
  std::string Resigned(F change) const {
    NodeCard c = card;
    change(c);
    SignNodeCard(c, identity);
    return NodeCardToJson(c);
  }
};

// Parses and expects an error whose message contains `want`.
void ExpectCardRefused(std::string_view json, std::string_view want) {
  auto r = ParseNodeCard(json);
  ASSERT_FALSE(r.ok()) << "accepted: " << json;
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  EXPECT_NE(r.status().message().find(want), std::string::npos)
      << "message: " << r.status().message() << "\nwanted: " << want;
  EXPECT_EQ(r.status().message().rfind("node card: ", 0), 0u) << r.status().message();
}

void ExpectSameCard(const NodeCard& a, const NodeCard& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.org_type, b.org_type);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.sign_pk, b.sign_pk);
  EXPECT_EQ(a.enc_pk, b.enc_pk);
  EXPECT_EQ(a.enc_pk_sig, b.enc_pk_sig);
  EXPECT_EQ(a.tls_spki_sha256, b.tls_spki_sha256);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.sig, b.sig);
}

TEST(NodeCardTest, CanonicalTextIsExactlyAsDocumented) {
  CardFixture f;
  std::string expect = "{\"address\":\"127.0.0.1:7401\",\"created\":\"2026-11-23T10:00:00Z\",\"enc_pk\":\"" +
                       Base64Encode(f.card.enc_pk) + "\",\"enc_pk_sig\":\"" + Base64Encode(f.card.enc_pk_sig) +
                       "\",\"name\":\"Trajectum College\",\"node_id\":\"school-trajectum\",\"org_type\":"
                       "\"school\",\"sign_pk\":\"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\","
                       "\"tls_spki_sha256\":\"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeffe0e1e2e3e4e5e6e7e8e9eaebecedeeef\","
                       "\"version\":1}";
  EXPECT_EQ(CanonicalCardText(f.card), expect);
  // sig is over the label, a NUL, and the canonical text.
  std::string msg = std::string("schakel/node-card/v1") + '\0' + expect;
  EXPECT_TRUE(Verify(f.identity.public_key, msg, f.card.sig));
}

TEST(NodeCardTest, CanonicalEscaping) {
  CardFixture f;
  NodeCard c = f.card;
  constexpr char kName[] = "a\"b\\c/d\te\x01\x1f\x7f\xc3\xa9\n\r\b\f";
  c.name = std::string(kName, sizeof kName - 1);
  std::string text = CanonicalCardText(c);
  EXPECT_NE(text.find("\"name\":\"a\\\"b\\\\c/d\\te\\u0001\\u001f\x7f\xc3\xa9\\n\\r\\b\\f\""), std::string::npos)
      << text;
}

TEST(NodeCardTest, RoundTrip) {
  CardFixture f;
  std::string json = NodeCardToJson(f.card);
  auto parsed = ParseNodeCard(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ExpectSameCard(*parsed, f.card);
  EXPECT_EQ(NodeCardToJson(*parsed), json);
  // Pretty and readable: one field per line, sig last.
  EXPECT_EQ(json.rfind("{\n  \"version\": 1,\n  \"node_id\": \"school-trajectum\",\n", 0), 0u) << json;
  EXPECT_NE(json.find("\n  \"sig\": \""), std::string::npos);
}

TEST(NodeCardTest, RoundTripWithRandomKeysAndUnicodeName) {
  SigningKeyPair identity = GenerateSigningKeyPair();
  EncryptionKeyPair enc = GenerateEncryptionKeyPair(identity);
  NodeCard card = UnsignedCard(identity, enc);
  card.name = "Wijkteam Overvecht \xe2\x80\x93 \"Noord\"\t\\ 's-Hertogenbosch";
  card.address = "[::1]:7401";
  card.created = "2026-11-23T11:00:00.250+01:00";
  SignNodeCard(card, identity);
  auto parsed = ParseNodeCard(NodeCardToJson(card));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ExpectSameCard(*parsed, card);
}

TEST(NodeCardTest, LayoutDoesNotMatterToTheSignature) {
  CardFixture f;
  f.card.name = "Trajectum \xc3\xa9\xc3\xa9n";
  SignNodeCard(f.card, f.identity);
  Json j = Json::parse(NodeCardToJson(f.card));
  // Other order, no spaces, and \u escapes where the canonical form has none.
  std::string compact = j.dump();
  auto a = ParseNodeCard(compact);
  ASSERT_TRUE(a.ok()) << a.status().message();
  std::string escaped = compact;
  size_t at = escaped.find("\xc3\xa9\xc3\xa9");
  ASSERT_NE(at, std::string::npos);
  escaped.replace(at, 4, "\\u00e9\\u00E9");
  auto b = ParseNodeCard(escaped);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->name, f.card.name);
}

TEST(NodeCardTest, SignNodeCardSetsTheIdentityKey) {
  CardFixture f;
  NodeCard c = f.card;
  c.sign_pk = GenerateSigningKeyPair().public_key;
  SignNodeCard(c, f.identity);
  EXPECT_EQ(c.sign_pk, f.identity.public_key);
  EXPECT_TRUE(ParseNodeCard(NodeCardToJson(c)).ok());
}

// Changing any field after signing breaks the signature.
TEST(NodeCardTest, TamperingAnyFieldIsRefused) {
  CardFixture f;
  const Json original = Json::parse(NodeCardToJson(f.card));
  SigningKeyPair other = GenerateSigningKeyPair();
  EncryptionKeyPair other_enc = GenerateEncryptionKeyPair(other);
  std::array<uint8_t, 32> pin{};
  pin.fill(0x11);
  Signature zero_sig{};
  const std::vector<std::pair<std::string, Json>> kChanges = {
      {"node_id", "school-trajectun"},
      {"name", "Trajectum College "},
      {"name", "trajectum College"},
      {"org_type", "wijkteam"},
      {"address", "127.0.0.1:7402"},
      {"address", "evil.example.nl:7401"},
      {"sign_pk", Base64Encode(other.public_key)},
      {"enc_pk", Base64Encode(other_enc.public_key)},
      {"enc_pk_sig", Base64Encode(other_enc.signature)},
      {"tls_spki_sha256", ToHex(pin)},
      {"created", "2026-11-23T10:00:01Z"},
      {"created", "2026-11-23T11:00:00+01:00"},  // the same instant, other text
      {"sig", Base64Encode(zero_sig)},
  };
  for (const auto& [field, value] : kChanges) {
    Json j = original;
    ASSERT_TRUE(j.contains(field));
    j[field] = value;
    SCOPED_TRACE(field + " = " + value.dump());
    ExpectCardRefused(j.dump(2), "signature does not verify");
  }
  // And each bit of the signature.
  for (size_t i = 0; i < f.card.sig.size(); ++i) {
    NodeCard c = f.card;
    c.sig[i] ^= 0x80;
    SCOPED_TRACE("sig byte " + std::to_string(i));
    ExpectCardRefused(NodeCardToJson(c), "signature does not verify");
  }
}

TEST(NodeCardTest, EncryptionKeySignedByAnotherIdentityIsRefused) {
  CardFixture f;
  SigningKeyPair other = GenerateSigningKeyPair();
  EncryptionKeyPair foreign = GenerateEncryptionKeyPair(other);
  NodeCard c = f.card;
  c.enc_pk = foreign.public_key;
  c.enc_pk_sig = foreign.signature;
  SignNodeCard(c, f.identity);  // the card itself is properly signed
  ExpectCardRefused(NodeCardToJson(c), "enc_pk_sig does not verify");

  // A signature by the right identity over another key does not do either.
  NodeCard d = f.card;
  d.enc_pk = foreign.public_key;
  SignNodeCard(d, f.identity);
  ExpectCardRefused(NodeCardToJson(d), "enc_pk_sig does not verify");
}

TEST(NodeCardTest, Fingerprint) {
  CardFixture f;
  std::string json = NodeCardToJson(f.card);
  std::string fp = Fingerprint(f.identity.public_key);
  auto ok = ParseNodeCardWithFingerprint(json, fp);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  std::string dashed = fp;
  for (char& c : dashed) {
    if (c == ' ') c = '-';
  }
  EXPECT_TRUE(ParseNodeCardWithFingerprint(json, dashed).ok());

  auto wrong = ParseNodeCardWithFingerprint(json, Fingerprint(GenerateSigningKeyPair().public_key));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("fingerprint"), std::string::npos);
  std::string off_by_one = fp;
  off_by_one.back() = off_by_one.back() == '9' ? '0' : static_cast<char>(off_by_one.back() + 1);
  EXPECT_FALSE(ParseNodeCardWithFingerprint(json, off_by_one).ok());
  // A valid card of another node with the fingerprint we expected is refused.
  SigningKeyPair other = GenerateSigningKeyPair();
  NodeCard c = UnsignedCard(other, GenerateEncryptionKeyPair(other));
  SignNodeCard(c, other);
  EXPECT_TRUE(ParseNodeCard(NodeCardToJson(c)).ok());
  EXPECT_FALSE(ParseNodeCardWithFingerprint(NodeCardToJson(c), fp).ok());
  // A bad card is refused for itself, before the fingerprint.
  ExpectCardRefused("{}", "missing field");
}

TEST(NodeCardTest, OversizeIsRefused) {
  CardFixture f;
  std::string json = NodeCardToJson(f.card);
  std::string big = json.substr(0, json.size() - 2) + std::string(kMaxNodeCardBytes, ' ') + "}\n";
  ExpectCardRefused(big, "larger than 16384 bytes");
  // Just under the limit with padding white space is fine.
  std::string fits = json;
  fits.insert(1, kMaxNodeCardBytes - json.size(), ' ');
  ASSERT_EQ(fits.size(), kMaxNodeCardBytes);
  EXPECT_TRUE(ParseNodeCard(fits).ok());
}

TEST(NodeCardTest, MalformedJsonIsRefused) {
  CardFixture f;
  std::string json = NodeCardToJson(f.card);
  ExpectCardRefused("", "not valid JSON");
  ExpectCardRefused("{", "not valid JSON");
  ExpectCardRefused(json.substr(0, json.size() / 2), "not valid JSON");
  ExpectCardRefused(json + "{}", "not valid JSON");
  ExpectCardRefused(json + "x", "not valid JSON");
  ExpectCardRefused("[" + json + "]", "expected a JSON object");
  ExpectCardRefused("\"card\"", "expected a JSON object");
  ExpectCardRefused("1", "expected a JSON object");
  ExpectCardRefused("{\"name\": \"a\xff\"}", "invalid UTF-8");
  ExpectCardRefused("{\"name\": \"a\xc0\xaf\"}", "invalid UTF-8");  // overlong '/'
  ExpectCardRefused("{\"version\": 1, /* comment */ \"name\": \"x\"}", "not valid JSON");
}

TEST(NodeCardTest, WrongShapeIsRefused) {
  CardFixture f;
  const Json original = Json::parse(NodeCardToJson(f.card));
  {
    Json j = original;
    j["extra"] = "x";
    ExpectCardRefused(j.dump(), "unknown field \"extra\"");
  }
  for (const char* field : {"version", "node_id", "name", "org_type", "address", "sign_pk", "enc_pk", "enc_pk_sig",
                            "tls_spki_sha256", "created", "sig"}) {
    Json j = original;
    j.erase(field);
    ExpectCardRefused(j.dump(), std::string("missing field \"") + field + "\"");
  }
  {
    // Duplicate keys: nlohmann would keep one silently; we refuse.
    std::string json = NodeCardToJson(f.card);
    std::string dup = "{\n  \"node_id\": \"evil-node\"," + json.substr(1);
    ExpectCardRefused(dup, "field \"node_id\" appears twice");
  }
  const std::vector<std::tuple<std::string, Json, std::string>> kWrongTypes = {
      {"version", "1", "expected an integer"},
      {"version", 1.0, "expected an integer, got a number with a fraction"},
      {"version", true, "expected an integer, got a boolean"},
      {"version", 2, "unsupported version 2"},
      {"version", 0, "unsupported version 0"},
      {"version", -1, "unsupported version -1"},
      {"version", 18446744073709551615ull, "got a number out of range"},
      {"name", nullptr, "field \"name\": expected a string, got null"},
      {"name", 5, "field \"name\": expected a string"},
      {"name", Json::array({"x"}), "field \"name\": expected a string, got an array"},
      {"name", Json::object({{"x", 1}}), "field \"name\": expected a string, got an object"},
      {"sig", Json::array(), "field \"sig\": expected a string, got an array"},
  };
  for (const auto& [field, value, want] : kWrongTypes) {
    Json j = original;
    j[field] = value;
    SCOPED_TRACE(field + " = " + value.dump());
    ExpectCardRefused(j.dump(), want);
  }
}

// Bad values, in cards that are otherwise properly signed, so the refusal
// comes from the field check and not from the signature.
TEST(NodeCardTest, BadFieldValuesAreRefusedByName) {
  CardFixture f;
  auto refuse = [&](auto change, std::string_view want) { ExpectCardRefused(f.Resigned(change), want); };
  for (std::string id : std::vector<std::string>{"ab", std::string(65, 'a'), "School-1", "school_1", "school 1", ""}) {
    SCOPED_TRACE(id);
    refuse([&](NodeCard& c) { c.node_id = id; }, "field \"node_id\"");
  }
  for (std::string name : {std::string(), std::string(201, 'x'), std::string("a\nb"), std::string("a\x01"),
                           std::string("a\x7f"), std::string("\xc2\x85")}) {  // NEL, a C1 control
    SCOPED_TRACE(name);
    refuse([&](NodeCard& c) { c.name = name; }, "field \"name\"");
  }
  EXPECT_TRUE(ParseNodeCard(f.Resigned([](NodeCard& c) { c.name = std::string(200, 'x'); })).ok());
  for (std::string t : std::vector<std::string>{"s", "School", "wijk-team", std::string(33, 'a'), "ggd1"}) {
    SCOPED_TRACE(t);
    refuse([&](NodeCard& c) { c.org_type = t; }, "field \"org_type\"");
  }
  for (std::string a : std::vector<std::string>{"",
                                                "host",
                                                ":80",
                                                "host:",
                                                "host:0",
                                                "host:65536",
                                                "host:080",
                                                "host:8o",
                                                "host:-1",
                                                "999.1.1.1:80",
                                                "1.2.3:80",
                                                "[::1:80",
                                                "[zz]:80",
                                                "::1:80",
                                                "[]:80",
                                                "-a.nl:80",
                                                "a-.nl:80",
                                                "a..b:80",
                                                "a.b.:80",
                                                ".a:80",
                                                "host name:80",
                                                "h\xc3\xa9st:80",
                                                std::string(64, 'a') + ".nl:80",
                                                std::string(254, 'a') + ":80"}) {
    SCOPED_TRACE(a);
    refuse([&](NodeCard& c) { c.address = a; }, "field \"address\"");
  }
  for (std::string a : {"localhost:1", "node-1.example.nl:65535", "10.0.0.2:443", "[::1]:7401", "[2001:db8::7]:7401",
                        "EXAMPLE.nl:80"}) {
    SCOPED_TRACE(a);
    auto r = ParseNodeCard(f.Resigned([&](NodeCard& c) { c.address = a; }));
    EXPECT_TRUE(r.ok()) << r.status().message();
  }
  for (std::string t :
       {"2026-11-23", "2026-11-23T10:00:00", "2026-11-23 10:00:00Z", "2026-02-30T10:00:00Z", "yesterday", ""}) {
    SCOPED_TRACE(t);
    refuse([&](NodeCard& c) { c.created = t; }, "field \"created\"");
  }
}

TEST(NodeCardTest, BadEncodingsAreRefusedByName) {
  CardFixture f;
  const Json original = Json::parse(NodeCardToJson(f.card));
  std::string pk = original["sign_pk"];
  std::string sig = original["sig"];
  std::string pin = original["tls_spki_sha256"];
  std::string upper = pin;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<std::pair<std::string, std::string>> kBad = {
      {"sign_pk", pk.substr(0, pk.size() - 4)},         // 30 bytes
      {"sign_pk", pk + "AAAA"},                         // 35 bytes
      {"sign_pk", pk.substr(0, pk.size() - 1)},         // padding lost
      {"sign_pk", pk.substr(0, pk.size() - 2) + "B="},  // non-zero padding bits
      {"sign_pk", " " + pk},
      {"enc_pk", ""},
      {"enc_pk_sig", pk},  // 32 bytes where 64 belong
      {"sig", sig.substr(0, sig.size() - 4)},
      {"sig", "not base64!"},
      {"tls_spki_sha256", pin.substr(2)},
      {"tls_spki_sha256", pin + "00"},
      {"tls_spki_sha256", upper},
      {"tls_spki_sha256", pin.substr(0, 63) + "g"},
  };
  for (const auto& [field, value] : kBad) {
    Json j = original;
    j[field] = value;
    SCOPED_TRACE(field + " = " + value);
    ExpectCardRefused(j.dump(), "field \"" + field + "\"");
  }
}

}  // namespace
}  // namespace schakel::crypto
