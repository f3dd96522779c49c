// `schakel partner add|list|remove`: the partner directory. A card is
// imported only when its signatures verify and the fingerprint the admin
// typed (read to them by the partner over the phone) matches its identity
// key. A known node id with a different identity key is refused: that is
// either an attack or a new identity, and only an admin who has called the
// partner may remove the old entry first.
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/partners.h"

namespace schakel::cli {
namespace {

struct AddArgs {
  std::string card_file;
  std::string fingerprint;
};

Status RunPartnerAdd(Context* ctx, const AddArgs& args) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(args.card_file, crypto::kMaxNodeCardBytes));
  auto parsed = crypto::ParseNodeCard(text);
  if (!parsed.ok()) return parsed.status().WithContext(args.card_file);
  crypto::NodeCard card = std::move(parsed).value();
  if (!consent::ParseOrgType(card.org_type)) {
    return Status::InvalidInput(args.card_file + ": org_type: unknown org type \"" + card.org_type + "\"");
  }
  if (!crypto::FingerprintMatches(card.sign_pk, args.fingerprint)) {
    return Status::Denied("the fingerprint does not match the card of " + card.node_id +
                          ": call the partner again and compare; do not import this card");
  }
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  if (card.node_id == node.config.node_id) {
    return Status::InvalidInput("that is this node's own card");
  }
  std::string now = FormatInstant(NowUtc());
  store::Partner partner{card, text, now, now};
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> known, store::FindPartner(*node.db, card.node_id));
  std::string verb = "added";
  if (known) {
    if (known->card.sign_pk != card.sign_pk) {
      return Status::Denied("partner " + card.node_id +
                            " is known with a different identity key; if the partner really "
                            "has a new identity, confirm it by phone and remove the old entry "
                            "first (schakel partner remove " +
                            card.node_id + ")");
    }
    auto old_created = ParseInstant(known->card.created);
    auto new_created = ParseInstant(card.created);
    if (crypto::CanonicalCardText(known->card) == crypto::CanonicalCardText(card)) {
      verb = "unchanged";
    } else if (!old_created.ok() || !new_created.ok() || new_created.value() <= old_created.value()) {
      // A different card must be strictly newer: an older (or equally old)
      // one would roll the partner's keys back.
      return Status::Denied("the card of " + card.node_id +
                            " is not newer than the one already imported; refusing to roll back its keys");
    } else {
      partner.added = known->added;
      SCHAKEL_RETURN_IF_ERROR(store::UpdatePartnerCard(*node.db, partner));
      verb = "updated";
    }
  } else {
    SCHAKEL_RETURN_IF_ERROR(store::InsertPartner(*node.db, partner));
  }
  if (verb != "unchanged") {
    SCHAKEL_RETURN_IF_ERROR(
        AuditOffline(node, verb == "added" ? "partner.add" : "partner.update", card.node_id, "fingerprint_verified"));
  }
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", card.node_id}, {"result", verb}});
  } else {
    ctx->io.out << "Partner " << card.node_id << " (" << card.org_type << ", " << card.name << ") " << verb << "\n";
  }
  return Status::Ok();
}

Status RunPartnerList(Context* ctx) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::Partner> partners, store::ListPartners(*node.db));
  if (ctx->globals.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : partners) {
      list.push_back({{"node_id", p.card.node_id},
                      {"name", p.card.name},
                      {"org_type", p.card.org_type},
                      {"address", p.card.address},
                      {"fingerprint", crypto::Fingerprint(p.card.sign_pk)},
                      {"added", p.added},
                      {"updated", p.updated}});
    }
    PrintJson(ctx, {{"partners", list}});
    return Status::Ok();
  }
  if (partners.empty()) {
    ctx->io.out << "No partners yet (add one with schakel partner add --card F --fingerprint FP)\n";
  }
  for (const auto& p : partners) {
    ctx->io.out << p.card.node_id << "\t" << p.card.org_type << "\t" << p.card.address << "\t" << p.card.name << "\n"
                << "\tfingerprint " << crypto::Fingerprint(p.card.sign_pk) << "\n";
  }
  return Status::Ok();
}

Status RunPartnerRemove(Context* ctx, const std::string& id) {
  SCHAKEL_ASSIGN_OR_RETURN(OfflineNode node, OpenOfflineNode(ctx->globals.dir));
  SCHAKEL_RETURN_IF_ERROR(store::RemovePartner(*node.db, id));
  SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "partner.remove", id, ""));
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", id}, {"result", "removed"}});
  } else {
    ctx->io.out << "Partner " << id << " removed\n";
  }
  return Status::Ok();
}

}  // namespace

void AddPartnerCommands(CLI::App& app, Context* ctx) {
  CLI::App* partner = app.add_subcommand("partner", "the partner directory");
  partner->require_subcommand(1);

  auto add_args = std::make_shared<AddArgs>();
  CLI::App* add = partner->add_subcommand("add", "import a partner's card after comparing its fingerprint");
  AddCommonOptions(add, ctx);
  add->add_option("--card", add_args->card_file, "the partner's node-card.json")->required();
  add->add_option("--fingerprint", add_args->fingerprint, "the fingerprint the partner read to you, e.g. by phone")
      ->required();
  add->callback([ctx, add_args] {
    ctx->action = {"partner add", [ctx, add_args] { return RunPartnerAdd(ctx, *add_args); }};
  });

  CLI::App* list = partner->add_subcommand("list", "list partners and their fingerprints");
  AddCommonOptions(list, ctx);
  list->callback([ctx] { ctx->action = {"partner list", [ctx] { return RunPartnerList(ctx); }}; });

  auto remove_id = std::make_shared<std::string>();
  CLI::App* remove = partner->add_subcommand("remove", "remove a partner");
  AddCommonOptions(remove, ctx);
  remove->add_option("ID", *remove_id, "the partner's node id")->required();
  remove->callback([ctx, remove_id] {
    ctx->action = {"partner remove", [ctx, remove_id] { return RunPartnerRemove(ctx, *remove_id); }};
  });
}

}  // namespace schakel::cli
