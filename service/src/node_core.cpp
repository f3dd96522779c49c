#include "schakel/service/node_core.h"

#include <algorithm>
#include <cstdlib>

#include "schakel/base/fault_inject.h"
#include "schakel/base/log.h"

namespace schakel::service {

void KeyRing::Load(crypto::SigningKeyPair identity, std::vector<store::EncKey> enc_keys, crypto::TlsIdentity tls) {
  identity_ = std::move(identity);
  MutexLock lock(&mu_);
  tls_ = std::make_shared<const crypto::TlsIdentity>(std::move(tls));
  enc_keys_ = std::make_shared<const std::vector<store::EncKey>>(std::move(enc_keys));
}

std::shared_ptr<const crypto::TlsIdentity> KeyRing::tls() const {
  MutexLock lock(&mu_);
  return tls_;
}

void KeyRing::ReplaceTls(crypto::TlsIdentity tls) {
  auto next = std::make_shared<const crypto::TlsIdentity>(std::move(tls));
  MutexLock lock(&mu_);
  tls_ = std::move(next);
}

KeyRing::EncKeys KeyRing::enc_keys() const {
  MutexLock lock(&mu_);
  return enc_keys_;
}

bool KeyRing::HasEncKey(const crypto::EncKeyId& id) const {
  EncKeys keys = enc_keys();
  return keys && std::any_of(keys->begin(), keys->end(),
                             [&](const store::EncKey& k) { return crypto::EncryptionKeyId(k.pair.public_key) == id; });
}

void KeyRing::ReplaceEncKeys(std::vector<store::EncKey> keys) {
  auto next = std::make_shared<const std::vector<store::EncKey>>(std::move(keys));
  MutexLock lock(&mu_);
  enc_keys_ = std::move(next);
}

Result<crypto::Opened> KeyRing::Open(std::string_view envelope, const crypto::PublicKey& sender_sign_pk,
                                     const std::string& recipient_id) const {
  // The key the envelope names, found in the set taken now (which `keys`
  // keeps alive while Open uses it); Open itself checks the envelope and
  // reports an unknown key as it always does.
  auto peek = crypto::PeekHeader(envelope);
  EncKeys keys = enc_keys();
  const crypto::EncryptionKeyPair* pair = nullptr;
  if (keys) {
    for (const auto& k : *keys) {
      if (peek.ok() && crypto::EncryptionKeyId(k.pair.public_key) == peek->recipient_key_id) pair = &k.pair;
    }
  }
  crypto::EncKeyLookup lookup = [pair](const crypto::EncKeyId& id) -> const crypto::EncryptionKeyPair* {
    return pair != nullptr && crypto::EncryptionKeyId(pair->public_key) == id ? pair : nullptr;
  };
  return crypto::Open(envelope, lookup, sender_sign_pk, recipient_id);
}

void ReaderPool::Fill(std::vector<std::unique_ptr<store::Database>> readers, size_t capacity,
                      store::ReaderOpener open_more) {
  std::lock_guard<std::mutex> lock(mu_);
  all_ = std::move(readers);
  free_.clear();
  for (auto& r : all_) free_.push_back(r.get());
  open_more_ = std::move(open_more);
  capacity_ = open_more_ ? std::max(capacity, all_.size()) : all_.size();
  opening_ = 0;
}

store::Database* ReaderPool::Take() SCHAKEL_NO_THREAD_SAFETY_ANALYSIS {
  std::unique_lock<std::mutex> lock(mu_);
  if (all_.empty()) {
    LogError("reader pool: a read before the database was opened");
    std::abort();
  }
  while (free_.empty()) {
    if (all_.size() + opening_ >= capacity_) {
      given_.wait(lock);
      continue;
    }
    // Every open one is taken and there is room: open another, without the
    // lock (a few ms of key setup and schema check), and take it.
    ++opening_;
    lock.unlock();
    Result<std::unique_ptr<store::Database>> opened = open_more_();
    lock.lock();
    --opening_;
    if (opened.ok()) {
      all_.push_back(std::move(opened).value());
      return all_.back().get();
    }
    capacity_ = all_.size() + opening_;
    LogError("reader pool: could not open another read-only connection (" + opened.status().message() +
             "); reads go on with the " + std::to_string(all_.size()) + " open");
  }
  store::Database* reader = free_.back();
  free_.pop_back();
  return reader;
}

void ReaderPool::Give(store::Database* reader) SCHAKEL_NO_THREAD_SAFETY_ANALYSIS {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(reader);
  }
  given_.notify_one();
}

size_t ReaderPool::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return all_.size();
}

void NodeCore::Open(std::unique_ptr<store::Database> database, std::vector<std::unique_ptr<store::Database>> readers,
                    std::unique_ptr<audit::AuditLog> log, size_t reader_capacity, store::ReaderOpener open_reader) {
  readers_.Fill(std::move(readers), reader_capacity, std::move(open_reader));
  MutexLock lock(&mu_);
  db_ = std::move(database);
  audit_ = std::move(log);
  if (db_) {
    if (Status st = db_->DeferDurability(); !st.ok()) {
      LogError("database: commits stay flushed under the node lock (" + st.message() + ")");
    }
  }
}

