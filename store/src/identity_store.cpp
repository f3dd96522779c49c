#include "schakel/store/identity_store.h"

namespace schakel::store {

Status SaveNewIdentity(Database& db, const crypto::SigningKeyPair& identity, const crypto::EncryptionKeyPair& enc,
                       const crypto::TlsIdentity& tls, const std::string& created) {
  Transaction tx(db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                             db.Prepare("INSERT INTO identity (id, sign_pk, sign_sk, created) VALUES (1, ?, ?, ?);"));
    SCHAKEL_RETURN_IF_ERROR(
        s.BindBlob(1, identity.public_key).BindBlob(2, identity.secret.span()).Bind(3, created).Run());
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO enc_keys (public_key, secret_key, signature, created) VALUES (?, ?, ?, ?);"));
    SCHAKEL_RETURN_IF_ERROR(
        s.BindBlob(1, enc.public_key).BindBlob(2, enc.secret.span()).BindBlob(3, enc.signature).Bind(4, created).Run());
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO tls_identity (cert_pem, key_pem, spki_sha256, created) VALUES (?, ?, ?, ?);"));
    SCHAKEL_RETURN_IF_ERROR(s.Bind(1, tls.certificate_pem)
                                .BindBlob(2, tls.private_key_pem.span())
                                .BindBlob(3, tls.spki_sha256)
                                .Bind(4, created)
                                .Run());
  }
  return tx.Commit();
}

Result<crypto::SigningKeyPair> LoadIdentity(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT sign_sk FROM identity WHERE id = 1;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Corruption(db.path() + ": the node has no identity key");
  crypto::SecureBuffer secret = s.BlobSecret(0);
  auto pair = crypto::SigningKeyPairFromSecret(secret.span());
  if (!pair.ok()) return pair.status().WithContext(db.path() + ": stored identity key");
  return pair;
}

namespace {

Result<std::vector<EncKey>> QueryEncKeys(Database& db, const crypto::SigningKeyPair& identity, const char* sql) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  std::vector<EncKey> out;
  while (true) {
    SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    crypto::SecureBuffer secret = s.BlobSecret(1);
    auto pair = crypto::EncryptionKeyPairFromSecret(secret.span(), identity);
    if (!pair.ok()) return pair.status().WithContext(db.path() + ": stored encryption key");
    EncKey k;
    k.key_id = s.Int(0);
    k.pair = std::move(pair).value();
    k.created = s.Text(2);
    k.retired_at = s.OptText(3);
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace

Result<EncKey> LoadCurrentEncKey(Database& db, const crypto::SigningKeyPair& identity) {
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<EncKey> keys,
                           QueryEncKeys(db, identity,
                                        "SELECT key_id, secret_key, created, retired_at FROM enc_keys "
                                        "WHERE retired_at IS NULL AND secret_key IS NOT NULL "
                                        "ORDER BY key_id DESC LIMIT 1;"));
  if (keys.empty()) return Status::Corruption(db.path() + ": the node has no current encryption key");
  return std::move(keys.front());
}

Result<std::vector<EncKey>> LoadUsableEncKeys(Database& db, const crypto::SigningKeyPair& identity) {
  return QueryEncKeys(db, identity,
                      "SELECT key_id, secret_key, created, retired_at FROM enc_keys "
                      "WHERE secret_key IS NOT NULL ORDER BY key_id;");
}

Result<crypto::TlsIdentity> LoadCurrentTls(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("SELECT cert_pem, key_pem, spki_sha256 FROM tls_identity WHERE retired_at IS NULL "
                              "ORDER BY id DESC LIMIT 1;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Corruption(db.path() + ": the node has no TLS identity");
  crypto::TlsIdentity tls;
  tls.certificate_pem = s.Text(0);
  tls.private_key_pem = s.BlobSecret(1);
  auto pin = s.Blob(2);
  if (pin.size() != 32) return Status::Corruption(db.path() + ": bad stored TLS pin");
  std::copy(pin.begin(), pin.end(), tls.spki_sha256.begin());
  return tls;
}

Result<std::optional<crypto::TlsIdentity>> LoadWebTls(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT cert_pem, key_pem FROM web_tls WHERE id = 1;"));
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<crypto::TlsIdentity>();
  crypto::TlsIdentity tls;
  tls.certificate_pem = s.Text(0);
  tls.private_key_pem = s.BlobSecret(1);
  auto pin = crypto::SpkiSha256FromCertificatePem(tls.certificate_pem);
  if (!pin.ok()) return Status::Corruption(db.path() + ": stored web certificate: " + pin.status().message());
  tls.spki_sha256 = *pin;
  return std::optional<crypto::TlsIdentity>(std::move(tls));
}

Status SaveWebTls(Database& db, const crypto::TlsIdentity& tls, const std::string& created) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("INSERT OR REPLACE INTO web_tls (id, cert_pem, key_pem, created) VALUES (1, ?, ?, ?);"));
  return s.Bind(1, tls.certificate_pem).BindBlob(2, tls.private_key_pem.span()).Bind(3, created).Run();
}

