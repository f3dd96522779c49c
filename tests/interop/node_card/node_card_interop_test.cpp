// The node card conformance kit (docs/node-card.md). node_card_reader.py is a
// reader written from that page alone (Python, OpenSSL); this test holds the
// C++ code to the same bytes and the same verdicts:
//   - the known answers (card_v1.json, card_v1.kat) come out of the Python
//     generator; the C++ code must build them byte for byte from the seeds;
//   - a fresh card with a random identity, made by the C++ code, must pass
//     the Python reader with the same fingerprint;
//   - a tampering corpus must be refused by both, and layout variants
//     accepted by both.
// The reader runs under SCHAKEL_PYTHON3; a missing python3 or `cryptography`
// package fails the test (exit codes other than 0 and 1 are never a verdict).
#include <sodium.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "test_support.h"

namespace schakel::crypto {
namespace {

const std::string kKit = std::string(SCHAKEL_SOURCE_DIR) + "/tests/interop/node_card";
constexpr char kCardLabel[] = "schakel/node-card/v1";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

// card_v1.kat: "key = value" lines; '#' starts a comment line.
std::map<std::string, std::string> ReadKat() {
  std::map<std::string, std::string> kat;
  std::istringstream in(ReadFile(kKit + "/card_v1.kat"));
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find(" = ");
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    kat[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return kat;
}

struct ReaderResult {
  int code = -1;    // the reader's exit code; -1 if it did not exit
  std::string out;  // stdout and stderr
};

// `node_card_reader.py check CARD [FINGERPRINT]`, killed after 60 s.
ReaderResult RunReader(const std::string& card_path, const std::string& fingerprint = "") {
  std::string cmd = "timeout 60 '" SCHAKEL_PYTHON3 "' '" + kKit + "/node_card_reader.py' check '" + card_path + "'";
  if (!fingerprint.empty()) cmd += " '" + fingerprint + "'";
  cmd += " 2>&1";
  ReaderResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[512];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int status = ::pclose(pipe);
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  return r;
}

SigningKeyPair VectorIdentity(const std::string& seed_hex) {
  auto seed = FromHex(seed_hex);
  PublicKey pk{};
  SecureBuffer sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed->data());
  return std::move(SigningKeyPairFromSecret(sk.span())).value();
}

// The card of card_v1.kat, built and signed by the C++ code.
struct VectorCard {
  std::map<std::string, std::string> kat = ReadKat();
  SigningKeyPair identity = VectorIdentity(kat["ed25519_seed"]);
  EncryptionKeyPair enc = std::move(EncryptionKeyPairFromSecret(*FromHex(kat["x25519_secret"]), identity)).value();
  NodeCard card;

  VectorCard() {
    card.node_id = "school-trajectum";
    card.name = "Trajectum College \"Zuid\" \xe2\x80\x93 Caf\xc3\xa9\\Noord";
    card.org_type = "school";
    card.address = "schakel.trajectum.example:7401";
    card.enc_pk = enc.public_key;
    card.enc_pk_sig = enc.signature;
    for (size_t i = 0; i < card.tls_spki_sha256.size(); ++i) {
      card.tls_spki_sha256[i] = static_cast<uint8_t>(0xf0 ^ i);
    }
    card.created = "2026-11-23T10:00:00Z";
    SignNodeCard(card, identity);
  }
  // The card with one change, signed again by the vector identity, as JSON.
  template <typename F>
  std::string Resigned(F change) const {
    NodeCard c = card;
    change(c);
    SignNodeCard(c, identity);
    return NodeCardToJson(c);
  }
};

std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("corpus: \"" + from + "\" not in the card");
  return text.replace(at, from.size(), to);
}

// The test of (a): the C++ code yields the vectors the Python generator wrote.
TEST(NodeCardInterop, CppBuildsTheVectorByteForByte) {
  VectorCard v;
  ASSERT_FALSE(v.kat.empty()) << "card_v1.kat not found in " << kKit;
  EXPECT_EQ(ToHex(v.identity.public_key), v.kat["sign_pk"]);
  EXPECT_EQ(ToHex(v.enc.public_key), v.kat["enc_pk"]);
  std::string enc_input = EncKeySignedMessage(v.enc.public_key);
  EXPECT_EQ(ToHex(std::vector<uint8_t>(enc_input.begin(), enc_input.end())), v.kat["enc_pk_sig_input"]);
  EXPECT_EQ(ToHex(v.card.enc_pk_sig), v.kat["enc_pk_sig"]);
  std::string canonical = CanonicalCardText(v.card);
  EXPECT_EQ(canonical, v.kat["canonical_text"]);
  std::string sig_input = std::string(kCardLabel, sizeof kCardLabel) + canonical;
  EXPECT_EQ(ToHex(std::vector<uint8_t>(sig_input.begin(), sig_input.end())), v.kat["sig_input"]);
  EXPECT_TRUE(Verify(v.identity.public_key, sig_input, v.card.sig));
  EXPECT_EQ(ToHex(v.card.sig), v.kat["sig"]);
  EXPECT_EQ(Fingerprint(v.identity.public_key), v.kat["fingerprint"]);
  std::string file = ReadFile(kKit + "/card_v1.json");
  EXPECT_EQ(NodeCardToJson(v.card), file);
  auto parsed = ParseNodeCardWithFingerprint(file, v.kat["fingerprint"]);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(CanonicalCardText(*parsed), canonical);
}

TEST(NodeCardInterop, ReaderAcceptsTheVectorWithItsFingerprint) {
  VectorCard v;
  std::string fp = v.kat["fingerprint"];
  auto r = RunReader(kKit + "/card_v1.json", fp);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, fp + "\n");
  // Typed with dashes and without separators, as FingerprintMatches allows.
  std::string dashed = fp;
  for (char& c : dashed) c = c == ' ' ? '-' : c;
  EXPECT_EQ(RunReader(kKit + "/card_v1.json", dashed).code, 0);
  std::string off = fp;
  off.back() = off.back() == '9' ? '0' : static_cast<char>(off.back() + 1);
  auto wrong = RunReader(kKit + "/card_v1.json", off);
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  EXPECT_FALSE(ParseNodeCardWithFingerprint(ReadFile(kKit + "/card_v1.json"), off).ok());
}

