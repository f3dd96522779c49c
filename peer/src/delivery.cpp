#include "schakel/peer/delivery.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>

#include "schakel/base/fault_point.h"
#include "schakel/base/log.h"
#include "schakel/crypto/envelope.h"
#include "schakel/formats/case_summary.h"
#include "schakel/formats/json.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::peer {

using service::AssignedTo;
using service::AuditOrFail;
using service::AuditTo;
using service::InboxTo;
using service::RecheckShare;
using service::ShareTo;
using service::SystemEvent;
namespace {

Result<PeerEndpoint> EndpointFor(const store::Partner& p) {
  auto addr = config::ParseAddress(p.card.address);
  if (!addr.ok()) return addr.status().WithContext("partner " + p.card.node_id + " address");
  PeerEndpoint ep;
  ep.node_id = p.card.node_id;
  ep.host = addr->host;
  ep.port = addr->port;
  ep.pin = p.card.tls_spki_sha256;
  return ep;
}

// Keeps an audit reason to a short code list without spaces.
std::string Short(const std::string& s) { return s.size() > 200 ? s.substr(0, 200) : s; }

// A database error here is this node's, not the partner's: the item stays
// queued and is looked at again after a backoff, without marking the partner
// unreachable. The caller does not hold the node lock.
void RetryAfterLocalError(NodeCore& core, const store::OutgoingItem& item, const Status& why,
                          const DeliveryOptions& options) {
  int64_t attempts = item.attempts + 1;
  std::chrono::milliseconds delay = options.backoff_base;
  for (int64_t i = 1; i < attempts && delay < options.backoff_max; ++i) delay *= 2;
  delay = std::min(delay, options.backoff_max);
  LogError("delivery: " + item.kind + " " + item.message_id + " kept in the queue after a local error (next in " +
           std::to_string(delay.count() / 1000) + " s): " + why.message());
  NodeCore::Held held(core);
  int64_t next = core.clock->Now().time_since_epoch().count() + delay.count();
  Status st = store::RescheduleOutgoing(held.db(), item.id, attempts, next, Short("local: " + why.message()));
  if (!st.ok()) LogError("delivery: cannot reschedule " + item.message_id + ": " + st.message());
}

}  // namespace

// ---- DeliveryWorker ---------------------------------------------------------

DeliveryWorker::DeliveryWorker(NodeCore& core, DeliveryOptions options) : core_(core), options_(std::move(options)) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void DeliveryWorker::Failed(Lane& lane, const store::OutgoingItem& item, const Status& why) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t attempts = item.attempts + 1;
  double backoff = static_cast<double>(options_.backoff_base.count());
  for (int64_t i = 1; i < attempts && backoff < static_cast<double>(options_.backoff_max.count()); ++i) backoff *= 2;
  backoff = std::min(backoff, static_cast<double>(options_.backoff_max.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  auto delay = static_cast<int64_t>(backoff * jitter(rng));
  int64_t next = core_.clock->Now().time_since_epoch().count() + delay;
  // The breaker: this lane tries nothing for the partner until then.
  lane.open_after = core_.clock->Now() + std::chrono::milliseconds(delay);
  core_.reachability.FailedTo(item.recipient_id, core_.clock->Now(), why.message());
  LogWarn("delivery of " + item.kind + " " + item.message_id + " to " + item.recipient_id + " failed (attempt " +
          std::to_string(attempts) + ", next in " + std::to_string(delay / 1000) + " s): " + why.message());
  NodeCore::Held held(core_);
  Status st = store::RescheduleOutgoing(held.db(), item.id, attempts, next, Short(why.message()));
  if (!st.ok()) LogError("delivery: cannot reschedule " + item.message_id + ": " + st.message());
}

Result<PeerClient*> DeliveryWorker::Connected(Lane& lane, const store::Partner& partner) {
  SCHAKEL_ASSIGN_OR_RETURN(PeerEndpoint endpoint, EndpointFor(partner));
  std::unique_ptr<PeerClient>& client = lane.client;
  // A changed card (new address or pin) needs a new connection.
  if (client && (client->peer().host != endpoint.host || client->peer().port != endpoint.port ||
                 client->peer().pin != endpoint.pin)) {
    client.reset();
  }
  if (!client) {
    SCHAKEL_ASSIGN_OR_RETURN(client,
                             PeerClient::Create(core_.config.node_id, core_.keys.tls(), endpoint, options_.client));
  }
  Status connected = client->Connect();
  if (!connected.ok()) {
    client.reset();
    return connected;
  }
  return client.get();
}

Result<bool> DeliveryWorker::MarkSending(const store::OutgoingItem& item) {
  NodeCore::Held held(core_);
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> share, store::FindShare(held.db(), item.message_id));
  if (!share) return false;
  if (share->state == store::ShareState::kSending) return true;
  if (share->state != store::ShareState::kQueued) return false;
  SCHAKEL_RETURN_IF_ERROR(store::SetShareState(held.db(), item.message_id, store::ShareState::kSending, "",
                                               FormatInstantMs(core_.clock->Now())));
  return true;
}

