// The layout of a node directory (CONTRACT.md "Node directory") and how its
// database is opened: with the raw key from secrets/db.key (0600), or in
// passphrase mode with Argon2id over the passphrase in an environment
// variable and the salt stored beside the database (data/node.salt).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/key_derivation.h"
#include "schakel/crypto/secure_buffer.h"
#include "schakel/store/database.h"

namespace schakel::store {

struct NodePaths {
  explicit NodePaths(std::string dir_in, const std::string& key_file_rel = "secrets/db.key");
  std::string dir;
  std::string config;    // DIR/schakel.toml
  std::string secrets;   // DIR/secrets
  std::string key_file;  // DIR/secrets/db.key (or as configured)
  std::string data;      // DIR/data
  std::string database;  // DIR/data/node.db
  std::string salt;      // DIR/data/node.salt (passphrase mode)
  std::string card;      // DIR/node-card.json
};

// How the database key is obtained.
struct KeySource {
  std::string key_file;        // used when passphrase_env is empty
  std::string passphrase_env;  // environment variable holding the passphrase
  crypto::PassphraseParams params;
  // The passphrase already taken from the environment (TakePassphraseFromEnv,
  // by schakeld before any thread starts); null: read passphrase_env.
  const crypto::SecureBuffer* passphrase = nullptr;
};

// Reads or derives the node's database key.
Result<crypto::SecureBuffer> LoadDatabaseKey(const NodePaths& paths, const KeySource& source);

// Opens the existing node database.
Result<std::unique_ptr<Database>> OpenNodeDatabase(const NodePaths& paths, const KeySource& source);

// Opens one more read-only connection (OpenMode::kReader) to the database
// with the key it was first opened with.
using ReaderOpener = std::function<Result<std::unique_ptr<Database>>()>;

// The daemon's connections to its database, opened with one key (one
// Argon2id in passphrase mode): the writer, which migrates, and `readers`
// read-only ones (OpenMode::kReader, at least one) for the reads that must
// not wait on a writer. `open_reader` opens more later, when they are
// needed: it keeps the key in guarded memory while it lives (each SQLCipher
// connection holds the key as long anyway).
struct NodeDatabases {
  std::unique_ptr<Database> writer;
  std::vector<std::unique_ptr<Database>> readers;
  ReaderOpener open_reader;
};
Result<NodeDatabases> OpenNodeDatabases(const NodePaths& paths, const KeySource& source, size_t readers);

// Reads the passphrase from the environment variable; kInvalidInput if unset
// or empty. The returned buffer holds the passphrase bytes.
Result<crypto::SecureBuffer> PassphraseFromEnv(const std::string& var);

// The same, for a long-lived process: the value is copied into guarded
// memory, its bytes in the environment block are overwritten with zeros
// (what /proc/PID/environ and a core dump would show) and the variable is
// unset. Not thread-safe (setenv/getenv are not): call it before any thread
// starts. A second call finds the variable gone (kInvalidInput).
Result<crypto::SecureBuffer> TakePassphraseFromEnv(const std::string& var);

}  // namespace schakel::store
