// The audit log's data and byte formats (docs/audit.md): entry formats 1
// and 2 (2 adds recipient, categories and consents; every new entry is
// written in 2, entries of earlier releases stay 1 and verify as they were
// written), what an entry holds, the field rules checked before anything is appended, the
// canonical encoding an entry's SHA-256 covers, the message a checkpoint's
// Ed25519 signature covers, and the JSON Lines of an export.
//
// These functions are the one definition of the formats. AuditLog (writing)
// and VerifyExport (checking) both use them, and tests and benchmarks use
// them to build exports by hand -- including forged ones.
//
// Ownership: EntryText holds views; the strings it points into must outlive
// it. Thread-safety: pure functions and values. Errors: ValidateEvent returns
// kInvalidInput naming the field and the rule, never the value (a rejected
// value may be case contents that must not reach a log).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"

namespace schakel::audit {

using Hash = std::array<uint8_t, 32>;

// What happened, as the code that did it reports it. Every field is text;
// an empty string means "does not apply" (a login has no subject).
struct AuditEvent {
  std::string actor_user;   // user id, or "system" for the node itself
  std::string actor_role;   // staff, coordinator, auditor, admin, system, peer, ...
  std::string actor_org;    // org / node id the actor belongs to
  std::string action;       // [a-z0-9._:-]{1,64}: case.read, share.create, audit.export, ...
  std::string subject;      // student reference ([A-Za-z0-9._-]{1,128}), never a name
  std::string object;       // case id, message id, link id, user id, ...
  std::string purpose;      // kernteamoverleg, doorverwijzing, ...
  std::string legal_basis;  // consent, legal_obligation, meldcode, ...
  std::string outcome;      // [a-z0-9._:-]{1,64}: permit, deny, ok, error, ...
  std::string reason;       // why (a deny reason code, an override justification ref)
  std::string source;       // api, cli, peer:<node>, link:<ip>, ...
  // Entry format 2: what went to whom. Empty where it does not apply.
  std::string recipient;   // partner node id, a link's holder, the user an inbox item is assigned to
  std::string categories;  // the categories shared, comma-separated: "school,gezin"
  std::string consents;    // the consent ids relied on, comma-separated
};

// An entry as stored: the event, its place in the chain and its time.
struct AuditEntry : AuditEvent {
  int format = 2;    // kEntryFormat1 or kEntryFormat2
  int64_t seq = 0;   // 1, 2, 3, ... without gaps
  Instant ts{};      // when it was appended (node clock, UTC, ms)
  Hash prev_hash{};  // hash of entry seq-1; 32 zero bytes for seq 1
  Hash hash{};       // ComputeEntryHash of this entry
};

// A signed statement "entry `seq` of node `node_id` has hash `hash`".
struct AuditCheckpoint {
  int64_t seq = 0;
  Hash hash{};
  Instant ts{};  // when it was signed
  crypto::Signature sig{};
};

// Field limits (bytes of UTF-8). Longer values are refused, never cut.
inline constexpr size_t kMaxFieldBytes = 256;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxTokenBytes = 64;  // action, outcome
inline constexpr size_t kMaxSubjectBytes = 128;
// "2026-11-23T10:00:00.000Z": the only timestamp form in entries.
inline constexpr size_t kTimestampBytes = 24;

// Entry formats. Format 1 (until schema 9) hashes the first twelve text
// fields under kEntryLabel; format 2 all fifteen under kEntryLabelV2. Every
// new entry is written in kCurrentEntryFormat.
inline constexpr int kEntryFormat1 = 1;
inline constexpr int kEntryFormat2 = 2;
inline constexpr int kCurrentEntryFormat = kEntryFormat2;
inline bool IsKnownEntryFormat(int format) { return format == kEntryFormat1 || format == kEntryFormat2; }

// Domain labels; each is hashed or signed followed by one NUL byte.
inline constexpr std::string_view kEntryLabel = "schakel/audit-entry/v1";
inline constexpr std::string_view kEntryLabelV2 = "schakel/audit-entry/v2";
inline constexpr std::string_view kCheckpointLabel = "schakel/audit-checkpoint/v1";
inline constexpr std::string_view kWitnessLabel = "schakel/audit-witness/v1";

// The text fields of an entry in the order the hash covers them: twelve in
// format 1, fifteen in format 2.
// Values reach the disk and other implementations: never renumber.
enum class TextField : uint8_t {
  kTs = 0,
  kActorUser = 1,
  kActorRole = 2,
  kActorOrg = 3,
  kAction = 4,
  kSubject = 5,
  kObject = 6,
  kPurpose = 7,
  kLegalBasis = 8,
  kOutcome = 9,
  kReason = 10,
  kSource = 11,
  kRecipient = 12,   // format 2
  kCategories = 13,  // format 2
  kConsents = 14,    // format 2
};
inline constexpr size_t kTextFieldCount = 15;
// How many of the text fields an entry of `format` has (12 or 15).
// REQUIRES: IsKnownEntryFormat(format).
size_t TextFieldCount(int format);
using EntryText = std::array<std::string_view, kTextFieldCount>;

// "ts", "actor_user", ... as the columns of audit_log are named.
std::string_view TextFieldName(TextField f);
// The largest value allowed for a field: kTimestampBytes for ts,
// kMaxReasonBytes for reason, ... .
size_t MaxFieldBytes(TextField f);

// Views of the event's fields and `ts`, in hash order.
EntryText TextOf(const AuditEvent& event, std::string_view ts);

// Checks every field (those of format 2 too): printable UTF-8 without control characters (no
// newline, no tab), within its length limit; action and outcome non-empty
// tokens [a-z0-9._:-]; subject empty or [A-Za-z0-9._-]{1,128}; source
// non-empty.
Status ValidateEvent(const AuditEvent& event);
// The same rules on an entry's text fields but ts (text[0] is not looked
// at), as the offline verifier reads them: "" when all hold, else what is
// wrong ("subject: expected ..."), naming the field but never its value.
std::string CheckEntryFields(const EntryText& text);

// True for exactly "YYYY-MM-DDTHH:MM:SS.mmmZ" with digits in their places
// (as FormatInstantMs writes) that name a real moment: month 01-12, a day
// the month has (29 February in leap years of the Gregorian calendar only),
// hour 00-23, minute and second 00-59. Cheap; allocation-free.
bool IsCanonicalTimestamp(std::string_view ts);

// SHA-256 over
//   label(format) 0x00 || u64be(seq)
//   || for each of TextFieldCount(format) text fields in TextField order:
//      u16be(length) || bytes
//   || prev_hash (32 bytes),
// label(1) = "schakel/audit-entry/v1", label(2) = "schakel/audit-entry/v2".
// A format-1 hash ignores the format-2 fields: callers check they are empty.
// REQUIRES: IsKnownEntryFormat(format); seq >= 1; every field at most 65535
// bytes (ValidateEvent keeps them far below). Allocation-free.
Hash ComputeEntryHash(int format, int64_t seq, const EntryText& text, const Hash& prev_hash);

// The bytes a checkpoint signature covers:
//   "schakel/audit-checkpoint/v1" 0x00 || u16be(len) || node_id
//   || u64be(seq) || hash (32 bytes) || u16be(len) || ts.
std::string CheckpointMessage(std::string_view node_id, int64_t seq, const Hash& hash, std::string_view ts);

// The bytes a partner's countersignature of a checkpoint covers
// (docs/audit.md "Witnessing"):
//   "schakel/audit-witness/v1" 0x00 || u16be(len) || witness_id
//   || u16be(len) || node_id || u64be(seq) || hash (32 bytes)
//   || u16be(len) || ts,
// witness_id the partner that countersigns, node_id the node whose log it
// is, seq/hash/ts those of the node's checkpoint (ts: when the node signed
// it). A different label from the checkpoint's, so neither signature can be
// passed off as the other.
std::string WitnessMessage(std::string_view witness_id, std::string_view node_id, int64_t seq, const Hash& hash,
                           std::string_view ts);

// Export lines (each ends with '\n'), appended to *out. A format-1 entry:
//   {"type":"entry","seq":1,"ts":"...","actor":{"user":"...","role":"...","org":"..."},
//    "action":"...","subject":"...","object":"...","purpose":"...","legal_basis":"...",
//    "outcome":"...","reason":"...","source":"...","prev_hash":"<hex>","hash":"<hex>"}
// a format-2 entry has "format":2 after "type" and, after "source",
//    "recipient":"...","categories":"...","consents":"...";
//   {"type":"checkpoint","node_id":"...","seq":1000,"ts":"...","hash":"<hex>","sig":"<base64>"}
// Strings are escaped as JSON requires and nothing more (", \ and bytes
// below 0x20); hashes are 64 lower-case hex digits; sig is padded base64.
void AppendEntryLine(int format, int64_t seq, const EntryText& text, const Hash& prev_hash, const Hash& hash,
                     std::string* out);
void AppendCheckpointLine(std::string_view node_id, int64_t seq, std::string_view ts, const Hash& hash,
                          const crypto::Signature& sig, std::string* out);
// A partner's countersignature (since schema 18), right after the checkpoint
// line it countersigns:
//   {"type":"witness","node_id":"...","seq":1000,"ts":"...","hash":"<hex>",
//    "witness":"<partner node id>","sig":"<base64 countersignature>"}
void AppendWitnessLine(std::string_view node_id, int64_t seq, std::string_view ts, const Hash& hash,
                       std::string_view witness_id, const crypto::Signature& sig, std::string* out);

}  // namespace schakel::audit