Result<std::string> DeliveryWorker::Transmit(Lane& lane, PeerClient& client, const std::string& payload) {
  auto response = client.Deliver(payload);
  if (!response.ok()) lane.client.reset();
  return response;
}

DeliveryWorker::Plan DeliveryWorker::Prepare(const store::OutgoingItem& item) {
  Plan plan;
  NodeCore::Held held(core_);
  auto p = store::FindPartner(held.db(), item.recipient_id);
  if (!p.ok()) return plan.Then(Plan::kRetryLocal, p.status().WithContext("reading the partner"));
  // Removed from the directory: keep trying, the admin may re-add it.
  if (!*p)
    return plan.Then(Plan::kFailed, Status::Unavailable("partner " + item.recipient_id + " is not in the directory"));
  plan.partner = **p;
  auto s = store::FindShare(held.db(), item.message_id);
  if (!s.ok()) return plan.Then(Plan::kRetryLocal, s.status().WithContext("reading the share"));
  plan.share = *s;
  if (item.kind != "share") return plan.Then(Plan::kSend, Status::Ok());
  bool may_go = plan.share &&
                (plan.share->state == store::ShareState::kQueued || plan.share->state == store::ShareState::kSending);
  if (!may_go) {
    Status removed = store::RemoveOutgoing(held.db(), item.kind, item.message_id);
    if (!removed.ok()) return plan.Then(Plan::kRetryLocal, removed.WithContext("dropping a share no longer queued"));
    return plan.Then(Plan::kDone, Status::Ok());
  }
  const store::ShareRecord& share = *plan.share;
  Instant now = core_.clock->Now();
  // Right before transmission: the consents as they are now.
  Status recheck = RecheckShare(held, share);
  if (recheck.ok()) return plan.Then(Plan::kSend, Status::Ok());
  // Not allowed any more. A share still `queued` never left and is
  // cancelled; one `sending` went out before without a receipt and may be
  // with the partner, so it is revoked. The state change, the queue and the
  // entry together, or none: then the item stays queued, is not sent (the
  // recheck runs again first) and is tried again later.
  bool may_be_there = share.state == store::ShareState::kSending;
  Status st;
  {
    store::Transaction tx(held.db());
    st = tx.Begin();
    if (st.ok() && may_be_there) {
      st = service::QueueRevocation(held, share, crypto::RevocationReason::kOther, now);
    } else if (st.ok()) {
      st = store::SetShareState(held.db(), item.message_id, store::ShareState::kCancelled, Short(recheck.message()),
                                FormatInstantMs(now));
      if (st.ok()) st = store::RemoveOutgoing(held.db(), item.kind, item.message_id);
    }
    if (st.ok()) {
      st = AuditOrFail(
          held, SystemEvent({may_be_there ? "share.revoked" : "share.cancelled", share.student_id, share.message_id,
                             share.purpose, share.legal_basis, "deny", Short(recheck.message())},
                            "delivery", ShareTo(share)));
    }
    if (st.ok()) st = tx.Commit();
  }  // rolled back here unless committed
  if (!st.ok()) return plan.Then(Plan::kRetryLocal, st.WithContext("cancelling before sending"));
  LogInfo("share " + item.message_id + (may_be_there ? " revoked" : " cancelled") +
          " before sending: " + recheck.message());
  if (may_be_there) core_.WakeDelivery();
  return plan.Then(Plan::kDone, Status::Ok());
}

