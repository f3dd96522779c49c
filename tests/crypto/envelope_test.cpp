// Sealed envelopes, receipts and revocations: round trips, tampering at
// every byte, truncation at every length, limits, and known-answer vectors
// from tests/crypto/data/envelope_v1.kat.
#include "schakel/crypto/envelope.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "envelope_testing.h"
#include "kat_support.h"
#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

Instant At(std::string_view text) { return ParseInstant(text).value(); }

EnvelopeHeader SampleHeader() {
  EnvelopeHeader h;
  h.message_id = "msg-2026-0001";
  h.sender_id = "school-trajectum";
  h.recipient_id = "wijkteam-overvecht";
  h.created = At("2026-11-23T10:00:00.125Z");
  h.retain_until = At("2027-05-22T10:00:00Z");
  h.purpose = "doorverwijzing";
  h.consent_ids = {"c1", "c2"};
  h.content_type = "application/vnd.schakel.case+json";
  return h;
}

struct Nodes {
  SigningKeyPair sender = GenerateSigningKeyPair();
  SigningKeyPair recipient = GenerateSigningKeyPair();
  EncryptionKeyPair recipient_enc = GenerateEncryptionKeyPair(recipient);
  EnvelopeHeader header = SampleHeader();

  std::string SealBody(std::string_view body) const {
    auto env = Seal(header, body, sender, recipient_enc.public_key);
    EXPECT_TRUE(env.ok()) << env.status().message();
    return env.ok() ? *env : std::string();
  }
  Result<Opened> OpenIt(std::string_view env, EnvelopeError* error = nullptr) const {
    return Open(env, recipient_enc, sender.public_key, "wijkteam-overvecht", error);
  }
};

void ExpectSameHeader(const EnvelopeHeader& a, const EnvelopeHeader& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.sender_id, b.sender_id);
  EXPECT_EQ(a.recipient_id, b.recipient_id);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.retain_until, b.retain_until);
  EXPECT_EQ(a.purpose, b.purpose);
  EXPECT_EQ(a.consent_ids, b.consent_ids);
  EXPECT_EQ(a.content_type, b.content_type);
  EXPECT_EQ(a.recipient_key_id, b.recipient_key_id);
}

// Opens and expects a refusal of the given kind whose message contains `want`.
void ExpectRefused(const Nodes& n, std::string_view env, EnvelopeError kind, std::string_view want) {
  EnvelopeError error = EnvelopeError::kNone;
  auto r = n.OpenIt(env, &error);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error, kind) << r.status().message();
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("envelope: ", 0), 0u) << r.status().message();
}

TEST(RevocationReasons, EveryCodeHasANameThatParsesBack) {
  for (RevocationReason r :
       {RevocationReason::kSentInError, RevocationReason::kConsentWithdrawn, RevocationReason::kWrongRecipient,
        RevocationReason::kContentIncorrect, RevocationReason::kOther}) {
    EXPECT_EQ(ParseRevocationReason(RevocationReasonName(r)), r);
  }
  EXPECT_EQ(ParseRevocationReason("Sent_in_error"), std::nullopt);
  EXPECT_EQ(RevocationReasonList(), "sent_in_error, consent_withdrawn, wrong_recipient, content_incorrect, other");
}

TEST(EnvelopeTest, RoundTrip) {
  Nodes n;
  const std::string body = R"({"case_id":"casus-2026-0042","hulpvraag":{"question":"..."}})";
  std::string env = n.SealBody(body);
  EXPECT_EQ(env.substr(0, 5), std::string("SCHK\x01", 5));
  EXPECT_EQ(env.find("casus-2026-0042"), std::string::npos);  // the body is not readable

  EnvelopeError error = EnvelopeError::kMalformed;
  auto opened = n.OpenIt(env, &error);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(error, EnvelopeError::kNone);
  EXPECT_EQ(opened->body(), body);
  EXPECT_EQ(opened->body_bytes().size(), body.size());
  EnvelopeHeader expect = n.header;
  expect.recipient_key_id = EncryptionKeyId(n.recipient_enc.public_key);
  ExpectSameHeader(opened->header(), expect);

  auto peeked = PeekHeader(env);
  ASSERT_TRUE(peeked.ok()) << peeked.status().message();
  ExpectSameHeader(*peeked, expect);

  // Fresh ephemeral key and nonce each time.
  std::string again = n.SealBody(body);
  EXPECT_NE(again, env);
  EXPECT_EQ(again.size(), env.size());
  EXPECT_TRUE(n.OpenIt(again).ok());
}

