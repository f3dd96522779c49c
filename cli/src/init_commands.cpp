// `schakel init`, `schakel node fingerprint`, `schakel node card`.
#include <sys/stat.h>

#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/key_derivation.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/identity_store.h"

namespace schakel::cli {
namespace {

struct InitArgs {
  std::string name;
  std::string org_id;
  std::string org_type;
  std::string listen = "127.0.0.1:7401";
  std::string public_host;  // --public-host
  bool public_host_given = false;
  std::string passphrase_env;
};

// The host partners dial and link recipients open: --public-host, or the
// --listen host when that is a specific address.
Result<std::string> PublicHostFromArgs(const InitArgs& a, const config::Address& peer) {
  if (!a.public_host_given) {
    if (config::IsUnspecifiedHost(peer.host)) {
      return Status::InvalidInput("--public-host: missing: --listen " + a.listen +
                                  " listens on every address, which partners cannot dial; give the host name or "
                                  "address they reach this node on with --public-host NAME");
    }
    return peer.host;
  }
  std::string host = a.public_host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return Status::InvalidInput("--public-host: must not be empty");
  auto parsed = config::ParseAddress(config::Address{host, 1}.ToString());
  if (!parsed.ok()) return parsed.status().WithContext("--public-host");
  if (config::IsUnspecifiedHost(host)) {
    return Status::InvalidInput("--public-host: " + host +
                                " is a wildcard address partners cannot dial; give the host name or address they "
                                "reach this node on");
  }
  return host;
}

Result<config::NodeConfig> ConfigFromArgs(const InitArgs& a) {
  config::NodeConfig c;
  if (!IsValidNodeId(a.org_id)) {
    return Status::InvalidInput("--org-id: must be 3 to 64 characters of a-z, 0-9 and -");
  }
  c.node_id = a.org_id;
  if (a.name.empty() || a.name.size() > 200 || !IsPrintableUtf8(a.name)) {
    return Status::InvalidInput("--name: must be 1 to 200 printable characters");
  }
  c.name = a.name;
  auto ot = consent::ParseOrgType(a.org_type);
  if (!ot) {
    return Status::InvalidInput("--org-type: unknown org type \"" + a.org_type +
                                "\" (one of school, wijkteam, rmc, lvs, ggd, swv, veilig_thuis)");
  }
  c.org_type = *ot;
  auto peer = config::ParseAddress(a.listen);
  if (!peer.ok()) return peer.status().WithContext("--listen");
  if (peer->port > 65532)
    return Status::InvalidInput("--listen: port must leave room for three more (api, links, console)");
  SCHAKEL_ASSIGN_OR_RETURN(std::string public_host, PublicHostFromArgs(a, *peer));
  c.peer_listen = *peer;
  auto next = [&](const std::string& host, uint16_t k) {
    return config::Address{host, static_cast<uint16_t>(peer->port + k)};
  };
  if (public_host != peer->host) c.peer_advertise = next(public_host, 0);
  // The API is plain HTTP with bearer tokens: on loopback only, whatever
  // --listen says (config.h, api_listen).
  c.api_listen = next(peer->host.find(':') != std::string::npos ? "::1" : "127.0.0.1", 1);
  c.links_listen = next(peer->host, 2);
  c.links_public_url = "https://" + next(public_host, 2).ToString();
  c.console_listen = next(peer->host, 3);
  if (!a.passphrase_env.empty()) {
    for (char ch : a.passphrase_env) {
      if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
        return Status::InvalidInput("--passphrase-env: must be an environment variable name");
      }
    }
    c.passphrase_env = a.passphrase_env;
  }
  return c;
}

Status RunInit(Context* ctx, const InitArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, ConfigFromArgs(args));
  const std::string& dir = ctx->globals.dir;
  store::NodePaths paths(dir, cfg.key_file);
  if (PathExists(paths.config)) {
    return Status::AlreadyExists(paths.config + " exists already: " + dir +
                                 " is a node directory; choose another --dir");
  }
  if (PathExists(paths.database)) {
    return Status::AlreadyExists(paths.database +
                                 " exists already without a config (an interrupted init?); "
                                 "move it away before trying again");
  }
  SCHAKEL_RETURN_IF_ERROR(MakeDirectory(dir, 0750));
  SCHAKEL_RETURN_IF_ERROR(MakeDirectory(paths.data, 0700));

