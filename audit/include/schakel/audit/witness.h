// Witnessing: partners countersign each other's audit checkpoints
// (docs/audit.md "Witnessing"), so that a rewrite of the log after a
// checkpoint left the node is exposed even when done with the node's own
// key.
//
// The exchange, for node N (whose log it is) and partner W (the witness):
//   1. N takes its latest checkpoint (LatestCheckpoint / NextForWitness) and
//      sends it to W.
//   2. W verifies N's signature with the sign_pk of N's pinned card, appends
//      an `audit.witnessed` entry to its own log, stores the checkpoint and
//      returns a countersignature: Ed25519 by W's identity over
//      WitnessMessage(W, N, seq, hash, ts) (format.h) -- WitnessCheckpoint.
//   3. N verifies the countersignature with the sign_pk of W's pinned card
//      and keeps it beside the checkpoint (RecordCountersignature). Exports
//      carry it as a "witness" line; VerifyExport with witness cards checks
//      it against the exported chain.
//   W answers later which checkpoint of N it saw last (LatestWitnessed).
//
// Tables (schema 18): audit_witnesses at N, audit_witnessed at W,
// audit_witness_peers at N (a partner that cannot witness, and why).
//
// Thread-safety: none; call under the lock that guards the Database (the
// daemon's store mutex). Errors: Status values: kUnauthenticated for a
// signature that does not verify, kInvalidInput for a malformed request or a
// card of another node, kNotFound for a checkpoint N does not hold,
// kCorruption for a checkpoint that contradicts one witnessed before.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/audit/audit_log.h"
#include "schakel/audit/format.h"
#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/database.h"

namespace schakel::audit {

// A node's signed checkpoint, as sent to a witness.
struct WitnessRequest {
  std::string node_id;  // the node whose log it is
  int64_t seq = 0;
  Hash hash{};
  std::string ts;           // when the node signed it (24-byte form)
  crypto::Signature sig{};  // the node's checkpoint signature
};

// A witness's countersignature of a checkpoint.
struct Countersignature {
  std::string witness_id;  // the partner that countersigned
  std::string node_id;     // the node whose checkpoint it is
  int64_t seq = 0;
  Hash hash{};
  std::string ts;            // the checkpoint's time, as countersigned
  crypto::Signature sig{};   // over WitnessMessage(witness_id, node_id, seq, hash, ts)
  std::string witnessed_at;  // the witness's clock when it countersigned (not signed)
};

// Checks the request's shape: node id, seq >= 1, canonical ts.
Status ValidateWitnessRequest(const WitnessRequest& request);

// --- on the wire (docs/peer-protocol.md, version 5) ------------------------
// A DELIVER payload asking a partner to witness a checkpoint:
//   "SCHW" || u8 1 || u8 len || node_id || u64be seq || hash (32)
//   || u8 len || ts (24) || sig (64)
// and the RESPONSE with the countersignature:
//   "SCHC" || u8 1 || u8 len || witness_id || u8 len || node_id
//   || u64be seq || hash (32) || u8 len || ts (24) || sig (64)
//   || u8 len || witnessed_at (24)
// Nothing may follow. At most kMaxWitnessPayloadBytes; parsers check every
// length before reading and refuse (kInvalidInput) anything else.
inline constexpr size_t kMaxWitnessPayloadBytes = 512;
std::string EncodeWitnessRequest(const WitnessRequest& request);
Result<WitnessRequest> ParseWitnessRequest(std::string_view payload);
std::string EncodeCountersignature(const Countersignature& cs);
Result<Countersignature> ParseCountersignature(std::string_view payload);
inline bool IsWitnessRequest(std::string_view payload) { return payload.substr(0, 4) == "SCHW"; }

// --- at the node whose log it is ------------------------------------------

// The node's latest checkpoint, if any.
Result<std::optional<WitnessRequest>> LatestCheckpoint(store::Database& db, std::string_view node_id);
// The latest checkpoint when `witness_id` has not countersigned it yet;
// empty when it has (or there is none). Only the latest is ever sent: it
// covers the whole chain before it.
Result<std::optional<WitnessRequest>> NextForWitness(store::Database& db, std::string_view node_id,
                                                     std::string_view witness_id);
// Verifies `cs` with `witness_card` (its node id must be cs.witness_id, the
// checkpoint must be one this node holds with that hash and ts) and keeps it
// (idempotent). Appends nothing to the log: the countersignature is
// evidence about the log, kept beside it.
Status RecordCountersignature(store::Database& db, const crypto::NodeCard& witness_card, std::string_view node_id,
                              const Countersignature& cs, Instant now);
// Records that `witness_id` does not witness (state "unsupported" and the
// reason, e.g. its peer protocol is older); a later countersignature clears
// nothing, the row only says what was last seen. For `status` pages.
Status RecordWitnessUnavailable(store::Database& db, std::string_view witness_id, std::string_view detail, Instant now);
// The countersignatures kept, for the checkpoint at `seq` (empty: none).
Result<std::vector<Countersignature>> CountersignaturesAt(store::Database& db, std::string_view node_id, int64_t seq);

// --- at the witness --------------------------------------------------------

// Verifies the checkpoint with `node_card` (the sender's pinned card),
// writes an `audit.witnessed` entry to `log` (subject and actor_org the
// node id, object "checkpoint:SEQ", reason "hash=HEX ts=TS", source
// "peer:NODE") and the checkpoint into audit_witnessed, in one transaction,
// and returns the countersignature by `identity` (the witness's key; its
// node id is log.node_id()). The same checkpoint again returns the stored
// countersignature. A checkpoint at a seq already witnessed with another
// hash is refused with kCorruption (and an `audit.witness_contradicted`
// entry is written, best effort): the node rewrote its log.
Result<Countersignature> WitnessCheckpoint(store::Database& db, AuditLog& log, const crypto::NodeCard& node_card,
                                           const crypto::SigningKeyPair& identity, const WitnessRequest& request,
                                           Instant now);
// The latest checkpoint of `node_id` this node witnessed, if any.
Result<std::optional<Countersignature>> LatestWitnessed(store::Database& db, std::string_view witness_id,
                                                        std::string_view node_id);

}  // namespace schakel::audit
