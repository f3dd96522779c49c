// The state of a running node shared by its parts (API, console, link
// pages, delivery worker, peer handler, maintenance timer), behind narrow
// interfaces:
//
// - The database and the audit log are reached only through a NodeCore::Held,
//   which holds the node lock for its lifetime (`NodeCore::Held held(core);`
//   or `core.WithDb([&](NodeCore::Held& held) {...})`). A function that needs
//   the lock takes a Held&, so the requirement is in its type. No one holds
//   it across network I/O, Argon2id or sealing: read what is needed, let go,
//   do the slow work, take it again and check nothing changed.
// - Keys are in a KeyRing with its own lock: the identity and TLS key are set
//   at start-up and read-only afterwards; the encryption keys can be reloaded
//   while running (a key rotated by `schakel node rotate-keys`).
// - Config, clock and protocol are set at start-up and read-only afterwards.
//
// - Reads that change nothing and must not wait on a writer (lists, status,
//   metrics, token checks, the delivery lanes' queues) go through a
//   NodeCore::Reading: one of a few read-only connections to the same
//   database, taken from the reader pool for the Reading's lifetime (a
//   Reading waits only when every one is taken). SQLite's WAL lets them
//   read beside a writer and beside each other; each statement sees what was
//   committed when it started, and reads whose figures must agree take one
//   store::ReadSnapshot. An audited read reads under Reading, lets go,
//   then writes its entry under Held before it shows anything.
//
// - Commits are made durable after the node lock is let go (Durability
//   below): a Held or a Reading lets go only once what it wrote or saw is
//   on the disk, unless its caller leaves that to a later Held.
//
// Lock order (docs/performance.md "Locks"): the node lock, then a reader,
// then the key ring's lock; never the other way. A reader is a leaf in
// practice: nothing else is taken while it is held, and never a second
// reader (with every reader taken that would wait for ever). The
// annotations (base/thread_annotations.h) let clang check this (`./dev lint`).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/base/histogram.h"
#include "schakel/base/thread_annotations.h"
#include "schakel/config/node_config.h"
#include "schakel/consent/protocol.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/service/on_the_wire.h"
#include "schakel/service/reachability.h"
#include "schakel/store/database.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/records.h"

namespace schakel::service {

// This node's keys.
class KeyRing {
 public:
  // At start-up, before any other thread runs.
  void Load(crypto::SigningKeyPair identity, std::vector<store::EncKey> enc_keys, crypto::TlsIdentity tls);

  const crypto::SigningKeyPair& identity() const { return identity_; }
  // The TLS identity this node presents now; ReplaceTls swaps it.
  std::shared_ptr<const crypto::TlsIdentity> tls() const SCHAKEL_EXCLUDES(mu_);
  void ReplaceTls(crypto::TlsIdentity tls) SCHAKEL_EXCLUDES(mu_);

  // Whether an encryption key (current or retired) with this id is held.
  bool HasEncKey(const crypto::EncKeyId& id) const SCHAKEL_EXCLUDES(mu_);
  // Replaces the encryption keys, e.g. after a rotation or a wipe of retired ones.
  void ReplaceEncKeys(std::vector<store::EncKey> keys) SCHAKEL_EXCLUDES(mu_);
  // Opens an envelope with the keys held. The ring's lock is held only to
  // take the set of keys (shared: a replacement meanwhile leaves it whole,
  // and its secrets are wiped when the last open using it ends), not while
  // opening, so envelopes open side by side.
  Result<crypto::Opened> Open(std::string_view envelope, const crypto::PublicKey& sender_sign_pk,
                              const std::string& recipient_id) const SCHAKEL_EXCLUDES(mu_);

 private:
  using EncKeys = std::shared_ptr<const std::vector<store::EncKey>>;
  EncKeys enc_keys() const SCHAKEL_EXCLUDES(mu_);

  crypto::SigningKeyPair identity_;
  mutable Mutex mu_;
  std::shared_ptr<const crypto::TlsIdentity> tls_ SCHAKEL_GUARDED_BY(mu_);
  EncKeys enc_keys_ SCHAKEL_GUARDED_BY(mu_);  // current and retired, for opening
};

// The read-only connections. A capability for the analysis: a thread holds
// it while it has a connection taken, so taking a second is flagged.
class SCHAKEL_CAPABILITY("reader pool") ReaderPool {
 public:
  // How many the daemon may have open: the API's handler threads, the lanes
  // and the console read at once on two cores; each costs a connection's
  // page cache (about 0.35 MiB) and a few ms to open. It opens one at
  // start-up and the others when reads first overlap.
  static constexpr size_t kReaders = 3;

