// `schakel backup --to F` and `schakel restore --from F`.
//
// backup: a consistent copy of DIR/data/node.db through SQLite's online
// backup API, still encrypted with the node's database key; safe while
// schakeld runs (a write during the copy restarts it). The key itself is
// not in the copy: keep secrets/db.key (or the passphrase and
// data/node.salt) somewhere else.
//
// restore: only while nothing else has the database open. How that is
// detected: every SQLite connection that has a WAL-mode database open holds
// a shared lock on the "dead man switch" byte of DB-shm (byte 128) for as
// long as it is open, schakeld included, even when idle. restore asks the
// kernel (F_OFD_GETLK, which also sees locks of its own process) whether a
// write lock on that byte could be placed; if not, it refuses. BEGIN
// EXCLUSIVE would not do: in WAL mode it does not conflict with an idle
// reader. A daemon that starts between that check and the rename is not
// caught: stop the service (systemctl stop schakel) before restoring.
//
// The backup is copied to data/node.db.restore-tmp, opened there with the
// node's key (a wrong key is refused), checked (same node id and identity
// key, quick_check, audit chain). The replaced log's entries written after
// the backup are then carried into the copy as they were (same seq and
// hashes, audit::CarryTail), so a restore never erases history and never
// gives a sequence number out twice; a replaced log that does not continue
// the backup is not carried and the node.restore entry says so. Then the
// live database is kept as data/node.db.before-restore-<time> (a hard link,
// so node.db exists at every moment) and the copy is renamed over
// data/node.db.
//
// The restored database's queued shares are taken as possibly sent at the
// next start (meta shares_on_the_wire, store/records.h).
//
// On a new machine (the old one lost): a directory holding only the config
// and the key file (or the passphrase's salt), and if kept the node card,
// takes the backup as its database; the node.restore entry records that
// what came after the backup is not known here.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/records.h"

namespace schakel::cli {
namespace {

// SQLite's unix VFS: the WAL-index lock bytes start at 120, eight of them,
// then the dead-man-switch byte every open connection holds shared.
constexpr off_t kShmDmsByte = 128;

// Whether any connection (of any process, this one included) has the
// database at `db_path` open in WAL mode.
Result<bool> DatabaseInUse(const std::string& db_path) {
  std::string shm = db_path + "-shm";
  int fd = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return false;  // nobody has opened it since the last close
    return Status::IoError(shm + ": " + std::strerror(errno));
  }
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = kShmDmsByte;
  probe.l_len = 1;
  int rc = ::fcntl(fd, F_OFD_GETLK, &probe);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError(shm + ": cannot probe its locks: " + std::strerror(saved));
  return probe.l_type != F_UNLCK;
}

// "2026-11-23T10:00:00Z" -> "20261123T100000Z", for file names.
std::string CompactNow() {
  std::string s;
  for (char c : FormatInstant(NowUtc())) {
    if (c != '-' && c != ':') s.push_back(c);
  }
  return s;
}

Status CopyFileDurable(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::NotFound(from + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(in);
    return Status::InvalidInput(from + ": not a regular file");
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    int saved = errno;
    ::close(in);
    return Status::IoError(to + ": " + std::strerror(saved));
  }
  Status result;
  char buf[1 << 16];
  while (result.ok()) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Status::IoError(from + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        result = errno == ENOSPC ? Status::ResourceExhausted(to + ": disk full")
                                 : Status::IoError(to + ": " + std::strerror(errno));
        break;
      }
      off += w;
    }
  }
  if (result.ok() && ::fsync(out) != 0) result = Status::IoError(to + ": fsync: " + std::strerror(errno));
  ::close(out);
  ::close(in);
  if (!result.ok()) ::unlink(to.c_str());
  return result;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IoError(dir + ": fsync: " + std::strerror(errno));
  return Status::Ok();
}

void RemoveDatabaseFiles(const std::string& path) {
  ::unlink(path.c_str());
  ::unlink((path + "-wal").c_str());
  ::unlink((path + "-shm").c_str());
  ::unlink((path + "-journal").c_str());
}

