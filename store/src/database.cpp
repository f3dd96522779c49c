#include "schakel/store/database.h"

#include <fcntl.h>
#include <sqlcipher/sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "migrations.h"
#include "schakel/base/fault_inject.h"
#include "schakel/base/file.h"

namespace schakel::store {
namespace {

// Keys a fresh connection with a raw key: SQLCipher takes "x'<64 hex>'"
// and then skips its own key derivation. The hex text lives in guarded
// memory and is wiped by the buffer's destructor.
Status KeyConnection(sqlite3* db, const crypto::SecureBuffer& key) {
  if (key.size() != 32) return Status::Internal("database key must be 32 bytes");
  static constexpr char kDigits[] = "0123456789abcdef";
  crypto::SecureBuffer text(3 + 64);
  uint8_t* p = text.data();
  *p++ = 'x';
  *p++ = '\'';
  for (uint8_t b : key.span()) {
    *p++ = static_cast<uint8_t>(kDigits[b >> 4]);
    *p++ = static_cast<uint8_t>(kDigits[b & 0x0f]);
  }
  *p = '\'';
  if (sqlite3_key(db, text.data(), static_cast<int>(text.size())) != SQLITE_OK) {
    return Status::Internal("cannot set the database key");
  }
  return Status::Ok();
}

// Before the first connection: SQLite's page cache would otherwise take
// room for 100 pages (about 420 KiB with SQLCipher's 4 KiB pages) from each
// new connection at once and touch all of it, although an idle node's
// connections read a few dozen pages; with no initial allocation a cache
// takes its pages one by one as they are read, up to the same cache_size.
// sqlite3_config only works before SQLite is initialized; if something
// else in the process initialized it first, the default stays (a memory
// cost, nothing else).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0); });
}

Status ConfigureConnection(sqlite3* db, const std::string& path) {
  char* err = nullptr;
  // cipher_page_size must be set before the first access of the file.
  if (sqlite3_exec(db, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    return Status::Internal("cannot configure the cipher: " + m);
  }
  // The first read tells whether the key opens the file.
  int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master;", nullptr, nullptr, &err);
  sqlite3_free(err);
  err = nullptr;
  if (rc == SQLITE_NOTADB) {
    return Status::InvalidInput(path +
                                ": the key does not open this database (wrong key file or "
                                "passphrase), or the file is not a Schakel database");
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    return Status::Unavailable(path + ": the database is locked by another process");
  }
  if (rc != SQLITE_OK) {
    return Status::Corruption(
        path + ": cannot read the database (damaged or truncated? restore it from a backup): " + sqlite3_errmsg(db));
  }
  sqlite3_busy_timeout(db, 10000);
  const char* pragmas =
      "PRAGMA journal_mode = WAL;"
      "PRAGMA synchronous = FULL;"
      "PRAGMA foreign_keys = ON;"
      "PRAGMA secure_delete = ON;";
  if (sqlite3_exec(db, pragmas, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    if (m.find("locked") != std::string::npos) {
      return Status::Unavailable(path + ": the database is locked by another process");
    }
    return Status::Internal(path + ": cannot configure the database: " + m);
  }
  return Status::Ok();
}

}  // namespace

// The statements of one connection that are done with, by their SQL text.
// Bound: at most 256 in all and 4 of one text (a text prepared again while
// one is in use gets a second). Closed with its Database: what comes back
// after that is finalized.
struct StatementPool {
  static constexpr size_t kMaxIdle = 256, kMaxIdleOfOneText = 4;

  // A kept statement of exactly this text, or nullptr.
  sqlite3_stmt* Take(std::string_view sql) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = idle.find(sql);
    if (it == idle.end()) return nullptr;
    sqlite3_stmt* stmt = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) idle.erase(it);  // no text stays without a statement
    --count;
    return stmt;
  }