  // The database key first: from a fresh key file or from the passphrase.
  crypto::SecureBuffer db_key;
  if (cfg.passphrase_env.empty()) {
    SCHAKEL_RETURN_IF_ERROR(MakeDirectory(paths.secrets, 0700));
    SCHAKEL_ASSIGN_OR_RETURN(db_key, crypto::CreateKeyFile(paths.key_file));
  } else {
    SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer pass, store::PassphraseFromEnv(cfg.passphrase_env));
    auto salt = crypto::RandomSalt();
    SCHAKEL_RETURN_IF_ERROR(WriteFileAtomic(paths.salt,
                                            std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()),
                                            0600, /*exclusive=*/true));
    SCHAKEL_ASSIGN_OR_RETURN(db_key,
                             crypto::DeriveKeyFromPassphrase(
                                 std::string_view(reinterpret_cast<const char*>(pass.data()), pass.size()), salt));
  }

  crypto::SigningKeyPair identity = crypto::GenerateSigningKeyPair();
  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(identity);
  SCHAKEL_ASSIGN_OR_RETURN(crypto::TlsIdentity tls, crypto::GenerateTlsIdentity(cfg.node_id));
  std::string created = FormatInstantMs(NowUtc());

  std::string card_json = SignedNodeCardJson(cfg, identity, enc, tls, created);

  {
    SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                             store::Database::Open(paths.database, db_key, store::OpenMode::kCreate));
    SCHAKEL_RETURN_IF_ERROR(store::SaveNewIdentity(*db, identity, enc, tls, created));
    SCHAKEL_RETURN_IF_ERROR(store::SetMeta(*db, "node_id", cfg.node_id));
    SCHAKEL_RETURN_IF_ERROR(store::SetMeta(*db, "node_card", card_json));
    SCHAKEL_RETURN_IF_ERROR(store::SetMeta(*db, "created", created));
  }
  SCHAKEL_RETURN_IF_ERROR(WriteFileAtomic(paths.card, card_json + "\n", 0644));
  // The config last: its presence marks a complete node directory.
  SCHAKEL_RETURN_IF_ERROR(WriteFileAtomic(paths.config, config::NodeConfigToToml(cfg), 0640, true));

  std::string fingerprint = crypto::Fingerprint(identity.public_key);
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", cfg.node_id}, {"dir", dir}, {"fingerprint", fingerprint}, {"card", paths.card}});
  } else {
    ctx->io.out << "Created node " << cfg.node_id << " (" << consent::Name(cfg.org_type) << ") in " << dir << "\n"
                << "Give " << paths.card << " to your partners and read them this fingerprint:\n"
                << fingerprint << "\n";
  }
  return Status::Ok();
}

Result<std::string> StoredCard(OfflineNode& node) {
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> card, store::GetMeta(*node.db, "node_card"));
  if (!card) return Status::Corruption(node.paths.database + ": the node has no card");
  return *card;
}

}  // namespace

void AddInitCommand(CLI::App& app, Context* ctx) {
  auto args = std::make_shared<InitArgs>();
  CLI::App* cmd = app.add_subcommand("init", "create a node directory: keys, database, config, card");
  AddCommonOptions(cmd, ctx);
  cmd->add_option("--name", args->name, "the organisation's name, as partners will see it")->required();
  cmd->add_option("--org-id", args->org_id, "this node's id, [a-z0-9-]{3,64}")->required();
  cmd->add_option("--org-type", args->org_type, "school, wijkteam, rmc, lvs, ggd, swv or veilig_thuis")->required();
  cmd->add_option("--listen", args->listen,
                  "peer address HOST:PORT (default 127.0.0.1:7401); links and console take the next ports but "
                  "one on HOST, the API the next port on loopback");
  cmd->add_option("--public-host", args->public_host,
                  "the host name or address partners and link recipients reach this node on (card address, "
                  "links public_url); required when --listen is 0.0.0.0 or [::]")
      ->each([args](const std::string&) { args->public_host_given = true; });
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "derive the database key from the passphrase in this environment variable "
                  "instead of a key file");
  cmd->callback([ctx, args] { ctx->action = {"init", [ctx, args] { return RunInit(ctx, *args); }}; });
}

void AddNodeCommands(CLI::App& app, Context* ctx) {
  CLI::App* node = app.add_subcommand("node", "this node's identity");
  node->require_subcommand(1);
  CLI::App* fp = node->add_subcommand("fingerprint", "print this node's fingerprint");
  AddCommonOptions(fp, ctx);
  fp->callback([ctx] {
    ctx->action = {"node fingerprint", [ctx]() -> Status {
                     SCHAKEL_ASSIGN_OR_RETURN(OfflineNode n, OpenOfflineNode(ctx->globals.dir));
                     SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair id, store::LoadIdentity(*n.db));
                     std::string fingerprint = crypto::Fingerprint(id.public_key);
                     if (ctx->globals.json) {
                       PrintJson(ctx, {{"node_id", n.config.node_id}, {"fingerprint", fingerprint}});
                     } else {
                       ctx->io.out << fingerprint << "\n";
                     }
                     return Status::Ok();
                   }};
  });
  CLI::App* card = node->add_subcommand("card", "print this node's signed card");
  AddCommonOptions(card, ctx);
  card->callback([ctx] {
    ctx->action = {"node card", [ctx]() -> Status {
                     SCHAKEL_ASSIGN_OR_RETURN(OfflineNode n, OpenOfflineNode(ctx->globals.dir));
                     SCHAKEL_ASSIGN_OR_RETURN(std::string card_json, StoredCard(n));
                     ctx->io.out << card_json << "\n";
                     return Status::Ok();
                   }};
  });
}

}  // namespace schakel::cli
