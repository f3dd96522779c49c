#include "schakel/service/node_core.h"

#include <algorithm>

#include "schakel/base/fault_inject.h"
#include "schakel/base/log.h"

namespace schakel::service {

void KeyRing::Load(crypto::SigningKeyPair identity, std::vector<store::EncKey> enc_keys, crypto::TlsIdentity tls) {
  identity_ = std::move(identity);
  tls_ = std::move(tls);
  MutexLock lock(&mu_);
  enc_keys_ = std::move(enc_keys);
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
  MutexLock lock(&mu_);
  const std::vector<store::EncKey>& keys = enc_keys_;  // read under the lock; the lookup runs inside it
  crypto::EncKeyLookup lookup = [&keys](const crypto::EncKeyId& id) -> const crypto::EncryptionKeyPair* {
    for (const auto& k : keys) {
      if (crypto::EncryptionKeyId(k.pair.public_key) == id) return &k.pair;
    }
    return nullptr;
  };
  return crypto::Open(envelope, lookup, sender_sign_pk, recipient_id);
}

void NodeCore::Open(std::unique_ptr<store::Database> database, std::unique_ptr<audit::AuditLog> log) {
  std::lock_guard<std::mutex> lock(mu);
  db = std::move(database);
  audit = std::move(log);
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

// Being removed with NodeCore::mu (link_service.cpp): the caller holds mu.
Status AuditOrFail(NodeCore& core, audit::AuditEvent event) {
  if (event.actor_org.empty()) event.actor_org = core.config.node_id;
  if (FaultFail("audit.append")) return Status::IoError("audit log: injected failure (audit.append)");
  auto seq = core.audit->Append(event);
  return seq.ok() ? Status::Ok() : seq.status().WithContext("audit log");
}

void AuditBestEffort(NodeCore& core, audit::AuditEvent event) {
  std::string action = event.action;
  std::string object = event.object;
  Status st = AuditOrFail(core, std::move(event));
  if (!st.ok()) LogError("audit: entry " + action + " on " + object + " not written: " + st.message());
}

}  // namespace schakel::service
