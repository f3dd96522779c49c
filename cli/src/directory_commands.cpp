// `schakel directory init|add|remove|sign|show`: the keeper's tools for a
// regional directory (docs/region.md). They work on a directory file and a
// key file only, never on a node, so the directory key can live on a machine
// that is offline.
//
//   init    makes the directory key (a 0600 file of a 32-byte Ed25519 seed)
//           and an empty draft, and prints the key's fingerprint, which
//           every member's administrator checks once (directory trust).
//   add     puts a member's card in the draft after its fingerprint is
//           checked, as partner add does; a newer card of a member replaces
//           its old one (same identity key only).
//   remove  takes a member out of the draft.
//   sign    raises the serial, dates the draft and signs it.
//   show    prints what a directory or draft holds.
// add and remove leave an unsigned draft; members get it only after sign.
#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>

#include "command.h"
#include "node_access.h"
#include "schakel/base/file.h"
#include "schakel/base/strings.h"
#include "schakel/base/time.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/directory.h"
#include "schakel/crypto/key_derivation.h"
#include "schakel/crypto/node_card.h"

namespace schakel::cli {
namespace {

struct DirectoryArgs {
  std::string file;
  std::string key_file;
  std::string region;
  std::string name;
  std::string card_file;
  std::string fingerprint;
  std::string node_id;
  int valid_days = 90;
};

Result<crypto::Directory> ReadDraft(const std::string& file) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(file, crypto::kMaxDirectoryBytes));
  auto dir = crypto::ParseDirectoryDraft(text);
  if (!dir.ok()) return dir.status().WithContext(file);
  return dir;
}

Status WriteDraft(const std::string& file, const crypto::Directory& dir) {
  return WriteFileAtomic(file, crypto::DirectoryToJson(dir), 0644);
}

Result<crypto::SigningKeyPair> ReadDirectoryKey(const std::string& key_file) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer seed, crypto::ReadKeyFile(key_file));
  return crypto::SigningKeyPairFromSeed(seed.span());
}

Status RunInit(Context* ctx, const DirectoryArgs& a) {
  if (!IsValidNodeId(a.region)) {
    return Status::InvalidInput("--region: expected 3..64 characters of a-z, 0-9 and -, e.g. swv-utrecht-oost");
  }
  if (a.name.empty() || a.name.size() > 200 || !IsPrintableUtf8(a.name)) {
    return Status::InvalidInput("--name: expected 1..200 bytes of printable text");
  }
  if (PathExists(a.file)) return Status::AlreadyExists(a.file + " exists already; init makes a new directory");
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SecureBuffer seed, crypto::CreateKeyFile(a.key_file));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair key, crypto::SigningKeyPairFromSeed(seed.span()));
  crypto::Directory dir;
  dir.region = a.region;
  dir.name = a.name;
  dir.directory_pk = key.public_key;
  SCHAKEL_RETURN_IF_ERROR(WriteFileAtomic(a.file, crypto::DirectoryToJson(dir), 0644, /*exclusive=*/true));
  std::string fingerprint = crypto::Fingerprint(key.public_key);
  if (ctx->globals.json) {
    PrintJson(ctx, {{"region", a.region}, {"file", a.file}, {"key_file", a.key_file}, {"fingerprint", fingerprint}});
  } else {
    ctx->io.out << "Directory of region " << a.region << " started in " << a.file << "; its key is in " << a.key_file
                << " (keep it offline and backed up).\n"
                << "Read this fingerprint to each member's administrator (schakel directory trust):\n"
                << fingerprint << "\n";
  }
  return Status::Ok();
}