  // At start-up, before any Take: the connections opened (at least one) and,
  // with `open_more`, up to `capacity` in all, the others opened by Take
  // when every open one is taken.
  void Fill(std::vector<std::unique_ptr<store::Database>> readers, size_t capacity = 0,
            store::ReaderOpener open_more = {});
  // A free connection, the last given back first (its cache is warm). With
  // every open one taken: opens another (outside the pool's lock) while
  // fewer than `capacity` are open, else waits. A connection that cannot
  // be opened is logged once and not tried again; reads go on with those
  // open.
  store::Database* Take() SCHAKEL_ACQUIRE();
  void Give(store::Database* reader) SCHAKEL_RELEASE();
  // How many are open now (NodeCore::readers_open, for tests).
  size_t open_count() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable given_;
  std::vector<std::unique_ptr<store::Database>> all_;  // GUARDED_BY(mu_)
  std::vector<store::Database*> free_;                 // GUARDED_BY(mu_)
  size_t capacity_ = 0;                                // GUARDED_BY(mu_)
  size_t opening_ = 0;                                 // GUARDED_BY(mu_)
  store::ReaderOpener open_more_;                      // set by Fill only
};

class NodeCore {
 public:
  std::string dir;
  config::NodeConfig config;
  const Clock* clock = nullptr;
  consent::Protocol protocol;
  audit::AuditLogOptions audit_options;  // as the audit log was created with
  KeyRing keys;

  // What a Held or a Reading does as it lets go (Durability below):
  // kBeforeGoingOn makes what it wrote or saw durable before its caller
  // goes on. kByALaterHolder leaves that to a later Held of the same
  // thread: only for a caller that sends and answers nothing that depends
  // on it before such a Held (kBeforeGoingOn) has let go -- a delivery
  // lane, whose rounds go out only after the Held that marks them sending
  // (one flush for the lane's record of a round, its read of the next and
  // its mark of it).
  enum class Durable { kBeforeGoingOn, kByALaterHolder };

  // The node lock and, while it is held, the database and the audit log.
  class SCHAKEL_SCOPED_CAPABILITY Held {
   public:
    // Counts how long the lock was waited for and held, and how much of
    // the holding this thread ran on a CPU (lock_stats()).
    explicit Held(NodeCore& core, Durable durable = Durable::kBeforeGoingOn) SCHAKEL_ACQUIRE(core.mu_)
        : core_(core), durable_(durable) {
      const auto asked = std::chrono::steady_clock::now();
      core_.mu_.Lock();
      taken_ = std::chrono::steady_clock::now();
      cpu_taken_ = ThreadCpuNanos();
      core_.lock_waited_ns_.fetch_add(Nanos(taken_ - asked), std::memory_order_relaxed);
    }
    ~Held() SCHAKEL_RELEASE() {
      // The CPU time is read inside the wall time and added after it: a
      // reader never sees more of the one than of the other.
      const int64_t cpu = ThreadCpuNanos() - cpu_taken_;
      core_.lock_held_ns_.fetch_add(Nanos(std::chrono::steady_clock::now() - taken_), std::memory_order_relaxed);
      core_.lock_held_cpu_ns_.fetch_add(cpu, std::memory_order_release);
      core_.lock_taken_.fetch_add(1, std::memory_order_relaxed);
      // Every commit made under the lock has finished; once it is let go,
      // what this holder saw or wrote is made durable before its caller
      // goes on (NodeCore::MakeDurable).
      const uint64_t begun = core_.CommitsFinished();
      core_.mu_.Unlock();
      if (durable_ == Durable::kBeforeGoingOn) core_.MakeDurable(begun);
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

    // A Held is alive, so the node lock is held: the analysis cannot follow
    // that from `held.core_.mu_` to the `core.mu_` the constructor took.
    store::Database& db() SCHAKEL_NO_THREAD_SAFETY_ANALYSIS { return *core_.db_; }
    audit::AuditLog& audit() SCHAKEL_NO_THREAD_SAFETY_ANALYSIS { return *core_.audit_; }
    NodeCore& core() { return core_; }

   private:
    static int64_t Nanos(std::chrono::steady_clock::duration d) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    }
    // This thread's CPU time (CLOCK_THREAD_CPUTIME_ID); 0 if unreadable.
    static int64_t ThreadCpuNanos() {
      timespec t{};
      if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
      return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
    }
    NodeCore& core_;
    const Durable durable_;
    std::chrono::steady_clock::time_point taken_;
    int64_t cpu_taken_ = 0;
  };