// The test of (b): a card the C++ code makes now, with keys never seen before.
TEST(NodeCardInterop, ReaderAcceptsAFreshCppCard) {
  schakel::testing::TempDir dir;
  for (int round = 0; round < 3; ++round) {
    SigningKeyPair identity = GenerateSigningKeyPair();
    EncryptionKeyPair enc = GenerateEncryptionKeyPair(identity);
    NodeCard card;
    card.node_id = "wijkteam-overvecht-" + std::to_string(round);
    card.name = "Wijkteam Overvecht \xe2\x80\x93 \"Noord\"\t\\ 's-Hertogenbosch \xf0\x9f\x8f\xab";
    card.org_type = "wijkteam";
    card.address = round == 0 ? "[2001:db8::7]:7401" : "10.0.0." + std::to_string(round) + ":443";
    card.enc_pk = enc.public_key;
    card.enc_pk_sig = enc.signature;
    randombytes_buf(card.tls_spki_sha256.data(), card.tls_spki_sha256.size());
    card.created = "2026-11-23T11:00:00.250+01:00";
    SignNodeCard(card, identity);
    std::string path = dir / ("fresh" + std::to_string(round) + ".json");
    WriteFile(path, NodeCardToJson(card));
    ASSERT_TRUE(ParseNodeCard(ReadFile(path)).ok());
    auto r = RunReader(path);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out, Fingerprint(identity.public_key) + "\n");
  }
}

struct Case {
  std::string what;
  std::string json;
};

// The card with sign_pk the neutral point (order 1) and, for both signatures,
// R = [5]B and S = 5: then [S]B = R + [h]sign_pk for every message h, so
// RFC 8032 (and OpenSSL) would accept it. docs/node-card.md refuses it.
std::string SmallOrderKeyCard(const NodeCard& card) {
  NodeCard c = card;
  c.sign_pk.fill(0);
  c.sign_pk[0] = 1;
  std::array<uint8_t, 32> s{};
  s[0] = 5;
  Signature forged{};
  if (crypto_scalarmult_ed25519_base_noclamp(forged.data(), s.data()) != 0) return "";
  std::copy(s.begin(), s.end(), forged.begin() + 32);
  c.sig = forged;
  c.enc_pk_sig = forged;
  return NodeCardToJson(c);
}

// The vector card's sig with S + L in place of S: the same point, S not reduced.
std::string UnreducedSCard(const NodeCard& card) {
  static constexpr uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                     0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                     0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  NodeCard c = card;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = c.sig[32 + i] + kL[i] + carry;
    c.sig[32 + i] = static_cast<uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  return NodeCardToJson(c);
}

