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

void DeliveryWorker::Deliver(Lane& lane, const std::vector<store::OutgoingItem>& due) {
  std::vector<InFlight> go;
  for (const store::OutgoingItem& item : due) {
    if (stop_ || core_.clock->Now() < lane.open_after) break;
    Plan plan = Prepare(item);
    switch (plan.next) {
      case Plan::kDone:
        break;
      case Plan::kRetryLocal:
        RetryAfterLocalError(core_, item, plan.why, options_);
        break;
      case Plan::kFailed:
        Failed(lane, item, plan.why);
        break;
      case Plan::kSend:
        go.push_back(InFlight{&item, std::move(plan)});
        break;
    }
  }
  if (go.empty() || stop_ || core_.clock->Now() < lane.open_after) return;
  FaultPoint("delivery.before_send");
  auto started = std::chrono::steady_clock::now();
  auto client = Connected(lane, go.front().plan.partner);
  if (!client.ok()) {
    Failed(lane, *go.front().item, client.status());
    // Refused at once: the partner's node is down; probing it is cheap.
    lane.probe = client.status().code() == Code::kUnavailable &&
                 std::chrono::steady_clock::now() - started < std::chrono::seconds(1);
    return;
  }
  lane.probe = false;
  // From here on the shares may reach the partner: a withdrawal now needs
  // a revocation, not a cancellation (consents.cpp EndSharesUsing).
  Status marked = MarkSending(go);
  if (!marked.ok()) {
    for (const InFlight& f : go) {
      RetryAfterLocalError(core_, *f.item, marked.WithContext("marking the share as sending"), options_);
    }
    return;
  }
  if (go.empty()) return;  // all ended while connecting; Prepare drops them next round
  std::vector<std::string_view> payloads;
  payloads.reserve(go.size());
  for (const InFlight& f : go) payloads.emplace_back(f.item->payload);
  std::vector<Result<std::string>> answers = (*client)->DeliverBatch(payloads);
  if (!(*client)->connected()) lane.client.reset();  // opened afresh next time
  std::vector<Answered> verified;
  for (size_t i = 0; i < go.size(); ++i) {
    if (!answers[i].ok()) {
      Failed(lane, *go[i].item, answers[i].status());
      continue;
    }
    Result<Answered> a = Verify(go[i], *answers[i]);
    if (a.ok()) {
      verified.push_back(std::move(a).value());
    } else {
      Failed(lane, *go[i].item, a.status());
    }
  }
  Record(verified);
}

Status DeliveryWorker::MarkSending(std::vector<InFlight>& go) {
  std::string at = FormatInstantMs(core_.clock->Now());
  std::vector<InFlight> kept;
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  for (InFlight& f : go) {
    if (f.item->kind == "share") {
      SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> share,
                               store::FindShare(held.db(), f.item->message_id));
      // Ended while the connection was opened: not sent.
      if (!share) continue;
      if (share->state != store::ShareState::kSending && share->state != store::ShareState::kQueued) continue;
      if (share->state == store::ShareState::kQueued) {
        SCHAKEL_RETURN_IF_ERROR(
            store::SetShareState(held.db(), f.item->message_id, store::ShareState::kSending, "", at));
      }
    }
    kept.push_back(std::move(f));
  }
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  go = std::move(kept);
  return Status::Ok();
}

