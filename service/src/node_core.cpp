#include "schakel/service/node_core.h"

#include <algorithm>

#include "schakel/base/fault_inject.h"
#include "schakel/base/log.h"

namespace schakel::service {

void KeyRing::Load(crypto::SigningKeyPair identity, std::vector<store::EncKey> enc_keys, crypto::TlsIdentity tls) {
  identity_ = std::move(identity);
  MutexLock lock(&mu_);
  tls_ = std::make_shared<const crypto::TlsIdentity>(std::move(tls));
  enc_keys_ = std::move(enc_keys);
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

bool KeyRing::HasEncKey(const crypto::EncKeyId& id) const {
  MutexLock lock(&mu_);
  return std::any_of(enc_keys_.begin(), enc_keys_.end(),
                     [&](const store::EncKey& k) { return crypto::EncryptionKeyId(k.pair.public_key) == id; });
}

void KeyRing::ReplaceEncKeys(std::vector<store::EncKey> keys) {
  MutexLock lock(&mu_);
  enc_keys_ = std::move(keys);
}

Result<crypto::Opened> KeyRing::Open(std::string_view envelope, const crypto::PublicKey& sender_sign_pk,
                                     const std::string& recipient_id) const {
  // The key the envelope names, found here under the lock (which stays held
  // while Open uses it); Open itself checks the envelope and reports an
  // unknown key as it always does.
  auto peek = crypto::PeekHeader(envelope);
  MutexLock lock(&mu_);
  const crypto::EncryptionKeyPair* pair = nullptr;
  for (const auto& k : enc_keys_) {
    if (peek.ok() && crypto::EncryptionKeyId(k.pair.public_key) == peek->recipient_key_id) pair = &k.pair;
  }
  crypto::EncKeyLookup lookup = [pair](const crypto::EncKeyId& id) -> const crypto::EncryptionKeyPair* {
    return pair != nullptr && crypto::EncryptionKeyId(pair->public_key) == id ? pair : nullptr;
  };
  return crypto::Open(envelope, lookup, sender_sign_pk, recipient_id);
}

void NodeCore::Open(std::unique_ptr<store::Database> database, std::unique_ptr<store::Database> reader,
                    std::unique_ptr<audit::AuditLog> log) {
  MutexLock lock(&mu_);
  db_ = std::move(database);
  audit_ = std::move(log);
  MutexLock read_lock(&read_mu_);
  reader_ = std::move(reader);
}

NodeCore::Reading::~Reading() {
  // A statement left stepped holds its snapshot: every later read would see
  // the database as it was then (a disabled token still working). Store
  // functions finalize their statements; this catches one that does not.
  if (int n = core_.reader_->ResetSteppedStatements(); n > 0) {
    LogError("reader: " + std::to_string(n) + " statement(s) left stepped; reset to release the snapshot");
  }
  core_.read_mu_.Unlock();
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