// Cards both readers must refuse, each from the vector card by one change.
std::vector<Case> RefusedCorpus(const VectorCard& v) {
  const std::string good = NodeCardToJson(v.card);
  const std::string pk = Base64Encode(v.card.sign_pk);  // "...Mbg=": 'g' ends in four zero bits
  std::string sig = Base64Encode(v.card.sig);
  std::string other_sig = sig;
  other_sig[0] = other_sig[0] == 'A' ? 'B' : 'A';
  Signature foreign = Sign(v.identity, "schakel/enc-key/v1");  // the identity's, over other bytes
  std::string enc31 = Base64Encode(std::span<const uint8_t>(v.card.enc_pk.data(), 31));
  std::string pin = ToHex(v.card.tls_spki_sha256);
  std::string upper = pin;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string big = good;
  big.insert(1, kMaxNodeCardBytes + 1 - good.size(), ' ');
  return {
      {"node_id changed after signing", Replaced(good, "\"school-trajectum\"", "\"school-trajectun\"")},
      {"name changed after signing", Replaced(good, "Noord", "Zuid")},
      {"extra field", Replaced(good, "{\n", "{\n  \"comment\": \"x\",\n")},
      {"repeated field with the same value", Replaced(good, "{\n", "{\n  \"node_id\": \"school-trajectum\",\n")},
      {"repeated sig", Replaced(good, "\n}", ",\n  \"sig\": \"" + sig + "\"\n}")},
      {"missing sig", Replaced(good, ",\n  \"sig\": \"" + sig + "\"", "")},
      {"non-zero base64 padding bits", Replaced(good, pk, pk.substr(0, pk.size() - 2) + "h=")},
      {"base64 without padding", Replaced(good, pk, pk.substr(0, pk.size() - 1))},
      {"base64url alphabet", Replaced(good, pk, Replaced(pk, "/", "_"))},
      {"truncated enc_pk (31 bytes)", Replaced(good, Base64Encode(v.card.enc_pk), enc31)},
      {"enc_pk_sig over other bytes, card re-signed", v.Resigned([&](NodeCard& c) { c.enc_pk_sig = foreign; })},
      {"sig of other bytes", Replaced(good, sig, other_sig)},
      {"sign_pk of small order, signatures RFC 8032 accepts", SmallOrderKeyCard(v.card)},
      {"sig with S not below L", UnreducedSCard(v.card)},
      {"upper-case tls_spki_sha256", Replaced(good, pin, upper)},
      {"non-UTF-8 byte (Latin-1 e-acute)", Replaced(good, "Caf\xc3\xa9", "Caf\xe9")},
      {"overlong UTF-8", Replaced(good, "Caf\xc3\xa9", "Caf\xc0\xaf")},
      {"UTF-8 of a surrogate", Replaced(good, "Caf\xc3\xa9", "Caf\xed\xa0\x80")},
      {"UTF-8 above U+10FFFF", Replaced(good, "Caf\xc3\xa9", "Caf\xf4\x90\x80\x80")},
      {"escaped lone surrogate", Replaced(good, "Caf\xc3\xa9", "Caf\\ud800")},
      {"version 1.0", Replaced(good, "\"version\": 1,", "\"version\": 1.0,")},
      {"version 1e0", Replaced(good, "\"version\": 1,", "\"version\": 1e0,")},
      {"version as a string", Replaced(good, "\"version\": 1,", "\"version\": \"1\",")},
      {"version NaN", Replaced(good, "\"version\": 1,", "\"version\": NaN,")},
      {"version 2, re-signed", v.Resigned([](NodeCard& c) { c.version = 2; })},
      {"a comment", Replaced(good, "{\n", "{\n  /* card */\n")},
      {"trailing data", good + "{}"},
      {"top-level array", "[" + good + "]"},
      {"two byte order marks", "\xef\xbb\xbf\xef\xbb\xbf" + good},
      {"larger than 16384 bytes", big},
      {"control character in name, re-signed", v.Resigned([](NodeCard& c) { c.name = "a\x01z"; })},
      {"C1 control (U+0085) in name, re-signed", v.Resigned([](NodeCard& c) { c.name = "a\xc2\x85z"; })},
      {"DEL in name, re-signed", v.Resigned([](NodeCard& c) { c.name = "a\x7fz"; })},
      {"name of 201 bytes, re-signed", v.Resigned([](NodeCard& c) { c.name = std::string(201, 'x'); })},
      {"upper-case node_id, re-signed", v.Resigned([](NodeCard& c) { c.node_id = "School-trajectum"; })},
      {"org_type with a dash, re-signed", v.Resigned([](NodeCard& c) { c.org_type = "wijk-team"; })},
      {"port with a leading zero, re-signed", v.Resigned([](NodeCard& c) { c.address = "host.example:07401"; })},
      {"IPv4 with a leading zero, re-signed", v.Resigned([](NodeCard& c) { c.address = "10.0.0.01:7401"; })},
      {"IPv6 with a zone, re-signed", v.Resigned([](NodeCard& c) { c.address = "[fe80::1%eth0]:7401"; })},
      {"label ending in a dash, re-signed", v.Resigned([](NodeCard& c) { c.address = "a-.example:7401"; })},
      {"created without a zone, re-signed", v.Resigned([](NodeCard& c) { c.created = "2026-11-23T10:00:00"; })},
      {"created on 30 February, re-signed", v.Resigned([](NodeCard& c) { c.created = "2026-02-30T10:00:00Z"; })},
      {"created with a leap second, re-signed", v.Resigned([](NodeCard& c) { c.created = "2026-12-31T23:59:60Z"; })},
  };
}