Status RunBackup(Context* ctx, const std::string& to) {
  if (to.empty()) return Status::InvalidInput("--to: a file name is needed");
  if (PathExists(to)) return Status::AlreadyExists("--to: " + to + " exists already; choose a new name");
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer key,
                           store::LoadDatabaseKey(node.paths, KeySourceFor(node.config, node.paths)));
  // Logged first, so the copy holds the entry of its own making.
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "node.backup", node.config.node_id, "backup"));
  SCHAKEL_RETURN_IF_ERROR(node.db->BackupTo(to, key));
  struct stat st {};
  int64_t bytes = ::stat(to.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", node.config.node_id}, {"backup", to}, {"bytes", bytes}});
  } else {
    ctx->io.out << "Backed up node " << node.config.node_id << " to " << to << " (" << bytes
                << " bytes, encrypted with the node's database key; keep "
                << (node.config.passphrase_env.empty() ? node.paths.key_file : "the passphrase and " + node.paths.salt)
                << " safe elsewhere)\n";
  }
  return Status::Ok();
}

// Opens the copy at `staged` and checks that it is a sound database of the
// node whose identity key is `identity_pk`.
Status CheckStagedCopy(const std::string& staged, const crypto::SecureBuffer& key, const std::string& node_id,
                       const std::optional<crypto::PublicKey>& identity_pk, const std::string& from) {
  auto opened = store::Database::Open(staged, key, store::OpenMode::kExisting);
  if (!opened.ok()) {
    if (opened.status().code() == Code::kInvalidInput) {
      return Status::InvalidInput("--from: " + from +
                                  ": the node's key does not open it (a backup of another node, or "
                                  "not a Schakel backup)");
    }
    return opened.status().WithContext("--from: " + from);
  }
  std::unique_ptr<store::Database> db = std::move(opened).value();
  {
    SCHAKEL_ASSIGN_OR_RETURN(store::Statement q, db->Prepare("PRAGMA quick_check;"));
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.Text(0) != "ok") return Status::Corruption("--from: " + from + ": fails SQLite's quick_check");
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> stored_id, store::GetMeta(*db, "node_id"));
  if (!stored_id || *stored_id != node_id) {
    return Status::Denied("--from: " + from + " is a backup of node \"" + stored_id.value_or("?") + "\", not of " +
                          node_id);
  }
  auto identity = store::LoadIdentity(*db);
  if (!identity.ok()) return identity.status().WithContext("--from: " + from);
  if (identity_pk && identity->public_key != *identity_pk) {
    return Status::Denied("--from: " + from + " holds a different identity key than node " + node_id);
  }
  SystemClock clock;
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log,
                           audit::AuditLog::Create(*db, node_id, *identity, clock));
  Status verified = log->VerifyStored();
  if (!verified.ok()) return verified.WithContext("--from: " + from + ": audit log");
  return Status::Ok();
}

// What a restore needs of the node it replaces, read before its database
// closes. On a new machine (no database yet: the old one was lost with its
// machine) the config and the key file (or passphrase and salt) are all
// there is; the identity key is then taken from the node card when it is
// there too, and the backup must still be opened by the key and name the
// config's node id.
struct RestoreTarget {
  std::string node_id;
  std::optional<crypto::PublicKey> identity_pk;
  crypto::SecureBuffer key;
  std::string live;  // the database file
  std::string data_dir;
  bool fresh = false;  // no database to replace
};

Result<RestoreTarget> ReadRestoreTarget(Context* ctx) {
  RestoreTarget t;
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, config::LoadNodeConfig(ctx->globals.dir));
  store::NodePaths paths(ctx->globals.dir, cfg.key_file);
  t.node_id = cfg.node_id;
  t.live = paths.database;
  t.data_dir = paths.data;
  SCHAKEL_ASSIGN_OR_RETURN(t.key, store::LoadDatabaseKey(paths, KeySourceFor(cfg, paths)));
  if (!PathExists(paths.database)) {
    t.fresh = true;
    const std::string card_file = ctx->globals.dir + "/node-card.json";
    if (PathExists(card_file)) {
      SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(card_file, 64 * 1024));
      auto card = crypto::ParseNodeCard(text);
      if (!card.ok()) return card.status().WithContext(card_file);
      t.identity_pk = card->sign_pk;
    }
    return t;
  }
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair identity, store::LoadIdentity(*node.db));
  t.identity_pk = identity.public_key;
  return t;
}  // our own connection closes here (checkpointing and removing the WAL)