Status RunAdd(Context* ctx, const DirectoryArgs& a) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadDraft(a.file));
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(a.card_file, crypto::kMaxNodeCardBytes));
  auto parsed = crypto::ParseNodeCard(text);
  if (!parsed.ok()) return parsed.status().WithContext(a.card_file);
  crypto::NodeCard card = std::move(parsed).value();
  if (!consent::ParseOrgType(card.org_type)) {
    return Status::InvalidInput(a.card_file + ": org_type: unknown org type \"" + card.org_type + "\"");
  }
  if (!crypto::FingerprintMatches(card.sign_pk, a.fingerprint)) {
    return Status::Denied("the fingerprint does not match the card of " + card.node_id +
                          ": call the member again and compare; do not add this card");
  }
  std::string verb = "added";
  for (auto it = dir.members.begin(); it != dir.members.end(); ++it) {
    if (it->sign_pk == card.sign_pk && it->node_id != card.node_id) {
      return Status::Denied("member " + it->node_id + " has the identity key of this card (" + card.node_id +
                            "); remove it first if the node was renamed");
    }
    if (it->node_id != card.node_id) continue;
    if (it->sign_pk != card.sign_pk) {
      return Status::Denied("member " + card.node_id +
                            " is listed with a different identity key; if the node really has a new identity, "
                            "confirm it by phone and remove the old entry first (schakel directory remove)");
    }
    auto old_created = ParseInstant(it->created);
    auto new_created = ParseInstant(card.created);
    if (crypto::CanonicalCardText(*it) == crypto::CanonicalCardText(card)) return Status::Ok();
    if (!old_created.ok() || !new_created.ok() || *new_created <= *old_created) {
      return Status::Denied("the card of " + card.node_id + " is not newer than the one listed");
    }
    dir.members.erase(it);
    verb = "updated";
    break;
  }
  if (dir.members.size() >= crypto::kMaxDirectoryMembers) {
    return Status::ResourceExhausted("a directory holds at most " + std::to_string(crypto::kMaxDirectoryMembers) +
                                     " members");
  }
  dir.members.push_back(card);
  dir.sig.reset();
  SCHAKEL_RETURN_IF_ERROR(WriteDraft(a.file, dir));
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", card.node_id}, {"result", verb}, {"members", dir.members.size()}});
  } else {
    ctx->io.out << "Member " << card.node_id << " (" << card.org_type << ", " << card.name << ") " << verb
                << "; sign the directory to hand it out\n";
  }
  return Status::Ok();
}

Status RunRemove(Context* ctx, const DirectoryArgs& a) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadDraft(a.file));
  auto it = std::find_if(dir.members.begin(), dir.members.end(),
                         [&](const crypto::NodeCard& c) { return c.node_id == a.node_id; });
  if (it == dir.members.end()) return Status::NotFound("no member " + a.node_id + " in " + a.file);
  dir.members.erase(it);
  dir.sig.reset();
  SCHAKEL_RETURN_IF_ERROR(WriteDraft(a.file, dir));
  if (ctx->globals.json) {
    PrintJson(ctx, {{"node_id", a.node_id}, {"result", "removed"}, {"members", dir.members.size()}});
  } else {
    ctx->io.out << "Member " << a.node_id
                << " removed; sign the directory and hand it out, and members stop traffic to it\n";
  }
  return Status::Ok();
}

Status RunSign(Context* ctx, const DirectoryArgs& a) {
  if (a.valid_days < 1 || a.valid_days > crypto::kMaxDirectoryValidityDays) {
    return Status::InvalidInput("--valid-days: expected 1.." + std::to_string(crypto::kMaxDirectoryValidityDays));
  }
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Directory dir, ReadDraft(a.file));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair key, ReadDirectoryKey(a.key_file));
  if (key.public_key != dir.directory_pk) {
    return Status::Denied(a.key_file + " is not the key of the directory in " + a.file);
  }
  if (dir.serial >= crypto::kMaxDirectorySerial) return Status::InvalidInput("the serial cannot grow any further");
  // Never dated before the last signing, even if the clock stepped back.
  Instant now = NowUtc();
  if (auto last = ParseInstant(dir.issued); last.ok() && now <= *last) now = *last + std::chrono::seconds(1);
  dir.serial += 1;
  dir.issued = FormatInstant(now);
  dir.expires = FormatInstant(now + std::chrono::days(a.valid_days));
  crypto::SignDirectory(dir, key);
  SCHAKEL_RETURN_IF_ERROR(WriteDraft(a.file, dir));
  if (ctx->globals.json) {
    PrintJson(
        ctx,
        {{"region", dir.region}, {"serial", dir.serial}, {"expires", dir.expires}, {"members", dir.members.size()}});
  } else {
    ctx->io.out << "Directory of region " << dir.region << " signed: serial " << dir.serial << ", "
                << dir.members.size() << " members, valid until " << dir.expires << "\n";
  }
  return Status::Ok();
}