// Layouts and spellings both must accept: the signature covers the canonical
// text rebuilt from the values, not the bytes of the file.
std::vector<Case> AcceptedCorpus(const VectorCard& v) {
  const std::string good = NodeCardToJson(v.card);
  std::string compact;
  for (size_t i = 0; i < good.size(); ++i) {
    if (good[i] == '\n' || (good[i] == ' ' && (good[i - 1] == '\n' || good[i - 1] == ' ' || good[i - 1] == ':'))) {
      continue;  // every space in this card's values sits between letters
    }
    compact.push_back(good[i]);
  }
  // sig first instead of last.
  std::string sig_line = ",\n  \"sig\": \"" + Base64Encode(v.card.sig) + "\"";
  std::string reordered = Replaced(Replaced(good, sig_line, ""), "{\n", "{\n" + sig_line.substr(2) + ",\n");
  // CR LF line ends, a tab to indent and after each colon.
  std::string tabs;
  for (size_t i = 0; i < good.size(); ++i) {
    if (good.compare(i, 3, "\n  ") == 0) {
      tabs += "\r\n\t";
      i += 2;
    } else if (good.compare(i, 3, "\": ") == 0) {
      tabs += "\":\t";
      i += 2;
    } else {
      tabs += good[i];
    }
  }
  return {
      {"the vector as written", good},
      {"compact", compact},
      {"keys in another order", reordered},
      {"tabs and CRLF", tabs},
      {"\\u escapes and \\/",
       Replaced(Replaced(Replaced(good, "Caf\xc3\xa9", "Caf\\u00E9"), "school-", "\\u0073chool\\u002d"), "A6EHv/",
                "A6EHv\\/")},
      {"one byte order mark", "\xef\xbb\xbf" + good},
      {"IPv6 address, re-signed", v.Resigned([](NodeCard& c) { c.address = "[::ffff:10.0.0.1]:65535"; })},
      {"offset, fraction and lower-case t and z, re-signed",
       v.Resigned([](NodeCard& c) { c.created = "2026-03-29t01:59:59.123456789-09:30"; })},
      {"tab and astral character in name, re-signed",
       v.Resigned([](NodeCard& c) { c.name = "a\tb \xf0\x9f\x8f\xab \xef\xbf\xbe"; })},
      {"name of 200 bytes, re-signed", v.Resigned([](NodeCard& c) { c.name = std::string(200, 'x'); })},
  };
}

// The test of (c): the tampering corpus.
TEST(NodeCardInterop, BothRefuseEveryTamperedCard) {
  VectorCard v;
  schakel::testing::TempDir dir;
  int n = 0;
  for (const auto& c : RefusedCorpus(v)) {
    SCOPED_TRACE(c.what);
    std::string path = dir / ("refused" + std::to_string(n++) + ".json");
    WriteFile(path, c.json);
    auto cpp = ParseNodeCard(c.json);
    EXPECT_FALSE(cpp.ok()) << "C++ accepted it";
    auto py = RunReader(path);
    EXPECT_EQ(py.code, 1) << py.out;
    EXPECT_EQ(py.out.rfind("refused: ", 0), 0u) << py.out;
    EXPECT_EQ(std::count(py.out.begin(), py.out.end(), '\n'), 1) << py.out;
  }
}

TEST(NodeCardInterop, BothAcceptEveryLayoutWithTheSameFingerprint) {
  VectorCard v;
  schakel::testing::TempDir dir;
  int n = 0;
  for (const auto& c : AcceptedCorpus(v)) {
    SCOPED_TRACE(c.what);
    std::string path = dir / ("accepted" + std::to_string(n++) + ".json");
    WriteFile(path, c.json);
    auto cpp = ParseNodeCard(c.json);
    EXPECT_TRUE(cpp.ok()) << cpp.status().message() << "\n" << c.json;
    auto py = RunReader(path);
    EXPECT_EQ(py.code, 0) << py.out << "\n" << c.json;
    EXPECT_EQ(py.out, v.kat["fingerprint"] + "\n");
  }
}

}  // namespace
}  // namespace schakel::crypto
