// Private to cli/: opening the node of --dir for offline commands, and small
// output helpers shared by the command groups.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "schakel/config/node_config.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/database.h"
#include "schakel/store/node_dir.h"

namespace schakel::cli {

struct OfflineNode {
  config::NodeConfig config;
  store::NodePaths paths;
  std::unique_ptr<store::Database> db;
};

// Loads DIR/schakel.toml and opens DIR/data/node.db with the configured key.
Result<OfflineNode> OpenOfflineNode(const std::string& dir);

store::KeySource KeySourceFor(const config::NodeConfig& config, const store::NodePaths& paths);

// Appends an audit entry for an offline admin action (partner and user
// changes) to the node's log, signed like the daemon's. The actor is the
// local operating-system user, since offline commands carry no token.
Status AuditOffline(OfflineNode& node, const std::string& action, const std::string& object, const std::string& reason);
// The same with another actor (a coordinator confirming offline with their
// own token).
Status AuditOfflineAs(OfflineNode& node, const std::string& actor_user, const std::string& actor_role,
                      const std::string& action, const std::string& object, const std::string& reason);
// "os:<user>", the local operating-system user who runs an offline command.
std::string OfflineActor();

// The node's card for `config` with these keys, created at `created` and
// signed by `identity`, as JSON: `init` writes the first one and
// `rotate-keys` each new one, built the same way so that the two cannot drift
// apart in what a card holds.
std::string SignedNodeCardJson(const config::NodeConfig& config, const crypto::SigningKeyPair& identity,
                               const crypto::EncryptionKeyPair& enc, const crypto::TlsIdentity& tls,
                               const std::string& created);

// Prints a JSON document on one line to ctx->io.out.
void PrintJson(Context* ctx, const nlohmann::json& doc);

}  // namespace schakel::cli
