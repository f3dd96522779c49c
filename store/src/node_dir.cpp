#include "schakel/store/node_dir.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "schakel/base/file.h"

namespace schakel::store {

NodePaths::NodePaths(std::string dir_in, const std::string& key_file_rel)
    : dir(std::move(dir_in)),
      config(dir + "/schakel.toml"),
      secrets(dir + "/secrets"),
      key_file(!key_file_rel.empty() && key_file_rel[0] == '/' ? key_file_rel : dir + "/" + key_file_rel),
      data(dir + "/data"),
      database(dir + "/data/node.db"),
      salt(dir + "/data/node.salt"),
      card(dir + "/node-card.json") {}

Result<crypto::SecureBuffer> PassphraseFromEnv(const std::string& var) {
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0') {
    return Status::InvalidInput("the passphrase environment variable " + var + " is not set or empty");
  }
  return crypto::SecureBuffer::FromBytes({reinterpret_cast<const uint8_t*>(value), std::strlen(value)});
}

Result<crypto::SecureBuffer> TakePassphraseFromEnv(const std::string& var) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer pass, PassphraseFromEnv(var));
  // getenv points into the environment block itself: wipe it there, then
  // drop the variable so no later getenv or child process sees it.
  char* value = std::getenv(var.c_str());
  if (value != nullptr) crypto::Wipe(value, std::strlen(value));
  if (::unsetenv(var.c_str()) != 0) {
    return Status::Internal("cannot unset the passphrase environment variable " + var);
  }
  return pass;
}

Result<crypto::SecureBuffer> LoadDatabaseKey(const NodePaths& paths, const KeySource& source) {
  if (source.passphrase_env.empty()) return crypto::ReadKeyFile(paths.key_file);
  std::optional<crypto::SecureBuffer> read;
  if (source.passphrase == nullptr) {
    SCHAKEL_ASSIGN_OR_RETURN(read, PassphraseFromEnv(source.passphrase_env));
  }
  const crypto::SecureBuffer& pass = source.passphrase != nullptr ? *source.passphrase : *read;
  SCHAKEL_ASSIGN_OR_RETURN(std::string salt_bytes, ReadFileLimited(paths.salt, crypto::kPassphraseSaltBytes));
  if (salt_bytes.size() != crypto::kPassphraseSaltBytes) {
    return Status::Corruption(paths.salt + ": the passphrase salt must be " +
                              std::to_string(crypto::kPassphraseSaltBytes) + " bytes");
  }
  std::array<uint8_t, crypto::kPassphraseSaltBytes> salt{};
  std::memcpy(salt.data(), salt_bytes.data(), salt.size());
  return crypto::DeriveKeyFromPassphrase(std::string_view(reinterpret_cast<const char*>(pass.data()), pass.size()),
                                         salt, source.params);
}

Result<std::unique_ptr<Database>> OpenNodeDatabase(const NodePaths& paths, const KeySource& source) {
  if (!PathExists(paths.database)) {
    return Status::InvalidInput(paths.database + ": no node database (create one with schakel init)");
  }
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer key, LoadDatabaseKey(paths, source));
  return Database::Open(paths.database, key, OpenMode::kExisting);
}

Result<NodeDatabases> OpenNodeDatabases(const NodePaths& paths, const KeySource& source, size_t readers) {
  if (!PathExists(paths.database)) {
    return Status::InvalidInput(paths.database + ": no node database (create one with schakel init)");
  }
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer loaded, LoadDatabaseKey(paths, source));
  auto key = std::make_shared<const crypto::SecureBuffer>(std::move(loaded));
  NodeDatabases out;
  SCHAKEL_ASSIGN_OR_RETURN(out.writer, Database::Open(paths.database, *key, OpenMode::kExisting));
  out.open_reader = [path = paths.database, key]() { return Database::Open(path, *key, OpenMode::kReader); };
  for (size_t i = 0; i < std::max<size_t>(readers, 1); ++i) {
    SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<Database> reader, out.open_reader());
    out.readers.push_back(std::move(reader));
  }
  return out;
}

}  // namespace schakel::store
