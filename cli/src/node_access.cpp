#include "node_access.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <ostream>

#include "schakel/audit/audit_log.h"
#include "schakel/base/clock.h"
#include "schakel/base/strings.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/identity_store.h"

namespace schakel::cli {

store::KeySource KeySourceFor(const config::NodeConfig& config, const store::NodePaths& paths) {
  store::KeySource source;
  source.key_file = paths.key_file;
  source.passphrase_env = config.passphrase_env;
  return source;
}

std::string SignedNodeCardJson(const config::NodeConfig& config, const crypto::SigningKeyPair& identity,
                               const crypto::EncryptionKeyPair& enc, const crypto::TlsIdentity& tls,
                               const std::string& created) {
  crypto::NodeCard card;
  card.node_id = config.node_id;
  card.name = config.name;
  card.org_type = std::string(consent::Name(config.org_type));
  card.address = config.AdvertisedPeerAddress().ToString();
  card.enc_pk = enc.public_key;
  card.enc_pk_sig = enc.signature;
  card.tls_spki_sha256 = tls.spki_sha256;
  card.created = created;
  crypto::SignNodeCard(card, identity);  // sets sign_pk too
  return crypto::NodeCardToJson(card);
}

Result<OfflineNode> OpenOfflineNode(const std::string& dir) {
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, config::LoadNodeConfig(dir));
  store::NodePaths paths(dir, cfg.key_file);
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                           store::OpenNodeDatabase(paths, KeySourceFor(cfg, paths)));
  return OfflineNode{std::move(cfg), std::move(paths), std::move(db)};
}

std::string OfflineActor() {
  // getpwuid_r, not getpwuid: the latter returns a static buffer that any
  // other thread's lookup overwrites. A name that does not fit, or is not a
  // valid id, is recorded by uid instead.
  passwd pw_storage{};
  passwd* pw = nullptr;
  std::array<char, 4096> pw_buf{};
  int pw_rc = ::getpwuid_r(::getuid(), &pw_storage, pw_buf.data(), pw_buf.size(), &pw);
  std::string os_user =
      pw_rc == 0 && pw != nullptr && IsValidObjectId(pw->pw_name) ? pw->pw_name : "uid-" + std::to_string(::getuid());
  return "os:" + os_user;
}

Status AuditOfflineAs(OfflineNode& node, const std::string& actor_user, const std::string& actor_role,
                      const std::string& action, const std::string& object, const std::string& reason) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair identity, store::LoadIdentity(*node.db));
  SystemClock clock;
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log,
                           audit::AuditLog::Create(*node.db, node.config.node_id, identity, clock));
  audit::AuditEvent e;
  e.actor_user = actor_user;
  e.actor_role = actor_role;
  e.actor_org = node.config.node_id;
  e.action = action;
  e.object = object;
  e.outcome = "ok";
  e.reason = reason;
  e.source = "cli";
  SCHAKEL_RETURN_IF_ERROR(log->Append(e).status());
  return log->Close();
}

Status AuditOffline(OfflineNode& node, const std::string& action, const std::string& object,
                    const std::string& reason) {
  return AuditOfflineAs(node, OfflineActor(), "admin", action, object, reason);
}

void PrintJson(Context* ctx, const nlohmann::json& doc) {
  ctx->io.out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace schakel::cli
