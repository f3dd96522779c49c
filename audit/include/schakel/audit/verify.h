// Offline verification of an audit export (CONTRACT.md "Audit export";
// docs/audit.md) with nothing but the node's card: the auditor's side.
//
// VerifyExport reads JSON Lines as AuditLog::Export writes them and checks,
// line by line, that seq runs 1, 2, 3, ... without gaps, each entry's
// prev_hash is the previous entry's hash, each entry's hash is the SHA-256 of
// its canonical encoding, each checkpoint follows the entry it covers, names
// the card's node, carries that entry's hash and an Ed25519 signature that
// verifies under the card's identity key, and that every entry is covered by
// a checkpoint. It stops at the first problem and names its seq and line.
// An export of a log that retention shortened starts with the boundary's
// checkpoint (seq S) instead of seq 1; the chain then goes on from its
// signed hash at S + 1, and the report names S (starts_after_seq).
//
// What this proves and what it cannot: see docs/audit.md "What verification
// proves". In short, an export that verifies was written by the holder of
// the identity key up to the last checkpoint; dropping the last checkpoint
// and everything after it leaves a shorter export that still verifies, and
// only an anchor (seq and hash of a checkpoint the auditor kept from an
// earlier export) detects that.
//
// The input is streamed: memory stays bounded by VerifyOptions limits, and
// the hot path allocates nothing per line.
//
// Thread-safety: pure functions. Errors: a Status only when the input cannot
// be read at all or breaks a limit on total size (kInvalidInput) or a read
// fails (kIoError); every integrity problem, including a malformed line, is
// a VerifyReport with ok == false.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "schakel/audit/format.h"
#include "schakel/base/status.h"
#include "schakel/crypto/node_card.h"

namespace schakel::audit {

// A checkpoint the auditor trusts from an earlier export: the export being
// verified must contain the entry `seq` with exactly this hash.
struct VerifyAnchor {
  int64_t seq = 0;  // REQUIRES: >= 1
  Hash hash{};
};

// Partners' cards by node id, for checking the countersignatures of an
// export (docs/audit.md "Witnessing").
using WitnessCards = std::map<std::string, crypto::NodeCard, std::less<>>;

struct VerifyOptions {
  // Longest line accepted (bytes, without the newline). Default: 64 KiB,
  // room for the largest entry even with every non-ASCII character escaped.
  size_t max_line_bytes = size_t{64} * 1024;
  // Largest export accepted. Default: 16 GiB (tens of millions of entries);
  // reading is streamed, so this bounds time, not memory.
  uint64_t max_total_bytes = uint64_t{16} << 30;
  // When set, the export must extend this checkpoint (see VerifyAnchor).
  std::optional<VerifyAnchor> anchor;
  // When set (`audit verify --witnesses DIR`): every witness line must be
  // countersigned by a partner in this set, and the export must agree with
  // what the partner witnessed (the entry at its seq has its hash). When
  // not set, witness lines are checked for their shape only and otherwise
  // ignored, so plain verification is as before. Not owned; must outlive
  // the call.
  const WitnessCards* witnesses = nullptr;
};

// What went wrong first. Values are stable (they reach --json output).
enum class VerifyProblem : uint8_t {
  kNone = 0,
  kMalformedLine = 1,           // not JSON, unknown/missing/duplicate field, bad value
  kSeqOutOfOrder = 2,           // a gap, a repeat or a reorder in seq
  kBrokenChain = 3,             // prev_hash is not the previous entry's hash
  kHashMismatch = 4,            // hash is not the hash of the entry's fields
  kCheckpointMisplaced = 5,     // not right after the entry it covers, or repeated
  kCheckpointWrongNode = 6,     // node_id is not the card's
  kBadCheckpointSignature = 7,  // signature does not verify under the card's key
  kCheckpointHashMismatch = 8,  // signed hash is not the hash of the entry at its seq
  kNotCovered = 9,              // entries after the last checkpoint
  kAnchorMismatch = 10,         // the entry at the anchor's seq has another hash
  kTruncatedBeforeAnchor = 11,  // the export ends before the anchor's seq
  // With witness cards (VerifyOptions::witnesses) only:
  kWitnessContradicted = 12,  // a partner witnessed another hash at this seq, or an entry the export lacks
  kBadWitnessSignature = 13,  // a countersignature does not verify under the partner's card
  kUnknownWitness = 14,       // a countersignature by a partner whose card is not given
  kWitnessMisplaced = 15,     // a witness line after a later entry than the one it covers
  kEmptyExport = 16,          // the export holds no line at all
  kMissingFinalNewline = 17,  // the last line does not end with a newline (a cut file)
};
std::string_view VerifyProblemName(VerifyProblem p);  // "hash_mismatch", ...

struct VerifyReport {
  bool ok = false;
  int64_t entries = 0;          // entry lines that passed every check
  int64_t entries_format1 = 0;  // ... of them in entry format 1 (written before schema 10)
  int64_t checkpoints = 0;      // checkpoint lines that passed every check
  int64_t last_seq = 0;         // seq of the last good entry (0: none)
  // The last good checkpoint: what an auditor keeps as the next anchor.
  int64_t last_checkpoint_seq = 0;
  Hash last_checkpoint_hash{};
  std::string last_checkpoint_ts;
  // The export starts with a checkpoint at this seq instead of seq 1: the
  // node deleted the entries up to it by retention (docs/audit.md
  // "Retention"); 0: it starts at seq 1.
  int64_t starts_after_seq = 0;
  // The anchor's seq lies before that start: it could not be checked.
  bool anchor_before_start = false;
  // Witness lines (countersignatures by partners) seen, and -- when witness
  // cards were given -- how many of them were checked and agree, and the
  // latest seq so witnessed.
  int64_t witness_lines = 0;
  bool witnesses_checked = false;
  int64_t witnessed = 0;
  int64_t last_witnessed_seq = 0;

  // When !ok: the first problem.
  VerifyProblem problem = VerifyProblem::kNone;
  int64_t bad_seq = 0;    // the first seq that does not verify
  uint64_t bad_line = 0;  // 1-based line number; 0 when the problem is the end of the export
  std::string detail;     // what is wrong, without field values

  // "seq 5 (line 5): hash_mismatch: ..." or "verified N entries, ...".
  std::string Describe() const;
};

// Verifies an export held in memory.
Result<VerifyReport> VerifyExport(std::string_view jsonl, const crypto::NodeCard& card,
                                  const VerifyOptions& options = {});
// Verifies an export read from a stream (a file of any size up to the limit).
Result<VerifyReport> VerifyExport(std::istream& in, const crypto::NodeCard& card, const VerifyOptions& options = {});

}  // namespace schakel::audit