// The purpose grammar is the protocol's ([a-z0-9_-]{1,64}, IsValidPurpose):
// a flow named "stap-2" seals and opens; the older [a-z_] names are a subset
// and still do; what the grammar refuses is refused at sealing.
TEST(EnvelopeTest, PurposeGrammarIsTheProtocols) {
  for (const char* purpose : {"stap-2", "meldcode_stap-5", "doorverwijzing", "a", "0-9_"}) {
    Nodes n;
    n.header.purpose = purpose;
    auto opened = n.OpenIt(n.SealBody("x"));
    ASSERT_TRUE(opened.ok()) << purpose << ": " << opened.status().message();
    EXPECT_EQ(opened->header().purpose, purpose);
  }
  Nodes n;
  for (std::string purpose :
       {std::string("Stap-2"), std::string("stap 2"), std::string("stap.2"), std::string(65, 'a')}) {
    EnvelopeHeader h = SampleHeader();
    h.purpose = purpose;
    auto r = Seal(h, "x", n.sender, n.recipient_enc.public_key);
    ASSERT_FALSE(r.ok()) << purpose;
    EXPECT_NE(r.status().message().find("[a-z0-9_-]{1,64}"), std::string::npos) << r.status().message();
  }
}

TEST(EnvelopeTest, EmptyBinaryAndLargeBodies) {
  Nodes n;
  n.header.consent_ids.clear();
  std::string binary;
  for (int i = 0; i < 1000; ++i) binary.push_back(static_cast<char>(i * 7));
  std::string large(1 << 20, 'x');
  randombytes_buf(large.data(), large.size());
  for (const std::string& body : {std::string(), binary, large}) {
    std::string env = n.SealBody(body);
    auto opened = n.OpenIt(env);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(opened->body(), body);
    EXPECT_TRUE(opened->header().consent_ids.empty());
  }
}

TEST(EnvelopeTest, SealAndOpenFromManyThreads) {
  Nodes n;
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (size_t t = 0; t < good.size(); ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < 50; ++i) {
        // Sizes on both sides of the per-thread scratch limit.
        std::string body(i % 10 == 0 ? 300 * 1024 : 100 * i + t, static_cast<char>('a' + t));
        auto env = Seal(n.header, body, n.sender, n.recipient_enc.public_key);
        if (!env.ok()) continue;
        auto opened = n.OpenIt(*env);
        if (opened.ok() && opened->body() == body) ++good[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int g : good) EXPECT_EQ(g, 50);
}

TEST(EnvelopeTest, EverySingleByteChangeIsRejected) {
  Nodes n;
  std::string env = n.SealBody("short body");
  ASSERT_TRUE(n.OpenIt(env).ok());
  std::map<EnvelopeError, int> kinds;
  for (size_t i = 0; i < env.size(); ++i) {
    for (uint8_t mask : std::initializer_list<uint8_t>{0x01, 0x80, 0xff}) {
      std::string bad = env;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ mask);
      EnvelopeError error = EnvelopeError::kNone;
      auto r = n.OpenIt(bad, &error);
      ASSERT_FALSE(r.ok()) << "byte " << i << " ^ " << int{mask} << " was accepted";
      EXPECT_NE(error, EnvelopeError::kNone);
      ++kinds[error];
    }
  }
  // The refusals come from every layer.
  EXPECT_GT(kinds[EnvelopeError::kMalformed], 0);
  EXPECT_GT(kinds[EnvelopeError::kUnknownVersion], 0);
  EXPECT_GT(kinds[EnvelopeError::kTruncated], 0);
  EXPECT_GT(kinds[EnvelopeError::kWrongRecipient], 0);
  EXPECT_GT(kinds[EnvelopeError::kUnknownKey], 0);
  EXPECT_GT(kinds[EnvelopeError::kDecryptionFailed], 0);
}

TEST(EnvelopeTest, TruncatedAtEveryLength) {
  Nodes n;
  std::string env = n.SealBody("a body of some length");
  for (size_t len = 0; len < env.size(); ++len) {
    SCOPED_TRACE(len);
    ExpectRefused(n, env.substr(0, len), EnvelopeError::kTruncated, "truncated");
    EnvelopeError error = EnvelopeError::kNone;
    EXPECT_FALSE(PeekHeader(env.substr(0, len), &error).ok());
    EXPECT_EQ(error, EnvelopeError::kTruncated);
  }
  ExpectRefused(n, env + '\0', EnvelopeError::kMalformed, "1 bytes after the end");
}

