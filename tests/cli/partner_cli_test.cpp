// Issue 16 (8): partner cards stay unambiguous. A card whose TLS pin or
// identity key another partner already has is refused; a newer card of a
// known partner that changes its org type, name or address is imported only
// with --accept-change, and that import is audited (partner.card_changed).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel {
namespace {

using testing::InitNode;
using testing::ReadAll;
using testing::RunSchakel;
using testing::TempDir;
using testing::WriteAll;

// A card signed by `identity`, with a fresh encryption key and the given
// TLS pin.
crypto::NodeCard MakePartnerCard(const crypto::SigningKeyPair& identity, const std::string& node_id,
                                 const std::string& org_type, const std::string& created,
                                 const std::array<uint8_t, 32>& pin) {
  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(identity);
  crypto::NodeCard card;
  card.node_id = node_id;
  card.name = "Org " + node_id;
  card.org_type = org_type;
  card.address = "192.0.2.10:7401";  // TEST-NET-1: no address of this machine
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  card.tls_spki_sha256 = pin;
  card.created = created;
  crypto::SignNodeCard(card, identity);
  return card;
}

std::array<uint8_t, 32> Pin(uint8_t fill) {
  std::array<uint8_t, 32> pin{};
  pin.fill(fill);
  return pin;
}

class PartnerCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(InitNode(school_, "school-a", "school", 17501)); }

  testing::CliResult Add(const crypto::NodeCard& card, const std::vector<std::string>& extra = {}) {
    std::string file = tmp_ / (card.node_id + "-" + std::to_string(++n_) + ".json");
    WriteAll(file, crypto::NodeCardToJson(card));
    std::vector<std::string> args = {"partner", "add", "--dir",         school_,
                                     "--card",  file,  "--fingerprint", crypto::Fingerprint(card.sign_pk)};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunSchakel(args);
  }

  nlohmann::json Partners() {
    return nlohmann::json::parse(RunSchakel({"partner", "list", "--dir", school_, "--json"}).out)["partners"];
  }

  // The audit entries with this action: their reasons.
  std::vector<std::string> AuditReasons(const std::string& action) {
    std::string key_bytes = ReadAll(school_ + "/secrets/db.key");
    auto key = crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(key_bytes.data()), key_bytes.size()});
    auto db = store::Database::Open(school_ + "/data/node.db", key, store::OpenMode::kExisting);
    EXPECT_TRUE(db.ok()) << db.status().message();
    std::vector<std::string> out;
    if (!db.ok()) return out;
    auto q = (*db)->Prepare("SELECT reason, actor_user FROM audit_log WHERE action = ? ORDER BY seq;");
    EXPECT_TRUE(q.ok()) << q.status().message();
    if (!q.ok()) return out;
    q->Bind(1, action);
    while (true) {
      auto row = q->Step();
      if (!row.ok() || !*row) break;
      EXPECT_EQ(q->Text(1).rfind("os:", 0), 0u) << q->Text(1);
      out.push_back(q->Text(0));
    }
    return out;
  }

  TempDir tmp_;
  std::string school_ = tmp_ / "school";
  int n_ = 0;
};

TEST_F(PartnerCli, ACardWithAnotherPartnersTlsPinIsRefused) {
  crypto::SigningKeyPair team = crypto::GenerateSigningKeyPair();
  crypto::SigningKeyPair other = crypto::GenerateSigningKeyPair();
  auto first = Add(MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7)));
  ASSERT_EQ(first.code, 0) << first.err;
  auto dup = Add(MakePartnerCard(other, "ggd-c", "ggd", "2026-11-01T10:00:00Z", Pin(7)));
  EXPECT_EQ(dup.code, 3);
  EXPECT_NE(dup.err.find("TLS certificate pin (tls_spki_sha256) of partner wijkteam-b"), std::string::npos) << dup.err;
  ASSERT_EQ(Partners().size(), 1u);
  // A different pin is fine.
  EXPECT_EQ(Add(MakePartnerCard(other, "ggd-c", "ggd", "2026-11-01T10:00:00Z", Pin(8))).code, 0);
  // A rotation of ggd-c onto wijkteam-b's pin is refused as well.
  auto rotated = Add(MakePartnerCard(other, "ggd-c", "ggd", "2026-11-02T10:00:00Z", Pin(7)));
  EXPECT_EQ(rotated.code, 3);
  EXPECT_NE(rotated.err.find("of partner wijkteam-b"), std::string::npos) << rotated.err;
  EXPECT_EQ(Partners().size(), 2u);
}

