#include "migrations.h"

#include <array>

namespace schakel::store {
namespace {

// Version 1: node identity, keys, partners, users.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE identity (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  sign_pk  BLOB NOT NULL CHECK (length(sign_pk) = 32),
  sign_sk  BLOB NOT NULL CHECK (length(sign_sk) = 64),
  created  TEXT NOT NULL
);
CREATE TABLE enc_keys (
  key_id      INTEGER PRIMARY KEY,
  public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
  secret_key  BLOB CHECK (secret_key IS NULL OR length(secret_key) = 32),
  signature   BLOB NOT NULL CHECK (length(signature) = 64),
  created     TEXT NOT NULL,
  retired_at  TEXT,
  wiped_at    TEXT
);
CREATE TABLE tls_identity (
  id           INTEGER PRIMARY KEY,
  cert_pem     TEXT NOT NULL,
  key_pem      BLOB NOT NULL,
  spki_sha256  BLOB NOT NULL CHECK (length(spki_sha256) = 32),
  created      TEXT NOT NULL,
  retired_at   TEXT
);
CREATE TABLE partners (
  node_id          TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  org_type         TEXT NOT NULL,
  address          TEXT NOT NULL,
  sign_pk          BLOB NOT NULL CHECK (length(sign_pk) = 32),
  enc_pk           BLOB NOT NULL CHECK (length(enc_pk) = 32),
  enc_pk_sig       BLOB NOT NULL CHECK (length(enc_pk_sig) = 64),
  tls_spki_sha256  BLOB NOT NULL CHECK (length(tls_spki_sha256) = 32),
  card_created     TEXT NOT NULL,
  card_json        TEXT NOT NULL,
  added            TEXT NOT NULL,
  updated          TEXT NOT NULL
);
CREATE TABLE users (
  user_id     TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('staff', 'coordinator', 'auditor', 'admin')),
  token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created     TEXT NOT NULL,
  disabled_at TEXT
);
)sql";

constexpr std::array<std::string_view, 1> kMigrations = {kV1};

}  // namespace

std::span<const std::string_view> Migrations() { return kMigrations; }

}  // namespace schakel::store