TEST(EnvelopeTest, WrongRecipient) {
  Nodes n;
  std::string env = n.SealBody("for the wijkteam");
  EnvelopeError error = EnvelopeError::kNone;
  auto r = Open(env, n.recipient_enc, n.sender.public_key, "rmc-utrecht", &error);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error, EnvelopeError::kWrongRecipient);
  EXPECT_NE(r.status().message().find("wrong recipient: addressed to \"wijkteam-overvecht\""), std::string::npos)
      << r.status().message();

  // Addressed to us by name, but encrypted to another node's key.
  SigningKeyPair other = GenerateSigningKeyPair();
  EncryptionKeyPair other_enc = GenerateEncryptionKeyPair(other);
  auto to_other = Seal(n.header, "x", n.sender, other_enc.public_key);
  ASSERT_TRUE(to_other.ok());
  auto u = n.OpenIt(*to_other, &error);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(error, EnvelopeError::kUnknownKey);
  EXPECT_EQ(u.status().code(), Code::kNotFound);
  EXPECT_NE(u.status().message().find("does not hold"), std::string::npos);
}

TEST(EnvelopeTest, WrongSenderKey) {
  Nodes n;
  std::string env = n.SealBody("from the school");
  EnvelopeError error = EnvelopeError::kNone;
  SigningKeyPair other = GenerateSigningKeyPair();
  auto r = Open(env, n.recipient_enc, other.public_key, "wijkteam-overvecht", &error);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error, EnvelopeError::kBadSignature);
  EXPECT_NE(r.status().message().find("bad signature"), std::string::npos);
  EXPECT_NE(r.status().message().find("school-trajectum"), std::string::npos);

  // Someone else sealing in the school's name is caught the same way.
  auto forged = Seal(n.header, "forged", other, n.recipient_enc.public_key);
  ASSERT_TRUE(forged.ok());
  ExpectRefused(n, *forged, EnvelopeError::kBadSignature, "bad signature");
}

TEST(EnvelopeTest, UnknownVersionAndBadMagic) {
  Nodes n;
  std::string env = n.SealBody("x");
  for (uint8_t v : std::initializer_list<uint8_t>{0, 2, 255}) {
    std::string bad = env;
    bad[4] = static_cast<char>(v);
    ExpectRefused(n, bad, EnvelopeError::kUnknownVersion,
                  "unknown version " + std::to_string(v) + " (this node reads version 1)");
  }
  std::string bad = env;
  bad[0] = 'X';
  ExpectRefused(n, bad, EnvelopeError::kMalformed, "bad magic");
  ExpectRefused(n, "SCHX", EnvelopeError::kMalformed, "bad magic");
  ExpectRefused(n, "{\"json\": true}", EnvelopeError::kMalformed, "bad magic");
}

void PutU32At(std::string& s, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

TEST(EnvelopeTest, Oversize) {
  Nodes n;
  std::string env = n.SealBody("x");
  std::string huge = env;
  huge.resize(kMaxEnvelopeBytes + 1, '\0');
  ExpectRefused(n, huge, EnvelopeError::kOversize, "more than the limit of 16777216");

  std::string big_header = env;
  PutU32At(big_header, 5, static_cast<uint32_t>(kMaxEnvelopeHeaderBytes + 1));
  ExpectRefused(n, big_header, EnvelopeError::kOversize, "oversize header: 16385 bytes");

  // A ciphertext length that would take the envelope past the limit.
  auto peek = PeekHeader(env);
  ASSERT_TRUE(peek.ok());
  uint32_t header_len = static_cast<uint32_t>(static_cast<uint8_t>(env[5])) << 24 |
                        static_cast<uint32_t>(static_cast<uint8_t>(env[6])) << 16 |
                        static_cast<uint32_t>(static_cast<uint8_t>(env[7])) << 8 |
                        static_cast<uint32_t>(static_cast<uint8_t>(env[8]));
  std::string big_ct = env;
  PutU32At(big_ct, 9 + header_len + 56, 0xffffffffu);
  ExpectRefused(n, big_ct, EnvelopeError::kOversize, "its lengths say");

  // Seal refuses a body that cannot fit, and takes the largest that can.
  size_t max_body = kMaxEnvelopeBytes - (env.size() - 1);
  std::string body(max_body, 'b');
  auto fits = Seal(n.header, body, n.sender, n.recipient_enc.public_key);
  ASSERT_TRUE(fits.ok()) << fits.status().message();
  EXPECT_EQ(fits->size(), kMaxEnvelopeBytes);
  auto opened = n.OpenIt(*fits);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->body().size(), max_body);
  body.push_back('b');
  auto too_big = Seal(n.header, body, n.sender, n.recipient_enc.public_key);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("too large"), std::string::npos);
}