Result<DeliveryWorker::Answered> DeliveryWorker::Verify(const InFlight& f, const std::string& response) {
  const store::OutgoingItem& item = *f.item;
  const store::Partner& partner = f.plan.partner;
  Answered a;
  a.item = f.item;
  a.plan = &f.plan;
  if (item.kind == "share" && crypto::IsRefusal(response)) {
    // The recipient's gate refused it: a signed refusal.
    auto refusal = crypto::DecodeRefusal(response);
    Status ok = !refusal.ok() ? refusal.status()
                              : crypto::VerifyRefusal(*refusal, partner.card.sign_pk, item.message_id,
                                                      core_.config.node_id, partner.card.node_id);
    if (!ok.ok()) return ok.WithContext("refusal not accepted");
    a.kind = Answered::kRefusal;
    a.code = crypto::RefusalCodeName(refusal->code);
  } else if (item.kind == "share") {
    auto receipt = crypto::DecodeReceipt(response);
    auto header = crypto::PeekHeader(item.payload);
    const std::optional<store::ShareRecord>& share = f.plan.share;
    crypto::BodyHash hash{};
    if (share && share->body_hash.size() == hash.size()) {
      std::copy(share->body_hash.begin(), share->body_hash.end(), hash.begin());
    }
    Status ok = !receipt.ok()  ? receipt.status()
                : !header.ok() ? header.status()
                               : crypto::VerifyReceipt(*receipt, partner.card.sign_pk, *header, hash);
    if (!ok.ok()) return ok.WithContext("receipt refused");
    a.kind = Answered::kReceipt;
    a.receipt.assign(response.begin(), response.end());
  } else {
    // A revocation: the answer must be the recipient's signed purge confirmation.
    SCHAKEL_ASSIGN_OR_RETURN(crypto::PurgeConfirmation confirmed,
                             crypto::VerifyPurgeConfirmation(response, item.message_id, core_.config.node_id,
                                                             partner.card.node_id, partner.card.sign_pk));
    a.kind = Answered::kPurge;
    // Version 2 says whether the partner held it (a share that never arrived
    // is purged all the same: nothing of it is left there).
    a.held_nothing = confirmed.held == false;
    a.purged_at = confirmed.purged_at;
  }
  // It answered: reachable, whatever it thought of the share.
  core_.reachability.DeliveredTo(partner.card.node_id, core_.clock->Now());
  return a;
}

void DeliveryWorker::Record(std::vector<Answered>& answered) {
  if (answered.empty()) return;
  if (answered.size() > 1) {
    LogDebug("delivery: recording " + std::to_string(answered.size()) + " answers from " +
             answered.front().plan->partner.card.node_id + " in one transaction");
  }
  FaultPoint("delivery.after_receipt");
  // All of a batch in one transaction (group commit); when that fails, each
  // on its own, so that one that cannot be recorded holds up no other.
  auto record = [this](std::vector<Answered*> some) {
    Instant now = core_.clock->Now();
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    Status st = tx.Begin();
    for (Answered* a : some) {
      if (st.ok()) st = Apply(held, *a, now);
    }
    // The partner answers: what waits for it in backoff goes now.
    if (st.ok())
      st = store::ExpediteOutgoing(held.db(), some.front()->plan->partner.card.node_id, now.time_since_epoch().count());
    if (st.ok()) FaultPoint("delivery.before_receipt_commit");
    if (st.ok()) st = tx.Commit();
    return st;
  };
  std::vector<Answered*> all;
  for (Answered& a : answered) all.push_back(&a);
  Status st = record(all);
  if (st.ok()) {
    for (const Answered& a : answered) Done(a);
    return;
  }
  for (Answered& a : answered) {
    a.late = false;
    Status one = answered.size() == 1 ? st : record({&a});
    // Not recorded: the item stays queued and is sent again later; the
    // recipient answers a message it has with what it answered before.
    if (one.ok()) {
      Done(a);
    } else {
      RetryAfterLocalError(core_, *a.item, one.WithContext("recording the answer"), options_);
    }
  }
}