  // Resets `stmt`, clears its bindings and keeps it; false when the pool is
  // closed or full (the caller finalizes it).
  bool Keep(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    std::lock_guard<std::mutex> lock(mu);
    if (closed || count >= kMaxIdle) return false;
    std::vector<sqlite3_stmt*>& same = idle[sqlite3_sql(stmt)];
    if (same.size() >= kMaxIdleOfOneText) return false;
    same.push_back(stmt);
    ++count;
    return true;
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    for (auto& [sql, stmts] : idle) {
      for (sqlite3_stmt* stmt : stmts) sqlite3_finalize(stmt);
    }
    idle.clear();
    count = 0;
  }

  std::mutex mu;
  bool closed = false;
  // Looked up by string_view, without a copy of the text.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, TextHash, std::equal_to<>> idle;
  size_t count = 0;
};

Database::Database(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), pool_(std::make_shared<StatementPool>()) {}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const crypto::SecureBuffer& key,
                                                 OpenMode mode) {
  bool exists = PathExists(path);
  if (mode == OpenMode::kCreate && exists) {
    return Status::AlreadyExists(path + " exists already");
  }
  if (mode != OpenMode::kCreate && !exists) {
    return Status::NotFound(path + ": no database (create a node with schakel init)");
  }
  // SQLite would take an empty file for a new database and fill it with an
  // empty schema: a truncated node.db must be reported, not replaced.
  struct stat file_stat {};
  if (mode != OpenMode::kCreate && ::stat(path.c_str(), &file_stat) == 0 && file_stat.st_size == 0) {
    return Status::Corruption(path + ": the database file is empty (truncated?); restore it from a backup");
  }
  ConfigureSqliteOnce();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (mode == OpenMode::kCreate ? SQLITE_OPEN_CREATE : 0);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) {
    return Status::IoError(path + ": cannot open the database: " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_extended_result_codes(raw, 1);
  SCHAKEL_RETURN_IF_ERROR(KeyConnection(raw, key));
  SCHAKEL_RETURN_IF_ERROR(ConfigureConnection(raw, path));
  if (mode == OpenMode::kCreate) ::chmod(path.c_str(), 0600);
  if (mode == OpenMode::kReader) {
    SCHAKEL_RETURN_IF_ERROR(db->Exec("PRAGMA query_only = 1;"));
    SCHAKEL_RETURN_IF_ERROR(db->CheckCurrentSchema());
    return db;
  }
  SCHAKEL_RETURN_IF_ERROR(db->Migrate());
  return db;
}

Database::~Database() {
  pool_->Close();
  // close_v2: a Statement still alive keeps the connection until it goes.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::Error(std::string_view what) const {
  int rc = sqlite3_extended_errcode(db_) & 0xff;
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  switch (rc) {
    case SQLITE_FULL:
      return Status::ResourceExhausted(path_ + ": disk full: " + msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(path_ + ": database busy: " + msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(path_ + ": database corrupt: " + msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Status::IoError(path_ + ": " + msg);
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(msg);
    default:
      return Status::Internal(msg);
  }
}

Status Database::CheckTransactionAlive() const {
  if (write_tx_ && sqlite3_get_autocommit(db_) != 0) {
    return Status::Internal(path_ +
                            ": the transaction was ended by a statement that failed before; nothing more is written "
                            "in it (roll it back and start again)");
  }
  return Status::Ok();
}

Status Database::Exec(std::string_view sql) {
  SCHAKEL_RETURN_IF_ERROR(CheckTransactionAlive());
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("exec");
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (sqlite3_stmt* kept = pool_->Take(sql)) return Statement(kept, this, pool_);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail) != SQLITE_OK) {
    return Error("prepare");
  }
  // Kept for reuse only when the statement is the whole text: its key is
  // the text Prepare is called with.
  bool whole = stmt != nullptr && tail == sql.data() + sql.size();
  return Statement(stmt, this, whole ? pool_ : nullptr);
}

Status Database::Begin() {
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("begin");
  }
  write_tx_ = true;
  return Status::Ok();
}

Status Database::Commit() {
  if (Status alive = CheckTransactionAlive(); !alive.ok()) {
    write_tx_ = false;
    return alive;
  }
  if (sqlite3_exec(db_, "COMMIT;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status st = Error("commit");
    Rollback();
    return st;
  }
  write_tx_ = false;
  // The pages written since the last count (and the count reset).
  int written = 0, highest = 0;
  if (sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_WRITE, &written, &highest, 1) == SQLITE_OK && written > 0) {
    pages_written_.fetch_add(written, std::memory_order_relaxed);
  }
  return Status::Ok();
}

Status Database::DeferDurability() {
  SCHAKEL_RETURN_IF_ERROR(Exec("PRAGMA synchronous = NORMAL;"));
  // Counts each commit before its pages are written; never vetoes one.
  sqlite3_commit_hook(
      db_,
      [](void* self) {
        static_cast<Database*>(self)->begun_.fetch_add(1, std::memory_order_acq_rel);
        return 0;
      },
      this);
  deferred_ = true;
  return Status::Ok();
}

void Database::CommitsComplete(uint64_t through) {
  uint64_t seen = completed_.load(std::memory_order_relaxed);
  while (seen < through && !completed_.compare_exchange_weak(seen, through, std::memory_order_acq_rel)) {
  }
}

Status Database::MakeDurable(uint64_t observed) {
  if (!deferred_ || synced_.load(std::memory_order_acquire) >= observed) return Status::Ok();
  std::lock_guard<std::mutex> lock(sync_mu_);
  // A flush that ended while this one waited may have covered it.
  if (synced_.load(std::memory_order_acquire) >= observed) return Status::Ok();
  // What is known finished now is durable once the flush below ends; a
  // commit the caller saw but not yet counted as finished (its pages are
  // written: a commit is seen only after that) is flushed by it too.
  const uint64_t complete = completed_.load(std::memory_order_acquire);
  if (FaultFail("store.flush")) return Status::IoError(path_ + "-wal: injected failure (store.flush)");
  const std::string log = path_ + "-wal";
  UniqueFd fd(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    // No log: nothing was committed to one (a checkpoint that removed it
    // flushed the database first).
    if (errno == ENOENT) return Status::Ok();
    return Status::IoError(ErrnoMessage("cannot open the write-ahead log to flush it", log));
  }
  if (::fdatasync(fd.get()) != 0) return Status::IoError(ErrnoMessage("cannot flush the write-ahead log", log));
  // The log's own name in its directory, once: it was made with the
  // connection's first write, which no longer flushes it.
  if (!log_dir_synced_) {
    SyncDirectory(DirName(log));
    log_dir_synced_ = true;
  }
  flushes_.fetch_add(1, std::memory_order_relaxed);
  if (complete > synced_.load(std::memory_order_relaxed)) synced_.store(complete, std::memory_order_release);
  return Status::Ok();
}

void Database::Rollback() {
  write_tx_ = false;
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
bool Database::InTransaction() const { return write_tx_ || sqlite3_get_autocommit(db_) == 0; }

size_t Database::KeptStatements() const {
  std::lock_guard<std::mutex> lock(pool_->mu);
  return pool_->count;
}

int64_t Database::ProcessMemoryUsed() { return sqlite3_memory_used(); }

int Database::Changes() const { return sqlite3_changes(db_); }

Status Database::Migrate() {
  SCHAKEL_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"));
  int current = 0;
  {
    // Finalized before migrating: SQLite refuses DROP TABLE while a
    // statement on the connection is still active.
    SCHAKEL_ASSIGN_OR_RETURN(Statement q, Prepare("SELECT max(version) FROM schema_version;"));
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    current = (row && !q.IsNull(0)) ? static_cast<int>(q.Int(0)) : 0;
  }
  auto migrations = Migrations();
  if (current > static_cast<int>(migrations.size())) {
    return Status::InvalidInput(path_ + ": the database has schema version " + std::to_string(current) +
                                ", newer than this program knows (" + std::to_string(migrations.size()) +
                                "); upgrade Schakel");
  }
  for (size_t v = static_cast<size_t>(current); v < migrations.size(); ++v) {
    Transaction tx(*this);
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    SCHAKEL_RETURN_IF_ERROR(Exec(migrations[v]).WithContext("migration " + std::to_string(v + 1)));
    SCHAKEL_ASSIGN_OR_RETURN(Statement ins, Prepare("INSERT INTO schema_version (version) VALUES (?);"));
    SCHAKEL_RETURN_IF_ERROR(ins.Bind(1, static_cast<int64_t>(v + 1)).Run());
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  schema_version_ = static_cast<int>(migrations.size());
  return Status::Ok();
}

Status Database::CheckCurrentSchema() {
  int current = 0;
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement q, Prepare("SELECT max(version) FROM schema_version;"));
    SCHAKEL_ASSIGN_OR_RETURN(bool row, q.Step());
    current = (row && !q.IsNull(0)) ? static_cast<int>(q.Int(0)) : 0;
  }
  int known = static_cast<int>(Migrations().size());
  if (current != known) {
    return Status::InvalidInput(path_ + ": a reader needs schema version " + std::to_string(known) + ", the file has " +
                                std::to_string(current) + " (open it once as a writer to migrate it)");
  }
  schema_version_ = current;
  return Status::Ok();
}

int Database::ResetSteppedStatements() {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr; s = sqlite3_next_stmt(db_, s)) {
    if (sqlite3_stmt_busy(s) != 0) {
      sqlite3_reset(s);
      ++n;
    }
  }
  return n;
}

