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
// Column kinds of kColumns, by index: integers, blobs, the rest text.
constexpr std::array<bool, 19> kIsInt = {true,  false, false, false, false, false, false, false, false, false,
                                         false, false, false, false, false, true,  false, false, false};
constexpr std::array<bool, 19> kIsBlob = {false, false, false, false, false, false, false, false, false, false,
                                          false, false, false, true,  true,  false, false, false, false};

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

// Copies every row of `table` with seq > after from `source` to `target`
// (whose transaction is open), column by column. Returns the rows copied.
Result<int64_t> CopyRows(store::Database& source, store::Database& target, const std::string& table,
                         const std::string& columns, size_t count, int64_t after) {
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement read,
                           source.Prepare("SELECT " + columns + " FROM " + table + " WHERE seq > ? ORDER BY seq;"));
  std::string marks;
  for (size_t i = 0; i < count; ++i) marks += i == 0 ? "?" : ", ?";
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement write,
                           target.Prepare("INSERT INTO " + table + " (" + columns + ") VALUES (" + marks + ");"));
  read.Bind(1, after);
  int64_t copied = 0;
  for (;;) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    for (size_t i = 0; i < count; ++i) {
      const int col = static_cast<int>(i);
      const bool is_int = table == "audit_log" ? kIsInt[i] : i == 0;
      const bool is_blob = table == "audit_log" ? kIsBlob[i] : (i == 1 || i == 3);
      if (is_int) {
        write.Bind(col + 1, read.Int(col));
      } else if (is_blob) {
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
  if (source_last.first <= restored_last.first) {
    // Nothing after the backup. The replaced log is the backup's own past
    // (it holds its last entry) unless it went another way.
    if (source_last.first > 0) {
      SCHAKEL_ASSIGN_OR_RETURN(bool same, HasEntry(target, source_last.first, source_last.second));
      out.diverged = !same;
    }
    return out;
  }
  if (restored_last.first > 0) {
    SCHAKEL_ASSIGN_OR_RETURN(bool same, HasEntry(source, restored_last.first, restored_last.second));
    if (!same) {
      out.diverged = true;  // not a backup of this log's history
      return out;
    }
  }
  store::Transaction tx(target);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(int64_t entries,
                           CopyRows(source, target, "audit_log", kColumns, kIsInt.size(), restored_last.first));
  // The checkpoints after the backup's last one: those over carried entries.
  SCHAKEL_ASSIGN_OR_RETURN(store::Statement last_cp,
                           target.Prepare("SELECT coalesce(max(seq), 0) FROM audit_checkpoints;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool has, last_cp.Step());
  const int64_t covered = has ? last_cp.Int(0) : 0;
  (void)last_cp.Reset();
  SCHAKEL_ASSIGN_OR_RETURN(int64_t checkpoints,
                           CopyRows(source, target, "audit_checkpoints", "seq, hash, ts, sig", 4, covered));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  out.carried = entries;
  out.checkpoints = checkpoints;
  out.last_seq = restored_last.first + entries;
  return out;
}

}  // namespace schakel::audit
