// Database: the node's one SQLCipher database, opened with a raw 256-bit key.
//
// Open() keys the connection with the raw key (no PBKDF2: the key is already
// random or Argon2id-derived), sets cipher_page_size = 4096, checks that the
// key opens the file (a wrong key is an error, never a silently empty
// database), turns on WAL, foreign keys and synchronous=FULL, and applies
// the versioned migrations in store/src/migrations.cpp. The running
// daemon's writer then defers the flush of its commits (DeferDurability).
//
// Debian's SQLCipher is 3.4.1 on SQLite 3.15: the SQL here avoids UPSERT and
// RETURNING.
//
// Thread-safety: a Database is one connection; use it from one thread at a
// time (the daemon guards its writer with the node lock and lends each of
// its readers, connections opened with OpenMode::kReader, to one
// NodeCore::Reading at a time).
// Errors: Status values; SQLite's message is included, never bound values.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace schakel::store {

enum class OpenMode {
  kCreate,    // the file must not exist; it is created and migrated
  kExisting,  // the file must exist
  kReader,    // the file must exist at this program's schema version; the
              // connection only reads (query_only), migrates nothing, and in
              // WAL mode reads beside the writer without waiting for it
};

class Statement;
struct StatementPool;

class Database {
 public:
  // REQUIRES: key.size() == 32.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const crypto::SecureBuffer& key,
                                                OpenMode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // One statement. A statement of the same text that was prepared before on
  // this connection and is done with is reused (reset, its bindings
  // cleared): parsing and planning the SQL cost as much as running most of
  // these statements (issue 19; docs/performance.md "Statements kept").
  Result<Statement> Prepare(std::string_view sql);

  // Transactions: BEGIN IMMEDIATE, so writers queue on the lock at the start
  // rather than fail half-way. A statement with OR ROLLBACK (or a trigger's
  // RAISE(ROLLBACK)) that fails ends the transaction at once; from then until
  // Commit or Rollback every statement on the connection is refused (it would
  // otherwise run on its own, outside the transaction, and be kept).
  Status Begin();
  Status Commit();
  void Rollback();

  int64_t LastInsertRowId() const;
  int Changes() const;
  int SchemaVersion() const { return schema_version_; }
  const std::string& path() const { return path_; }
  // Whether a transaction is open on this connection (BEGIN without its COMMIT).
  bool InTransaction() const;
  // Resets every statement on this connection that has stepped and was not
  // reset or finalized, and says how many there were. Such a statement holds
  // a read snapshot open, so a reader would keep seeing the database as it
  // was (NodeCore::Reading calls this as it lets go).
  int ResetSteppedStatements();
  // How many statements the connection keeps for reuse (Prepare).
  size_t KeptStatements() const;
  // Pages this connection has written to the database (its write-ahead
  // log) in the transactions it committed since it was opened, counted at
  // each Commit (what statements ran on their own wrote is counted at the
  // next). What a durable commit costs grows with them (SQLCipher encrypts
  // and authenticates each page; issue 19, docs/performance.md). Readable
  // from any thread.
  int64_t pages_written() const { return pages_written_.load(std::memory_order_relaxed); }
  // Bytes SQLite holds in this process, all connections together (page
  // caches, schemas, statements).
  static int64_t ProcessMemoryUsed();

  // Commits made durable outside the writer's lock (the daemon's writer
  // only; issue 19, docs/performance.md "Durable after the lock"). After
  // DeferDurability, a commit writes its pages to the write-ahead log and
  // returns without waiting for the disk (synchronous = NORMAL: a crash of
  // the process loses nothing, a power cut may lose the last commits); the
  // caller then makes them durable with MakeDurable before anything that
  // depends on them leaves the process. The bookkeeping:
  //  - commits_begun(): how many commits have begun on this connection (a
  //    commit hook counts each before its pages are written, so a reader
  //    that sees a commit reads a count that includes it).
  //  - CommitsComplete(n): the owner of the connection says every commit up
  //    to n has finished (it holds the lock every commit is made under).
  //  - MakeDurable(n): returns once an fdatasync of the log that began after
  //    what the caller saw (every commit up to n that it saw) has ended.
  //    Callers that come while one runs wait for it and need none of their
  //    own if it covers them: one flush for many commits. Thread-safe; an
  //    error means the disk did not confirm the flush (the caller must not
  //    go on as if it had).
  // Without DeferDurability every commit is durable as it returns
  // (synchronous = FULL) and MakeDurable returns at once.
  Status DeferDurability();
  uint64_t commits_begun() const { return begun_.load(std::memory_order_acquire); }
  void CommitsComplete(uint64_t through);
  Status MakeDurable(uint64_t observed);
  // How many flushes MakeDurable made (tests, benchmarks).
  int64_t durable_flushes() const { return flushes_.load(std::memory_order_relaxed); }