Status DeliveryWorker::Apply(NodeCore::Held& held, Answered& a, Instant now) {
  const store::OutgoingItem& item = *a.item;
  const store::Partner& partner = a.plan->partner;
  const std::optional<store::ShareRecord>& share = a.plan->share;
  const std::string at = FormatInstantMs(now);
  const AuditTo to = share ? ShareTo(*share) : AuditTo{partner.card.node_id, "", ""};
  auto event = [&](const char* action, const char* outcome, std::string reason, std::string source = std::string()) {
    return SystemEvent({action, share ? share->student_id : "", item.message_id, share ? share->purpose : "",
                        share ? share->legal_basis : "", outcome, std::move(reason)},
                       source.empty() ? "peer:" + partner.card.node_id : std::move(source), to);
  };
  // The share as it is now: a withdrawal or a recall may have ended it
  // while it was on its way.
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> now_share, store::FindShare(held.db(), item.message_id));
  switch (a.kind) {
    case Answered::kReceipt: {
      if (!now_share) return Status::Internal("share " + item.message_id + " has a receipt but no record");
      a.late = now_share->state != store::ShareState::kQueued && now_share->state != store::ShareState::kSending;
      SCHAKEL_RETURN_IF_ERROR(a.late ? store::KeepLateReceipt(held.db(), item.message_id, a.receipt, at)
                                     : store::MarkShareDelivered(held.db(), item.message_id, a.receipt, at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), item.kind, item.message_id));
      SCHAKEL_RETURN_IF_ERROR(AuditOrFail(
          held, event("share.delivered", "ok",
                      a.late ? "receipt_verified_after_" + std::string(store::ShareStateName(now_share->state))
                             : "receipt_verified")));
      // The partner holds a share it should not: unless a revocation is
      // already on its way (revoked), one is queued now.
      if (a.late && now_share->state != store::ShareState::kRevoked) {
        // The code it was ended with (withdrawal, a recall's reason), else "other".
        crypto::RevocationReason reason = crypto::ParseRevocationReason(now_share->state_reason.value_or(""))
                                              .value_or(crypto::RevocationReason::kOther);
        SCHAKEL_RETURN_IF_ERROR(service::QueueRevocation(held, *now_share, reason, now));
        SCHAKEL_RETURN_IF_ERROR(AuditOrFail(
            held, event("share.revoked", "ok",
                        "delivered_after_" + std::string(store::ShareStateName(now_share->state)), "delivery")));
      }
      return Status::Ok();
    }
    case Answered::kRefusal:
      // A share ended while it was on its way keeps its state (revoked: the
      // revocation that follows is confirmed with "nothing held").
      if (now_share &&
          (now_share->state == store::ShareState::kQueued || now_share->state == store::ShareState::kSending)) {
        SCHAKEL_RETURN_IF_ERROR(
            store::SetShareState(held.db(), item.message_id, store::ShareState::kRefused, a.code, at));
      }
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), item.kind, item.message_id));
      return AuditOrFail(held, event("share.refused", "deny", a.code));
    case Answered::kPurge: {
      const std::string why = a.held_nothing ? "recipient_held_nothing" : "purge_confirmed_by_recipient";
      SCHAKEL_RETURN_IF_ERROR(store::SetShareState(held.db(), item.message_id, store::ShareState::kPurged, why, at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), item.kind, item.message_id));
      return AuditOrFail(held, event("share.purged", "ok", why));
    }
  }
  return Status::Internal("unknown answer kind");
}

void DeliveryWorker::Done(const Answered& a) {
  const std::string& partner = a.plan->partner.card.node_id;
  const std::string& id = a.item->message_id;
  switch (a.kind) {
    case Answered::kReceipt:
      if (a.late) {
        LogInfo("share " + id + " reached " + partner + " after it was ended; its revocation follows");
        core_.WakeDelivery();
      } else {
        LogInfo("share " + id + " delivered to " + partner);
      }
      return;
    case Answered::kRefusal:
      LogWarn("share " + id + " refused by " + partner + ": " + a.code);
      return;
    case Answered::kPurge:
      LogInfo("share " + id + " purged at " + partner + (a.purged_at.empty() ? "" : " (" + a.purged_at + ")") +
              (a.held_nothing ? ", which held nothing" : ""));
      return;
  }
}

// ---- InboxHandler -----------------------------------------------------------