void DeliveryWorker::Process(Lane& lane, const store::OutgoingItem& item) {
  Plan plan = Prepare(item);
  switch (plan.next) {
    case Plan::kDone:
      return;
    case Plan::kRetryLocal:
      RetryAfterLocalError(core_, item, plan.why, options_);
      return;
    case Plan::kFailed:
      Failed(lane, item, plan.why);
      return;
    case Plan::kSend:
      break;
  }
  FaultPoint("delivery.before_send");
  auto client = Connected(lane, plan.partner);
  if (!client.ok()) {
    Failed(lane, item, client.status());
    return;
  }
  if (item.kind == "share") {
    // From here on the share may reach the partner: a withdrawal now needs
    // a revocation, not a cancellation (consents.cpp EndSharesUsing).
    auto marked = MarkSending(item);
    if (!marked.ok()) {
      RetryAfterLocalError(core_, item, marked.status().WithContext("marking the share as sending"), options_);
      return;
    }
    if (!*marked) return;  // ended while connecting; Prepare drops the item next round
  }
  auto response = Transmit(lane, **client, item.payload);
  if (!response.ok()) {
    Failed(lane, item, response.status());
    return;
  }
  if (item.kind == "share" && crypto::IsRefusal(*response)) {
    RecordRefusal(lane, item, plan, *response);
    return;
  }
  if (item.kind == "share") {
    RecordReceipt(lane, item, plan, *response);
  } else {
    RecordPurge(lane, item, plan, *response);
  }
}

void DeliveryWorker::RecordReceipt(Lane& lane, const store::OutgoingItem& item, const Plan& plan,
                                   const std::string& response) {
  const store::Partner& partner = plan.partner;
  const std::optional<store::ShareRecord>& share = plan.share;
  auto receipt = crypto::DecodeReceipt(response);
  auto header = crypto::PeekHeader(item.payload);
  crypto::BodyHash hash{};
  if (share && share->body_hash.size() == hash.size()) {
    std::copy(share->body_hash.begin(), share->body_hash.end(), hash.begin());
  }
  Status ok = !receipt.ok()  ? receipt.status()
              : !header.ok() ? header.status()
                             : crypto::VerifyReceipt(*receipt, partner.card.sign_pk, *header, hash);
  if (!ok.ok()) {
    Failed(lane, item, ok.WithContext("receipt refused"));
    return;
  }
  core_.reachability.DeliveredTo(partner.card.node_id, core_.clock->Now());
  FaultPoint("delivery.after_receipt");
  Instant now = core_.clock->Now();
  std::string at = FormatInstantMs(now);
  std::vector<uint8_t> bytes(response.begin(), response.end());
  bool late = false;
  Status st;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    st = tx.Begin();
    // The share as it is now: a withdrawal or a recall may have ended it
    // while it was on its way.
    std::optional<store::ShareRecord> now_share;
    if (st.ok()) {
      auto found = store::FindShare(held.db(), item.message_id);
      if (!found.ok())
        st = found.status();
      else if (!*found)
        st = Status::Internal("share " + item.message_id + " has a receipt but no record");
      else
        now_share = std::move(*found);
    }
    if (st.ok()) {
      late = now_share->state != store::ShareState::kQueued && now_share->state != store::ShareState::kSending;
      st = late ? store::KeepLateReceipt(held.db(), item.message_id, bytes, at)
                : store::MarkShareDelivered(held.db(), item.message_id, bytes, at);
    }
    if (st.ok()) st = store::RemoveOutgoing(held.db(), item.kind, item.message_id);
    if (st.ok()) {
      st = store::ExpediteOutgoing(held.db(), partner.card.node_id, now.time_since_epoch().count());
    }
    if (st.ok()) {
      st = AuditOrFail(
          held, SystemEvent(
                    {"share.delivered", share->student_id, share->message_id, share->purpose, share->legal_basis, "ok",
                     late ? "receipt_verified_after_" + std::string(store::ShareStateName(now_share->state))
                          : "receipt_verified"},
                    "peer:" + partner.card.node_id, ShareTo(*share)));
    }
    // The partner holds a share it should not: unless a revocation is
    // already on its way (revoked), one is queued now.
    if (st.ok() && late && now_share->state != store::ShareState::kRevoked) {
      // The code it was ended with (withdrawal, a recall's reason), else "other".
      crypto::RevocationReason reason = crypto::ParseRevocationReason(now_share->state_reason.value_or(""))
                                            .value_or(crypto::RevocationReason::kOther);
      st = service::QueueRevocation(held, *now_share, reason, now);
      if (st.ok()) {
        st = AuditOrFail(held, SystemEvent({"share.revoked", share->student_id, share->message_id, share->purpose,
                                            share->legal_basis, "ok",
                                            "delivered_after_" + std::string(store::ShareStateName(now_share->state))},
                                           "delivery", ShareTo(*share)));
      }
    }
    if (st.ok()) FaultPoint("delivery.before_receipt_commit");
    if (st.ok()) st = tx.Commit();
  }
  // Not recorded: the item stays queued and is sent again later; the
  // recipient answers a message it has with the same receipt.
  if (!st.ok()) {
    RetryAfterLocalError(core_, item, st.WithContext("recording the receipt"), options_);
  } else if (late) {
    LogInfo("share " + item.message_id + " reached " + partner.card.node_id +
            " after it was ended; its revocation follows");
    core_.WakeDelivery();
  } else {
    LogInfo("share " + item.message_id + " delivered to " + partner.card.node_id);
  }
}