TEST(EnvelopeTest, SealChecksTheHeader) {
  Nodes n;
  auto refuse = [&](auto change, std::string_view field) {
    EnvelopeHeader h = SampleHeader();
    change(h);
    auto r = Seal(h, "x", n.sender, n.recipient_enc.public_key);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().code(), Code::kInvalidInput);
    EXPECT_NE(r.status().message().find("header field \"" + std::string(field) + "\""), std::string::npos)
        << r.status().message();
  };
  refuse([](EnvelopeHeader& h) { h.message_id = ""; }, "message_id");
  refuse([](EnvelopeHeader& h) { h.message_id = std::string(129, 'm'); }, "message_id");
  refuse([](EnvelopeHeader& h) { h.message_id = "a/b"; }, "message_id");
  refuse([](EnvelopeHeader& h) { h.sender_id = "School"; }, "sender_id");
  refuse([](EnvelopeHeader& h) { h.recipient_id = "ab"; }, "recipient_id");
  refuse([](EnvelopeHeader& h) { h.created = Instant{std::chrono::milliseconds{-1}}; }, "created");
  refuse([](EnvelopeHeader& h) { h.retain_until = h.created - std::chrono::milliseconds{1}; }, "retain_until");
  refuse([](EnvelopeHeader& h) { h.purpose = "Doorverwijzing"; }, "purpose");
  refuse([](EnvelopeHeader& h) { h.purpose = ""; }, "purpose");
  refuse([](EnvelopeHeader& h) { h.consent_ids = {"ok", "not ok"}; }, "consent_ids");
  refuse([](EnvelopeHeader& h) { h.consent_ids.assign(kMaxConsentIds + 1, "c"); }, "consent_ids");
  refuse([](EnvelopeHeader& h) { h.content_type = ""; }, "content_type");
  refuse([](EnvelopeHeader& h) { h.content_type = "text/plain\n"; }, "content_type");

  EnvelopeHeader many = SampleHeader();
  many.consent_ids.assign(kMaxConsentIds, std::string(128, 'c'));
  auto r = Seal(many, "x", n.sender, n.recipient_enc.public_key);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than the limit of 16384"), std::string::npos);

  // The header may hold what it says: retain_until equal to created, many ids.
  EnvelopeHeader edge = SampleHeader();
  edge.retain_until = edge.created;
  edge.consent_ids.assign(100, std::string(128, 'c'));
  n.header = edge;
  auto opened = n.OpenIt(n.SealBody("x"));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->header().consent_ids.size(), 100u);

  // Keys that are not keys.
  PublicKey zero{};
  EXPECT_FALSE(Seal(SampleHeader(), "x", n.sender, zero).ok());
  SigningKeyPair empty;
  EXPECT_FALSE(Seal(SampleHeader(), "x", empty, n.recipient_enc.public_key).ok());
}

