#include "schakel/store/partners.h"

#include <algorithm>

#include "rows.h"
#include "schakel/base/time.h"

namespace schakel::store {
namespace {

constexpr const char* kPartnerColumns =
    "node_id, name, org_type, address, sign_pk, enc_pk, enc_pk_sig, tls_spki_sha256, "
    "card_created, card_json, added, updated, source, previous_tls_spki, previous_tls_until, card_acked";

template <size_t N>
Status CopyBlob(const std::vector<uint8_t>& in, std::array<uint8_t, N>& out, const std::string& what) {
  if (in.size() != N) return Status::Corruption("stored partner " + what + " has a bad length");
  std::copy(in.begin(), in.end(), out.begin());
  return Status::Ok();
}

Result<Partner> ReadPartner(Statement& s) {
  Partner p;
  p.card.node_id = s.Text(0);
  p.card.name = s.Text(1);
  p.card.org_type = s.Text(2);
  p.card.address = s.Text(3);
  SCHAKEL_RETURN_IF_ERROR(CopyBlob(s.Blob(4), p.card.sign_pk, "sign_pk"));
  SCHAKEL_RETURN_IF_ERROR(CopyBlob(s.Blob(5), p.card.enc_pk, "enc_pk"));
  SCHAKEL_RETURN_IF_ERROR(CopyBlob(s.Blob(6), p.card.enc_pk_sig, "enc_pk_sig"));
  SCHAKEL_RETURN_IF_ERROR(CopyBlob(s.Blob(7), p.card.tls_spki_sha256, "tls pin"));
  p.card.created = s.Text(8);
  p.card_json = s.Text(9);
  p.added = s.Text(10);
  p.updated = s.Text(11);
  p.source = s.Text(12);
  if (std::vector<uint8_t> prev = s.Blob(13); !prev.empty()) {
    std::array<uint8_t, 32> pin{};
    SCHAKEL_RETURN_IF_ERROR(CopyBlob(prev, pin, "previous tls pin"));
    p.previous_tls_spki = pin;
  }
  p.previous_tls_until = s.Text(14);
  p.card_acked = s.Text(15);
  return p;
}

Statement& BindCard(Statement& s, const Partner& p) {
  return s.Bind(1, p.card.node_id)
      .Bind(2, p.card.name)
      .Bind(3, p.card.org_type)
      .Bind(4, p.card.address)
      .BindBlob(5, p.card.sign_pk)
      .BindBlob(6, p.card.enc_pk)
      .BindBlob(7, p.card.enc_pk_sig)
      .BindBlob(8, p.card.tls_spki_sha256)
      .Bind(9, p.card.created)
      .Bind(10, p.card_json);
}

}  // namespace

std::string DirectorySource(const std::string& region) { return "directory:" + region; }

Result<std::optional<Partner>> FindPartner(Database& db, const std::string& node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string("SELECT ") + kPartnerColumns + " FROM partners WHERE node_id = ?;"));
  s.Bind(1, node_id);
  return OneRow<Partner>(s, ReadPartner);
}

Result<std::vector<Partner>> ListPartners(Database& db) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s,
                           db.Prepare(std::string("SELECT ") + kPartnerColumns + " FROM partners ORDER BY node_id;"));
  return AllRows<Partner>(s, ReadPartner);
}

Status CheckCardKeysUnique(Database& db, const crypto::NodeCard& card) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("SELECT node_id, tls_spki_sha256 = ?2, sign_pk = ?3 FROM partners "
                 "WHERE node_id <> ?1 AND (tls_spki_sha256 = ?2 OR sign_pk = ?3) ORDER BY node_id LIMIT 1;"));
  s.Bind(1, card.node_id).BindBlob(2, card.tls_spki_sha256).BindBlob(3, card.sign_pk);
  SCHAKEL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Ok();
  std::string other = s.Text(0);
  const char* what = s.Int(2) != 0 ? "identity key (sign_pk)" : "TLS certificate pin (tls_spki_sha256)";
  return Status::Denied("the card of " + card.node_id + " has the " + what + " of partner " + other +
                        ": one key cannot belong to two partners; compare both cards with their senders by phone, "
                        "and remove the wrong one (schakel partner remove ID) before importing");
}

Status InsertPartner(Database& db, const Partner& partner) {
  SCHAKEL_RETURN_IF_ERROR(CheckCardKeysUnique(db, partner.card));
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string("INSERT INTO partners (") + kPartnerColumns +
                                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '');"));
  BindCard(s, partner).Bind(11, partner.added).Bind(12, partner.updated).Bind(13, partner.source);
  Status st = s.Run();
  if (st.code() == Code::kAlreadyExists) {
    return Status::AlreadyExists("partner " + partner.card.node_id + " is already known");
  }
  return st;
}

Status UpdatePartnerCard(Database& db, const Partner& partner) {
  SCHAKEL_RETURN_IF_ERROR(CheckCardKeysUnique(db, partner.card));
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s, db.Prepare("UPDATE partners SET node_id = ?1, name = ?2, org_type = ?3, address = ?4, sign_pk = ?5, "
                              "enc_pk = ?6, enc_pk_sig = ?7, tls_spki_sha256 = ?8, card_created = ?9, card_json = ?10, "
                              "updated = ?11 WHERE node_id = ?1;"));
  BindCard(s, partner).Bind(11, partner.updated);
  SCHAKEL_RETURN_IF_ERROR(s.Run());
  if (db.Changes() == 0) return Status::NotFound("no partner " + partner.card.node_id);
  return Status::Ok();
}

bool Partner::AcceptsPin(const std::array<uint8_t, 32>& pin, const std::string& now_rfc3339) const {
  if (card.tls_spki_sha256 == pin) return true;
  if (!previous_tls_spki || *previous_tls_spki != pin) return false;
  auto until = ParseInstant(previous_tls_until);
  auto now = ParseInstant(now_rfc3339);
  return until.ok() && now.ok() && *now < *until;
}

Status SetPreviousPin(Database& db, const std::string& node_id, const std::array<uint8_t, 32>& pin,
                      const std::string& until) {
  SCHAKEL_ASSIGN_OR_RETURN(
      Statement s,
      db.Prepare("UPDATE partners SET previous_tls_spki = ?2, previous_tls_until = ?3 WHERE node_id = ?1;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, node_id).BindBlob(2, pin).Bind(3, until).Run());
  if (db.Changes() == 0) return Status::NotFound("no partner " + node_id);
  return Status::Ok();
}

Status SetCardAcked(Database& db, const std::string& node_id, const std::string& created) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE partners SET card_acked = ?2 WHERE node_id = ?1;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, node_id).Bind(2, created).Run());
  if (db.Changes() == 0) return Status::NotFound("no partner " + node_id);
  return Status::Ok();
}

Status RemovePartner(Database& db, const std::string& node_id) {
  SCHAKEL_ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM partners WHERE node_id = ?;"));
  SCHAKEL_RETURN_IF_ERROR(s.Bind(1, node_id).Run());
  if (db.Changes() == 0) return Status::NotFound("no partner " + node_id);
  return Status::Ok();
}

}  // namespace schakel::store