void DeliveryWorker::RecordRefusal(Lane& lane, const store::OutgoingItem& item, const Plan& plan,
                                   const std::string& response) {
  const store::Partner& partner = plan.partner;
  const std::optional<store::ShareRecord>& share = plan.share;
  auto refusal = crypto::DecodeRefusal(response);
  Status ok = !refusal.ok() ? refusal.status()
                            : crypto::VerifyRefusal(*refusal, partner.card.sign_pk, item.message_id,
                                                    core_.config.node_id, partner.card.node_id);
  if (!ok.ok()) {
    Failed(lane, item, ok.WithContext("refusal not accepted"));
    return;
  }
  // It answered: reachable, whatever it thought of the share.
  core_.reachability.DeliveredTo(partner.card.node_id, core_.clock->Now());
  const std::string code(crypto::RefusalCodeName(refusal->code));
  std::string at = FormatInstantMs(core_.clock->Now());
  Status st;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    st = tx.Begin();
    // A share ended while it was on its way keeps its state (revoked: the
    // revocation that follows is confirmed with "nothing held").
    if (st.ok()) {
      auto now_share = store::FindShare(held.db(), item.message_id);
      if (!now_share.ok()) {
        st = now_share.status();
      } else if (*now_share && ((*now_share)->state == store::ShareState::kQueued ||
                                (*now_share)->state == store::ShareState::kSending)) {
        st = store::SetShareState(held.db(), item.message_id, store::ShareState::kRefused, code, at);
      }
    }
    if (st.ok()) st = store::RemoveOutgoing(held.db(), item.kind, item.message_id);
    if (st.ok()) {
      st = store::ExpediteOutgoing(held.db(), partner.card.node_id, core_.clock->Now().time_since_epoch().count());
    }
    if (st.ok()) {
      st = AuditOrFail(held, SystemEvent({"share.refused", share ? share->student_id : "", item.message_id,
                                          share ? share->purpose : "", share ? share->legal_basis : "", "deny", code},
                                         "peer:" + partner.card.node_id,
                                         share ? ShareTo(*share) : AuditTo{partner.card.node_id, "", ""}));
    }
    if (st.ok()) st = tx.Commit();
  }
  // Not recorded: the item stays queued; sent again, it is refused again.
  if (!st.ok())
    RetryAfterLocalError(core_, item, st.WithContext("recording the refusal"), options_);
  else
    LogWarn("share " + item.message_id + " refused by " + partner.card.node_id + ": " + code);
}