TEST(EnvelopeTest, KeyLookupAfterRotation) {
  Nodes n;
  EncryptionKeyPair old_key = GenerateEncryptionKeyPair(n.recipient);
  auto to_old = Seal(n.header, "old", n.sender, old_key.public_key);
  auto to_new = Seal(n.header, "new", n.sender, n.recipient_enc.public_key);
  ASSERT_TRUE(to_old.ok() && to_new.ok());
  std::vector<const EncryptionKeyPair*> held = {&n.recipient_enc, &old_key};
  EncKeyLookup lookup = [&](const EncKeyId& id) -> const EncryptionKeyPair* {
    for (const auto* k : held) {
      if (EncryptionKeyId(k->public_key) == id) return k;
    }
    return nullptr;
  };
  auto a = Open(*to_old, lookup, n.sender.public_key, "wijkteam-overvecht");
  auto b = Open(*to_new, lookup, n.sender.public_key, "wijkteam-overvecht");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->body(), "old");
  EXPECT_EQ(b->body(), "new");

  held.pop_back();  // the old key is gone
  EnvelopeError error = EnvelopeError::kNone;
  EXPECT_FALSE(Open(*to_old, lookup, n.sender.public_key, "wijkteam-overvecht", &error).ok());
  EXPECT_EQ(error, EnvelopeError::kUnknownKey);

  // A lookup that answers with the wrong pair is not trusted.
  EncKeyLookup liar = [&](const EncKeyId&) { return &n.recipient_enc; };
  EXPECT_FALSE(Open(*to_old, liar, n.sender.public_key, "wijkteam-overvecht", &error).ok());
  EXPECT_EQ(error, EnvelopeError::kUnknownKey);
  EXPECT_FALSE(Open(*to_old, EncKeyLookup(), n.sender.public_key, "wijkteam-overvecht").ok());
}

TEST(EnvelopeTest, EncryptionKeyIdKnownAnswer) {
  // BLAKE2b with a 16-byte digest over "schakel/enc-key-id/v1\0" || 32 x 0x09;
  // checked with Python: hashlib.blake2b(b"schakel/enc-key-id/v1\0" +
  // bytes([9]) * 32, digest_size=16).hexdigest()
  PublicKey pk{};
  pk.fill(9);
  EXPECT_EQ(ToHex(EncryptionKeyId(pk)), "1a373d6d35671ae20656ccd4a027bae4");
}

// ----- receipts and revocations --------------------------------------------

