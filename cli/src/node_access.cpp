#include "node_access.h"

#include <ostream>

namespace schakel::cli {

store::KeySource KeySourceFor(const config::NodeConfig& config, const store::NodePaths& paths) {
  store::KeySource source;
  source.key_file = paths.key_file;
  source.passphrase_env = config.passphrase_env;
  return source;
}

Result<OfflineNode> OpenOfflineNode(const std::string& dir) {
  SCHAKEL_ASSIGN_OR_RETURN(config::NodeConfig cfg, config::LoadNodeConfig(dir));
  store::NodePaths paths(dir, cfg.key_file);
  SCHAKEL_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                           store::OpenNodeDatabase(paths, KeySourceFor(cfg, paths)));
  return OfflineNode{std::move(cfg), std::move(paths), std::move(db)};
}

void PrintJson(Context* ctx, const nlohmann::json& doc) {
  ctx->io.out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace schakel::cli
