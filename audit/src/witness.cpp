#include "schakel/audit/witness.h"

#include <algorithm>
#include <array>

#include "schakel/base/strings.h"

namespace schakel::audit {
namespace {

bool ToHash(const std::vector<uint8_t>& b, Hash* out) {
  if (b.size() != out->size()) return false;
  std::copy(b.begin(), b.end(), out->begin());
  return true;
}

bool ToSig(const std::vector<uint8_t>& b, crypto::Signature* out) {
  if (b.size() != out->size()) return false;
  std::copy(b.begin(), b.end(), out->begin());
  return true;
}

}  // namespace

Status ValidateWitnessRequest(const WitnessRequest& request) {
  if (!IsValidNodeId(request.node_id)) return Status::InvalidInput("witness: node id must be [a-z0-9-]{3,64}");
  if (request.seq < 1) return Status::InvalidInput("witness: seq must be at least 1");
  if (!IsCanonicalTimestamp(request.ts)) {
    return Status::InvalidInput("witness: ts must be YYYY-MM-DDTHH:MM:SS.mmmZ");
  }
  return Status::Ok();
}

namespace {

void PutStr8(std::string* out, std::string_view s) {
  out->push_back(static_cast<char>(s.size()));
  out->append(s);
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads the fixed shapes of the two payloads; every length is checked
// before the bytes are taken.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool Bytes(size_t n, std::string_view* out) {
    if (s_.size() - i_ < n) return false;
    *out = s_.substr(i_, n);
    i_ += n;
    return true;
  }
  bool Str8(size_t max, std::string* out) {
    if (i_ >= s_.size()) return false;
    size_t n = static_cast<uint8_t>(s_[i_++]);
    std::string_view v;
    if (n > max || !Bytes(n, &v)) return false;
    *out = std::string(v);
    return true;
  }
  bool U8(uint8_t* out) {
    if (i_ >= s_.size()) return false;
    *out = static_cast<uint8_t>(s_[i_++]);
    return true;
  }
  bool U64(uint64_t* out) {
    std::string_view v;
    if (!Bytes(8, &v)) return false;
    *out = 0;
    for (char c : v) *out = (*out << 8) | static_cast<uint8_t>(c);
    return true;
  }
  template <size_t N>
  bool Array(std::array<uint8_t, N>* out) {
    std::string_view v;
    if (!Bytes(N, &v)) return false;
    std::copy(v.begin(), v.end(), out->begin());
    return true;
  }
  bool AtEnd() const { return i_ == s_.size(); }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

constexpr uint8_t kWireVersion = 1;
constexpr uint64_t kMaxSeq = uint64_t{1} << 62;

}  // namespace

std::string EncodeWitnessRequest(const WitnessRequest& r) {
  std::string out = "SCHW";
  out.push_back(static_cast<char>(kWireVersion));
  PutStr8(&out, r.node_id);
  PutU64(&out, static_cast<uint64_t>(r.seq));
  out.append(reinterpret_cast<const char*>(r.hash.data()), r.hash.size());
  PutStr8(&out, r.ts);
  out.append(reinterpret_cast<const char*>(r.sig.data()), r.sig.size());
  return out;
}

Result<WitnessRequest> ParseWitnessRequest(std::string_view payload) {
  auto bad = [](const std::string& what) { return Status::InvalidInput("witness request: " + what); };
  if (payload.size() > kMaxWitnessPayloadBytes) return bad("too long");
  Reader in(payload);
  std::string_view magic;
  uint8_t version = 0;
  if (!in.Bytes(4, &magic) || magic != "SCHW") return bad("not a witness request");
  if (!in.U8(&version) || version != kWireVersion) return bad("unknown version");
  WitnessRequest r;
  uint64_t seq = 0;
  if (!in.Str8(64, &r.node_id) || !in.U64(&seq) || !in.Array(&r.hash) || !in.Str8(kTimestampBytes, &r.ts) ||
      !in.Array(&r.sig)) {
    return bad("truncated or a field too long");
  }
  if (!in.AtEnd()) return bad("bytes after the signature");
  if (seq > kMaxSeq) return bad("seq out of range");
  r.seq = static_cast<int64_t>(seq);
  SCHAKEL_RETURN_IF_ERROR(ValidateWitnessRequest(r));
  return r;
}

std::string EncodeCountersignature(const Countersignature& cs) {
  std::string out = "SCHC";
  out.push_back(static_cast<char>(kWireVersion));
  PutStr8(&out, cs.witness_id);
  PutStr8(&out, cs.node_id);
  PutU64(&out, static_cast<uint64_t>(cs.seq));
  out.append(reinterpret_cast<const char*>(cs.hash.data()), cs.hash.size());
  PutStr8(&out, cs.ts);
  out.append(reinterpret_cast<const char*>(cs.sig.data()), cs.sig.size());
  PutStr8(&out, cs.witnessed_at);
  return out;
}

Result<Countersignature> ParseCountersignature(std::string_view payload) {
  auto bad = [](const std::string& what) { return Status::InvalidInput("countersignature: " + what); };
  if (payload.size() > kMaxWitnessPayloadBytes) return bad("too long");
  Reader in(payload);
  std::string_view magic;
  uint8_t version = 0;
  if (!in.Bytes(4, &magic) || magic != "SCHC") return bad("not a countersignature");
  if (!in.U8(&version) || version != kWireVersion) return bad("unknown version");
  Countersignature cs;
  uint64_t seq = 0;
  if (!in.Str8(64, &cs.witness_id) || !in.Str8(64, &cs.node_id) || !in.U64(&seq) || !in.Array(&cs.hash) ||
      !in.Str8(kTimestampBytes, &cs.ts) || !in.Array(&cs.sig) || !in.Str8(kTimestampBytes, &cs.witnessed_at)) {
    return bad("truncated or a field too long");
  }
  if (!in.AtEnd()) return bad("bytes after witnessed_at");
  if (seq < 1 || seq > kMaxSeq) return bad("seq out of range");
  cs.seq = static_cast<int64_t>(seq);
  if (!IsValidNodeId(cs.witness_id) || !IsValidNodeId(cs.node_id)) return bad("bad node id");
  if (!IsCanonicalTimestamp(cs.ts) || !IsCanonicalTimestamp(cs.witnessed_at)) return bad("bad time");
  return cs;
}

Result<std::optional<WitnessRequest>> LatestCheckpoint(store::Database& db, std::string_view node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("SELECT seq, hash, ts, sig FROM audit_checkpoints ORDER BY seq DESC LIMIT 1;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<WitnessRequest>();
  WitnessRequest r;
  r.node_id = std::string(node_id);
  r.seq = q.Int(0);
  r.ts = q.Text(2);
  if (!ToHash(q.Blob(1), &r.hash) || !ToSig(q.Blob(3), &r.sig) || !IsCanonicalTimestamp(r.ts)) {
    return Status::Corruption("audit checkpoint for seq " + std::to_string(r.seq) + ": bad hash, signature or time");
  }
  return std::optional<WitnessRequest>(std::move(r));
}

Result<std::optional<WitnessRequest>> NextForWitness(store::Database& db, std::string_view node_id,
                                                     std::string_view witness_id) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<WitnessRequest> latest, LatestCheckpoint(db, node_id));
  if (!latest) return latest;
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("SELECT 1 FROM audit_witnesses WHERE seq = ? AND witness_id = ? AND hash = ?;"));
  q.Bind(1, latest->seq).Bind(2, witness_id).BindBlob(3, latest->hash);
  SCHAKEL_ASSIGN_OR_RETURN(bool done, q.Step());
  if (done) return std::optional<WitnessRequest>();
  return latest;
}

