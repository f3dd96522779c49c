// `schakel partner add|list|remove`: the partner directory. A card is
// imported only when its signatures verify and the fingerprint the admin
// typed (read to them by the partner over the phone) matches its identity
// key. A known node id with a different identity key is refused: that is
// either an attack or a new identity, and only an admin who has called the
// partner may remove the old entry first. A card whose TLS pin or identity
// key another partner already has is refused (store::CheckCardKeysUnique),
// and a newer card of a known partner that changes its org type, name or
// address is imported only with --accept-change (audited
// partner.card_changed, old -> new in the reason): the org type decides
// what the gate lets go to the partner.
#include <ostream>
#include <vector>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/service/partner_address.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/partners.h"

namespace schakel::cli {
namespace {

struct AddArgs {
  std::string card_file;
  std::string fingerprint;
  bool accept_change = false;
  bool allow_local_address = false;
};

// A field of a partner's card whose change needs --accept-change.
struct CardChange {
  std::string field;
  std::string before;
  std::string after;
  std::string Text() const { return field + ": \"" + before + "\" -> \"" + after + "\""; }
};

std::vector<CardChange> ChangedFields(const crypto::NodeCard& before, const crypto::NodeCard& after) {
  std::vector<CardChange> out;
  if (before.org_type != after.org_type) out.push_back({"org_type", before.org_type, after.org_type});
  if (before.name != after.name) out.push_back({"name", before.name, after.name});
  if (before.address != after.address) out.push_back({"address", before.address, after.address});
  return out;
}

std::string ChangesText(const std::vector<CardChange>& changes) {
  std::string out;
  for (const auto& c : changes) out += (out.empty() ? "" : "; ") + c.Text();
  return out;
}

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
  std::string address_note;
  SCHAKEL_RETURN_IF_ERROR(service::CheckPartnerAddress(card.address, node.config, service::LocalAddresses(),
                                                       args.allow_local_address, &address_note)
                              .WithContext(args.card_file));
  if (!address_note.empty()) ctx->io.err << "note: " << address_note << "\n";
  std::string now = FormatInstant(NowUtc());
  store::Partner partner{card, text, now, now, "", std::nullopt, "", ""};
  // The checks, the change and its audit entry in one transaction.
  store::Transaction tx(*node.db);
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> known, store::FindPartner(*node.db, card.node_id));
  std::string verb = "added";
  std::vector<CardChange> changes;
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
      changes = ChangedFields(known->card, card);
      if (!changes.empty() && !args.accept_change) {
        return Status::Denied("the new card of " + card.node_id + " changes " + ChangesText(changes) +
                              "; nothing was changed: confirm this with the partner by phone, then run again with "
                              "--accept-change");
      }
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
  if (!changes.empty()) {
    SCHAKEL_RETURN_IF_ERROR(AuditOffline(node, "partner.card_changed", card.node_id, ChangesText(changes)));
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  if (!changes.empty() && !ctx->globals.json) {
    for (const auto& c : changes) ctx->io.out << "  " << c.Text() << "\n";
  }
  if (ctx->globals.json) {
    nlohmann::json changed = nlohmann::json::array();
    for (const auto& c : changes) changed.push_back({{"field", c.field}, {"old", c.before}, {"new", c.after}});
    PrintJson(ctx, {{"node_id", card.node_id}, {"result", verb}, {"changed", changed}});
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
                      {"updated", p.updated},
                      {"source", p.source.empty() ? "hand" : p.source}});
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
    if (!p.source.empty()) ctx->io.out << "\tfrom " << p.source << "\n";
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
  add->add_flag("--accept-change", add_args->accept_change,
                "import a newer card of a known partner although it changes its org type, name or address "
                "(confirm the change with the partner first)");
  add->add_flag("--allow-local-address", add_args->allow_local_address,
                "import a card whose address is loopback or link-local (a test or demo with every node on one "
                "machine); never this node's own listeners");
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