  // A read-only connection from the pool, this Reading's alone while it lives.
  class SCHAKEL_SCOPED_CAPABILITY Reading {
   public:
    explicit Reading(NodeCore& core, Durable durable = Durable::kBeforeGoingOn) SCHAKEL_ACQUIRE(core.readers_)
        : core_(core), durable_(durable), db_(core_.readers_.Take()) {}
    ~Reading() SCHAKEL_RELEASE();
    Reading(const Reading&) = delete;
    Reading& operator=(const Reading&) = delete;

    // Only reads: the connection is query_only, a write fails.
    store::Database& db() { return *db_; }

   private:
    NodeCore& core_;
    const Durable durable_;
    store::Database* db_;
  };

  // Runs f(Reading&) with a reader and returns what it returns.
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<Reading&>())) {
    Reading r(*this);
    return std::forward<F>(f)(r);
  }

  // Runs f(Held&) under the node lock and returns what it returns.
  template <typename F>
  auto WithDb(F&& f) -> decltype(f(std::declval<Held&>())) {
    Held held(*this);
    return std::forward<F>(f)(held);
  }

  // Group commit (docs/performance.md "Group commit of the API's shares"):
  // runs work(held) under the node lock inside one transaction with the work
  // of the other threads that arrived meanwhile (at most kMaxGroup), and
  // returns once that transaction has committed: one durable commit for the
  // group instead of one each. `work` returns an error to have its writes
  // undone; the group it was in is then rolled back and each work of it run
  // again in a transaction of its own, so that one failure takes no other
  // with it. Work must therefore be safe to run twice: it reads what it
  // needs under the lock, changes nothing but the database, opens no
  // transaction of its own and answers through what it captured (an answer
  // that is a refusal with an audit entry is Ok: the entry stays). Returns
  // work's error, or the commit's; Ok once what work wrote is durable.
  static constexpr size_t kMaxGroup = 32;
  Status WriteGrouped(const std::function<Status(Held&)>& work) SCHAKEL_EXCLUDES(mu_);
  // How many groups committed and how many works they held (since start),
  // and how many works wait for their group's commit now.
  struct GroupStats {
    int64_t groups = 0;
    int64_t works = 0;
    int64_t pending = 0;
  };
  // Whether a group is being run now, and how many works wait for their
  // turn (tests).
  bool group_leading() {
    std::lock_guard<std::mutex> lock(group_mu_);
    return group_leading_;
  }
  size_t group_waiting() {
    std::lock_guard<std::mutex> lock(group_mu_);
    return group_queue_.size();
  }
  // How many read-only connections are open now (tests).
  size_t readers_open() const { return readers_.open_count(); }
  // The node lock since start: how often it was taken, and the seconds it
  // was waited for and held in all (metrics: held over wall time is the
  // share of time it was held; at a few hundred shares a second nearly all
  // of it is durable commits), and of the held seconds those its holders
  // ran on a CPU (the rest they waited: for the disk, or for a CPU).
  struct LockStats {
    int64_t taken = 0;
    double waited_seconds = 0;
    double held_seconds = 0;
    double held_cpu_seconds = 0;
  };
  LockStats lock_stats() const {
    // The CPU time first: what it holds, the held time read after holds too.
    const int64_t cpu = lock_held_cpu_ns_.load(std::memory_order_acquire);
    return {lock_taken_.load(std::memory_order_relaxed),
            static_cast<double>(lock_waited_ns_.load(std::memory_order_relaxed)) / 1e9,
            static_cast<double>(lock_held_ns_.load(std::memory_order_relaxed)) / 1e9, static_cast<double>(cpu) / 1e9};
  }
  // Pages the writer connection has written in its commits since start
  // (store::Database::pages_written). The connection is set once by Open,
  // before any reader of this, and its count is atomic: no lock needed.
  int64_t pages_written() const SCHAKEL_NO_THREAD_SAFETY_ANALYSIS { return db_ ? db_->pages_written() : 0; }
  GroupStats group_stats() const {
    return {groups_committed_.load(std::memory_order_relaxed), works_committed_.load(std::memory_order_relaxed),
            works_pending_.load(std::memory_order_relaxed)};
  }

  // At start-up: the opened database, its readers (at least one) and the
  // audit log. The node lock is not needed yet (no other thread runs), and
  // is taken anyway. The database's commits are made durable after the
  // node lock is let go (Durability below).
  void Open(std::unique_ptr<store::Database> database, std::vector<std::unique_ptr<store::Database>> readers,
            std::unique_ptr<audit::AuditLog> log, size_t reader_capacity = 0, store::ReaderOpener open_reader = {})
      SCHAKEL_EXCLUDES(mu_);

  // Durability (docs/performance.md "Durable after the lock"): the writer
  // commits without waiting for the disk; the log is flushed after the
  // node lock is let go, one flush for the commits of every holder that
  // comes meanwhile, and before the holder goes on. So nothing a Held
  // wrote or saw is answered or sent before it is durable, and no holder
  // waits for the disk on another's behalf. A Reading makes durable what it
  // may have seen as it lets go (a read of something not yet flushed waits
  // for that flush, or makes it). A Held or Reading made with
  // Durable::kByALaterHolder leaves this to the next Held of its thread
  // (a delivery lane's). How many flushes were made (tests, /metrics).
  int64_t durable_flushes() const SCHAKEL_NO_THREAD_SAFETY_ANALYSIS { return db_ ? db_->durable_flushes() : 0; }

  // What was last seen of each partner (status); has its own lock.
  Reachability reachability;
  // The shares a lane has sent whose answer is not recorded (on_the_wire.h);
  // changed only under the node lock, read under it or beside it.
  SharesOnTheWire on_the_wire;
  // Where a delivery's time goes (peer::DeliveryWorker; /metrics
  // schakel_delivery_stage_seconds; docs/performance.md "2026-12-06,
  // midday"): for each share or revocation whose answer was recorded,
  // the seconds from its queueing until a lane read it (queued), planning
  // its round (plan), opening the connection if need be and marking the
  // round sending (connect_mark), writing it (send), until its answers were
  // read (answer; on a pipelined round this holds the lane's work on the
  // next round), recording them (record), and from its queueing until then
  // (total). Lock-free.
  enum DeliveryStage : size_t { kQueued, kPlan, kConnectMark, kSend, kAnswer, kRecord, kTotal, kDeliveryStages };
  static constexpr std::array<const char*, kDeliveryStages> kDeliveryStageNames{
      "queued", "plan", "connect_mark", "send", "answer", "record", "total"};
  std::array<DurationHistogram, kDeliveryStages> delivery_stages;
  // When the daemon's maintenance timer (retention, audit checkpoints) fires
  // next, in ms since the epoch on `clock`; 0 before it is scheduled.
  std::atomic<int64_t> next_maintenance_ms{0};
  std::chrono::milliseconds maintenance_interval{0};

  // Wakes the delivery worker when something is queued.
  std::mutex wake_mu;
  std::condition_variable wake;
  bool wake_pending = false;  // GUARDED_BY(wake_mu)
  // Partners that connected to this node since the delivery last looked
  // (GUARDED_BY(wake_mu)); their node is up, so what waits for them goes
  // without waiting out its backoff (peer::DeliveryWorker). Only partners
  // identified by their pinned key get here; bounded all the same.
  std::set<std::string> connected_partners;
  static constexpr size_t kMaxConnectedPartners = 4096;

  void WakeDelivery() {
    {
      std::lock_guard<std::mutex> lock(wake_mu);
      wake_pending = true;
    }
    wake.notify_all();
  }
  // A partner connected and identified itself (the peer server's thread).
  void PartnerConnected(const std::string& node_id) {
    {
      std::lock_guard<std::mutex> lock(wake_mu);
      if (connected_partners.size() < kMaxConnectedPartners) connected_partners.insert(node_id);
      wake_pending = true;
    }
    wake.notify_all();
  }

 private:
  Mutex mu_;  // the node lock
  std::unique_ptr<store::Database> db_ SCHAKEL_PT_GUARDED_BY(mu_);
  std::unique_ptr<audit::AuditLog> audit_ SCHAKEL_PT_GUARDED_BY(mu_);
  ReaderPool readers_;

  // WriteGrouped's queue: a leaf lock, never held while the node lock is
  // taken. One thread at a time leads: it takes the waiting works and runs
  // them as one group under the node lock; the others wait for their turn.
  struct GroupedWrite {
    const std::function<Status(Held&)>* work = nullptr;
    Status status;
    bool done = false;
  };
  void RunGroup(const std::vector<GroupedWrite*>& group) SCHAKEL_EXCLUDES(mu_);
  // Held, as it lets go: how many commits have begun, every one of them
  // finished (they are made under the lock); then, without the lock, makes
  // them durable. A flush that fails stops the process (node_core.cpp).
  uint64_t CommitsFinished() SCHAKEL_NO_THREAD_SAFETY_ANALYSIS;
  void MakeDurable(uint64_t observed) SCHAKEL_NO_THREAD_SAFETY_ANALYSIS;
  // How many commits have begun (a Reading, as it lets go: any it saw among them).
  uint64_t CommitsBegun() const SCHAKEL_NO_THREAD_SAFETY_ANALYSIS { return db_ ? db_->commits_begun() : 0; }
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<GroupedWrite*> group_queue_;  // GUARDED_BY(group_mu_)
  bool group_leading_ = false;              // GUARDED_BY(group_mu_)
  std::atomic<int64_t> groups_committed_{0};
  std::atomic<int64_t> works_committed_{0};
  std::atomic<int64_t> works_pending_{0};
  std::atomic<int64_t> lock_taken_{0};        // Held: times the node lock was let go
  std::atomic<int64_t> lock_waited_ns_{0};    // Held: waiting for it
  std::atomic<int64_t> lock_held_ns_{0};      // Held: holding it
  std::atomic<int64_t> lock_held_cpu_ns_{0};  // Held: holding it, on a CPU
};

}  // namespace schakel::service