// Carries the replaced log's entries written after the backup into the
// staged copy (audit::CarryTail: same seq and hashes) and checks the whole
// chain again.
Result<audit::CarriedTail> CarryLogTail(const std::string& staged, const RestoreTarget& t) {
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> live,
                           store::Database::Open(t.live, t.key, store::OpenMode::kExisting));
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> copy,
                           store::Database::Open(staged, t.key, store::OpenMode::kExisting));
  SCHAKEL_ASSIGN_OR_RETURN(audit::CarriedTail carried, audit::CarryTail(*live, *copy));
  if (carried.carried > 0) {
    SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair identity, store::LoadIdentity(*copy));
    SystemClock clock;
    SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log,
                             audit::AuditLog::Create(*copy, t.node_id, identity, clock));
    Status verified = log->VerifyStored();
    if (!verified.ok()) return verified.WithContext("the audit log with the entries carried over");
  }
  return carried;
}

// Copies the backup to `staged` beside the live database, with its owner,
// and checks it; removes it again on any failure after the copy.
Result<audit::CarriedTail> StageBackup(const std::string& from, const std::string& staged, const RestoreTarget& t) {
  // On a new machine the data folder may not be there yet.
  if (t.fresh && !PathExists(t.data_dir) && ::mkdir(t.data_dir.c_str(), 0700) != 0) {
    return Status::IoError(t.data_dir + ": " + std::strerror(errno));
  }
  RemoveDatabaseFiles(staged);  // a leftover of an interrupted restore
  SCHAKEL_RETURN_IF_ERROR(CopyFileDurable(from, staged));
  // Run as root on a packaged node, the copy must still belong to the
  // service's user, as the database it replaces (or its folder) does.
  const std::string& owner_of = t.fresh ? t.data_dir : t.live;
  struct stat live_st {};
  if (::geteuid() == 0 && ::stat(owner_of.c_str(), &live_st) == 0 &&
      ::chown(staged.c_str(), live_st.st_uid, live_st.st_gid) != 0) {
    int saved = errno;
    RemoveDatabaseFiles(staged);
    return Status::IoError(staged + ": cannot give it the database's owner: " + std::strerror(saved));
  }
  Status checked = CheckStagedCopy(staged, t.key, t.node_id, t.identity_pk, from);
  if (!checked.ok()) {
    RemoveDatabaseFiles(staged);
    return checked;
  }
  audit::CarriedTail carried;
  if (!t.fresh) {
    auto made = CarryLogTail(staged, t);
    if (!made.ok()) {
      RemoveDatabaseFiles(staged);
      return made.status().WithContext("carrying the audit entries after the backup");
    }
    carried = *made;
  }
  if (PathExists(staged + "-wal")) {
    RemoveDatabaseFiles(staged);
    return Status::Internal(staged + ": its write-ahead log was not folded in on close");
  }
  ::unlink((staged + "-shm").c_str());
  return carried;
}

// Swaps the staged copy in for the live database; returns where the replaced
// one is kept. Removes the staged copy on any failure after the check.
Result<std::string> SwapInStaged(const std::string& staged, const std::string& live, bool fresh) {
  if (fresh) {
    // Nothing to keep; link, not rename, so a database that appeared
    // meanwhile is never overwritten.
    if (::link(staged.c_str(), live.c_str()) != 0) {
      int saved = errno;
      RemoveDatabaseFiles(staged);
      return Status::IoError(live + ": cannot put the backup there: " + std::strerror(saved));
    }
    ::unlink(staged.c_str());
    return std::string();
  }
  // Check again right before the swap: the window left is the rename itself.
  SCHAKEL_ASSIGN_OR_RETURN(bool in_use, DatabaseInUse(live));
  if (in_use) {
    RemoveDatabaseFiles(staged);
    return Status::Unavailable(live + " was opened by another process meanwhile; stop schakeld first");
  }
  std::string kept = live + ".before-restore-" + CompactNow();
  if (::link(live.c_str(), kept.c_str()) != 0) {
    int saved = errno;
    RemoveDatabaseFiles(staged);
    return Status::IoError(kept + ": cannot keep the current database: " + std::strerror(saved));
  }
  if (::rename(staged.c_str(), live.c_str()) != 0) {
    int saved = errno;
    ::unlink(kept.c_str());
    RemoveDatabaseFiles(staged);
    return Status::IoError(live + ": cannot replace it: " + std::strerror(saved));
  }
  ::unlink((live + "-shm").c_str());  // the old index; SQLite rebuilds it
  return kept;
}