Status RecordCountersignature(store::Database& db, const crypto::NodeCard& witness_card, std::string_view node_id,
                              const Countersignature& cs, Instant now) {
  if (cs.witness_id != witness_card.node_id) {
    return Status::InvalidInput("witness: the countersignature names another partner than the card's");
  }
  if (cs.node_id != node_id) return Status::InvalidInput("witness: the countersignature is for another node");
  if (cs.seq < 1 || !IsCanonicalTimestamp(cs.ts)) return Status::InvalidInput("witness: bad seq or ts");
  if (!crypto::Verify(witness_card.sign_pk, WitnessMessage(cs.witness_id, node_id, cs.seq, cs.hash, cs.ts), cs.sig)) {
    return Status::Unauthenticated("witness " + cs.witness_id + ": the countersignature does not verify under " +
                                   "its card's identity key");
  }
  store::Transaction tx(db);
  bool own = !db.InTransaction();
  if (own) SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  {
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement q, db.Prepare("SELECT hash, ts FROM audit_checkpoints WHERE seq = ?;"));
    q.Bind(1, cs.seq);
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("witness: no checkpoint at seq " + std::to_string(cs.seq));
    Hash hash{};
    if (!ToHash(q.Blob(0), &hash) || hash != cs.hash || q.Text(1) != cs.ts) {
      return Status::InvalidInput("witness " + cs.witness_id + ": countersigned another hash or time than the " +
                                  "checkpoint at seq " + std::to_string(cs.seq));
    }
  }
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement ins,
                           db.Prepare("INSERT INTO audit_witnesses (seq, witness_id, hash, ts, sig, received_at) "
                                      "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
                                      "(SELECT 1 FROM audit_witnesses WHERE seq = ? AND witness_id = ?);"));
  ins.Bind(1, cs.seq)
      .Bind(2, cs.witness_id)
      .BindBlob(3, cs.hash)
      .Bind(4, cs.ts)
      .BindBlob(5, cs.sig)
      .Bind(6, FormatInstantMs(now))
      .Bind(7, cs.seq)
      .Bind(8, cs.witness_id);
  SCHAKEL_RETURN_IF_ERROR(ins.Run());
  if (own) return tx.Commit();
  return Status::Ok();
}

