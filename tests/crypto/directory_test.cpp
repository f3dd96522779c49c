// Regional directories: canonical text, signing, parsing with limits, drafts,
// tampering, and which updates a node that pinned the key takes.
#include "schakel/crypto/directory.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schakel/base/strings.h"

namespace schakel::crypto {
namespace {

using Json = nlohmann::json;

SigningKeyPair KeyFrom(uint8_t first) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(first + i);
  return std::move(SigningKeyPairFromSeed(seed)).value();
}

NodeCard Member(const std::string& node_id, const std::string& org_type, uint8_t key_seed) {
  SigningKeyPair identity = KeyFrom(key_seed);
  EncryptionKeyPair enc = GenerateEncryptionKeyPair(identity);
  NodeCard card;
  card.node_id = node_id;
  card.name = "Lid " + node_id;
  card.org_type = org_type;
  card.address = node_id + ".regio.example:7401";
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  card.tls_spki_sha256.fill(key_seed);
  card.created = "2026-12-01T09:00:00Z";
  SignNodeCard(card, identity);
  return card;
}

const Instant kNow = *ParseInstant("2026-12-03T12:00:00Z");

struct Fixture {
  SigningKeyPair key = KeyFrom(0xa0);
  Directory dir;
  Fixture() {
    dir.region = "swv-utrecht-oost";
    dir.name = "Samenwerkingsverband Utrecht-Oost";
    dir.serial = 3;
    dir.issued = "2026-12-01T08:00:00Z";
    dir.expires = "2027-03-01T08:00:00Z";
    // Given out of order: signing sorts them.
    dir.members = {Member("wijkteam-oost", "wijkteam", 0x30), Member("school-de-brug", "school", 0x10),
                   Member("lvs-utrecht", "lvs", 0x20)};
    SignDirectory(dir, key);
  }
  std::string Json() const { return DirectoryToJson(dir); }
};

TEST(Directory, SignedDirectoryRoundTripsWithMembersSortedByNodeId) {
  Fixture f;
  ASSERT_EQ(f.dir.members[0].node_id, "lvs-utrecht");
  auto parsed = ParseDirectory(f.Json());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->region, "swv-utrecht-oost");
  EXPECT_EQ(parsed->serial, 3);
  ASSERT_EQ(parsed->members.size(), 3u);
  EXPECT_EQ(parsed->members[2].node_id, "wijkteam-oost");
  EXPECT_EQ(CanonicalDirectoryText(*parsed), CanonicalDirectoryText(f.dir));
  EXPECT_EQ(parsed->directory_pk, f.key.public_key);

  // The canonical text: fields in byte order, no white space, members whole.
  std::string text = CanonicalDirectoryText(f.dir);
  EXPECT_EQ(text.rfind("{\"directory_pk\":\"", 0), 0u);
  EXPECT_NE(text.find("\"version\":1}],\"name\":\"Samenwerkingsverband Utrecht-Oost\",\"region\":\"swv-utrecht-oost\","
                      "\"serial\":3,\"version\":1}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(",\"sig\":\""), std::string::npos) << "a member carries its own card signature";
}

TEST(Directory, EveryChangeAfterSigningBreaksTheSignature) {
  Fixture f;
  Json j = Json::parse(f.Json());
  auto refused = [](const Json& changed) {
    auto r = ParseDirectory(changed.dump());
    return !r.ok() && r.status().message().find("signature does not verify") != std::string::npos;
  };
  for (const char* field : {"region", "name", "issued"}) {
    Json c = j;
    if (std::string(field) == "issued") {
      c[field] = "2026-12-01T08:00:01Z";
    } else {
      c[field] = std::string(c[field]) + "x";
    }
    EXPECT_TRUE(refused(c)) << field;
  }
  Json higher = j;
  higher["serial"] = 4;
  EXPECT_TRUE(refused(higher));
  Json dropped = j;
  dropped["members"].erase(1);
  EXPECT_TRUE(refused(dropped));
  // A member card swapped for another properly signed card.
  Json swapped = j;
  Json other = Json::parse(NodeCardToJson(Member("school-de-brug", "school", 0x11)));
  swapped["members"][1] = other;
  EXPECT_TRUE(refused(swapped));
  // Signed by another key that claims to be the directory key.
  Directory forged = f.dir;
  SigningKeyPair other_key = KeyFrom(0xb0);
  SignDirectory(forged, other_key);
  forged.directory_pk = f.key.public_key;
  auto r = ParseDirectory(DirectoryToJson(forged));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("signature does not verify"), std::string::npos);
  // The layout of the file does not matter.
  EXPECT_TRUE(ParseDirectory(j.dump()).ok());
}

