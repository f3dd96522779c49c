// CarryTail (audit_log.h): a restore keeps the entries written after its
// backup. They are copied as stored -- seq, fields, hashes, checkpoints --
// so the restored chain goes on exactly where the replaced one did, and the
// sequence numbers after the backup are never given out a second time.
#include <array>

#include "schakel/audit/audit_log.h"

namespace schakel::audit {
namespace {

constexpr const char* kColumns =
    "seq, ts, actor_user, actor_role, actor_org, action, subject, object, purpose, legal_basis, "
    "outcome, reason, source, prev_hash, hash, format, recipient, categories, consents";
// The kind of each column, in order: i integer, b blob, t text.
constexpr const char* kKinds = "ittttttttttttbbittt";

// The last entry's seq and hash of a log (0 and empty: no entries).
Result<std::pair<int64_t, std::vector<uint8_t>>> LastEntry(store::Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q,
                           db.Prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::pair<int64_t, std::vector<uint8_t>>{0, {}};
  return std::pair<int64_t, std::vector<uint8_t>>{q.Int(0), q.Blob(1)};
}

// Whether `db` holds the entry `seq` with this hash.
Result<bool> HasEntry(store::Database& db, int64_t seq, const std::vector<uint8_t>& hash) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement q, db.Prepare("SELECT hash FROM audit_log WHERE seq = ?;"));
  q.Bind(1, seq);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
  return row && q.Blob(0) == hash;
}

// Copies the rows of `table` that `where` selects (with `after` bound to
// its one parameter) from `source` to `target` (whose transaction is open),
// column by column as `kinds` says (i integer, b blob, t text); with
// `or_ignore`, rows `target` has already (by key) are left as they are.
// Returns the rows read.
Result<int64_t> CopyRows(store::Database& source, store::Database& target, const std::string& table,
                         const std::string& columns, std::string_view kinds, const std::string& where, int64_t after,
                         bool or_ignore = false) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement read,
                           source.Prepare("SELECT " + columns + " FROM " + table + " WHERE " + where + ";"));
  std::string marks;
  for (size_t i = 0; i < kinds.size(); ++i) marks += i == 0 ? "?" : ", ?";
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement write,
                           target.Prepare(std::string(or_ignore ? "INSERT OR IGNORE" : "INSERT") + " INTO " + table +
                                          " (" + columns + ") VALUES (" + marks + ");"));
  read.Bind(1, after);
  int64_t copied = 0;
  for (;;) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    for (size_t i = 0; i < kinds.size(); ++i) {
      const int col = static_cast<int>(i);
      if (kinds[i] == 'i') {
        write.Bind(col + 1, read.Int(col));
      } else if (kinds[i] == 'b') {
        write.BindBlob(col + 1, read.Blob(col));
      } else {
        write.Bind(col + 1, read.Text(col));
      }
    }
    SCHAKEL_RETURN_IF_ERROR(write.Run());
    SCHAKEL_RETURN_IF_ERROR(write.Reset());
    ++copied;
  }
  return copied;
}

}  // namespace

Result<CarriedTail> CarryTail(store::Database& source, store::Database& target) {
  CarriedTail out;
  SCHAKEL_ASSIGN_OR_RETURN(auto restored_last, LastEntry(target));
  SCHAKEL_ASSIGN_OR_RETURN(auto source_last, LastEntry(source));
  out.after_seq = restored_last.first;
  const bool longer = source_last.first > restored_last.first;
  if (!longer && source_last.first > 0) {
    // Nothing after the backup. The replaced log is the backup's own past
    // (it holds its last entry) unless it went another way.
    SCHAKEL_ASSIGN_OR_RETURN(bool same, HasEntry(target, source_last.first, source_last.second));
    out.diverged = !same;
  }
  if (longer && restored_last.first > 0) {
    SCHAKEL_ASSIGN_OR_RETURN(bool same, HasEntry(source, restored_last.first, restored_last.second));
    out.diverged = !same;  // not a backup of this log's history
  }
  if (out.diverged) return out;
  store::Transaction tx(target);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  if (longer) {
    SCHAKEL_ASSIGN_OR_RETURN(out.carried, CopyRows(source, target, "audit_log", kColumns, kKinds,
                                                   "seq > ? ORDER BY seq", restored_last.first));
    // The checkpoints after the backup's last one: those over carried entries.
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement last_cp,
                             target.Prepare("SELECT coalesce(max(seq), 0) FROM audit_checkpoints;"));
    SCHAKEL_ASSIGN_OR_RETURN(bool has, last_cp.Step());
    const int64_t covered = has ? last_cp.Int(0) : 0;
    (void)last_cp.Reset();
    SCHAKEL_ASSIGN_OR_RETURN(out.checkpoints, CopyRows(source, target, "audit_checkpoints", "seq, hash, ts, sig",
                                                       "ibtb", "seq > ? ORDER BY seq", covered));
    out.last_seq = restored_last.first + out.carried;
  }
  // Countersignatures that arrived after the backup (schema 18), of this
  // log's checkpoints and of the partners' this node witnessed: kept as
  // they are, whether or not entries were carried.
  SCHAKEL_ASSIGN_OR_RETURN(int64_t witnesses,
                           CopyRows(source, target, "audit_witnesses", "seq, witness_id, hash, ts, sig, received_at",
                                    "itbtbt", "seq > ? ORDER BY seq", 0, /*or_ignore=*/true));
  SCHAKEL_ASSIGN_OR_RETURN(
      int64_t witnessed,
      CopyRows(source, target, "audit_witnessed", "node_id, seq, hash, ts, sig, countersig, witnessed_at", "titbbbt",
               "seq > ? ORDER BY node_id, seq", 0, /*or_ignore=*/true));
  out.witness_rows = witnesses + witnessed;
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace schakel::audit
