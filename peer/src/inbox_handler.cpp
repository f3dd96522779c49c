// The inbox (delivery.h InboxHandler): shares and revocations from partners,
// one at a time or a batch stored in one transaction. The recipient's gate
// itself is inbox_gate.cpp.
#include <string>
#include <vector>

#include "schakel/audit/witness.h"
#include "schakel/base/fault_point.h"
#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/crypto/envelope.h"
#include "schakel/crypto/node_card.h"
#include "schakel/formats/case_summary.h"
#include "schakel/peer/card_announce.h"
#include "schakel/peer/delivery.h"
#include "schakel/peer/directory_announce.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/trace_context.h"
#include "schakel/service/directories.h"
#include "schakel/service/service.h"
#include "schakel/store/directories.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::peer {

using service::AssignedTo;
using service::AuditOrFail;
using service::InboxTo;
using service::SystemEvent;

void InboxHandler::OnIdentified(const std::string& peer_node_id) noexcept {
  if (!on_partner_connected) return;
  try {
    on_partner_connected(peer_node_id);
  } catch (...) {  // out of memory: the partner's queue waits out its backoff
  }
}

Result<std::string> InboxHandler::OnDeliver(const std::string& peer, uint16_t version, std::string_view payload) {
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHK") return Share(peer, version, payload);
  if (IsTraced(payload)) return TracedShare(peer, version, payload);
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHV") return Revoke(peer, version, payload);
  if (audit::IsWitnessRequest(payload)) return WitnessFor(peer, version, payload);
  if (IsCardAnnouncement(payload)) return CardUpdate(peer, version, payload);
  if (IsDirectoryAnnouncement(payload)) return DirectoryUpdate(peer, version, payload);
  return Status::InvalidInput("unknown message type");
}

Result<std::string> InboxHandler::CardUpdate(const std::string& peer, uint16_t version, std::string_view payload) {
  if (version < kPeerProtocolCardVersion) {
    return Status::InvalidInput("a card announcement needs peer protocol " + std::to_string(kPeerProtocolCardVersion));
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::string_view json, CardAnnouncementJson(payload));
  // Parsing and both signatures without the node lock.
  SCHAKEL_ASSIGN_OR_RETURN(crypto::NodeCard card, crypto::ParseNodeCard(json));
  if (card.node_id != peer) {
    return Status::Denied("card of " + card.node_id + " announced by the connected partner " + peer);
  }
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> known, store::FindPartner(held.db(), peer));
  if (!known) return Status::Denied("unknown partner " + peer);
  if (known->card.sign_pk != card.sign_pk) {
    return Status::Denied("the announced card of " + peer +
                          " has another identity key than the pinned one; an administrator must check it");
  }
  if (crypto::CanonicalCardText(known->card) == crypto::CanonicalCardText(card)) {
    return EncodeCardAnswer(kCardHeld);
  }
  auto old_created = ParseInstant(known->card.created);
  auto new_created = ParseInstant(card.created);
  if (!old_created.ok() || !new_created.ok() || *new_created <= *old_created) {
    return Status::Denied("the announced card of " + peer + " is not newer than the one held");
  }
  // What the gate decides by, and where we dial, change only by hand.
  if (card.org_type != known->card.org_type || card.address != known->card.address) {
    std::string what = card.org_type != known->card.org_type
                           ? "org type " + known->card.org_type + " -> " + card.org_type
                           : "address " + known->card.address + " -> " + card.address;
    LogWarn("peer: " + peer + " announced a card that changes its " + what + "; not taken");
    return Status::Denied("the announced card changes the " + what +
                          "; that needs the partner's administrator to phone ours (partner add --accept-change)");
  }
  Instant now = core_.clock->Now();
  store::Partner updated = *known;
  updated.card = card;
  updated.card_json = std::string(json);
  updated.updated = FormatInstant(now);
  SCHAKEL_RETURN_IF_ERROR(store::UpdatePartnerCard(held.db(), updated));
  SCHAKEL_RETURN_IF_ERROR(store::SetPreviousPin(held.db(), peer, known->card.tls_spki_sha256,
                                                FormatInstant(now + std::chrono::days(kPreviousPinDays))));
  audit::AuditEvent e = SystemEvent(
      {"partner.update", "", peer, "", "", "ok", "card from the partner over the peer channel, identity key unchanged"},
      "peer:" + peer);
  e.actor_user = peer;
  e.actor_role = "peer";
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, e));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  LogInfo("peer: took the newer card of " + peer + " (created " + card.created + ")");
  return EncodeCardAnswer(kCardTaken);
}