TEST(ReceiptTest, MakeVerifyEncodeDecode) {
  Nodes n;
  const std::string body = "the case summary";
  std::string env = n.SealBody(body);
  auto opened = n.OpenIt(env);
  ASSERT_TRUE(opened.ok());
  Instant received = At("2026-11-23T10:00:05Z");
  Receipt receipt = MakeReceipt(*opened, received, n.recipient);
  EXPECT_EQ(receipt.message_id, "msg-2026-0001");
  EXPECT_EQ(receipt.sender_id, "school-trajectum");
  EXPECT_EQ(receipt.recipient_id, "wijkteam-overvecht");
  EXPECT_EQ(receipt.received, received);
  EXPECT_EQ(receipt.body_hash, Sha256({reinterpret_cast<const uint8_t*>(body.data()), body.size()}));

  const BodyHash sent_hash = HashBody(body);
  EXPECT_TRUE(VerifyReceipt(receipt, n.recipient.public_key, n.header, sent_hash).ok());
  EXPECT_FALSE(VerifyReceipt(receipt, n.sender.public_key, n.header, sent_hash).ok());
  EXPECT_FALSE(VerifyReceipt(receipt, n.recipient.public_key, n.header, HashBody("other")).ok());
  EnvelopeHeader other_msg = n.header;
  other_msg.message_id = "msg-2026-0002";
  EXPECT_FALSE(VerifyReceipt(receipt, n.recipient.public_key, other_msg, sent_hash).ok());

  // Each field is covered by the signature.
  std::vector<std::function<void(Receipt&)>> changes = {
      [](Receipt& r) { r.message_id = "msg-2026-0002"; },
      [](Receipt& r) { r.sender_id = "school-other"; },
      [](Receipt& r) { r.recipient_id = "wijkteam-other"; },
      [](Receipt& r) { r.received += std::chrono::milliseconds{1}; },
      [](Receipt& r) { r.body_hash[31] ^= 1; },
      [](Receipt& r) { r.sig[0] ^= 1; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    Receipt bad = receipt;
    changes[i](bad);
    Status st = VerifyReceipt(bad, n.recipient.public_key, n.header, sent_hash);
    EXPECT_FALSE(st.ok()) << "change " << i;
  }

  std::string wire = EncodeReceipt(receipt);
  EXPECT_EQ(wire.substr(0, 5), std::string("SCHR\x01", 5));
  auto back = DecodeReceipt(wire);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->message_id, receipt.message_id);
  EXPECT_EQ(back->received, receipt.received);
  EXPECT_EQ(back->body_hash, receipt.body_hash);
  EXPECT_EQ(back->sig, receipt.sig);
  EXPECT_TRUE(VerifyReceipt(*back, n.recipient.public_key, n.header, sent_hash).ok());
  for (size_t len = 0; len < wire.size(); ++len) {
    EXPECT_FALSE(DecodeReceipt(wire.substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(DecodeReceipt(wire + "x").ok());
  std::string v2 = wire;
  v2[4] = 2;
  EXPECT_NE(DecodeReceipt(v2).status().message().find("unknown version 2"), std::string::npos);
  // Every byte of the wire form matters: it decodes to something that does not verify.
  for (size_t i = 0; i < wire.size(); ++i) {
    std::string bad = wire;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto d = DecodeReceipt(bad);
    if (d.ok()) {
      EXPECT_FALSE(VerifyReceipt(*d, n.recipient.public_key, n.header, sent_hash).ok()) << i;
    }
  }
}

TEST(RevocationTest, MakeVerifyEncodeDecode) {
  Nodes n;
  Instant at = At("2026-12-01T08:30:00Z");
  auto made =
      MakeRevocation("msg-2026-0001", "school-trajectum", "wijkteam-overvecht", "consent_withdrawn", at, n.sender);
  ASSERT_TRUE(made.ok()) << made.status().message();
  const Revocation& v = *made;
  EXPECT_TRUE(VerifyRevocation(v, n.sender.public_key, "wijkteam-overvecht").ok());
  EXPECT_FALSE(VerifyRevocation(v, n.recipient.public_key, "wijkteam-overvecht").ok());
  Status elsewhere = VerifyRevocation(v, n.sender.public_key, "rmc-utrecht");
  EXPECT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.message().find("addressed to"), std::string::npos);

  std::vector<std::function<void(Revocation&)>> changes = {
      [](Revocation& r) { r.message_id = "msg-2026-0002"; },
      [](Revocation& r) { r.sender_id = "school-other"; },
      [](Revocation& r) { r.reason = "consent_expired"; },
      [](Revocation& r) { r.revoked_at += std::chrono::milliseconds{1}; },
      [](Revocation& r) { r.sig[63] ^= 0x80; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    Revocation bad = v;
    changes[i](bad);
    EXPECT_FALSE(VerifyRevocation(bad, n.sender.public_key, "wijkteam-overvecht").ok()) << i;
  }

  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", "", at, n.sender).ok());
  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht",
                              std::string(kMaxRevocationCodeBytes + 1, 'r'), at, n.sender)
                   .ok());
  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", "a\nb", at, n.sender).ok());
  EXPECT_FALSE(MakeRevocation("m/1", "school-trajectum", "wijkteam-overvecht", "r", at, n.sender).ok());
  // A reason is a code, never free text: no spaces, capitals or digits.
  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", "Sent in error", at, n.sender).ok());
  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", "Jan Jansen", at, n.sender).ok());
  EXPECT_TRUE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", "a_newer_code", at, n.sender).ok());
  EXPECT_FALSE(MakeRevocation("m", "school-trajectum", "wijkteam-overvecht", std::string(65, 'r'), at, n.sender).ok());

  std::string wire = EncodeRevocation(v);
  EXPECT_EQ(wire.substr(0, 5), std::string("SCHV\x01", 5));
  auto back = DecodeRevocation(wire);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->reason, "consent_withdrawn");
  EXPECT_EQ(back->revoked_at, at);
  EXPECT_TRUE(VerifyRevocation(*back, n.sender.public_key, "wijkteam-overvecht").ok());
  for (size_t len = 0; len < wire.size(); ++len) {
    EXPECT_FALSE(DecodeRevocation(wire.substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(DecodeRevocation(wire + "x").ok());
  for (size_t i = 0; i < wire.size(); ++i) {
    std::string bad = wire;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto d = DecodeRevocation(bad);
    if (d.ok()) {
      EXPECT_FALSE(VerifyRevocation(*d, n.sender.public_key, "wijkteam-overvecht").ok()) << i;
    }
  }
}

// ----- known-answer vectors --------------------------------------------------

// Vectors are blocks of "name = value" lines separated by blank lines; '#'
// starts a comment. Binary values are hex. The file is written by
// tests/crypto/data/envelope_v1_reference.py, an independent implementation
// of docs/envelope.md in Python (hashlib, `cryptography`), so these checks
// compare two implementations, not this code with itself.
std::vector<schakel::testing::KatBlock> ReadVectors(const std::string& path) {
  return schakel::testing::ReadKatBlocks(path);
}

std::vector<uint8_t> Hex(const std::string& s) {
  auto v = FromHex(s);
  EXPECT_TRUE(v.has_value()) << s;
  return v.value_or(std::vector<uint8_t>());
}

std::string HexString(const std::string& s) {
  auto v = Hex(s);
  return std::string(v.begin(), v.end());
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

TEST(EnvelopeKatTest, VectorsStillMatch) {
  auto vectors = ReadVectors(std::string(SCHAKEL_SOURCE_DIR) + "/tests/crypto/data/envelope_v1.kat");
  ASSERT_GE(vectors.size(), 3u);
  for (auto& v : vectors) {
    SCOPED_TRACE(v["name"]);
    auto seed = Hex(v["sender_seed"]);
    ASSERT_EQ(seed.size(), 32u);
    PublicKey spk{};
    SecureBuffer ssk(64);
    crypto_sign_seed_keypair(spk.data(), ssk.data(), seed.data());
    SigningKeyPair sender = std::move(SigningKeyPairFromSecret(ssk.span())).value();
    EXPECT_EQ(ToHex(sender.public_key), v["sender_sign_pk"]);

    auto rseed = Hex(v["recipient_seed"]);
    ASSERT_EQ(rseed.size(), 32u);
    PublicKey rpk{};
    SecureBuffer rsk(64);
    crypto_sign_seed_keypair(rpk.data(), rsk.data(), rseed.data());
    SigningKeyPair recipient = std::move(SigningKeyPairFromSecret(rsk.span())).value();
    auto enc = EncryptionKeyPairFromSecret(Hex(v["recipient_enc_secret"]), recipient);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(ToHex(enc->public_key), v["recipient_enc_pk"]);

    EnvelopeHeader h;
    h.message_id = v["message_id"];
    h.sender_id = v["sender_id"];
    h.recipient_id = v["recipient_id"];
    h.created = At(v["created"]);
    h.retain_until = At(v["retain_until"]);
    h.purpose = v["purpose"];
    h.consent_ids = SplitComma(v["consent_ids"]);
    h.content_type = v["content_type"];
    std::string body = HexString(v["body"]);
    auto eph = Hex(v["ephemeral_secret"]);
    auto nonce_v = Hex(v["nonce"]);
    ASSERT_EQ(nonce_v.size(), 24u);
    std::array<uint8_t, 24> nonce{};
    std::copy(nonce_v.begin(), nonce_v.end(), nonce.begin());

    auto env = envelope_testing::SealDeterministic(h, body, sender, enc->public_key, eph, nonce);
    ASSERT_TRUE(env.ok()) << env.status().message();
    EXPECT_EQ(ToHex({reinterpret_cast<const uint8_t*>(env->data()), env->size()}), v["envelope"])
        << "the envelope format changed; if on purpose, bump the version and add vectors";

    // The stored envelope opens, to the stored body.
    auto opened = Open(HexString(v["envelope"]), *enc, sender.public_key, h.recipient_id);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(opened->body(), body);

    Receipt receipt = MakeReceipt(*opened, At(v["received"]), recipient);
    std::string rwire = EncodeReceipt(receipt);
    EXPECT_EQ(ToHex({reinterpret_cast<const uint8_t*>(rwire.data()), rwire.size()}), v["receipt"]);

    // A stored revocation is still honoured, free-text reason or not: an
    // older partner's instruction to purge is never refused for its form.
    auto stored = DecodeRevocation(HexString(v["revocation"]));
    ASSERT_TRUE(stored.ok()) << stored.status().message();
    EXPECT_TRUE(VerifyRevocation(*stored, sender.public_key, h.recipient_id).ok());
    EXPECT_EQ(stored->reason, v["reason"]);
    // This build makes revocations with a code only; for a code the bytes
    // are those of the vector.
    auto revocation =
        MakeRevocation(h.message_id, h.sender_id, h.recipient_id, v["reason"], At(v["revoked_at"]), sender);
    bool code = v["reason"].find(' ') == std::string::npos;
    ASSERT_EQ(revocation.ok(), code) << v["reason"];
    if (!code) continue;
    std::string vwire = EncodeRevocation(*revocation);
    EXPECT_EQ(ToHex({reinterpret_cast<const uint8_t*>(vwire.data()), vwire.size()}), v["revocation"]);
  }
}

}  // namespace
}  // namespace schakel::crypto