uint64_t NodeCore::CommitsFinished() {
  if (!db_) return 0;
  const uint64_t begun = db_->commits_begun();
  db_->CommitsComplete(begun);
  return begun;
}

void NodeCore::MakeDurable(uint64_t observed) {
  if (!db_) return;
  Status st = db_->MakeDurable(observed);
  if (st.ok()) return;
  // What was committed may not be on the disk, and the caller is about to
  // answer or send as if it were: stop instead (systemd starts the node
  // again; the database is consistent, and what was not answered is asked
  // again or sent again).
  LogError("database: " + st.message() +
           "; stopping before anything that depends on it is answered or sent (check the disk, then start the node "
           "again)");
  std::abort();
}

Status NodeCore::WriteGrouped(const std::function<Status(Held&)>& work) {
  GroupedWrite mine;
  mine.work = &work;
  works_pending_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(group_mu_);
  group_queue_.push_back(&mine);
  while (!mine.done) {
    if (group_leading_) {
      group_cv_.wait(lock);
      continue;
    }
    // Lead: take what waits, oldest first (this thread's own work among
    // them, or it is taken by a later turn).
    group_leading_ = true;
    size_t n = std::min(group_queue_.size(), kMaxGroup);
    std::vector<GroupedWrite*> group(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    group_queue_.erase(group_queue_.begin(), group_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    try {
      RunGroup(group);
    } catch (const std::exception& e) {
      for (GroupedWrite* g : group) {
        if (g->status.ok()) g->status = Status::Internal(std::string("group commit: ") + e.what());
      }
    }
    lock.lock();
    for (GroupedWrite* g : group) g->done = true;
    group_leading_ = false;
    group_cv_.notify_all();
  }
  works_pending_.fetch_sub(1, std::memory_order_relaxed);
  return mine.status;
}

void NodeCore::RunGroup(const std::vector<GroupedWrite*>& group) {
  Held held(*this);
  if (group.size() > 1) {
    store::Transaction tx(held.db());
    Status st = tx.Begin();
    for (GroupedWrite* g : group) {
      if (!st.ok()) break;
      g->status = (*g->work)(held);
      st = g->status;
    }
    if (st.ok()) st = tx.Commit();
    if (st.ok()) {
      groups_committed_.fetch_add(1, std::memory_order_relaxed);
      works_committed_.fetch_add(static_cast<int64_t>(group.size()), std::memory_order_relaxed);
      return;
    }
  }
  // One work alone, or a group that failed (rolled back as `tx` went): each
  // on its own, so that one failure takes no other with it.
  for (GroupedWrite* g : group) {
    store::Transaction tx(held.db());
    g->status = tx.Begin();
    if (g->status.ok()) g->status = (*g->work)(held);
    if (g->status.ok()) g->status = tx.Commit();
    if (g->status.ok()) {
      groups_committed_.fetch_add(1, std::memory_order_relaxed);
      works_committed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

NodeCore::Reading::~Reading() {
  // A transaction left open on the connection holds its snapshot: every
  // later read would see the database as it was then (a disabled token
  // still working). store::ReadSnapshot ends its own; this catches one begun
  // by hand and never ended.
  if (db_->InTransaction()) {
    LogError("reader: a read transaction was left open; ended to release the snapshot");
    db_->Rollback();
  }
  // A statement left stepped holds its snapshot the same way. Store
  // functions finalize their statements; this catches one that does not.
  if (int n = db_->ResetSteppedStatements(); n > 0) {
    LogError("reader: " + std::to_string(n) + " statement(s) left stepped; reset to release the snapshot");
  }
  core_.readers_.Give(db_);
  // What it read may be a commit not yet flushed: made durable before the
  // reader's caller answers or sends it. After the connection is given back,
  // so that a holder of the node lock that wants a reader never waits for
  // this (nor this for it: MakeDurable needs no lock but its own).
  if (durable_ == Durable::kBeforeGoingOn) core_.MakeDurable(core_.CommitsBegun());
}

namespace {

// The one writer under both policies (node_core.h).
Status AppendAudit(NodeCore::Held& held, audit::AuditEvent event) {
  if (event.actor_org.empty()) event.actor_org = held.core().config.node_id;
  if (FaultFail("audit.append")) return Status::IoError("audit log: injected failure (audit.append)");
  auto seq = held.audit().Append(event);
  return seq.ok() ? Status::Ok() : seq.status().WithContext("audit log");
}

}  // namespace

Status AuditOrFail(NodeCore::Held& held, audit::AuditEvent event) { return AppendAudit(held, std::move(event)); }

void AuditBestEffort(NodeCore::Held& held, audit::AuditEvent event) {
  // The subject and reason may be personal; the action and object id are not.
  std::string action = event.action;
  std::string object = event.object;
  Status st = AppendAudit(held, std::move(event));
  if (!st.ok()) LogError("audit: entry " + action + " on " + object + " not written: " + st.message());
}

}  // namespace schakel::service