TEST_F(PartnerCli, ACardWithAnotherPartnersIdentityKeyIsRefused) {
  crypto::SigningKeyPair team = crypto::GenerateSigningKeyPair();
  ASSERT_EQ(Add(MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7))).code, 0);
  // The same identity key under another node id, with its own pin.
  auto dup = Add(MakePartnerCard(team, "lvs-d", "lvs", "2026-11-01T10:00:00Z", Pin(9)));
  EXPECT_EQ(dup.code, 3);
  EXPECT_NE(dup.err.find("identity key (sign_pk) of partner wijkteam-b"), std::string::npos) << dup.err;
  auto list = Partners();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["node_id"], "wijkteam-b");
}

TEST_F(PartnerCli, AnOrgTypeChangeNeedsAcceptChangeAndIsAudited) {
  crypto::SigningKeyPair team = crypto::GenerateSigningKeyPair();
  ASSERT_EQ(Add(MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7))).code, 0);
  crypto::NodeCard changed = MakePartnerCard(team, "wijkteam-b", "lvs", "2026-11-02T10:00:00Z", Pin(7));

  auto refused = Add(changed);
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("org_type: \"wijkteam\" -> \"lvs\""), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--accept-change"), std::string::npos) << refused.err;
  EXPECT_EQ(Partners()[0]["org_type"], "wijkteam");  // nothing changed
  EXPECT_TRUE(AuditReasons("partner.card_changed").empty());
  EXPECT_EQ(AuditReasons("partner.update").size(), 0u);

  auto accepted = Add(changed, {"--accept-change"});
  ASSERT_EQ(accepted.code, 0) << accepted.err;
  EXPECT_NE(accepted.out.find("org_type: \"wijkteam\" -> \"lvs\""), std::string::npos) << accepted.out;
  EXPECT_NE(accepted.out.find("updated"), std::string::npos) << accepted.out;
  EXPECT_EQ(Partners()[0]["org_type"], "lvs");
  auto reasons = AuditReasons("partner.card_changed");
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "org_type: \"wijkteam\" -> \"lvs\"");

  // Name and address changes are named too; --json lists them.
  crypto::NodeCard renamed = MakePartnerCard(team, "wijkteam-b", "lvs", "2026-11-03T10:00:00Z", Pin(7));
  renamed.name = "Leerplicht Zuid";
  renamed.address = "lvs.example.nl:7401";
  crypto::SignNodeCard(renamed, team);
  auto no_flag = Add(renamed);
  EXPECT_EQ(no_flag.code, 3);
  EXPECT_NE(no_flag.err.find("name: \"Org wijkteam-b\" -> \"Leerplicht Zuid\""), std::string::npos) << no_flag.err;
  EXPECT_NE(no_flag.err.find("address: \"192.0.2.10:7401\" -> \"lvs.example.nl:7401\""), std::string::npos)
      << no_flag.err;
  auto json = Add(renamed, {"--accept-change", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["result"], "updated");
  ASSERT_EQ(j["changed"].size(), 2u);
  EXPECT_EQ(j["changed"][0]["field"], "name");
  EXPECT_EQ(j["changed"][1]["new"], "lvs.example.nl:7401");
  EXPECT_EQ(AuditReasons("partner.card_changed").size(), 2u);

  // A key rotation that keeps org type, name and address needs no flag.
  crypto::NodeCard rotated = MakePartnerCard(team, "wijkteam-b", "lvs", "2026-11-04T10:00:00Z", Pin(11));
  rotated.name = "Leerplicht Zuid";
  rotated.address = "lvs.example.nl:7401";
  crypto::SignNodeCard(rotated, team);
  auto plain = Add(rotated);
  EXPECT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(AuditReasons("partner.card_changed").size(), 2u);
}

