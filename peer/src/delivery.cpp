#include "schakel/peer/delivery.h"
#include "schakel/base/time.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>

#include "schakel/base/fault_point.h"
#include "schakel/base/log.h"
#include "schakel/crypto/envelope.h"
#include "schakel/formats/case_summary.h"
#include "schakel/formats/json.h"
#include "schakel/peer/peer_protocol.h"
#include "schakel/peer/trace_context.h"
#include "schakel/service/service.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::peer {

using service::AuditOrFail;
using service::AuditTo;
using service::RecheckShare;
using service::ShareTo;
using service::SystemEvent;
namespace {

Result<PeerEndpoint> EndpointFor(const store::Partner& p, Instant now) {
  auto addr = config::ParseAddress(p.card.address);
  if (!addr.ok()) return addr.status().WithContext("partner " + p.card.node_id + " address");
  PeerEndpoint ep;
  ep.node_id = p.card.node_id;
  ep.host = addr->host;
  ep.port = addr->port;
  ep.pin = p.card.tls_spki_sha256;
  if (p.previous_tls_spki) {
    auto until = ParseInstant(p.previous_tls_until);
    if (until.ok() && now < *until) ep.previous_pin = *p.previous_tls_spki;
  }
  return ep;
}

// Keeps an audit reason to a short code list without spaces.
std::string Short(const std::string& s) { return s.size() > 200 ? s.substr(0, 200) : s; }

// An item tried again later: its next attempt, and, for a share that was
// on the wire, `sending` (it may have reached the partner), in one
// transaction. When that fails the share stays on the wire in memory.
Status Reschedule(NodeCore::Held& held, const store::OutgoingItem& item, int64_t attempts, int64_t next,
                  const std::string& why) {
  const bool on_the_wire = item.kind == "share" && held.core().on_the_wire.Contains(item.message_id);
  store::Transaction tx(held.db());
  SCHAKEL_RETURN_IF_ERROR(tx.Begin());
  SCHAKEL_RETURN_IF_ERROR(store::RescheduleOutgoing(held.db(), item.id, attempts, next, why));
  if (on_the_wire) SCHAKEL_RETURN_IF_ERROR(service::KeepAsMaybeSent(held, item.message_id));
  SCHAKEL_RETURN_IF_ERROR(tx.Commit());
  if (on_the_wire) service::TakeOffTheWire(held, item.message_id);
  return Status::Ok();
}

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
  Status st = Reschedule(held, item, attempts, next, Short("local: " + why.message()));
  if (!st.ok()) LogError("delivery: cannot reschedule " + item.message_id + ": " + st.message());
}

}  // namespace

// ---- DeliveryWorker ---------------------------------------------------------

DeliveryWorker::DeliveryWorker(NodeCore& core, DeliveryOptions options) : core_(core), options_(std::move(options)) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

DeliveryWorker::Lane::Lane() : wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd < 0) LogWarn("delivery: no eventfd for a lane (" + std::string(std::strerror(errno)) + ")");
}

DeliveryWorker::Lane::~Lane() {
  if (wake_fd >= 0) ::close(wake_fd);
}

void DeliveryWorker::Lane::Poke() const {
  if (wake_fd < 0) return;
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd, &one, sizeof one);
  (void)n;  // only fails when the count is full: the lane is poked already
}

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
  Status st = Reschedule(held, item, attempts, next, Short(why.message()));
  if (!st.ok()) LogError("delivery: cannot reschedule " + item.message_id + ": " + st.message());
}

