// Shared by the audit tests: a log over a fresh database, events, a signed
// node card for the identity, and helpers that edit export lines the way an
// attacker without the identity key could (change a field, recompute the
// hash, move, drop or repeat lines).
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "schakel/audit/audit_log.h"
#include "schakel/audit/format.h"
#include "schakel/audit/verify.h"
#include "schakel/base/clock.h"
#include "schakel/base/strings.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel::audit::testing {

inline constexpr const char* kNodeId = "school-trajectum";

inline AuditEvent Event(int i) {
  AuditEvent e;
  e.actor_user = "u-" + std::to_string(i % 3);
  e.actor_role = i % 3 == 2 ? "coordinator" : "staff";
  e.actor_org = kNodeId;
  e.action = i % 2 ? "case.read" : "share.create";
  e.subject = "stu-" + std::to_string(i % 4);
  e.object = "casus-" + std::to_string(i);
  e.purpose = i % 2 ? "kernteamoverleg" : "doorverwijzing";
  e.legal_basis = "consent";
  e.outcome = i % 5 == 0 ? "deny" : "permit";
  e.reason = i % 5 == 0 ? "missing_consent_ouder" : "";
  e.source = "api";
  return e;
}

// A node card for `identity` that ParseNodeCard accepts.
inline crypto::NodeCard MakeCard(const crypto::SigningKeyPair& identity, const std::string& node_id = kNodeId) {
  crypto::NodeCard card;
  card.node_id = node_id;
  card.name = "Trajectum College";
  card.org_type = "school";
  card.address = "127.0.0.1:7401";
  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(identity);
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  card.tls_spki_sha256 = crypto::Sha256(identity.public_key);
  card.created = "2026-11-01T09:00:00Z";
  crypto::SignNodeCard(card, identity);
  return card;
}

// Every entry of the log (up to kMaxQueryLimit), by seq.
inline std::vector<AuditEntry> All(AuditLog& log) {
  AuditFilter f;
  f.limit = kMaxQueryLimit;
  auto r = log.Query(f);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<AuditEntry>{};
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(tmp_ / "node.db", store::OpenMode::kCreate);
    ASSERT_NE(db_, nullptr);
  }

  std::unique_ptr<store::Database> OpenDb(const std::string& path, store::OpenMode mode) {
    auto db = store::Database::Open(path, db_key_, mode);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  void MakeLog(AuditLogOptions options = {}) {
    auto log = AuditLog::Create(*db_, kNodeId, key_, clock_, options);
    ASSERT_TRUE(log.ok()) << log.status().message();
    log_ = std::move(log).value();
  }

  // Appends events first..last, one second apart.
  void AppendRange(int first, int last) {
    for (int i = first; i <= last; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      auto seq = log_->Append(Event(i));
      ASSERT_TRUE(seq.ok()) << seq.status().message();
      ASSERT_EQ(*seq, i);
    }
  }

  std::string ExportText() {
    std::ostringstream out;
    Status st = log_->Export(out);
    EXPECT_TRUE(st.ok()) << st.message();
    return out.str();
  }

  int64_t Count(const std::string& table) {
    auto q = db_->Prepare("SELECT count(*) FROM " + table + ";");
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(q->Step().value());
    return q->Int(0);
  }

  std::vector<int64_t> CheckpointSeqs() {
    std::vector<int64_t> out;
    auto q = db_->Prepare("SELECT seq FROM audit_checkpoints ORDER BY seq;");
    EXPECT_TRUE(q.ok());
    while (q->Step().value()) out.push_back(q->Int(0));
    return out;
  }

  // What an attacker holding the database key does first.
  void DropTriggers() {
    ASSERT_TRUE(db_->Exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
                          "DROP TRIGGER audit_checkpoints_no_update;"
                          "DROP TRIGGER audit_checkpoints_no_delete;"
                          "DROP TRIGGER audit_log_no_replace; DROP TRIGGER audit_checkpoints_no_replace;")
                    .ok());
  }

  schakel::testing::TempDir tmp_;
  crypto::SecureBuffer db_key_ = crypto::SecureBuffer::Random(32);
  std::unique_ptr<store::Database> db_;
  crypto::SigningKeyPair key_ = crypto::GenerateSigningKeyPair();
  ManualClock clock_{ParseInstant("2026-11-23T10:00:00Z").value()};
  std::unique_ptr<AuditLog> log_;
};

// --- editing exports -------------------------------------------------------

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Index of the line holding the entry (or checkpoint) with this seq.
inline size_t LineOf(const std::vector<std::string>& lines, const std::string& type, int64_t seq) {
  for (size_t i = 0; i < lines.size(); ++i) {
    auto j = nlohmann::json::parse(lines[i]);
    if (j["type"] == type && j["seq"] == seq) return i;
  }
  ADD_FAILURE() << "no " << type << " with seq " << seq;
  return 0;
}

// An entry line taken apart and put back together.
struct EntryLine {
  int format = kEntryFormat1;
  int64_t seq = 0;
  std::array<std::string, kTextFieldCount> text;
  Hash prev{}, hash{};

  static EntryLine Parse(const std::string& line) {
    auto j = nlohmann::json::parse(line);
    EntryLine e;
    e.seq = j["seq"].get<int64_t>();
    e.format = j.contains("format") ? j["format"].get<int>() : kEntryFormat1;
    const char* names[] = {"ts",      nullptr,  nullptr,     nullptr,       "action",
                           "subject", "object", "purpose",   "legal_basis", "outcome",
                           "reason",  "source", "recipient", "categories",  "consents"};
    for (size_t i = 0; i < TextFieldCount(e.format); ++i) {
      if (names[i]) e.text[i] = j[names[i]].get<std::string>();
    }
    e.text[1] = j["actor"]["user"].get<std::string>();
    e.text[2] = j["actor"]["role"].get<std::string>();
    e.text[3] = j["actor"]["org"].get<std::string>();
    auto hex = [](const std::string& h) {
      Hash out{};
      for (size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
      return out;
    };
    e.prev = hex(j["prev_hash"].get<std::string>());
    e.hash = hex(j["hash"].get<std::string>());
    return e;
  }
  EntryText View() const {
    EntryText v;
    for (size_t i = 0; i < kTextFieldCount; ++i) v[i] = text[i];
    return v;
  }
  void Rehash() { hash = ComputeEntryHash(format, seq, View(), prev); }
  std::string Line() const {
    std::string out;
    AppendEntryLine(format, seq, View(), prev, hash, &out);
    out.pop_back();  // the newline
    return out;
  }
};

}  // namespace schakel::audit::testing