// Issue #25 (6): a card's address must point at a partner's node elsewhere
// (docs/node-card.md "A partner's address").
TEST_F(PartnerCli, ALocalAddressIsRefusedUnlessAllowedAndOwnListenersAlways) {
  auto team = crypto::GenerateSigningKeyPair();
  int n = 0;
  auto card_at = [&](const std::string& address) {
    ++n;
    const std::string day = (n < 10 ? "0" : "") + std::to_string(n);
    crypto::NodeCard card = MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-" + day + "T10:00:00Z", Pin(7));
    card.address = address;
    crypto::SignNodeCard(card, team);
    return card;
  };
  for (const char* local : {"127.0.0.1:17600", "127.9.9.9:17600", "[::1]:17600", "169.254.169.254:80",
                            "[fe80::1]:17600", "224.0.0.1:17600", "[::ffff:127.0.0.1]:17600"}) {
    auto r = Add(card_at(local));
    EXPECT_EQ(r.code, 2) << local << ": " << r.err;
    EXPECT_NE(r.err.find("--allow-local-address"), std::string::npos) << local << ": " << r.err;
  }
  EXPECT_TRUE(Partners().empty());
  // A wildcard address reaches no partner, flag or not.
  EXPECT_EQ(Add(card_at("0.0.0.0:17600"), {"--allow-local-address"}).code, 2);
  // This node's own listeners: never, not even with the flag.
  for (const char* own : {"127.0.0.1:17501", "127.0.0.1:17502", "127.0.0.1:17504"}) {
    auto r = Add(card_at(own), {"--allow-local-address"});
    EXPECT_EQ(r.code, 2) << own << ": " << r.err;
    EXPECT_NE(r.err.find("this node's own ["), std::string::npos) << own << ": " << r.err;
  }
  EXPECT_TRUE(Partners().empty());
  // With the flag, a loopback address of another port is a test partner.
  auto allowed = Add(card_at("127.0.0.1:17600"), {"--allow-local-address"});
  EXPECT_EQ(allowed.code, 0) << allowed.err;
  ASSERT_EQ(Partners().size(), 1u);
  EXPECT_EQ(Partners()[0]["address"], "127.0.0.1:17600");
  // A name that does not resolve is imported with a note; the delivery
  // worker checks it when it dials.
  auto unresolved = Add(card_at("partner.invalid:7401"), {"--accept-change"});
  EXPECT_EQ(unresolved.code, 0) << unresolved.err;
  EXPECT_NE(unresolved.err.find("note: "), std::string::npos) << unresolved.err;
}

TEST_F(PartnerCli, AllowedNetworksBoundWhereAPartnerMayBe) {
  std::string path = school_ + "/schakel.toml";
  std::string cfg = ReadAll(path);
  size_t at = cfg.find("[peer]\n");
  ASSERT_NE(at, std::string::npos) << cfg;
  cfg.insert(at + 7, "allowed_networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n");
  WriteAll(path, cfg);
  auto team = crypto::GenerateSigningKeyPair();
  crypto::NodeCard outside = MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7));
  auto refused = Add(outside);
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find("outside [peer] allowed_networks"), std::string::npos) << refused.err;
  // The flag lets loopback past the local check, not past the networks.
  crypto::NodeCard loopback = MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7));
  loopback.address = "127.0.0.1:17600";
  crypto::SignNodeCard(loopback, team);
  EXPECT_EQ(Add(loopback, {"--allow-local-address"}).code, 2);
  crypto::NodeCard inside = MakePartnerCard(team, "wijkteam-b", "wijkteam", "2026-11-01T10:00:00Z", Pin(7));
  inside.address = "[2001:db8::7]:7401";
  crypto::SignNodeCard(inside, team);
  auto ok = Add(inside);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(Partners().size() == 1u);
}

}  // namespace
}  // namespace schakel