Status RunShow(Context* ctx, const DirectoryArgs& a) {
  SCHAKEL_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(a.file, crypto::kMaxDirectoryBytes));
  auto draft = crypto::ParseDirectoryDraft(text);
  if (!draft.ok()) return draft.status().WithContext(a.file);
  // Signed means: its signature verifies, not only that it carries one.
  bool is_signed = crypto::ParseDirectory(text).ok();
  const crypto::Directory& dir = *draft;
  if (ctx->globals.json) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : dir.members) {
      members.push_back({{"node_id", m.node_id},
                         {"name", m.name},
                         {"org_type", m.org_type},
                         {"address", m.address},
                         {"fingerprint", crypto::Fingerprint(m.sign_pk)}});
    }
    PrintJson(ctx, {{"region", dir.region},
                    {"name", dir.name},
                    {"serial", dir.serial},
                    {"signed", is_signed},
                    {"issued", dir.issued},
                    {"expires", dir.expires},
                    {"fingerprint", crypto::Fingerprint(dir.directory_pk)},
                    {"members", members}});
    return Status::Ok();
  }
  ctx->io.out << "Region " << dir.region << " (" << dir.name << "), serial " << dir.serial << ", "
              << (is_signed ? "signed, valid until " + dir.expires : std::string("a draft, not signed")) << "\n"
              << "Directory key fingerprint: " << crypto::Fingerprint(dir.directory_pk) << "\n"
              << dir.members.size() << " members:\n";
  for (const auto& m : dir.members) {
    ctx->io.out << "  " << m.node_id << "  " << m.org_type << "  " << m.address << "  " << m.name << "\n"
                << "    fingerprint " << crypto::Fingerprint(m.sign_pk) << "\n";
  }
  return Status::Ok();
}

CLI::Option* FileOption(CLI::App* cmd, DirectoryArgs* a) {
  return cmd->add_option("--file", a->file, "the directory file (JSON)")->required();
}

template <typename Run>
void OnRun(CLI::App* cmd, Context* ctx, std::shared_ptr<DirectoryArgs> a, std::string what, Run run) {
  cmd->callback([ctx, a, what, run] { ctx->action = {what, [ctx, a, run] { return run(ctx, *a); }}; });
}

}  // namespace

void AddDirectoryCommands(CLI::App& app, Context* ctx) {
  CLI::App* directory = app.add_subcommand("directory", "a regional directory: keep one, or trust one on this node");
  directory->require_subcommand(1);
  auto a = std::make_shared<DirectoryArgs>();

  CLI::App* init = directory->add_subcommand("init", "start a regional directory and make its key");
  init->add_flag("--json", ctx->globals.json, "print results as one JSON document");
  FileOption(init, a.get());
  init->add_option("--key", a->key_file, "where to write the directory key (mode 0600; keep it offline)")->required();
  init->add_option("--region", a->region, "the region's id, e.g. swv-utrecht-oost")->required();
  init->add_option("--name", a->name, "the region's name, e.g. \"Samenwerkingsverband Utrecht-Oost\"")->required();
  OnRun(init, ctx, a, "directory init", RunInit);

  CLI::App* add = directory->add_subcommand("add", "add or update a member's card after comparing its fingerprint");
  add->add_flag("--json", ctx->globals.json, "print results as one JSON document");
  FileOption(add, a.get());
  add->add_option("--card", a->card_file, "the member's node-card.json")->required();
  add->add_option("--fingerprint", a->fingerprint, "the fingerprint the member read to you, e.g. by phone")->required();
  OnRun(add, ctx, a, "directory add", RunAdd);

  CLI::App* remove = directory->add_subcommand("remove", "take a member out of the directory");
  remove->add_flag("--json", ctx->globals.json, "print results as one JSON document");
  FileOption(remove, a.get());
  remove->add_option("--node-id", a->node_id, "the member's node id")->required();
  OnRun(remove, ctx, a, "directory remove", RunRemove);

  CLI::App* sign = directory->add_subcommand("sign", "raise the serial, date and sign the directory");
  sign->add_flag("--json", ctx->globals.json, "print results as one JSON document");
  FileOption(sign, a.get());
  sign->add_option("--key", a->key_file, "the directory key made by directory init")->required();
  sign->add_option("--valid-days", a->valid_days, "days until the signed directory expires (default 90)");
  OnRun(sign, ctx, a, "directory sign", RunSign);

  CLI::App* show = directory->add_subcommand("show", "print what a directory or draft holds");
  show->add_flag("--json", ctx->globals.json, "print results as one JSON document");
  FileOption(show, a.get());
  OnRun(show, ctx, a, "directory show", RunShow);

  AddDirectoryNodeCommands(directory, ctx);
}

}  // namespace schakel::cli