Result<std::string> InboxHandler::DirectoryUpdate(const std::string& peer, uint16_t version, std::string_view payload) {
  if (version < kPeerProtocolDirectoryVersion) {
    return Status::InvalidInput("a directory announcement needs peer protocol " +
                                std::to_string(kPeerProtocolDirectoryVersion));
  }
  SCHAKEL_ASSIGN_OR_RETURN(std::string_view json, DirectoryAnnouncementJson(payload));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::DirectoryClaim claim, crypto::PeekDirectory(json));
  // What was refused from this partner, by its bytes (a partner can only
  // block what it passes itself).
  const std::string memo = peer + " " + claim.region + " " + std::to_string(std::hash<std::string_view>{}(json));
  {
    NodeCore::Reading reading(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::RegionDirectory> trusted,
                             store::FindRegionDirectory(reading.db(), claim.region));
    if (!trusted) return EncodeDirectoryAnswer(kDirectoryUnknown);
    // An older one is not taken back; telling the partner so is enough.
    if (claim.serial < trusted->serial || json == trusted->directory_json) return EncodeDirectoryAnswer(kDirectoryHeld);
  }
  {
    std::lock_guard<std::mutex> lock(refused_mu_);
    if (refused_.count(memo)) {
      return Status::Denied("directory " + claim.region + " serial " + std::to_string(claim.serial) +
                            " was refused already");
    }
  }
  // Every member card and the directory signature, without the node lock.
  auto remember_refused = [&] {
    std::lock_guard<std::mutex> lock(refused_mu_);
    if (refused_.size() >= 1024) refused_.clear();
    refused_.insert(memo);
  };
  auto dir = crypto::ParseDirectory(json);
  if (!dir.ok()) {
    remember_refused();
    LogWarn("peer: " + peer + " passed along a directory of region " + claim.region +
            " that is not taken: " + dir.status().message());
    return dir.status();
  }
  service::TakenDirectory taken;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    service::DirectoryContext ctx{
        held.db(), core_.config,
        [&](const std::string& action, const std::string& object, const std::string& reason) {
          audit::AuditEvent e = SystemEvent({action, "", object, "", "", "ok", reason}, "peer:" + peer);
          e.actor_user = peer;
          e.actor_role = "peer";
          return AuditOrFail(held, e);
        },
        core_.clock->Now(), false};
    SCHAKEL_ASSIGN_OR_RETURN(taken, service::TakeDirectory(ctx, *dir, json, "partner " + peer));
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  switch (taken.outcome) {
    case service::TakenDirectory::kHeld:
      return EncodeDirectoryAnswer(kDirectoryHeld);
    case service::TakenDirectory::kRefused: {
      remember_refused();
      LogWarn("peer: " + peer + " passed along a directory that is refused: " + taken.refusal.message());
      return taken.refusal;
    }
    case service::TakenDirectory::kTaken:
      break;
  }
  LogInfo("peer: took directory " + dir->region + " serial " + std::to_string(dir->serial) + " from " + peer + " (" +
          std::to_string(taken.changes.added.size()) + " added, " + std::to_string(taken.changes.updated.size()) +
          " updated, " + std::to_string(taken.changes.removed.size()) + " removed, " +
          std::to_string(taken.changes.conflicts.size()) + " conflicts)");
  if (on_directory_taken) on_directory_taken();
  return EncodeDirectoryAnswer(kDirectoryTaken);
}