TEST(Directory, ShapeAndLimitsAreCheckedWithMessagesNamingTheField) {
  Fixture f;
  Json j = Json::parse(f.Json());
  auto error_of = [](const Json& changed) {
    auto r = ParseDirectory(changed.dump());
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  auto with = [&](const char* key, Json value) {
    Json c = j;
    c[key] = std::move(value);
    return error_of(c);
  };
  EXPECT_NE(with("version", 2).find("unsupported version 2"), std::string::npos);
  EXPECT_NE(with("region", "Regio Oost").find("\"region\""), std::string::npos);
  EXPECT_NE(with("name", "").find("\"name\""), std::string::npos);
  EXPECT_NE(with("serial", 0).find("serial"), std::string::npos);
  EXPECT_NE(with("serial", 1.5).find("serial"), std::string::npos);
  EXPECT_NE(with("serial", Json(std::int64_t{1} << 53)).find("serial"), std::string::npos);
  EXPECT_NE(with("expires", "2026-11-01T00:00:00Z").find("after \"issued\""), std::string::npos);
  EXPECT_NE(with("expires", "2028-12-01T00:00:00Z").find("at most 400 days"), std::string::npos);
  EXPECT_NE(with("directory_pk", "AAAA").find("\"directory_pk\""), std::string::npos);
  EXPECT_NE(with("extra", 1).find("extra"), std::string::npos);
  EXPECT_NE(with("members", Json::array({1})).find("members[0]"), std::string::npos);
  {
    Json c = j;
    c.erase("sig");
    EXPECT_NE(error_of(c).find("sig"), std::string::npos);
  }
  {
    Json c = j;
    c["members"][2] = c["members"][0];
    EXPECT_NE(error_of(c).find("listed twice"), std::string::npos);
  }
  {
    Json c = j;
    c["members"][0]["name"] = "Changed";
    std::string e = error_of(c);
    EXPECT_NE(e.find("members[0]: node card: signature does not verify"), std::string::npos) << e;
  }
  {
    Json c = j;
    c["members"][0]["extra"] = Json::array({Json::array({1})});
    EXPECT_NE(error_of(c).find("nested deeper"), std::string::npos);
  }
  EXPECT_FALSE(ParseDirectory("[]").ok());
  EXPECT_FALSE(ParseDirectory("{").ok());
  EXPECT_NE(ParseDirectory(std::string(kMaxDirectoryBytes + 1, ' ')).status().message().find("larger than"),
            std::string::npos);
  std::string dup = f.Json();
  dup.insert(dup.find("\"region\""), "\"region\": \"other-region\",\n  ");
  EXPECT_FALSE(ParseDirectory(dup).ok()) << "duplicate keys are refused";
}

TEST(Directory, TooManyMembersAreRefusedBeforeTheirCardsAreChecked) {
  Fixture f;
  Json j = Json::parse(f.Json());
  Json card = j["members"][0];
  j["members"] = Json::array();
  for (size_t i = 0; i <= kMaxDirectoryMembers; ++i) j["members"].push_back(card);
  auto r = ParseDirectory(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("members"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("listed twice"), std::string::npos) << r.status().message();
}

TEST(Directory, ADraftNeedsNoSignatureNorDatesButItsCardsMustVerify) {
  Directory draft;
  draft.region = "gemeente-zeist";
  draft.name = "Gemeente Zeist";
  draft.directory_pk = KeyFrom(0xc0).public_key;
  std::string json = DirectoryToJson(draft);
  EXPECT_EQ(json.find("\"sig\""), std::string::npos);
  EXPECT_EQ(json.find("\"issued\""), std::string::npos);
  auto parsed = ParseDirectoryDraft(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->serial, 0);
  EXPECT_FALSE(parsed->sig.has_value());
  EXPECT_FALSE(ParseDirectory(json).ok()) << "a draft is not a directory";

  Json j = Json::parse(json);
  j["members"].push_back(Json::parse(NodeCardToJson(Member("ggd-regio", "ggd", 0x40))));
  j["members"][0]["org_type"] = "school";
  auto r = ParseDirectoryDraft(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("members[0]"), std::string::npos);
}

TEST(Directory, UpdatesTakeOnlyNewerSerialsOfThePinnedKeyAndRegion) {
  Fixture f;
  const PublicKey& pk = f.key.public_key;
  const std::string region = f.dir.region;
  EXPECT_TRUE(CheckDirectoryUpdate(pk, region, nullptr, f.dir, kNow).ok());

  Directory next = f.dir;
  next.serial = 4;
  next.members.pop_back();
  SignDirectory(next, f.key);
  EXPECT_TRUE(CheckDirectoryUpdate(pk, region, &f.dir, next, kNow).ok());

  Status older = CheckDirectoryUpdate(pk, region, &next, f.dir, kNow);
  EXPECT_EQ(older.code(), Code::kDenied);
  EXPECT_NE(older.message().find("older than serial 4"), std::string::npos);

  EXPECT_EQ(CheckDirectoryUpdate(pk, region, &f.dir, f.dir, kNow).code(), Code::kAlreadyExists);

  Directory twin = f.dir;  // same serial, other content
  twin.members.pop_back();
  SignDirectory(twin, f.key);
  Status two = CheckDirectoryUpdate(pk, region, &f.dir, twin, kNow);
  EXPECT_EQ(two.code(), Code::kDenied);
  EXPECT_NE(two.message().find("signed two versions"), std::string::npos);

  SigningKeyPair other = KeyFrom(0xb0);
  Directory foreign = next;
  SignDirectory(foreign, other);
  EXPECT_EQ(CheckDirectoryUpdate(pk, region, &f.dir, foreign, kNow).code(), Code::kDenied);
  EXPECT_EQ(CheckDirectoryUpdate(pk, "gemeente-zeist", nullptr, f.dir, kNow).code(), Code::kDenied);

  Status expired = CheckDirectoryUpdate(pk, region, nullptr, f.dir, *ParseInstant("2027-03-01T08:00:00Z"));
  EXPECT_EQ(expired.code(), Code::kDenied);
  EXPECT_NE(expired.message().find("expired"), std::string::npos);
  Status future = CheckDirectoryUpdate(pk, region, nullptr, f.dir, *ParseInstant("2026-12-01T07:49:00Z"));
  EXPECT_NE(future.message().find("in the future"), std::string::npos);
  EXPECT_TRUE(CheckDirectoryUpdate(pk, region, nullptr, f.dir, *ParseInstant("2026-12-01T07:51:00Z")).ok());
}

TEST(Directory, KeyFromSeedIsDeterministicAndChecksItsLength) {
  EXPECT_EQ(KeyFrom(1).public_key, KeyFrom(1).public_key);
  EXPECT_NE(KeyFrom(1).public_key, KeyFrom(2).public_key);
  std::array<uint8_t, 31> short_seed{};
  EXPECT_FALSE(SigningKeyPairFromSeed(short_seed).ok());
}

}  // namespace
}  // namespace schakel::crypto