// The node.restore entry: what became of the entries the replaced log held
// after the backup.
std::string RestoreReason(const RestoreTarget& t, const audit::CarriedTail& c, const std::string& kept) {
  if (t.fresh) {
    return "restore onto a new node directory: entries after seq " + std::to_string(c.after_seq) +
           " of the lost database are not known here";
  }
  if (c.diverged) {
    return "restore: the replaced log does not continue the backup after seq " + std::to_string(c.after_seq) +
           "; it is kept whole in " + kept.substr(kept.rfind('/') + 1);
  }
  if (c.carried == 0) return "restore: nothing was logged after the backup";
  return "restore: carried entries " + std::to_string(c.after_seq + 1) + "-" + std::to_string(c.last_seq) +
         " written after the backup, as they were";
}

Status RunRestore(Context* ctx, const std::string& from) {
  if (from.empty()) return Status::InvalidInput("--from: a file name is needed");
  if (!PathExists(from)) return Status::NotFound("--from: " + from + " does not exist");
  SCHAKEL_ASSIGN_OR_RETURN(RestoreTarget t, ReadRestoreTarget(ctx));
  const std::string& live = t.live;
  const std::string& node_id = t.node_id;
  SCHAKEL_ASSIGN_OR_RETURN(bool in_use, DatabaseInUse(live));
  if (in_use) {
    return Status::Unavailable(live +
                               " is open in another process (is schakeld running? stop it first, "
                               "e.g. systemctl stop schakel)");
  }
  if (PathExists(live + "-wal")) {
    return Status::Unavailable(live +
                               "-wal exists: the database was not closed cleanly; start and stop "
                               "schakeld once, then restore");
  }

  std::string staged = live + ".restore-tmp";
  SCHAKEL_ASSIGN_OR_RETURN(audit::CarriedTail carried, StageBackup(from, staged, t));
  SCHAKEL_ASSIGN_OR_RETURN(std::string kept, SwapInStaged(staged, live, t.fresh));
  SCHAKEL_RETURN_IF_ERROR(SyncDirectory(t.data_dir));

  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode restored, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(restored, "node.restore", node_id, RestoreReason(t, carried, kept)));
  // The node it replaces may have sent the backup's queued shares after the
  // backup was taken: the next start takes them as sending, so that a
  // withdrawal or recall revokes them (docs/consent.md "On the wire").
  SCHAKEL_RETURN_IF_ERROR(store::SetMeta(*restored.db, store::kMetaSharesOnTheWire, "1"));
  if (ctx->globals.json) {
    nlohmann::json doc = {{"node_id", node_id},
                          {"restored_from", from},
                          {"previous", t.fresh ? nlohmann::json(nullptr) : nlohmann::json(kept)},
                          {"audit_carried", carried.carried},
                          {"audit_diverged", carried.diverged}};
    PrintJson(ctx, doc);
  } else if (t.fresh) {
    ctx->io.out << "Restored node " << node_id << " from " << from
                << " into a directory without a database (a new machine)\n";
  } else {
    ctx->io.out << "Restored node " << node_id << " from " << from << "; the replaced database is kept as " << kept
                << "\n";
    if (carried.diverged) {
      ctx->io.out << "Warning: the replaced audit log does not continue this backup; it was not carried over and "
                     "stays in "
                  << kept << "\n";
    } else if (carried.carried > 0) {
      ctx->io.out << "Carried " << carried.carried << " audit entries written after the backup (seq "
                  << carried.after_seq + 1 << "-" << carried.last_seq << ") into the restored log\n";
    }
  }
  return Status::Ok();
}

}  // namespace

void AddBackupCommands(CLI::App& app, Context* ctx) {
  auto to = std::make_shared<std::string>();
  CLI::App* backup = app.add_subcommand(
      "backup", "write a consistent copy of the node's database, still encrypted (also while schakeld runs)");
  AddCommonOptions(backup, ctx);
  backup->add_option("--to", *to, "the new backup file (must not exist)")->required();
  backup->callback([ctx, to] { ctx->action = {"backup", [ctx, to] { return RunBackup(ctx, *to); }}; });

  auto from = std::make_shared<std::string>();
  CLI::App* restore = app.add_subcommand(
      "restore", "put a backup of this node back (schakeld must be stopped); keeps the replaced database");
  AddCommonOptions(restore, ctx);
  restore->add_option("--from", *from, "a file written by schakel backup")->required();
  restore->callback([ctx, from] { ctx->action = {"restore", [ctx, from] { return RunRestore(ctx, *from); }}; });
}

}  // namespace schakel::cli