Result<int64_t> RotateKeys(Database& db, const crypto::EncryptionKeyPair& enc, const crypto::TlsIdentity& tls,
                           const std::string& card_json, const std::string& now) {
  Transaction tx(db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE enc_keys SET retired_at = ? WHERE retired_at IS NULL;"));
    SCHAKEL_RETURN_IF_ERROR(s.Bind(1, now).Run());
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                             db.Prepare("UPDATE tls_identity SET retired_at = ? WHERE retired_at IS NULL;"));
    SCHAKEL_RETURN_IF_ERROR(s.Bind(1, now).Run());
  }
  int64_t key_id = 0;
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO enc_keys (public_key, secret_key, signature, created) VALUES (?, ?, ?, ?);"));
    SCHAKEL_RETURN_IF_ERROR(
        s.BindBlob(1, enc.public_key).BindBlob(2, enc.secret.span()).BindBlob(3, enc.signature).Bind(4, now).Run());
    key_id = db.LastInsertRowId();
  }
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO tls_identity (cert_pem, key_pem, spki_sha256, created) VALUES (?, ?, ?, ?);"));
    SCHAKEL_RETURN_IF_ERROR(s.Bind(1, tls.certificate_pem)
                                .BindBlob(2, tls.private_key_pem.span())
                                .BindBlob(3, tls.spki_sha256)
                                .Bind(4, now)
                                .Run());
  }
  SCHAKEL_RETURN_IF_ERROR(SetMeta(db, "node_card", card_json));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  return key_id;
}

Result<std::vector<int64_t>> WipeRetiredEncKeys(Database& db, Instant cutoff, const std::string& now) {
  std::vector<int64_t> due;
  {
    SCHAKEL_ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("SELECT key_id, retired_at FROM enc_keys WHERE retired_at IS NOT NULL AND secret_key IS NOT NULL;"));
    while (true) {
      SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto retired = ParseInstant(s.Text(1));
      if (retired.ok() && *retired < cutoff) due.push_back(s.Int(0));
    }
  }
  for (int64_t id : due) {
    // secure_delete is on, so SQLite zeroes the freed bytes in its pages.
    SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                             db.Prepare("UPDATE enc_keys SET secret_key = NULL, wiped_at = ? WHERE key_id = ?;"));
    SCHAKEL_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, id).Run());
  }
  return due;
}

Status SetMeta(Database& db, const std::string& key, const std::string& value) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?);"));
  return s.Bind(1, key).Bind(2, value).Run();
}

Result<std::optional<std::string>> GetMeta(Database& db, const std::string& key) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT value FROM meta WHERE key = ?;"));
  s.Bind(1, key);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

}  // namespace schakel::store
