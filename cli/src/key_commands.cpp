// `schakel node rotate-keys`: a new X25519 encryption key signed by the
// identity, a new TLS identity, and a new signed card (DIR/node-card.json and
// meta "node_card"). The identity key, and so the fingerprint, stays. The
// running daemon sends the new card to every partner over the peer channel
// (protocol 6, docs/region.md "Card updates"); a partner on an older release
// imports it with `schakel partner add`, which sees the same identity key
// and a newer card and updates its entry.
//
// The old encryption key is retired, not deleted: envelopes already sealed
// to it (queued at a partner, in flight) still open, since the inbox looks
// keys up by key id among every key whose secret is kept. The old TLS
// identity is retired; the daemon serves the new one once every partner
// holds the new card, or after a restart. The daemon wipes a retired key's
// secret after [keys] retired_key_days.
#include <ostream>
#include <span>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/tls_identity.h"
#include "schakel/store/identity_store.h"

namespace schakel::cli {
namespace {

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0x0f]);
  }
  return s;
}

Status RunRotateKeys(Context* ctx) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair identity, store::LoadIdentity(*node.db));
  SCHAKEL_ASSIGN_OR_RETURN(store::EncKey old_enc, store::LoadCurrentEncKey(*node.db, identity));

  crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(identity);
  SCHAKEL_ASSIGN_OR_RETURN(crypto::TlsIdentity tls, crypto::GenerateTlsIdentity(node.config.node_id));
  // The new card must be strictly newer than the one partners hold, or they
  // could not tell a rollback to the old keys from the rotation (also when
  // the clock stepped back since).
  Instant at = NowUtc();
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> old_card_json, store::GetMeta(*node.db, "node_card"));
  if (old_card_json) {
    auto old_card = crypto::ParseNodeCard(*old_card_json);
    if (old_card.ok()) {
      auto old_created = ParseInstant(old_card->created);
      if (old_created.ok() && at <= *old_created) at = *old_created + std::chrono::milliseconds(1);
    }
  }
  std::string now = FormatInstantMs(at);

  std::string card_json = SignedNodeCardJson(node.config, identity, enc, tls, now);

  SCHAKEL_ASSIGN_OR_RETURN(int64_t key_id, store::RotateKeys(*node.db, enc, tls, card_json, now));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "node.rotate_keys", node.config.node_id, "rotation"));
  // The database holds the card of record; the file is a copy to hand out.
  SCHAKEL_RETURN_IF_ERROR(WriteFileAtomic(node.paths.card, card_json + "\n", 0644));

  std::string fingerprint = crypto::Fingerprint(identity.public_key);
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", node.config.node_id},
                    {"fingerprint", fingerprint},
                    {"enc_key_id", key_id},
                    {"retired_enc_key_id", old_enc.key_id},
                    {"tls_spki_sha256", Hex(tls.spki_sha256)},
                    {"card", node.paths.card}});
  } else {
    ctx->io.out << "Rotated the keys of node " << node.config.node_id << ": encryption key " << old_enc.key_id
                << " retired (kept for messages in flight), new key " << key_id << ", new TLS certificate\n"
                << "A running schakeld sends the new card to every partner and serves the new TLS certificate once "
                   "all hold it. A partner on a release before peer protocol 6 needs "
                << node.paths.card << " by hand (schakel partner add --card ... --fingerprint ...).\n"
                << "The fingerprint is unchanged:\n"
                << fingerprint << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddKeyCommands(CLI::App& app, Context* ctx) {
  CLI::App* node = app.get_subcommand("node");
  CLI::App* rotate = node->add_subcommand(
      "rotate-keys", "new encryption key and TLS certificate, and a new signed card (identity unchanged)");
  AddCommonOptions(rotate, ctx);
  rotate->callback([ctx] { ctx->action = {"node rotate-keys", [ctx] { return RunRotateKeys(ctx); }}; });
}

}  // namespace schakel::cli