void DeliveryWorker::RecordPurge(Lane& lane, const store::OutgoingItem& item, const Plan& plan,
                                 const std::string& response) {
  const store::Partner& partner = plan.partner;
  const std::optional<store::ShareRecord>& share = plan.share;
  // A revocation: the answer must be the recipient's signed purge confirmation.
  auto confirmed = crypto::VerifyPurgeConfirmation(response, item.message_id, core_.config.node_id,
                                                   partner.card.node_id, partner.card.sign_pk);
  if (!confirmed.ok()) {
    Failed(lane, item, confirmed.status());
    return;
  }
  // Version 2 says whether the partner held it (a share that never arrived
  // is purged all the same: nothing of it is left there).
  const std::string why = confirmed->held == false ? "recipient_held_nothing" : "purge_confirmed_by_recipient";
  core_.reachability.DeliveredTo(partner.card.node_id, core_.clock->Now());
  std::string at = FormatInstantMs(core_.clock->Now());
  Status st;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    st = tx.Begin();
    if (st.ok()) st = store::SetShareState(held.db(), item.message_id, store::ShareState::kPurged, why, at);
    if (st.ok()) st = store::RemoveOutgoing(held.db(), item.kind, item.message_id);
    if (st.ok()) {
      st = AuditOrFail(held, SystemEvent({"share.purged", share ? share->student_id : "", item.message_id,
                                          share ? share->purpose : "", share ? share->legal_basis : "", "ok", why},
                                         "peer:" + partner.card.node_id,
                                         share ? ShareTo(*share) : AuditTo{partner.card.node_id, "", ""}));
    }
    if (st.ok()) st = tx.Commit();
  }
  if (!st.ok())
    RetryAfterLocalError(core_, item, st.WithContext("recording the purge"), options_);
  else
    LogInfo("share " + item.message_id + " purged at " + partner.card.node_id +
            (confirmed->purged_at.empty() ? "" : " (" + confirmed->purged_at + ")") +
            (confirmed->held == false ? ", which held nothing" : ""));
}

// ---- InboxHandler -----------------------------------------------------------

Result<std::string> InboxHandler::OnDeliver(const std::string& peer, uint16_t version, std::string_view payload) {
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHK") return Share(peer, version, payload);
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHV") return Revoke(peer, version, payload);
  return Status::InvalidInput("unknown message type");
}