Result<PeerClient*> DeliveryWorker::Connected(Lane& lane, const store::Partner& partner) const {
  SCHAKEL_ASSIGN_OR_RETURN(PeerEndpoint endpoint, EndpointFor(partner, core_.clock->Now()));
  std::unique_ptr<PeerClient>& client = lane.client;
  // A changed card (new address or pin) needs a new connection.
  if (client && (client->peer().host != endpoint.host || client->peer().port != endpoint.port ||
                 client->peer().pin != endpoint.pin)) {
    client.reset();
  }
  if (!client) {
    SCHAKEL_ASSIGN_OR_RETURN(client,
                             PeerClient::Create(core_.config.node_id, *core_.keys.tls(), endpoint, options_.client));
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
  // Durable by the Held that marks the round sending (PutOnTheWire), before
  // anything goes out; a cancellation here is seen by others only through
  // their own Held or Reading, which make it durable first.
  NodeCore::Held held(core_, NodeCore::Durable::kByALaterHolder);
  auto p = store::FindPartner(held.db(), item.recipient_id);
  if (!p.ok()) return plan.Then(Plan::kRetryLocal, p.status().WithContext("reading the partner"));
  // Removed from the directory: keep trying, the admin may re-add it.
  if (!*p)
    return plan.Then(Plan::kFailed, Status::Unavailable("partner " + item.recipient_id + " is not in the directory"));
  plan.partner = **p;
  auto s = store::FindShare(held.db(), item.message_id);
  if (!s.ok()) return plan.Then(Plan::kRetryLocal, s.status().WithContext("reading the share"));
  plan.share = *s;
  if (plan.share) service::SeeOnTheWire(core_, *plan.share);
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

void DeliveryWorker::PlanRound(Lane& lane, Round& round) {
  for (const store::OutgoingItem& item : round.due) {
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
        round.go.push_back(InFlight{&item, std::move(plan)});
        break;
    }
  }
}

bool DeliveryWorker::CanFollow(const Lane& lane, const Round& round, const Flying& flying) const {
  if (flying.empty() || !lane.client || !lane.client->CanPipeline() || flying.size() >= kMaxRoundsInFlight) {
    return false;
  }
  size_t bytes = 0;
  for (const Round& r : flying) bytes += r.bytes;
  if (bytes > kMaxFlyingBytes) return false;
  auto endpoint = EndpointFor(round.go.front().plan.partner, core_.clock->Now());
  const PeerEndpoint& open = lane.client->peer();
  return endpoint.ok() && endpoint->host == open.host && endpoint->port == open.port && endpoint->pin == open.pin;
}

PeerClient* DeliveryWorker::ConnectFor(Lane& lane, const Round& round) {
  auto started = std::chrono::steady_clock::now();
  auto connected = Connected(lane, round.go.front().plan.partner);
  if (connected.ok()) return *connected;
  Failed(lane, *round.go.front().item, connected.status());
  // Refused at once: the partner's node is down; probing it is cheap.
  lane.probe = connected.status().code() == Code::kUnavailable &&
               std::chrono::steady_clock::now() - started < std::chrono::seconds(1);
  return nullptr;
}

std::vector<std::string_view> DeliveryWorker::Payloads(Round& round, bool traced,
                                                       std::vector<std::string>& wrapped) const {
  // On peer protocol 5 a share carries the trace context of its root
  // operation (trace_context.h); an older partner gets the bare envelope.
  wrapped.reserve(round.go.size());  // the views below point into it
  std::vector<std::string_view> payloads;
  payloads.reserve(round.go.size());
  for (const InFlight& f : round.go) {
    if (traced && f.item->kind == "share") {
      wrapped.push_back(
          WrapTraced(audit::ShareTraceContext(core_.config.node_id, f.item->message_id), f.item->payload));
      payloads.emplace_back(wrapped.back());
    } else {
      payloads.emplace_back(f.item->payload);
    }
    round.bytes += payloads.back().size();
  }
  return payloads;
}

std::optional<DeliveryWorker::Round> DeliveryWorker::Launch(Lane& lane, Round round, Flying& flying) {
  auto land_flying = [&] { LandAll(lane, flying); };
  PlanRound(lane, round);  // the InFlights point into round.due from here on
  round.planned = std::chrono::steady_clock::now();
  if (round.go.empty() || stop_ || core_.clock->Now() < lane.open_after) return std::nullopt;
  FaultPoint("delivery.before_send");
  // Behind a round in flight only on its connection, unchanged, and in
  // batches; anything else waits for that round's answers first.
  const bool follows = CanFollow(lane, round, flying);
  if (!follows) land_flying();
  if (stop_ || core_.clock->Now() < lane.open_after) return std::nullopt;  // the flying round failed
  PeerClient* client = follows ? lane.client.get() : ConnectFor(lane, round);
  if (client == nullptr) return std::nullopt;
  lane.probe = false;
  // From here on the shares may reach the partner: a withdrawal now needs
  // a revocation, not a cancellation (consents.cpp EndWhatRelied).
  Status marked = PutOnTheWire(round.go);
  if (!marked.ok()) {
    for (const InFlight& f : round.go) {
      RetryAfterLocalError(core_, *f.item, marked.WithContext("putting the share on the wire"), options_);
    }
    return std::nullopt;
  }
  if (round.go.empty()) return std::nullopt;  // all ended while connecting; Prepare drops them next round
  round.marked = std::chrono::steady_clock::now();
  std::vector<std::string> wrapped;
  std::vector<std::string_view> payloads =
      Payloads(round, client->protocol_version() >= kPeerProtocolTraceVersion, wrapped);
  if (!client->CanPipeline()) {
    // Written and answered in one call: its time counts as the answer's.
    round.sent_at = round.marked;
    std::vector<Result<std::string>> answers = client->DeliverBatch(payloads);
    round.answered = std::chrono::steady_clock::now();
    Conclude(lane, round, answers);
    return std::nullopt;
  }
  round.sent = client->Send(payloads);
  round.sent_at = std::chrono::steady_clock::now();
  if (round.sent.sent.empty()) {
    // Nothing went out (the connection failed, or every one is too large):
    // its answers are final.
    land_flying();
    Conclude(lane, round, round.sent.answers);
    return std::nullopt;
  }
  if (follows) {
    size_t awaiting = 0;
    for (const Round& r : flying) awaiting += r.go.size();
    LogDebug("delivery: " + std::to_string(round.sent.sent.size()) + " sent to " + lane.partner_id + " while " +
             std::to_string(awaiting) + " sent before await their answers (pipelined)");
  }
  return round;  // its answers are collected by Land
}

void DeliveryWorker::Land(Lane& lane, Round& round) {
  if (lane.client) lane.client->Collect(round.sent);
  round.answered = std::chrono::steady_clock::now();
  Conclude(lane, round, round.sent.answers);
}

void DeliveryWorker::LandOldest(Lane& lane, Flying& flying) {
  Land(lane, flying.front());
  flying.pop_front();
}

void DeliveryWorker::LandAll(Lane& lane, Flying& flying) {
  while (!flying.empty()) LandOldest(lane, flying);
}

void DeliveryWorker::Conclude(Lane& lane, const Round& round, std::vector<Result<std::string>>& answers) {
  const std::vector<InFlight>& go = round.go;
  // Opened afresh next time, unless a round still awaits its answers on it.
  if (lane.client && !lane.client->connected() && lane.client->awaiting() == 0) lane.client.reset();
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
  ObserveStages(round, verified);
}

void DeliveryWorker::ObserveStages(const Round& round, const std::vector<Answered>& answered) const {
  const auto recorded = std::chrono::steady_clock::now();
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  auto& h = core_.delivery_stages;
  for (const Answered& a : answered) {
    if (!a.recorded) continue;
    // Queued at a.item->created (to the millisecond, this node's clock).
    auto queued = ParseInstant(a.item->created);
    double waited = queued.ok() ? seconds(round.read_wall - *queued) : 0.0;
    h[NodeCore::kQueued].Observe(waited);
    h[NodeCore::kPlan].Observe(seconds(round.planned - round.read));
    h[NodeCore::kConnectMark].Observe(seconds(round.marked - round.planned));
    h[NodeCore::kSend].Observe(seconds(round.sent_at - round.marked));
    h[NodeCore::kAnswer].Observe(seconds(round.answered - round.sent_at));
    h[NodeCore::kRecord].Observe(seconds(recorded - round.answered));
    h[NodeCore::kTotal].Observe(std::max(waited, 0.0) + seconds(recorded - round.read));
  }
}

Status DeliveryWorker::PutOnTheWire(std::vector<InFlight>& go) {
  std::vector<InFlight> kept;
  std::vector<std::string> put;  // taken back if a later one fails: none of them left
  // Lets go only once what the lane recorded, read and marked is durable
  // (NodeCore::Durable): the round is sent after it.
  NodeCore::Held held(core_);
  auto put_all = [&]() -> Status {
    for (InFlight& f : go) {
      if (f.item->kind == "share") {
        SCHAKEL_ASSIGN_OR_RETURN(std::optional<store::ShareRecord> share,
                                 store::FindShare(held.db(), f.item->message_id));
        // Ended while the connection was opened: not sent.
        if (!share) continue;
        if (share->state != store::ShareState::kSending && share->state != store::ShareState::kQueued) continue;
        // `sending` already: an earlier attempt left, that is durable.
        if (share->state == store::ShareState::kQueued) {
          SCHAKEL_RETURN_IF_ERROR(service::PutOnTheWire(held, f.item->message_id));
          put.push_back(f.item->message_id);
        }
      }
      kept.push_back(std::move(f));
    }
    return Status::Ok();
  };
  Status st = put_all();
  if (!st.ok()) {
    for (const std::string& id : put) core_.on_the_wire.Remove(id);
    return st;
  }
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
  } else if (crypto::IsAdoptionNotice(response)) {
    // A revocation the recipient answers with "kept: adopted into our
    // dossier" under its own law, signed.
    SCHAKEL_ASSIGN_OR_RETURN(crypto::AdoptionNotice notice,
                             crypto::VerifyAdoptionNotice(response, item.message_id, core_.config.node_id,
                                                          partner.card.node_id, partner.card.sign_pk));
    a.kind = Answered::kAdopted;
    a.adopted_basis = notice.basis;
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
    // The record need not be on the disk before the lane goes on: lost in a
    // power cut, the share is `sending` again after the restart and sent
    // again (the partner keeps it once). It is made durable with the next
    // round's mark, or by whoever reads or writes after it.
    NodeCore::Held held(core_, NodeCore::Durable::kByALaterHolder);
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
    // Recorded: off the wire (the rows say what became of them).
    for (Answered* a : some) {
      if (st.ok() && a->item->kind == "share") service::TakeOffTheWire(held, a->item->message_id);
    }
    return st;
  };
  std::vector<Answered*> all;
  all.reserve(answered.size());
  for (Answered& a : answered) all.push_back(&a);
  Status st = record(all);
  if (st.ok()) {
    for (Answered& a : answered) {
      a.recorded = true;
      Done(a);
    }
    return;
  }
  for (Answered& a : answered) {
    a.late = false;
    Status one = answered.size() == 1 ? st : record({&a});
    // Not recorded: the item stays queued and is sent again later; the
    // recipient answers a message it has with what it answered before.
    if (one.ok()) {
      a.recorded = true;
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
    case Answered::kAdopted:
      // The share stays revoked here; the reason says the recipient keeps
      // it, and on which basis.
      SCHAKEL_RETURN_IF_ERROR(store::SetShareState(held.db(), item.message_id, store::ShareState::kRevoked,
                                                   "adopted_into_dossier: " + a.adopted_basis, at));
      SCHAKEL_RETURN_IF_ERROR(store::RemoveOutgoing(held.db(), item.kind, item.message_id));
      return AuditOrFail(held, event("share.kept_by_recipient", "ok", "adopted into dossier: " + a.adopted_basis));
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
    case Answered::kAdopted:
      LogInfo("share " + id + " kept by " + partner + ", adopted into its dossier (" + a.adopted_basis + ")");
      return;
  }
}

}  // namespace schakel::peer