Result<std::string> InboxHandler::TracedShare(const std::string& peer, uint16_t version, std::string_view payload) {
  if (version < kPeerProtocolTraceVersion) {
    return Status::InvalidInput("a trace context needs peer protocol " + std::to_string(kPeerProtocolTraceVersion) +
                                "; this connection speaks " + std::to_string(version));
  }
  SCHAKEL_ASSIGN_OR_RETURN(Traced traced, UnwrapTraced(payload));
  return Share(peer, version, traced.envelope, &traced.trace);
}

Result<std::string> InboxHandler::WitnessFor(const std::string& peer, uint16_t version, std::string_view request) {
  if (version < kPeerProtocolWitnessVersion) {
    return Status::InvalidInput("a witness request needs peer protocol " + std::to_string(kPeerProtocolWitnessVersion));
  }
  SCHAKEL_ASSIGN_OR_RETURN(audit::WitnessRequest req, audit::ParseWitnessRequest(request));
  if (req.node_id != peer) {
    return Status::Denied("witness: a checkpoint of " + req.node_id + " from the connected partner " + peer);
  }
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> partner, store::FindPartner(held.db(), peer));
  if (!partner) return Status::Denied("unknown partner " + peer);
  SCHAKEL_ASSIGN_OR_RETURN(
      audit::Countersignature cs,
      audit::WitnessCheckpoint(held.db(), held.audit(), partner->card, core_.keys.identity(), req, core_.clock->Now()));
  LogInfo("audit: witnessed checkpoint " + std::to_string(cs.seq) + " of " + peer);
  return audit::EncodeCountersignature(cs);
}

std::vector<Result<std::string>> InboxHandler::OnDeliverBatch(const std::string& peer, uint16_t version,
                                                              const std::vector<std::string>& payloads) {
  std::vector<Result<std::string>> answers(payloads.size(), Status::Internal("not handled"));
  // Opened, checked and signed one by one without the lock; the ones to
  // store are stored together, in one transaction (group commit). A request
  // that is not a share (a revocation) is carried out in its turn: the
  // shares before it are stored first, so a revocation finds a share sent
  // before it, whichever batch of the connection each came in.
  std::vector<Arrival> arrivals(payloads.size());
  std::vector<size_t> to_store;
  for (size_t i = 0; i < payloads.size(); ++i) {
    std::string_view payload = payloads[i];
    std::optional<Traced> traced;
    if (IsTraced(payload) && version >= kPeerProtocolTraceVersion) {
      Result<Traced> unwrapped = UnwrapTraced(payload);
      if (!unwrapped.ok()) {
        answers[i] = unwrapped.status();
        continue;
      }
      traced = *unwrapped;
      payload = traced->envelope;
    }
    if (payload.size() >= 4 && payload.substr(0, 4) == "SCHK") {
      arrivals[i] = Receive(peer, version, payload, traced ? &traced->trace : nullptr);
      if (arrivals[i].answer) {
        answers[i] = std::move(*arrivals[i].answer);
      } else {
        to_store.push_back(i);
      }
    } else {
      StoreTogether(peer, version, arrivals, to_store, answers);
      answers[i] = OnDeliver(peer, version, payload);
    }
  }
  StoreTogether(peer, version, arrivals, to_store, answers);
  return answers;
}

void InboxHandler::StoreTogether(const std::string& peer, uint16_t version, std::vector<Arrival>& arrivals,
                                 std::vector<size_t>& to_store, std::vector<Result<std::string>>& answers) {
  if (to_store.empty()) return;
  LogDebug("inbox: storing " + std::to_string(to_store.size()) + " shares from " + peer + " in one transaction");
  Status batch;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    batch = tx.Begin();
    for (size_t k = 0; k < to_store.size() && batch.ok(); ++k) {
      Arrival& a = arrivals[to_store[k]];
      answers[to_store[k]] = StoreOne(held, peer, a.record, a.receipt, a.now, &a.over_quota, a.trace_reason);
      batch = answers[to_store[k]].status();
    }
    if (batch.ok()) FaultPoint("inbox.before_commit");
    if (batch.ok()) batch = tx.Commit();
    if (batch.ok()) FaultPoint("inbox.after_commit");
    if (!batch.ok()) inbound_.Forget(peer);  // it counted shares that were not kept
  }
  for (size_t i : to_store) {
    Arrival& a = arrivals[i];
    if (batch.ok()) {
      if (!a.over_quota) LogInfo("received share " + a.record.message_id + " from " + peer);
    } else {
      // The batch did not commit: each on its own, so that one that fails
      // takes no other with it.
      a.over_quota = false;
      answers[i] = StoreReceived(peer, a.record, a.receipt, a.now, &a.over_quota, a.trace_reason);
    }
    answers[i] = Finish(peer, version, a, std::move(answers[i]));
  }
  to_store.clear();
}

