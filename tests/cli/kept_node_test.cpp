// Databases outlive releases: the nodes of `./dev demo` as schema version 5
// left them (tests/fixtures/nodes-v5, made with SCHAKEL_DEMO_KEEP) open with
// today's code, are migrated to the current schema, and still hold what they
// held: the school's shares in their states, Sanne's consents, the
// wijkteam's inbox tombstone (counted per partner since version 7), and an
// audit log whose chain verifies.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "schakel/audit/audit_log.h"
#include "schakel/audit/verify.h"
#include "schakel/audit/witness.h"
#include "schakel/base/clock.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/accounts.h"
#include "schakel/store/consent_requests.h"
#include "schakel/store/database.h"
#include "schakel/store/directories.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"
#include "schakel/store/users.h"
#include "test_support.h"

namespace schakel::store {
namespace {

namespace fs = std::filesystem;
using schakel::testing::TempDir;

// A private copy of a kept node, with the permissions a node dir has. The
// repository holds no database or key file: each kept database is its
// plain SQL dump (`.dump` of the sqlcipher shell, taken from the version-5
// file), loaded here into a new SQLCipher file under a fresh random key with
// that same shell, so the bytes are those version 5 wrote.
// `then_sql` runs in the same shell after the dump, still under the kept
// schema: rows written the way that version wrote them.
std::string CopyKeptNode(const TempDir& tmp, const std::string& name, const std::string& then_sql = "") {
  fs::path from = fs::path(SCHAKEL_FIXTURES_DIR) / "nodes-v5" / name;
  fs::path to = fs::path(tmp.path()) / name;
  fs::create_directories(to / "data");
  fs::create_directories(to / "secrets");
  fs::copy_file(from / "schakel.toml", to / "schakel.toml");
  fs::copy_file(from / "node-card.json", to / "node-card.json");
  crypto::SecureBuffer key = crypto::SecureBuffer::Random(32);
  {
    std::ofstream out(to / "secrets" / "db.key", std::ios::binary);
    out.write(reinterpret_cast<const char*>(key.data()), static_cast<std::streamsize>(key.size()));
  }
  fs::permissions(to / "secrets", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(to / "secrets" / "db.key", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  fs::permissions(to / "data", fs::perms::owner_all, fs::perm_options::replace);
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < key.size(); ++i) {
    hex += kDigits[key.data()[i] >> 4];
    hex += kDigits[key.data()[i] & 0xf];
  }
  fs::path script = fs::path(tmp.path()) / (name + "-load.sql");
  {
    std::ofstream out(script);
    out << "PRAGMA key = \"x'" << hex << "'\";\nPRAGMA cipher_page_size = 4096;\n.read "
        << (from / "node-v5.sql").string() << "\n"
        << then_sql << "\n";
  }
  std::string command = "sqlcipher '" + (to / "data" / "node.db").string() + "' < '" + script.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  fs::remove(script);
  return to.string();
}

std::unique_ptr<Database> OpenKept(const std::string& dir) {
  NodePaths paths(dir);
  auto db = OpenNodeDatabase(paths, KeySource{paths.key_file, "", {}});
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(KeptDatabase, SchoolFromVersion5OpensMigratedWithItsShares) {
  TempDir tmp;
  auto db = OpenKept(CopyKeptNode(tmp, "school"));
  ASSERT_NE(db, nullptr);
  // Migrated to what a database made today has.
  auto fresh = Database::Open(tmp / "fresh.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_GE(db->SchemaVersion(), 5);
  EXPECT_EQ(db->SchemaVersion(), (*fresh)->SchemaVersion());

  auto shares = ListShares(*db);
  ASSERT_TRUE(shares.ok()) << shares.status().message();
  std::set<std::string> states;
  for (const auto& s : *shares) states.insert(std::string(ShareStateName(s.state)));
  // The demo delivers, revokes (consent withdrawn) and has the partner purge.
  EXPECT_FALSE(shares->empty());
  EXPECT_TRUE(states.count("purged") || states.count("revoked")) << shares->size();

  // Version 6 lets a share be `sending` and `refused`; the rebuilt table
  // takes both, and the v5 rows kept their states above.
  const ShareRecord& first = shares->front();
  EXPECT_TRUE(SetShareState(*db, first.message_id, ShareState::kSending, "", "2026-11-30T12:00:00.000Z").ok());
  EXPECT_TRUE(SetShareState(*db, first.message_id, ShareState::kRefused, "quota", "2026-11-30T12:00:01.000Z").ok());
  auto again = FindShare(*db, first.message_id);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*again)->state, ShareState::kRefused);
  EXPECT_EQ((*again)->state_reason.value_or(""), "quota");

  auto consents = ConsentsForSubject(*db, "stu-1042");
  ASSERT_TRUE(consents.ok()) << consents.status().message();
  EXPECT_FALSE(consents->empty());

  // Version 8 registers the students of the cases made before the register,
  // with their case's birth date and no name until a roster is imported.
  auto cases = ListCases(*db, std::nullopt);
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_FALSE(cases->empty());
  for (const auto& k : *cases) {
    auto student = FindStudent(*db, k.student_id);
    ASSERT_TRUE(student.ok() && student->has_value()) << k.student_id;
    EXPECT_EQ((*student)->name, "");
    EXPECT_EQ((*student)->updated_by, "migration");
    EXPECT_FALSE((*student)->birth_date.empty());
  }

  // Version 20: the partners paired by hand in version 5 say so (source
  // ""), and no regional directory is trusted yet.
  auto partners = ListPartners(*db);
  ASSERT_TRUE(partners.ok()) << partners.status().message();
  ASSERT_FALSE(partners->empty());
  for (const auto& p : *partners) {
    EXPECT_EQ(p.source, "") << p.card.node_id;
    // Version 21: no previous pin, and this node's card not yet confirmed
    // (the first delivery lane to reach the partner sends it).
    EXPECT_FALSE(p.previous_tls_spki.has_value()) << p.card.node_id;
    EXPECT_EQ(p.card_acked, "") << p.card.node_id;
  }
  auto regions = ListRegionDirectories(*db);
  ASSERT_TRUE(regions.ok()) << regions.status().message();
  EXPECT_TRUE(regions->empty());
  // Version 22: a region's members may have local addresses only when its
  // administrator said so at trust time; the column is there, 0 by default.
  EXPECT_TRUE(db->Exec("INSERT INTO region_directories (region, directory_pk, accept_types, serial, issued, expires, "
                       "directory_json, trusted_at, updated_at, source) VALUES ('swv-kept', zeroblob(32), 'ggd', 1, "
                       "'', '', '{}', '', '', 'test');")
                  .ok());
  auto kept_region = FindRegionDirectory(*db, "swv-kept");
  ASSERT_TRUE(kept_region.ok() && kept_region->has_value()) << kept_region.status().message();
  EXPECT_FALSE((*kept_region)->allow_local_address);

  // Version 24: the guards against an insert over an existing audit seq end
  // the transaction instead of the statement, and still refuse it: the kept
  // entry 1 stays as version 5 wrote it (the chain check below).
  for (const char* trigger : {"audit_log_no_replace", "audit_checkpoints_no_replace"}) {
    auto sql = db->Prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?;");
    ASSERT_TRUE(sql.ok()) << sql.status().message();
    sql->Bind(1, std::string(trigger));
    auto row = sql->Step();
    ASSERT_TRUE(row.ok() && *row) << trigger;
    EXPECT_NE(sql->Text(0).find("RAISE(ROLLBACK"), std::string::npos) << sql->Text(0);
  }
  Status replaced = db->Exec(
      "INSERT OR REPLACE INTO audit_log SELECT seq, ts, actor_user, actor_role, actor_org, action, subject, object, "
      "purpose, legal_basis, 'tampered', reason, source, prev_hash, hash, format, recipient, categories, consents "
      "FROM audit_log WHERE seq = 1;");
  EXPECT_FALSE(replaced.ok());
  EXPECT_NE(replaced.message().find("append-only"), std::string::npos) << replaced.message();

  // The audit chain written under version 5 verifies under today's code.
  auto identity = LoadIdentity(*db);
  ASSERT_TRUE(identity.ok()) << identity.status().message();
  SystemClock clock;
  auto log = audit::AuditLog::Create(*db, "school-trajectum", *identity, clock, {});
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_TRUE((*log)->VerifyStored().ok());

  // Version 10: the kept entries stay format 1; a new entry is format 2 and
  // says to whom; the mixed chain verifies stored and exported.
  audit::AuditFilter all;
  all.limit = audit::kMaxQueryLimit;
  auto before = (*log)->Query(all);
  ASSERT_TRUE(before.ok()) << before.status().message();
  ASSERT_FALSE(before->empty());
  for (const auto& e : *before) EXPECT_EQ(e.format, audit::kEntryFormat1) << e.seq;
  audit::AuditEvent next;
  next.actor_user = "u-test";
  next.actor_role = "staff";
  next.action = "share.permitted";
  next.subject = "stu-1042";
  next.object = "msg-after-upgrade";
  next.outcome = "permit";
  next.source = "api";
  next.recipient = "wijkteam-overvecht";
  next.categories = "school,gezin";
  next.consents = "c-1";
  auto seq = (*log)->Append(next);
  ASSERT_TRUE(seq.ok()) << seq.status().message();
  EXPECT_TRUE((*log)->VerifyStored().ok());
  audit::AuditFilter last;
  last.after_seq = *seq - 1;
  last.limit = 1;
  auto after = (*log)->Query(last);
  ASSERT_TRUE(after.ok() && after->size() == 1u);
  EXPECT_EQ(after->front().format, audit::kEntryFormat2);
  EXPECT_EQ(after->front().recipient, "wijkteam-overvecht");
  std::ostringstream exported;
  ASSERT_TRUE((*log)->Export(exported).ok());
  auto card =
      crypto::ParseNodeCard(schakel::testing::ReadAll((fs::path(tmp.path()) / "school" / "node-card.json").string()));
  ASSERT_TRUE(card.ok()) << card.status().message();
  auto report = audit::VerifyExport(exported.str(), *card);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->ok) << report->Describe();
  EXPECT_EQ(report->entries_format1, static_cast<int64_t>(before->size()));
  EXPECT_EQ(report->entries, static_cast<int64_t>(before->size()) + 1);

  // Version 18: a partner's countersignature of the latest checkpoint is kept
  // and exported; the kept chain verifies with it.
  auto latest = audit::LatestCheckpoint(*db, "school-trajectum");
  ASSERT_TRUE(latest.ok() && latest->has_value()) << latest.status().message();
  crypto::SigningKeyPair partner_key = crypto::GenerateSigningKeyPair();
  crypto::NodeCard partner_card;
  partner_card.node_id = "wijkteam-overvecht";
  partner_card.sign_pk = partner_key.public_key;
  audit::Countersignature cs;
  cs.witness_id = "wijkteam-overvecht";
  cs.node_id = "school-trajectum";
  cs.seq = (*latest)->seq;
  cs.hash = (*latest)->hash;
  cs.ts = (*latest)->ts;
  cs.sig = crypto::Sign(partner_key, audit::WitnessMessage(cs.witness_id, cs.node_id, cs.seq, cs.hash, cs.ts));
  Status kept = audit::RecordCountersignature(*db, partner_card, "school-trajectum", cs, clock.Now());
  ASSERT_TRUE(kept.ok()) << kept.message();
  std::ostringstream witnessed_export;
  ASSERT_TRUE((*log)->Export(witnessed_export).ok());
  audit::WitnessCards cards{{partner_card.node_id, partner_card}};
  audit::VerifyOptions with_witnesses;
  with_witnesses.witnesses = &cards;
  auto witnessed = audit::VerifyExport(witnessed_export.str(), *card, with_witnesses);
  ASSERT_TRUE(witnessed.ok()) << witnessed.status().message();
  EXPECT_TRUE(witnessed->ok) << witnessed->Describe();
  EXPECT_EQ(witnessed->witnessed, 1);

  // Version 17: retention. The kept entries are young, so a pass deletes
  // nothing and the triggers still refuse a delete; six years on, a pass
  // deletes every kept entry (format 1 and 2) through the export's
  // checkpoint, and what remains verifies from that boundary.
  auto none = (*log)->ApplyRetention(std::chrono::hours(24 * 365 * 5));
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->through_seq, 0);
  EXPECT_FALSE(db->Exec("DELETE FROM audit_log WHERE seq = 1;").ok());
  ManualClock later(clock.Now() + std::chrono::hours(24 * 365 * 6));
  auto later_log = audit::AuditLog::Create(*db, "school-trajectum", *identity, later, {});
  ASSERT_TRUE(later_log.ok());
  auto retained = (*later_log)->ApplyRetention(std::chrono::hours(24 * 365 * 5));
  ASSERT_TRUE(retained.ok()) << retained.status().message();
  EXPECT_EQ(retained->from_seq, 1);
  EXPECT_EQ(retained->through_seq, *seq);
  EXPECT_TRUE((*later_log)->VerifyStored().ok());
  std::ostringstream rest;
  ASSERT_TRUE((*later_log)->Export(rest).ok());
  auto rest_report = audit::VerifyExport(rest.str(), *card);
  ASSERT_TRUE(rest_report.ok());
  EXPECT_TRUE(rest_report->ok) << rest_report->Describe();
  EXPECT_EQ(rest_report->starts_after_seq, *seq);
  EXPECT_EQ(rest_report->entries, 1);  // the retention entry
  // The partner's countersignature of the boundary follows it and still checks.
  auto rest_witnessed = audit::VerifyExport(rest.str(), *card, with_witnesses);
  ASSERT_TRUE(rest_witnessed.ok());
  EXPECT_TRUE(rest_witnessed->ok) << rest_witnessed->Describe();
  EXPECT_EQ(rest_witnessed->witnessed, 1);

