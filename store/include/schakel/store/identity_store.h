// The node's own keys inside the encrypted database: the identity signing key,
// the encryption keys (current and retired, kept until nothing addressed to
// them can still arrive), the TLS identity, and small metadata.
//
// Private keys are read straight into SecureBuffer. Errors are Status values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct EncKey {
  int64_t key_id = 0;
  crypto::EncryptionKeyPair pair;
  std::string created;
  std::optional<std::string> retired_at;
};

// Writes a brand-new node's keys in one transaction. Fails if an identity
// exists already.
Status SaveNewIdentity(Database& db, const crypto::SigningKeyPair& identity,
                       const crypto::EncryptionKeyPair& enc, const crypto::TlsIdentity& tls,
                       const std::string& created);

Result<crypto::SigningKeyPair> LoadIdentity(Database& db);
// The newest encryption key that is not retired.
Result<EncKey> LoadCurrentEncKey(Database& db, const crypto::SigningKeyPair& identity);
// Every encryption key whose secret is still kept (current and retired).
Result<std::vector<EncKey>> LoadUsableEncKeys(Database& db, const crypto::SigningKeyPair& identity);
Result<crypto::TlsIdentity> LoadCurrentTls(Database& db);

// Key rotation in one transaction: marks every current encryption key and
// TLS identity retired_at = `now` (their secrets stay, so envelopes sealed to
// an old key while it was published still open through LoadUsableEncKeys),
// inserts `enc` and `tls` as the current ones and stores the new signed card
// as meta "node_card". Returns the new encryption key's key_id.
Result<int64_t> RotateKeys(Database& db, const crypto::EncryptionKeyPair& enc,
                           const crypto::TlsIdentity& tls, const std::string& card_json,
                           const std::string& now);

// Wipes the secret halves of encryption keys retired before `cutoff`: after
// the grace period nothing sealed to them is expected any more. Returns the
// ids of the keys wiped.
Result<std::vector<int64_t>> WipeRetiredEncKeys(Database& db, Instant cutoff, const std::string& now);

Status SetMeta(Database& db, const std::string& key, const std::string& value);
Result<std::optional<std::string>> GetMeta(Database& db, const std::string& key);

}  // namespace schakel::store