Status Database::BackupTo(const std::string& to, const crypto::SecureBuffer& key) {
  if (PathExists(to)) return Status::AlreadyExists(to + " exists already");
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(to.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(dest, sqlite3_close_v2);
  if (rc != SQLITE_OK) return Status::IoError(to + ": cannot create the backup file");
  ::chmod(to.c_str(), 0600);
  SCHAKEL_RETURN_IF_ERROR(KeyConnection(dest, key));
  if (sqlite3_exec(dest, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::Internal("cannot configure the backup's cipher");
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main");
  if (b == nullptr) return Status::Internal(std::string("backup: ") + sqlite3_errmsg(dest));
  do {
    rc = sqlite3_backup_step(b, 256);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    ::unlink(to.c_str());
    if ((rc & 0xff) == SQLITE_FULL) return Status::ResourceExhausted(to + ": disk full");
    return Status::IoError(to + ": backup failed: " + sqlite3_errmsg(dest));
  }
  return Status::Ok();
}

// --- Statement -----------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), pool_(std::move(other.pool_)), bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Let();
    stmt_ = other.stmt_;
    db_ = other.db_;
    pool_ = std::move(other.pool_);
    bind_error_ = std::move(other.bind_error_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { Let(); }

void Statement::Let() {
  if (stmt_ == nullptr) return;
  if (pool_ == nullptr || !pool_->Keep(stmt_)) sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  pool_.reset();
}

Statement& Statement::Bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = Status::Internal("bind " + std::to_string(index));
  }
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK &&
      bind_error_.ok()) {
    bind_error_ = Status::Internal("bind " + std::to_string(index));
  }
  return *this;
}

Statement& Statement::BindOpt(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Statement& Statement::BindBlob(int index, std::span<const uint8_t> blob) {
  if (sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT) != SQLITE_OK &&
      bind_error_.ok()) {
    bind_error_ = Status::Internal("bind " + std::to_string(index));
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  SCHAKEL_RETURN_IF_ERROR(db_->CheckTransactionAlive());
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("step");
}

Status Statement::Run() {
  SCHAKEL_ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  return Status::Ok();
}

Status Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
  return Status::Ok();
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

std::optional<std::string> Statement::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::vector<uint8_t> Statement::Blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::vector<uint8_t>(p, p + n);
}

crypto::SecureBuffer Statement::BlobSecret(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return crypto::SecureBuffer::FromBytes({p, static_cast<size_t>(n)});
}

}  // namespace schakel::store