  // Version 13: the users kept from before hold no function; a coordinator
  // can be given one, anyone else cannot.
  auto users = ListUsers(*db);
  ASSERT_TRUE(users.ok()) << users.status().message();
  ASSERT_FALSE(users->empty());
  const User* coordinator = nullptr;
  const User* other = nullptr;
  for (const auto& u : *users) {
    EXPECT_FALSE(u.function.has_value()) << u.name;
    if (u.role == Role::kCoordinator && !coordinator) coordinator = &u;
    if (u.role != Role::kCoordinator && !other) other = &u;
  }
  ASSERT_NE(coordinator, nullptr);
  ASSERT_TRUE(SetFunction(*db, coordinator->name, "aandachtsfunctionaris").ok());
  auto found = FindUserByName(*db, coordinator->name);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->function, "aandachtsfunctionaris");
  if (other != nullptr) {
    EXPECT_EQ(SetFunction(*db, other->name, "aandachtsfunctionaris").status().code(), Code::kInvalidInput);
  }

  // Version 14: permission requests for a kept student; a grantor's link
  // answered once, a replay changes nothing; an unanswered one expires.
  ConsentRequestRecord request;
  request.request_id = "cr-kept";
  request.student_id = "stu-1042";
  request.purposes = {"doorverwijzing"};
  request.recipients = {"wijkteam"};
  request.categories.Add(consent::Category::kHulpvraag);
  request.valid_from = "2026-12-01";
  request.valid_until = "2027-06-01";
  request.created_by = coordinator->user_id;
  request.created = "2026-12-01T10:00:00.000Z";
  request.expires = "2026-12-15T10:00:00.000Z";
  request.text_version = "toestemming-1";
  ASSERT_TRUE(InsertConsentRequest(*db, request).ok());
  const std::vector<uint8_t> hash_a(32, 1), hash_b(32, 2), bytes(24, 3);
  for (const auto& [id, hash] : {std::pair{"g-a", &hash_a}, std::pair{"g-b", &hash_b}}) {
    ConsentGrantRecord g;
    g.grant_id = id;
    g.request_id = "cr-kept";
    g.grantor_role = "ouder";
    ASSERT_TRUE(InsertConsentGrant(*db, g, {*hash, bytes, bytes, bytes}, request.created).ok());
  }
  auto answered = SetGrantState(*db, "g-a", "open", "agreed", "2026-12-02T10:00:00.000Z", "{}", "c-kept");
  ASSERT_TRUE(answered.ok() && *answered);
  auto replayed = SetGrantState(*db, "g-a", "open", "agreed", "2026-12-02T10:00:01.000Z", "{}", "c-other");
  ASSERT_TRUE(replayed.ok());
  EXPECT_FALSE(*replayed);
  auto expired = ExpireConsentGrants(*db, "2026-12-16T00:00:00.000Z", "2026-12-16");
  ASSERT_TRUE(expired.ok()) << expired.status().message();
  EXPECT_EQ(*expired, std::vector<std::string>{"g-b"});
  auto grants = ConsentGrantsOf(*db, "cr-kept");
  ASSERT_TRUE(grants.ok() && grants->size() == 2u);
  for (const auto& g : *grants) {
    EXPECT_EQ(g.state, g.grant_id == "g-a" ? "agreed" : "expired");
    EXPECT_EQ(g.has_content, g.grant_id == "g-a") << "an expired link keeps no content";
    if (g.grant_id == "g-a") {
      EXPECT_EQ(g.consent_id, "c-kept");
    }
  }
}