Status RecordWitnessUnavailable(store::Database& db, std::string_view witness_id, std::string_view detail,
                                Instant now) {
  // No UPSERT in SQLCipher 3.4.1: the table has no triggers, REPLACE is fine.
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("INSERT OR REPLACE INTO audit_witness_peers (witness_id, state, detail, "
                                      "updated_at) VALUES (?, 'unsupported', ?, ?);"));
  q.Bind(1, witness_id).Bind(2, detail.substr(0, 200)).Bind(3, FormatInstantMs(now));
  return q.Run();
}

Result<std::vector<Countersignature>> CountersignaturesAt(store::Database& db, std::string_view node_id, int64_t seq) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("SELECT witness_id, hash, ts, sig, received_at FROM audit_witnesses "
                                      "WHERE seq = ? ORDER BY witness_id;"));
  q.Bind(1, seq);
  std::vector<Countersignature> out;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Countersignature cs;
    cs.witness_id = q.Text(0);
    cs.node_id = std::string(node_id);
    cs.seq = seq;
    cs.ts = q.Text(2);
    cs.witnessed_at = q.Text(4);
    if (!ToHash(q.Blob(1), &cs.hash) || !ToSig(q.Blob(3), &cs.sig)) {
      return Status::Corruption("audit witnesses: a bad row at seq " + std::to_string(seq));
    }
    out.push_back(std::move(cs));
  }
  return out;
}

namespace {

struct Witnessed {
  Hash hash{};
  std::string ts;
  crypto::Signature countersig{};
  std::string witnessed_at;
};

Result<std::optional<Witnessed>> ReadWitnessed(store::Database& db, std::string_view node_id, int64_t seq) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q, db.Prepare("SELECT hash, ts, countersig, witnessed_at FROM "
                                                          "audit_witnessed WHERE node_id = ? AND seq = ?;"));
  q.Bind(1, node_id).Bind(2, seq);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Witnessed>();
  Witnessed w;
  w.ts = q.Text(1);
  w.witnessed_at = q.Text(3);
  if (!ToHash(q.Blob(0), &w.hash) || !ToSig(q.Blob(2), &w.countersig)) {
    return Status::Corruption("audit witnessed: a bad row for " + std::string(node_id));
  }
  return std::optional<Witnessed>(std::move(w));
}