Result<std::string> InboxHandler::Share(const std::string& peer, uint16_t version, std::string_view envelope) {
  SCHAKEL_ASSIGN_OR_RETURN(crypto::EnvelopeHeader peek, crypto::PeekHeader(envelope));
  if (peek.sender_id != peer) {
    return Status::Denied("envelope sender " + peek.sender_id + " is not the connected partner " + peer);
  }
  store::Partner partner;
  {
    NodeCore::Held held(core_);
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::Partner> found, store::FindPartner(held.db(), peer));
    if (!found) return Status::Denied("unknown partner " + peer);
    partner = std::move(*found);
    // Idempotent: a message seen before gets its receipt again.
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> known,
                             store::FindInbox(held.db(), peer, peek.message_id));
    if (known) return std::string(known->receipt.begin(), known->receipt.end());
    // A key rotated by `schakel node rotate-keys` while we run is picked up
    // from the database the first time a partner uses it.
    if (!core_.keys.HasEncKey(peek.recipient_key_id)) {
      auto reloaded = store::LoadUsableEncKeys(held.db(), core_.keys.identity());
      if (reloaded.ok()) core_.keys.ReplaceEncKeys(std::move(reloaded).value());
    }
  }
  // Opening, parsing and signing the receipt happen without the node lock.
  SCHAKEL_ASSIGN_OR_RETURN(crypto::Opened opened,
                           core_.keys.Open(envelope, partner.card.sign_pk, core_.config.node_id));
  const crypto::EnvelopeHeader& h = opened.header();
  if (h.content_type != "application/vnd.schakel.case+json") {
    return Status::InvalidInput("unsupported content type " + h.content_type);
  }
  auto summary = formats::ParseCaseSummary(opened.body(), true);
  if (!summary.ok()) return summary.status().WithContext("received case summary");
  Instant now = core_.clock->Now();
  // The recipient's gate: nothing of a refused share is kept (the opened
  // body is wiped when `opened` goes).
  if (std::optional<crypto::RefusalCode> refused = CheckFlow(partner, h, summary->Present(), now)) {
    return Refuse(peer, version, h, summary->student_id, *refused, now);
  }
  crypto::Receipt receipt = crypto::MakeReceipt(opened, now, core_.keys.identity());
  std::string receipt_bytes = crypto::EncodeReceipt(receipt);

  store::InboxRecord r;
  r.sender_id = peer;
  r.message_id = h.message_id;
  r.student_id = summary->student_id;
  r.purpose = h.purpose;
  r.categories = summary->Present();
  r.consent_ids = h.consent_ids;
  r.created = FormatInstantMs(h.created);
  r.received = FormatInstantMs(now);
  r.retain_until = FormatInstantMs(h.retain_until);
  r.summary = std::string(opened.body());
  crypto::BodyHash hash = crypto::HashBody(opened.body());
  r.body_hash.assign(hash.begin(), hash.end());
  r.receipt.assign(receipt_bytes.begin(), receipt_bytes.end());

  bool over_quota = false;
  Result<std::string> answer = StoreReceived(peer, r, receipt_bytes, now, &over_quota);
  if (r.summary) {
    // Through a reference: clang-analyzer 14 takes the second operator-> of
    // `r.summary->data(), r.summary->size()` for a reallocation (InnerPointer).
    std::string& plaintext = *r.summary;
    crypto::Wipe(plaintext.data(), plaintext.size());
  }
  if (answer.ok() && over_quota) return Refuse(peer, version, h, summary->student_id, crypto::RefusalCode::kQuota, now);
  if (answer.ok()) core_.reachability.DeliveredFrom(peer, now);
  return answer;
}

Result<std::string> InboxHandler::StoreReceived(const std::string& peer, const store::InboxRecord& r,
                                                const std::string& receipt_bytes, Instant now, bool* over_quota) {
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  // Counted and stored under one lock: two connections of one partner cannot
  // both slip under the quota. A message stored meanwhile is answered below.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> stored, store::FindInbox(held.db(), peer, r.message_id));
  if (!stored) {
    SCHAKEL_ASSIGN_OR_RETURN(bool over, OverQuota(held, peer, r.summary ? r.summary->size() : 0, now));
    if (over) {
      *over_quota = true;
      return std::string();  // nothing written; the transaction rolls back
    }
  }
  // A route a coordinator confirmed for this partner's student assigns it on
  // arrival; otherwise it waits in the coordinators' queue.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRoute> route,
                           store::FindInboxRoute(held.db(), peer, r.student_id));
  SCHAKEL_ASSIGN_OR_RETURN(bool inserted, store::InsertInboxIfNew(held.db(), r));
  if (!inserted) {
    // The same message arrived twice at once (a retry on a second connection
    // while the first was being opened): the first one stored is answered.
    SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::InboxRecord> known, store::FindInbox(held.db(), peer, r.message_id));
    if (!known) return Status::Internal("inbox: message " + r.message_id + " neither new nor stored");
    return std::string(known->receipt.begin(), known->receipt.end());
  }
  audit::AuditEvent e =
      SystemEvent({"inbox.received", r.student_id, r.message_id, r.purpose, "", "ok", ""}, "peer:" + peer, InboxTo(r));
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
  FaultPoint("inbox.before_commit");
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  FaultPoint("inbox.after_commit");
  LogInfo("received share " + r.message_id + " from " + peer);
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

}  // namespace schakel::peer