// Version 23 moves the queue's payloads into a table of their own. Two items
// queued under version 5's layout (a 70,000-byte payload with a retry behind
// it, and a revocation) come out of the migration whole.
TEST(KeptDatabase, SchoolFromVersion5KeepsItsQueueWithThePayloadsApart) {
  TempDir tmp;
  auto db = OpenKept(CopyKeptNode(tmp, "school",
                                  "INSERT INTO outgoing (kind, message_id, recipient_id, payload, attempts, "
                                  "next_attempt, last_error, created) VALUES ('share', 'm-kept-1', 'wijkteam-x', "
                                  "CAST(replace(hex(zeroblob(35000)), '0', 'q') AS BLOB), 4, 1000, 'TLS handshake: "
                                  "timed out', '2026-11-30T09:00:00.000Z');\n"
                                  "INSERT INTO outgoing (kind, message_id, recipient_id, payload, next_attempt, "
                                  "created) VALUES ('revocation', 'm-kept-0', 'wijkteam-x', X'00ff7f', 2000, "
                                  "'2026-11-30T08:00:00.000Z');"));
  ASSERT_NE(db, nullptr);
  auto due = DueOutgoingTo(*db, "wijkteam-x", 5000, 10);
  ASSERT_TRUE(due.ok()) << due.status().message();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].message_id, "m-kept-1");
  EXPECT_EQ((*due)[0].kind, "share");
  EXPECT_EQ((*due)[0].payload, std::string(70000, 'q'));
  EXPECT_EQ((*due)[0].attempts, 4);
  EXPECT_EQ((*due)[0].next_attempt_ms, 1000);
  EXPECT_EQ((*due)[0].last_error.value_or(""), "TLS handshake: timed out");
  EXPECT_EQ((*due)[0].created, "2026-11-30T09:00:00.000Z");
  EXPECT_EQ((*due)[1].kind, "revocation");
  EXPECT_EQ((*due)[1].payload, std::string("\x00\xff\x7f", 3));
  auto oldest = SummarizeOutgoing(*db, "revocation");
  ASSERT_TRUE(oldest.ok());
  EXPECT_EQ(oldest->count, 1);
  EXPECT_EQ(oldest->oldest.value_or(""), "2026-11-30T08:00:00.000Z");
  // A kept item delivered takes its payload along.
  ASSERT_TRUE(RemoveOutgoing(*db, "share", "m-kept-1").ok());
  auto s = db->Prepare("SELECT count(*) FROM outgoing_payloads;");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->Int(0), 1);
}