AuditEvent WitnessEvent(const WitnessRequest& r, std::string_view action, std::string_view outcome) {
  AuditEvent e;
  e.actor_user = "system";
  e.actor_role = "peer";
  e.actor_org = r.node_id;
  e.action = std::string(action);
  e.subject = r.node_id;
  e.object = "checkpoint:" + std::to_string(r.seq);
  e.outcome = std::string(outcome);
  e.reason = "hash=" + ToHex(r.hash) + " ts=" + r.ts;
  e.source = "peer:" + r.node_id;
  return e;
}

}  // namespace

Result<Countersignature> WitnessCheckpoint(store::Database& db, AuditLog& log, const crypto::NodeCard& node_card,
                                           const crypto::SigningKeyPair& identity, const WitnessRequest& request,
                                           Instant now) {
  SCHAKEL_RETURN_IF_ERROR(ValidateWitnessRequest(request));
  if (request.node_id != node_card.node_id) {
    return Status::InvalidInput("witness: the checkpoint names another node than the sender's card");
  }
  if (request.node_id == log.node_id()) return Status::InvalidInput("witness: a node does not witness itself");
  if (!crypto::Verify(node_card.sign_pk, CheckpointMessage(request.node_id, request.seq, request.hash, request.ts),
                      request.sig)) {
    return Status::Unauthenticated("witness: the checkpoint signature of " + request.node_id +
                                   " does not verify under its card's identity key");
  }
  Countersignature cs;
  cs.witness_id = log.node_id();
  cs.node_id = request.node_id;
  cs.seq = request.seq;
  cs.hash = request.hash;
  cs.ts = request.ts;
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<Witnessed> before, ReadWitnessed(db, request.node_id, request.seq));
  if (before) {
    if (before->hash == request.hash && before->ts == request.ts) {
      cs.sig = before->countersig;
      cs.witnessed_at = before->witnessed_at;
      return cs;
    }
    // Signed by the node's key, and contradicting what it signed before.
    (void)log.Append(WitnessEvent(request, "audit.witness_contradicted", "refused"));
    return Status::Corruption("witness: " + request.node_id + " signed another hash for seq " +
                              std::to_string(request.seq) + " than the one witnessed on " + before->witnessed_at +
                              ": its log was rewritten");
  }
  cs.sig = crypto::Sign(identity, WitnessMessage(cs.witness_id, cs.node_id, cs.seq, cs.hash, cs.ts));
  cs.witnessed_at = FormatInstantMs(now);
  store::Transaction tx(db);
  bool own = !db.InTransaction();
  if (own) SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(log.Append(WitnessEvent(request, "audit.witnessed", "ok")).status());
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement ins,
                           db.Prepare("INSERT INTO audit_witnessed (node_id, seq, hash, ts, sig, countersig, "
                                      "witnessed_at) VALUES (?, ?, ?, ?, ?, ?, ?);"));
  ins.Bind(1, cs.node_id)
      .Bind(2, cs.seq)
      .BindBlob(3, cs.hash)
      .Bind(4, cs.ts)
      .BindBlob(5, request.sig)
      .BindBlob(6, cs.sig)
      .Bind(7, cs.witnessed_at);
  SCHAKEL_RETURN_IF_ERROR(ins.Run());
  if (own) SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return cs;
}

Result<std::optional<Countersignature>> LatestWitnessed(store::Database& db, std::string_view witness_id,
                                                        std::string_view node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("SELECT seq, hash, ts, countersig, witnessed_at FROM audit_witnessed "
                                      "WHERE node_id = ? ORDER BY seq DESC LIMIT 1;"));
  q.Bind(1, node_id);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Countersignature>();
  Countersignature cs;
  cs.witness_id = std::string(witness_id);
  cs.node_id = std::string(node_id);
  cs.seq = q.Int(0);
  cs.ts = q.Text(2);
  cs.witnessed_at = q.Text(4);
  if (!ToHash(q.Blob(1), &cs.hash) || !ToSig(q.Blob(3), &cs.sig)) {
    return Status::Corruption("audit witnessed: a bad row for " + std::string(node_id));
  }
  return std::optional<Countersignature>(std::move(cs));
}

}  // namespace schakel::audit