namespace schakel::service {

// The fields of an audit entry besides the actor.
struct AuditWhat {
  std::string action;
  std::string subject;
  std::string object;
  std::string purpose;
  std::string legal_basis;
  std::string outcome;
  std::string reason;
};

// What went to whom: the fields of audit entry format 2 (docs/audit.md).
// Empty where they do not apply.
struct AuditTo {
  std::string recipient;   // partner node id, a link's holder, an inbox item's assignee
  std::string categories;  // "gezin,school"
  std::string consents;    // consent ids, comma-separated
};
// For a share (to the partner), a dossier link (to its holder, "name (type)")
// and a received share (to the user it is assigned to, if any).
AuditTo ShareTo(const store::ShareRecord& s);
// Consent ids for AuditTo::consents: as many as fit the field, then ",+N more".
std::string AuditIds(const std::vector<std::string>& ids);
AuditTo LinkTo(const store::LinkRecord& l);
AuditTo InboxTo(const store::InboxRecord& r);
// InboxTo for the moment it is assigned to `user_id`.
AuditTo AssignedTo(const store::InboxRecord& r, const std::string& user_id);

// An event by the node itself ("schakeld", role "system").
audit::AuditEvent SystemEvent(AuditWhat what, std::string source, AuditTo to = {});

// The audit policy (docs/audit.md). An action on personal data happens only
// once its audit entry is written; an entry about something that did not
// happen may be lost, but not silently. Each entry is written by exactly one
// of these two, chosen where it is written:
//
// AuditOrFail: for everything that happens (content shown, data stored,
// changed, sent, deleted, a link made or expired). On an error the caller
// MUST NOT go on: it rolls back the transaction holding the action, does
// not show the content, and answers an error. Write the entry inside the
// action's transaction, before its commit.
//
// AuditBestEffort: only for entries about things that did not happen
// (denials and refusals, a link's code page viewed without content, a
// dry run). A failure is logged at error level with the action, the object
// id and the status message only (never the subject, reason or anything
// personal) and the caller goes on with its refusal.
//
// Both fill actor_org with this node's id.
[[nodiscard]] Status AuditOrFail(NodeCore::Held& held, audit::AuditEvent event);
void AuditBestEffort(NodeCore::Held& held, audit::AuditEvent event);

}  // namespace schakel::service