TEST(KeptDatabase, WijkteamFromVersion5KeepsItsTombstone) {
  TempDir tmp;
  auto db = OpenKept(CopyKeptNode(tmp, "wijkteam"));
  ASSERT_NE(db, nullptr);
  auto inbox = ListInbox(*db);
  ASSERT_TRUE(inbox.ok()) << inbox.status().message();
  ASSERT_FALSE(inbox->empty());
  bool tombstone = false;
  for (const auto& r : *inbox) tombstone |= r.state == "purged" && !r.summary.has_value();
  EXPECT_TRUE(tombstone);

  // Version 7 counts what a partner sent for the recipient's gate: every row,
  // with its summary's size (0 for a tombstone purged before version 7).
  const std::string sender = inbox->front().sender_id;
  int64_t rows = 0;
  int64_t bytes = 0;
  for (const auto& r : *inbox) {
    if (r.sender_id != sender) continue;
    ++rows;
    bytes += r.summary ? static_cast<int64_t>(r.summary->size()) : 0;
  }
  auto all = InboundSince(*db, sender, "1970-01-01T00:00:00.000Z");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->shares, rows);
  EXPECT_EQ(all->bytes, bytes);
  auto none = InboundSince(*db, sender, "9999-01-01T00:00:00.000Z");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->shares, 0);
  EXPECT_EQ(none->bytes, 0);

  // A row stored today counts with its size, and stays counted once purged.
  InboxRecord r = inbox->front();
  r.message_id = "msg-v7-counted";
  r.received = "2026-11-30T12:00:00.000Z";
  r.summary = std::string(100, 'x');
  r.state = "received";
  ASSERT_TRUE(InsertInboxIfNew(*db, r).ok());
  ASSERT_TRUE(PurgeInbox(*db, sender, r.message_id, "test", "2026-11-30T12:00:01.000Z").ok());
  auto today = InboundSince(*db, sender, "2026-11-30T11:59:00.000Z");
  ASSERT_TRUE(today.ok());
  EXPECT_EQ(today->shares, 1);
  EXPECT_EQ(today->bytes, 100);

  // Version 11: the quota's sum is read from the index alone, never from the
  // rows (and their summaries), on a node migrated from version 5 too.
  auto plan = db->Prepare(
      "EXPLAIN QUERY PLAN SELECT count(*), coalesce(sum(summary_bytes), 0) FROM inbox "
      "WHERE sender_id = ? AND received >= ?;");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::string details;
  for (int i = 0; i < 10; ++i) {
    auto row = plan->Step();
    if (!row.ok() || !*row) break;
    details += plan->Text(3) + "\n";
  }
  EXPECT_NE(details.find("COVERING INDEX inbox_sender_received_bytes"), std::string::npos) << details;

  // Version 8: what arrived before waits in the coordinators' queue.
  for (const auto& row : *inbox) EXPECT_FALSE(row.assigned_to.has_value()) << row.message_id;
  ASSERT_TRUE(AssignInbox(*db, sender, inbox->front().message_id, "u-1", "u-2").ok());
  auto mine = ListInboxAssignedTo(*db, "u-1");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->size(), 1u);

  // Version 12: nothing kept from before was adopted; a received row can be
  // adopted now, a purged one cannot, and an adopted one is purged neither
  // by retention nor by a revocation.
  for (const auto& row : *inbox) EXPECT_FALSE(row.adopted_at.has_value()) << row.message_id;
  InboxRecord kept = inbox->front();
  kept.message_id = "msg-v12-adopted";
  kept.summary = "{}";
  kept.state = "received";
  kept.retain_until = "2026-12-01T00:00:00.000Z";
  ASSERT_TRUE(InsertInboxIfNew(*db, kept).ok());
  ASSERT_TRUE(AdoptInbox(*db, sender, kept.message_id, "u-2", "Jeugdwet art. 7.3.8", "2026-11-30T12:00:02.000Z").ok());
  EXPECT_EQ(AdoptInbox(*db, sender, kept.message_id, "u-2", "again", "2026-11-30T12:00:03.000Z").code(),
            Code::kAlreadyExists);
  EXPECT_EQ(AdoptInbox(*db, sender, "msg-v7-counted", "u-2", "too late", "2026-11-30T12:00:03.000Z").code(),
            Code::kNotFound);  // purged above
  ASSERT_TRUE(PurgeInbox(*db, sender, kept.message_id, "consent_withdrawn", "2026-11-30T12:00:04.000Z").ok());
  auto after = FindInbox(*db, sender, kept.message_id);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->state, "received");
  EXPECT_EQ((*after)->summary, "{}");
  EXPECT_EQ((*after)->adopted_by, "u-2");
  auto expired = ExpiredInbox(*db, "2099-01-01T00:00:00.000Z");
  ASSERT_TRUE(expired.ok());
  for (const auto& row : *expired) EXPECT_NE(row.message_id, kept.message_id);
}

}  // namespace
}  // namespace schakel::store