Result<std::string> InboxHandler::OnDeliver(const std::string& peer, uint16_t version, std::string_view payload) {
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHK") return Share(peer, version, payload);
  if (payload.size() >= 4 && payload.substr(0, 4) == "SCHV") return Revoke(peer, version, payload);
  return Status::InvalidInput("unknown message type");
}

std::vector<Result<std::string>> InboxHandler::OnDeliverBatch(const std::string& peer, uint16_t version,
                                                              const std::vector<std::string>& payloads) {
  std::vector<Result<std::string>> answers(payloads.size(), Status::Internal("not handled"));
  // Opened, checked and signed one by one without the lock; the ones to
  // store are stored together, in one transaction (group commit).
  std::vector<Arrival> arrivals(payloads.size());
  std::vector<size_t> to_store;
  for (size_t i = 0; i < payloads.size(); ++i) {
    std::string_view payload = payloads[i];
    if (payload.size() >= 4 && payload.substr(0, 4) == "SCHK") {
      arrivals[i] = Receive(peer, version, payload);
      if (arrivals[i].answer) {
        answers[i] = std::move(*arrivals[i].answer);
      } else {
        to_store.push_back(i);
      }
    } else {
      answers[i] = OnDeliver(peer, version, payload);
    }
  }
  if (to_store.empty()) return answers;
  std::vector<std::optional<Result<std::string>>> stored(payloads.size());
  LogDebug("inbox: storing " + std::to_string(to_store.size()) + " shares from " + peer + " in one transaction");
  Status batch;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    batch = tx.Begin();
    for (size_t k = 0; k < to_store.size() && batch.ok(); ++k) {
      Arrival& a = arrivals[to_store[k]];
      Result<std::string> one = StoreOne(held, peer, a.record, a.receipt, a.now, &a.over_quota);
      if (one.ok()) {
        stored[to_store[k]] = std::move(one);
      } else {
        batch = one.status();
      }
    }
    if (batch.ok()) FaultPoint("inbox.before_commit");
    if (batch.ok()) batch = tx.Commit();
    if (batch.ok()) FaultPoint("inbox.after_commit");
  }
  for (size_t i : to_store) {
    Arrival& a = arrivals[i];
    Result<std::string> answer = Status::Internal("not stored");
    if (batch.ok()) {
      if (!a.over_quota) LogInfo("received share " + a.record.message_id + " from " + peer);
      answer = std::move(*stored[i]);
    } else {
      // The batch did not commit: each on its own, so that one that fails
      // takes no other with it.
      a.over_quota = false;
      answer = StoreReceived(peer, a.record, a.receipt, a.now, &a.over_quota);
    }
    answers[i] = Finish(peer, version, a, std::move(answer));
  }
  return answers;
}

Result<std::string> InboxHandler::Share(const std::string& peer, uint16_t version, std::string_view envelope) {
  Arrival a = Receive(peer, version, envelope);
  if (a.answer) return std::move(*a.answer);
  Result<std::string> answer = StoreReceived(peer, a.record, a.receipt, a.now, &a.over_quota);
  return Finish(peer, version, a, std::move(answer));
}

InboxHandler::Arrival InboxHandler::Receive(const std::string& peer, uint16_t version, std::string_view envelope) {
  Arrival a;
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
  crypto::BodyHash hash = crypto::HashBody(opened->body());
  r.body_hash.assign(hash.begin(), hash.end());
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
                                                const std::string& receipt_bytes, Instant now, bool* over_quota) {
  NodeCore::Held held(core_);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_ASSIGN_OR_RETURN(std::string answer, StoreOne(held, peer, r, receipt_bytes, now, over_quota));
  if (*over_quota) return answer;  // nothing written; the transaction rolls back
  FaultPoint("inbox.before_commit");
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  FaultPoint("inbox.after_commit");
  LogInfo("received share " + r.message_id + " from " + peer);
  return answer;
}

Result<std::string> InboxHandler::StoreOne(NodeCore::Held& held, const std::string& peer, const store::InboxRecord& r,
                                           const std::string& receipt_bytes, Instant now, bool* over_quota) {
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
