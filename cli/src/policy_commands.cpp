// Placeholder until the consent engine lands: `schakel policy` is not built yet.
#include "command.h"

namespace schakel::cli {
void AddPolicyCommands(CLI::App& app, Context* ctx) { (void)app; (void)ctx; }
}  // namespace schakel::cli