  // An online, consistent copy (still encrypted with the same key) at `to`
  // through SQLite's backup API.
  Status BackupTo(const std::string& to, const crypto::SecureBuffer& key);

 private:
  friend class Statement;
  Database(sqlite3* db, std::string path);
  Status Migrate();
  Status CheckCurrentSchema();
  Status Error(std::string_view what) const;
  // Not OK when Begin's transaction was ended by a failed statement.
  Status CheckTransactionAlive() const;

  sqlite3* db_;
  std::string path_;
  int schema_version_ = 0;
  // Between a successful Begin and its Commit or Rollback.
  bool write_tx_ = false;
  std::atomic<int64_t> pages_written_{0};
  // DeferDurability's bookkeeping. deferred_ is set before other threads
  // use the connection; the counters are atomic; synced_ is written and
  // log_dir_synced_ touched only under sync_mu_ (synced_ is read without
  // it first: most callers need no flush).
  bool deferred_ = false;
  std::atomic<uint64_t> begun_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> synced_{0};  // every commit up to it is durable
  std::atomic<int64_t> flushes_{0};
  std::mutex sync_mu_;
  bool log_dir_synced_ = false;  // the log's directory entry flushed once
  // Statements done with, by their SQL text (database.cpp). Shared with
  // every Statement of this connection: one may be let go after its
  // Database (it is then finalized) or on another thread.
  std::shared_ptr<StatementPool> pool_;
};

// A prepared statement. Bind indexes start at 1, columns at 0. Blob and text
// columns are copied out; BlobSecret copies straight into guarded memory.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, std::span<const uint8_t> blob);
  Statement& BindNull(int index);
  Statement& BindOpt(int index, const std::optional<std::string>& text);
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }

  // true when a row is available, false when done.
  Result<bool> Step();
  // Steps once and expects the statement to be done (INSERT/UPDATE/DELETE).
  Status Run();
  Status Reset();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::vector<uint8_t> Blob(int col) const;
  crypto::SecureBuffer BlobSecret(int col) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, Database* db, std::shared_ptr<StatementPool> pool)
      : stmt_(stmt), db_(db), pool_(std::move(pool)) {}
  // Gives the statement back to its connection's pool to be reused, or
  // finalizes it (no pool: its text was more than one statement).
  void Let();
  sqlite3_stmt* stmt_;
  Database* db_;
  std::shared_ptr<StatementPool> pool_;
  Status bind_error_;
};

// Rolls back unless Commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction() {
    if (active_) db_.Rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status Begin() {
    Status st = db_.Begin();
    active_ = st.ok();
    return st;
  }
  Status Commit() {
    Status st = db_.Commit();
    if (st.ok()) active_ = false;
    return st;
  }

 private:
  Database& db_;
  bool active_ = false;
};

// One snapshot for several reads. Outside a transaction each statement sees
// what was committed when it started, so two counts read one after the other
// can straddle a commit (status once showed the outbox still holding a
// revocation that its pending count had already seen go). Between Begin and
// the end of its scope every statement sees the same committed state: a
// deferred transaction, whose snapshot the first read takes. It takes no
// write lock, so it works on a reader (OpenMode::kReader) and never waits on
// a writer. Inside a transaction already open it does nothing.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Database& db) : db_(db) {}
  ~ReadSnapshot() {
    if (active_) db_.Rollback();  // only read: nothing to keep
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  Status Begin() {
    if (db_.InTransaction()) return Status::Ok();
    Status st = db_.Exec("BEGIN DEFERRED;");
    active_ = st.ok();
    return st;
  }

 private:
  Database& db_;
  bool active_ = false;
};

}  // namespace schakel::store