Result<std::string> InboxHandler::Share(const std::string& peer, uint16_t version, std::string_view envelope,
                                        const audit::TraceContext* trace) {
  Arrival a = Receive(peer, version, envelope, trace);
  if (a.answer) return std::move(*a.answer);
  Result<std::string> answer = StoreReceived(peer, a.record, a.receipt, a.now, &a.over_quota, a.trace_reason);
  return Finish(peer, version, a, std::move(answer));
}

InboxHandler::Arrival InboxHandler::Receive(const std::string& peer, uint16_t version, std::string_view envelope,
                                            const audit::TraceContext* trace) {
  Arrival a;
  if (trace) a.trace_reason = std::string(audit::kTraceReasonPrefix) + audit::FormatTraceparent(*trace);
  auto decided = [&a](Result<std::string> answer) -> Arrival& {
    a.answer = std::move(answer);
    return a;
  };
  auto peek = crypto::PeekHeader(envelope);
  if (!peek.ok()) return decided(peek.status());
  if (peek->sender_id != peer) {
    return decided(Status::Denied("envelope sender " + peek->sender_id + " is not the connected partner " + peer));
  }
  store::Partner partner;
  {
    NodeCore::Held held(core_);
    auto found = store::FindPartner(held.db(), peer);
    if (!found.ok()) return decided(found.status());
    if (!*found) return decided(Status::Denied("unknown partner " + peer));
    partner = std::move(**found);
    // Idempotent: a message seen before gets its receipt again.
    auto known = store::FindInbox(held.db(), peer, peek->message_id);
    if (!known.ok()) return decided(known.status());
    if (*known) return decided(std::string((*known)->receipt.begin(), (*known)->receipt.end()));
    // A key rotated by `schakel node rotate-keys` while we run is picked up
    // from the database the first time a partner uses it.
    if (!core_.keys.HasEncKey(peek->recipient_key_id)) {
      auto reloaded = store::LoadUsableEncKeys(held.db(), core_.keys.identity());
      if (reloaded.ok()) core_.keys.ReplaceEncKeys(std::move(reloaded).value());
    }
  }
  // Opening, parsing and signing the receipt happen without the node lock.
  auto opened = core_.keys.Open(envelope, partner.card.sign_pk, core_.config.node_id);
  if (!opened.ok()) return decided(opened.status());
  const crypto::EnvelopeHeader& h = opened->header();
  if (h.content_type != "application/vnd.schakel.case+json") {
    return decided(Status::InvalidInput("unsupported content type " + h.content_type));
  }
  auto summary = formats::ParseCaseSummary(opened->body(), true);
  if (!summary.ok()) return decided(summary.status().WithContext("received case summary"));
  a.now = core_.clock->Now();
  a.header = h;
  // The recipient's gate: nothing of a refused share is kept (the opened
  // body is wiped when `opened` goes).
  if (std::optional<crypto::RefusalCode> refused = CheckFlow(partner, h, summary->Present(), a.now)) {
    return decided(Refuse(peer, version, h, summary->student_id, *refused, a.now));
  }
  crypto::Receipt receipt = crypto::MakeReceipt(*opened, a.now, core_.keys.identity());
  a.receipt = crypto::EncodeReceipt(receipt);

  store::InboxRecord& r = a.record;
  r.sender_id = peer;
  r.message_id = h.message_id;
  r.student_id = summary->student_id;
  r.purpose = h.purpose;
  r.categories = summary->Present();
  r.consent_ids = h.consent_ids;
  r.created = FormatInstantMs(h.created);
  r.received = FormatInstantMs(a.now);
  r.retain_until = FormatInstantMs(h.retain_until);
  r.summary = std::string(opened->body());
  r.body_hash.assign(receipt.body_hash.begin(), receipt.body_hash.end());  // MakeReceipt hashed the body
  r.receipt.assign(a.receipt.begin(), a.receipt.end());
  return a;
}

Result<std::string> InboxHandler::Finish(const std::string& peer, uint16_t version, Arrival& a,
                                         Result<std::string> answer) {
  if (a.record.summary) {
    // Through a reference: clang-analyzer 14 takes the second operator-> of
    // `r.summary->data(), r.summary->size()` for a reallocation (InnerPointer).
    std::string& plaintext = *a.record.summary;
    crypto::Wipe(plaintext.data(), plaintext.size());
  }
  if (answer.ok() && a.over_quota) {
    return Refuse(peer, version, a.header, a.record.student_id, crypto::RefusalCode::kQuota, a.now);
  }
  if (answer.ok()) core_.reachability.DeliveredFrom(peer, a.now);
  return answer;
}

Result<std::string> InboxHandler::StoreReceived(const std::string& peer, const store::InboxRecord& r,
                                                const std::string& receipt_bytes, Instant now, bool* over_quota,
                                                std::string_view trace_reason) {
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  Result<std::string> answer = StoreOne(held, peer, r, receipt_bytes, now, over_quota, trace_reason);
  if (answer.ok() && *over_quota) return answer;  // nothing written; the transaction rolls back
  Status st = answer.status();
  if (st.ok()) {
    FaultPoint("inbox.before_commit");
    st = tx.Commit();
  }
  if (!st.ok()) {
    inbound_.Forget(peer);  // it may have counted a share that was not kept
    return st;
  }
  FaultPoint("inbox.after_commit");
  LogInfo("received share " + r.message_id + " from " + peer);
  return answer;
}

Result<std::string> InboxHandler::StoreOne(NodeCore::Held& held, const std::string& peer, const store::InboxRecord& r,
                                           const std::string& receipt_bytes, Instant now, bool* over_quota,
                                           std::string_view trace_reason) {
  // Counted and stored under one lock: two connections of one partner cannot
  // both slip under the quota. A message stored meanwhile is answered below.
  // Within a batch the ones stored before count (same transaction).
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> stored, store::FindInbox(held.db(), peer, r.message_id));
  if (!stored) {
    SCHAKEL_ASSIGN_OR_RETURN(bool over, OverQuota(held, peer, r.summary ? r.summary->size() : 0, now));
    if (over) {
      *over_quota = true;
      return std::string();  // nothing written
    }
  }
  // A route a coordinator confirmed for this partner's student assigns it on
  // arrival; otherwise it waits in the coordinators' queue.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRoute> route,
                           store::FindInboxRoute(held.db(), peer, r.student_id));
  SCHAKEL_ASSIGN_OR_RETURN(bool inserted, store::InsertInboxIfNew(held.db(), r));
  if (inserted) inbound_.Add(peer, r.received, static_cast<int64_t>(r.summary ? r.summary->size() : 0));
  if (!inserted) {
    // The same message arrived twice at once (a retry on a second connection
    // while the first was being opened): the first one stored is answered.
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> known, store::FindInbox(held.db(), peer, r.message_id));
    if (!known) return Status::Internal("inbox: message " + r.message_id + " neither new nor stored");
    return std::string(known->receipt.begin(), known->receipt.end());
  }
  audit::AuditEvent e =
      SystemEvent({"inbox.received", r.student_id, r.message_id, r.purpose, "", "ok", std::string(trace_reason)},
                  "peer:" + peer, InboxTo(r));
  e.actor_user = peer;
  e.actor_role = "peer";
  e.actor_org = peer;
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, e));
  if (route) {
    SCHAKEL_RETURN_IF_ERROR(store::AssignInbox(held.db(), peer, r.message_id, route->user_id, "route"));
    audit::AuditEvent a =
        SystemEvent({"inbox.assign", r.student_id, r.message_id, r.purpose, "", "ok", "route:" + route->user_id},
                    "route", AssignedTo(r, route->user_id));
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, a));
  }
  return receipt_bytes;
}

Result<std::string> InboxHandler::Revoke(const std::string& peer, uint16_t version, std::string_view bytes) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Revocation rev, crypto::DecodeRevocation(bytes));
  if (rev.sender_id != peer) return Status::Denied("revocation sender is not the connected partner");
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> partner,
                           core_.WithDb([&](NodeCore::Held& held) { return store::FindPartner(held.db(), peer); }));
  if (!partner) return Status::Denied("unknown partner " + peer);
  SCHAKEL_RETURN_IF_ERROR(crypto::VerifyRevocation(rev, partner->card.sign_pk, core_.config.node_id));
  Instant now = core_.clock->Now();
  bool purged = false;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> known,
                             store::FindInbox(held.db(), peer, rev.message_id));
    if (known && known->state == "received" && known->adopted_at) {
      return KeepAdopted(held, peer, version, rev, *known, now);
    }
    store::Transaction tx(held.db());
    SCHAKEL_RETURN_IF_ERROR(tx.Begin());
    if (known && known->state == "received") {
      // Only a known code is kept: free text from an older partner could
      // hold personal data the purge is meant to remove.
      std::string reason(crypto::RevocationReasonName(
          crypto::ParseRevocationReason(rev.reason).value_or(crypto::RevocationReason::kOther)));
      SCHAKEL_RETURN_IF_ERROR(store::PurgeInbox(held.db(), peer, rev.message_id, reason, FormatInstantMs(now)));
      audit::AuditEvent e =
          SystemEvent({"inbox.purged", known->student_id, rev.message_id, known->purpose, "", "ok", reason},
                      "peer:" + peer, InboxTo(*known));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, e));
      purged = true;
    }
    SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  }
  core_.reachability.DeliveredFrom(peer, now);
  LogInfo("revocation of " + rev.message_id + " from " + peer + (purged ? ": purged" : ": nothing held"));
  // A partner that speaks peer protocol 1 knows only confirmation version 1.
  return crypto::MakePurgeConfirmation(rev.message_id, peer, core_.config.node_id, purged, now, core_.keys.identity(),
                                       version >= 2 ? crypto::kPurgeConfirmationVersion : 1);
}

Result<std::string> InboxHandler::KeepAdopted(NodeCore::Held& held, const std::string& peer, uint16_t version,
                                              const crypto::Revocation& rev, const store::InboxRecord& known,
                                              Instant now) {
  const std::string basis = known.adopted_basis.value_or("");
  const std::string adopted_at = known.adopted_at.value_or("");
  // Only a known code: free text could hold personal data.
  const std::string why(crypto::RevocationReasonName(
      crypto::ParseRevocationReason(rev.reason).value_or(crypto::RevocationReason::kOther)));
  // The sender learns that the copy is kept and why; the entry says so on
  // this side (both sides audit the answer), with the sender's reason, so a
  // coordinator here sees e.g. that it was sent in error and can correct
  // the dossier.
  audit::AuditEvent e = SystemEvent({"inbox.revocation_kept", known.student_id, rev.message_id, known.purpose, basis,
                                     "ok", "revoked: " + why + "; kept, adopted into dossier on " + adopted_at},
                                    "peer:" + peer, InboxTo(known));
  SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, e));
  core_.reachability.DeliveredFrom(peer, now);
  LogWarn("revocation of " + rev.message_id + " from " + peer + " (" + why + "): kept, adopted into the dossier (" +
          basis + "); check the dossier");
  if (version < kPeerProtocolAdoptVersion) {
    // An older sender cannot record this answer; it keeps its revocation
    // queued and shows this reason until it upgrades.
    return Status::Denied("adopted into dossier (" + basis + "): kept by the recipient; peer protocol " +
                          std::to_string(kPeerProtocolAdoptVersion) + " is needed to record this answer");
  }
  auto at = ParseInstant(adopted_at);
  return crypto::MakeAdoptionNotice(rev.message_id, peer, core_.config.node_id, at.ok() ? *at : now, basis,
                                    core_.keys.identity());
}

}  // namespace schakel::peer
