// The delivery's lanes (delivery.h): the dispatcher that hands partners with
// due items to their lanes, each lane's thread, and RunOnce.
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "schakel/audit/witness.h"
#include "schakel/base/json.h"
#include "schakel/base/log.h"
#include "schakel/crypto/node_card.h"
#include "schakel/peer/card_announce.h"
#include "schakel/peer/delivery.h"
#include "schakel/peer/directory_announce.h"
#include "schakel/service/node_core.h"
#include "schakel/service/service.h"
#include "schakel/store/directories.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::peer {

void DeliveryWorker::Stop() {
  stop_ = true;
  core_.WakeDelivery();
  if (thread_.joinable()) thread_.join();
  // The dispatcher has ended: the lanes are ours now.
  for (auto& [id, lane] : lanes_) {
    {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->pending = true;
    }
    lane->cv.notify_all();
    lane->Poke();
  }
  for (auto& [id, lane] : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
  lanes_.clear();
  inline_lanes_.clear();
  // Every lane has ended and landed its rounds: nothing is on the wire now,
  // unless a share's `sending` could not be written; then the marker stays
  // for the next start (service::SettleAfterUncleanStop).
  if (core_.on_the_wire.marked()) {
    NodeCore::Held held(core_);
    Status cleared = service::ClearOnTheWireMarker(held);
    if (!cleared.ok()) LogError("delivery: cannot clear the marker of shares on the wire: " + cleared.message());
  }
}

void DeliveryWorker::Loop() {
  std::set<std::string> connected;
  while (!stop_) {
    ExpediteConnected(connected);
    connected.clear();
    Dispatch();
    std::unique_lock<std::mutex> lock(core_.wake_mu);
    core_.wake.wait_for(lock, options_.poll_interval, [this] { return core_.wake_pending || stop_.load(); });
    core_.wake_pending = false;
    connected.swap(core_.connected_partners);
  }
}

void DeliveryWorker::ExpediteConnected(const std::set<std::string>& partners) {
  auto now = std::chrono::steady_clock::now();
  for (const std::string& partner : partners) {
    if (stop_) return;
    // The second counts from the last time its queue was made due: a
    // connection that found nothing waiting (one index read) does not keep
    // the next one, a moment later, from finding what waits by then.
    auto at = connected_at_.find(partner);
    if (at != connected_at_.end() && now - at->second < std::chrono::seconds(1)) continue;
    {
      NodeCore::Reading reading(core_);
      auto waiting = store::HasOutgoingTo(reading.db(), partner);
      if (!waiting.ok() || !*waiting) continue;
    }
    connected_at_.insert_or_assign(partner, now);
    int changed = 0;
    {
      NodeCore::Held held(core_);
      Status st = store::ExpediteOutgoing(held.db(), partner, core_.clock->Now().time_since_epoch().count());
      if (!st.ok()) {
        LogError("delivery: cannot expedite the queue of " + partner + ": " + st.message());
        continue;
      }
      changed = held.db().Changes();
    }
    auto lane = lanes_.find(partner);
    if (lane != lanes_.end()) {
      std::lock_guard<std::mutex> lock(lane->second->mu);
      lane->second->heard = true;
    }
    if (changed > 0) LogInfo("delivery: " + partner + " connected to this node; its queue goes now");
    Wake(partner);
  }
}

void DeliveryWorker::GreetPass() {
  std::vector<std::string> ids;
  {
    NodeCore::Reading reading(core_);
    auto partners = store::ListPartners(reading.db());
    if (!partners.ok()) {
      LogError("delivery: cannot list the partners to greet: " + partners.status().message());
      return;
    }
    for (const auto& p : *partners) ids.push_back(p.card.node_id);
  }
  // A greeting holds its lane until the lane is idle: half the lanes stay
  // free for partners that get shares meanwhile. The rest are not greeted.
  for (const std::string& partner : ids) {
    if (stop_ || lanes_.size() >= options_.max_lanes / 2) return;
    Wake(partner, /*greet=*/true);
  }
}

void DeliveryWorker::Greet(Lane& lane) {
  if (lane.client) return;
  std::optional<store::Partner> partner;
  {
    NodeCore::Reading reading(core_);
    auto found = store::FindPartner(reading.db(), lane.partner_id);
    if (!found.ok() || !*found) return;
    partner = std::move(*found);
  }
  auto connected = Connected(lane, *partner);
  if (!connected.ok()) LogDebug("delivery: greeting " + lane.partner_id + ": " + connected.status().message());
}

namespace {

// This node's current card (meta node_card) and its `created`; nullopt when
// it cannot be read (logged by the caller's next attempt).
struct OwnCard {
  std::string json;
  std::string created;
};
std::optional<OwnCard> ReadOwnCard(store::Database& db) {
  auto meta = store::GetMeta(db, "node_card");
  if (!meta.ok() || !*meta) return std::nullopt;
  auto parsed = ParseJsonLimited(**meta, JsonLimits{crypto::kMaxNodeCardBytes, 2});
  if (!parsed.ok() || !parsed->is_object() || !parsed->contains("created") || !(*parsed)["created"].is_string()) {
    return std::nullopt;
  }
  return OwnCard{**meta, (*parsed)["created"].get<std::string>()};
}

// The region that brought a partner ("" when it was paired by hand).
std::string RegionOf(const store::Partner& p) {
  constexpr std::string_view kPrefix = "directory:";
  if (p.source.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  return p.source.substr(kPrefix.size());
}

// The partners with due items, or none after an error (logged).
std::vector<std::string> DuePartners(NodeCore& core, size_t limit) {
  NodeCore::Reading reading(core);
  auto due = store::DueRecipients(reading.db(), core.clock->Now().time_since_epoch().count(), static_cast<int>(limit));
  if (!due.ok()) {
    LogError("delivery: cannot read the queue: " + due.status().message());
    return {};
  }
  return std::move(due).value();
}

}  // namespace

bool DeliveryWorker::Signal(Lane& lane, bool greet) {
  {
    std::lock_guard<std::mutex> lock(lane.mu);
    if (lane.done) return false;
    lane.pending = true;
    lane.greet = lane.greet || greet;
  }
  lane.cv.notify_one();
  lane.Poke();  // a lane waiting for answers looks at its queue now
  return true;
}

void DeliveryWorker::Dispatch() {
  // Lanes that ended idle give their slot back.
  for (auto it = lanes_.begin(); it != lanes_.end();) {
    bool done;
    {
      std::lock_guard<std::mutex> lock(it->second->mu);
      done = it->second->done;
    }
    if (done) {
      it->second->thread.join();
      it = lanes_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& partner : DuePartners(core_, options_.max_lanes * 4)) {
    if (stop_) return;
    Wake(partner);
  }
  if (!greeted_) {
    greeted_ = true;
    GreetPass();
  }
  DirectoryPass();
  WitnessPass();
}

bool DeliveryWorker::Wake(const std::string& partner, bool greet) {
  auto it = lanes_.find(partner);
  if (it != lanes_.end() && Signal(*it->second, greet)) return true;
  if (it != lanes_.end()) {  // ended just now: start it afresh
    it->second->thread.join();
    lanes_.erase(it);
  }
  if (lanes_.size() >= options_.max_lanes) return false;  // waits for a free lane
  auto lane = std::make_unique<Lane>();
  lane->partner_id = partner;
  lane->pending = true;
  lane->greet = greet;
  Lane& ref = *lane;
  lanes_.emplace(partner, std::move(lane));
  ref.thread = std::thread([this, &ref] { LaneLoop(ref); });
  return true;
}

void DeliveryWorker::WitnessPass() {
  if (options_.witness_interval.count() <= 0 || stop_) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_witness_pass_) return;
  next_witness_pass_ = now + options_.witness_interval;
  std::vector<std::string> ask;
  {
    NodeCore::Reading reading(core_);
    auto partners = store::ListPartners(reading.db());
    if (!partners.ok()) {
      LogError("audit: cannot list the partners to witness: " + partners.status().message());
      return;
    }
    std::optional<OwnCard> own = ReadOwnCard(reading.db());
    auto serials = store::ListRegionSerials(reading.db());
    if (!serials.ok()) LogError("delivery: cannot read the regional directories: " + serials.status().message());
    for (const auto& p : *partners) {
      auto next = audit::NextForWitness(reading.db(), core_.config.node_id, p.card.node_id);
      bool card_behind = own && p.card_acked != own->created;
      bool directory_behind = serials.ok() && DirectoryBehind(*serials, p);
      if ((next.ok() && next->has_value()) || card_behind || directory_behind) {
        ask.push_back(p.card.node_id);
      }
    }
  }
  for (const std::string& partner : ask) {
    if (stop_ || !Wake(partner)) return;
  }
}

int64_t DeliveryWorker::DirectoryAnswered(const std::string& partner, const std::string& region) {
  std::lock_guard<std::mutex> lock(directory_mu_);
  auto p = directory_answered_.find(partner);
  if (p == directory_answered_.end()) return 0;
  auto r = p->second.find(region);
  return r == p->second.end() ? 0 : r->second;
}

bool DeliveryWorker::DirectoryBehind(const std::vector<store::RegionSerial>& serials, const store::Partner& p) {
  std::string region = RegionOf(p);
  if (region.empty()) return false;
  for (const auto& r : serials) {
    if (r.region == region) return DirectoryAnswered(p.card.node_id, region) < r.serial;
  }
  return false;
}

void DeliveryWorker::DirectoryPass() {
  if (stop_) return;
  std::vector<std::string> wake;
  {
    NodeCore::Reading reading(core_);
    auto serials = store::ListRegionSerials(reading.db());
    if (!serials.ok()) {
      LogError("delivery: cannot read the regional directories: " + serials.status().message());
      return;
    }
    std::set<std::string> newer;
    for (const auto& r : *serials) {
      int64_t& passed = directory_passed_[r.region];
      if (r.serial > passed) {
        newer.insert(r.region);
        passed = r.serial;
      }
    }
    if (newer.empty()) return;
    auto partners = store::ListPartners(reading.db());
    if (!partners.ok()) {
      LogError("delivery: cannot list the partners to pass a directory to: " + partners.status().message());
      return;
    }
    for (const auto& p : *partners) {
      if (newer.count(RegionOf(p))) wake.push_back(p.card.node_id);
    }
  }
  // A partner not woken now (no lane free, or it is down) is asked on a
  // witness pass (DirectoryBehind).
  for (const std::string& partner : wake) {
    if (stop_ || !Wake(partner)) return;
  }
}

void DeliveryWorker::LaneLoop(Lane& lane) {
  while (true) {
    bool probe = false, heard = false, greet = false;
    {
      std::unique_lock<std::mutex> lock(lane.mu);
      std::chrono::milliseconds wait = lane.probe ? options_.probe_interval : options_.lane_idle;
      lane.cv.wait_for(lock, wait, [&] { return lane.pending || stop_.load(); });
      if (stop_ || (!lane.pending && !lane.probe)) {
        lane.done = true;  // stopped, or idle: the dispatcher joins the thread
        break;
      }
      probe = !lane.pending;
      lane.pending = false;
      heard = std::exchange(lane.heard, false);
      greet = std::exchange(lane.greet, false);
    }
    if (heard) {  // it connected to us: it is up, whatever made it fail before
      lane.open_after = Instant{};
      lane.probe = false;
      probe = false;
    }
    if (greet) Greet(lane);
    if (probe && !Probe(lane)) continue;
    Drain(lane);
  }
  lane.client.reset();
}

bool DeliveryWorker::Probe(Lane& lane) {
  if (core_.clock->Now() >= lane.open_after) return true;  // the backoff is over anyway
  std::optional<store::Partner> partner;
  {
    NodeCore::Reading reading(core_);
    auto found = store::FindPartner(reading.db(), lane.partner_id);
    auto waiting = store::HasOutgoingTo(reading.db(), lane.partner_id);
    if (!found.ok() || !waiting.ok()) return false;  // looked at again next time
    if (!*found || !*waiting) {
      lane.probe = false;
      return false;
    }
    partner = std::move(*found);
  }
  auto started = std::chrono::steady_clock::now();
  if (!Connected(lane, *partner).ok()) {
    // It makes us wait now: back to its backoff.
    if (std::chrono::steady_clock::now() - started >= std::chrono::seconds(1)) lane.probe = false;
    return false;
  }
  // Back: what waits for it goes now.
  Instant now = core_.clock->Now();
  {
    NodeCore::Held held(core_);
    Status st = store::ExpediteOutgoing(held.db(), lane.partner_id, now.time_since_epoch().count());
    if (!st.ok()) {
      LogError("delivery: cannot expedite the queue of " + lane.partner_id + ": " + st.message());
      return false;
    }
  }
  LogInfo("delivery: " + lane.partner_id + " answers again; its queue goes now");
  lane.probe = false;
  lane.open_after = now;
  return true;
}

void DeliveryWorker::Drain(Lane& lane) {
  Flying flying;  // sent, their answers not recorded yet
  bool drained = false;
  // Bounded twice: 100 rounds sent, and the waits in between (each ends
  // with answers, a poke or kAnswerWait).
  for (int rounds = 0, passes = 0; rounds < 100 && passes < 10'000 && !stop_; ++passes) {
    if (core_.clock->Now() < lane.open_after) break;  // the breaker is open
    // A full window waits for the oldest round's answers.
    while (flying.size() >= kMaxRoundsInFlight) LandOldest(lane, flying);
    if (core_.clock->Now() < lane.open_after) break;  // a round landed failed
    std::vector<int64_t> in_flight;
    for (const Round& r : flying) {
      for (const InFlight& f : r.go) in_flight.push_back(f.item->id);
    }
    Round round;  // its due items, and when they were read
    {
      // Made durable by PutOnTheWire's Held before the round is sent.
      NodeCore::Reading reading(core_, NodeCore::Durable::kByALaterHolder);
      auto items = store::DueOutgoingTo(reading.db(), lane.partner_id, core_.clock->Now().time_since_epoch().count(),
                                        kMaxBatchEnvelopes, in_flight);
      if (!items.ok()) {
        LogError("delivery: cannot read the queue: " + items.status().message());
        break;
      }
      round.due = std::move(items).value();
    }
    round.read_wall = std::chrono::system_clock::now();
    round.read = std::chrono::steady_clock::now();
    if (!round.due.empty()) {
      ++rounds;
      std::optional<Round> next = Launch(lane, std::move(round), flying);
      if (next) flying.push_back(std::move(*next));
      // The partner works on it while the answers that are here are recorded.
      while (flying.size() > 1 && lane.client &&
             lane.client->AwaitAnswers(-1, std::chrono::milliseconds(0)) == PeerClient::Ready::kAnswers) {
        LandOldest(lane, flying);
      }
      continue;
    }
    if (flying.empty()) {
      drained = true;
      break;
    }
    // Nothing due: the answers, or a poke for what becomes due meanwhile
    // (it then goes out while the partner still works on the rounds before).
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                        flying.front().sent_at);
    if (!lane.client || in_flight.size() > kMaxItemsAwaited || waited >= kAnswerWait ||
        lane.client->AwaitAnswers(lane.wake_fd, kAnswerWait - waited) != PeerClient::Ready::kWoken) {
      LandOldest(lane, flying);  // here (or late: then read come what may)
    }
  }
  LandAll(lane, flying);
  if (!drained || stop_) return;
  AnnounceCard(lane);
  PassDirectory(lane);
  Witness(lane);
}

void DeliveryWorker::Witness(Lane& lane) {
  if (stop_ || core_.clock->Now() < lane.open_after) return;
  const std::string& own = core_.config.node_id;
  std::optional<audit::WitnessRequest> next;
  std::optional<store::Partner> partner;
  {
    NodeCore::Reading reading(core_);
    auto found = audit::NextForWitness(reading.db(), own, lane.partner_id);
    auto p = store::FindPartner(reading.db(), lane.partner_id);
    if (!found.ok() || !p.ok()) return;
    next = std::move(*found);
    partner = std::move(*p);
  }
  if (!next || !partner) return;
  // A partner with nothing delivered to it (WitnessPass) is connected now.
  if (!lane.client || lane.client->protocol_version() == 0) {
    auto connected = Connected(lane, *partner);
    if (!connected.ok()) {
      LogDebug("audit: cannot ask " + lane.partner_id + " to witness: " + connected.status().message());
      return;
    }
  }
  if (lane.client->protocol_version() < kPeerProtocolWitnessVersion) {
    if (lane.witness_unsupported_noted) return;
    lane.witness_unsupported_noted = true;
    NodeCore::Held held(core_);
    Status st =
        audit::RecordWitnessUnavailable(held.db(), lane.partner_id,
                                        "peer protocol " + std::to_string(lane.client->protocol_version()) +
                                            " (witnessing needs " + std::to_string(kPeerProtocolWitnessVersion) + ")",
                                        core_.clock->Now());
    if (!st.ok()) LogWarn("audit: cannot record that " + lane.partner_id + " does not witness: " + st.message());
    return;
  }
  auto answer = lane.client->Request(audit::EncodeWitnessRequest(*next));
  if (!answer.ok()) {
    LogWarn("audit: " + lane.partner_id + " did not witness checkpoint " + std::to_string(next->seq) + ": " +
            answer.status().message());
    return;
  }
  auto cs = audit::ParseCountersignature(*answer);
  if (!cs.ok()) {
    LogWarn("audit: the countersignature of " + lane.partner_id + ": " + cs.status().message());
    return;
  }
  NodeCore::Held held(core_);
  Status st = audit::RecordCountersignature(held.db(), partner->card, own, *cs, core_.clock->Now());
  if (!st.ok()) {
    LogWarn("audit: the countersignature of " + lane.partner_id + " for checkpoint " + std::to_string(next->seq) +
            " is not kept: " + st.message());
    return;
  }
  LogInfo("audit: checkpoint " + std::to_string(cs->seq) + " witnessed by " + lane.partner_id);
}

void DeliveryWorker::AnnounceCard(Lane& lane) {
  if (stop_ || core_.clock->Now() < lane.open_after) return;
  std::optional<OwnCard> own;
  std::optional<store::Partner> partner;
  {
    NodeCore::Reading reading(core_);
    own = ReadOwnCard(reading.db());
    auto p = store::FindPartner(reading.db(), lane.partner_id);
    if (!own || !p.ok() || !*p) return;
    partner = std::move(**p);
  }
  if (partner->card_acked == own->created || lane.card_not_sent == own->created) return;
  if (!lane.client || lane.client->protocol_version() == 0) {
    auto connected = Connected(lane, *partner);
    if (!connected.ok()) {
      LogDebug("peer: cannot send our card to " + lane.partner_id + ": " + connected.status().message());
      return;
    }
  }
  if (lane.client->protocol_version() < kPeerProtocolCardVersion) {
    lane.card_not_sent = own->created;
    LogInfo("peer: " + lane.partner_id + " speaks peer protocol " + std::to_string(lane.client->protocol_version()) +
            ", which cannot take cards over the peer channel (6 can); if our card changed, give it node-card.json by "
            "hand (partner add)");
    return;
  }
  auto answer = lane.client->Request(EncodeCardAnnouncement(own->json));
  auto word = answer.ok() ? ParseCardAnswer(*answer) : Result<std::string_view>(answer.status());
  if (!word.ok()) {
    if (word.status().code() == Code::kUnavailable) return;  // tried again next time
    lane.card_not_sent = own->created;
    LogWarn("peer: " + lane.partner_id + " did not take our card of " + own->created + ": " + word.status().message() +
            "; give it node-card.json by hand (partner add)");
    return;
  }
  Status st;
  {
    NodeCore::Held held(core_);
    store::Transaction tx(held.db());
    st = tx.Begin();
    if (st.ok()) st = store::SetCardAcked(held.db(), lane.partner_id, own->created);
    if (st.ok() && *word == kCardTaken) {
      st = service::AuditOrFail(held, service::SystemEvent({"node.card_announced", "", lane.partner_id, "", "", "ok",
                                                            std::string(*word) + " card of " + own->created},
                                                           "delivery", {lane.partner_id, "", ""}));
    }
    if (st.ok()) st = tx.Commit();
  }
  if (!st.ok()) {
    LogWarn("peer: cannot record that " + lane.partner_id + " holds our card: " + st.message());
    return;
  }
  LogInfo("peer: " + lane.partner_id + " " + std::string(*word) + " our card of " + own->created);
  // Without the node lock: the daemon may now serve the rotated TLS key.
  if (options_.on_card_acked) options_.on_card_acked();
}

void DeliveryWorker::PassDirectory(Lane& lane) {
  if (stop_ || core_.clock->Now() < lane.open_after) return;
  std::optional<store::Partner> partner;
  std::optional<store::RegionDirectory> region;
  {
    NodeCore::Reading reading(core_);
    auto p = store::FindPartner(reading.db(), lane.partner_id);
    if (!p.ok() || !*p || RegionOf(**p).empty()) return;
    auto r = store::FindRegionDirectory(reading.db(), RegionOf(**p));
    if (!r.ok() || !*r) return;
    partner = std::move(**p);
    region = std::move(**r);
  }
  if (DirectoryAnswered(lane.partner_id, region->region) >= region->serial) return;
  auto answered = [&] {
    std::lock_guard<std::mutex> lock(directory_mu_);
    directory_answered_[lane.partner_id][region->region] = region->serial;
  };
  const std::string what = "directory " + region->region + " serial " + std::to_string(region->serial);
  if (!lane.client || lane.client->protocol_version() == 0) {
    auto connected = Connected(lane, *partner);
    if (!connected.ok()) {
      LogDebug("peer: cannot pass " + what + " to " + lane.partner_id + ": " + connected.status().message());
      return;
    }
  }
  if (lane.client->protocol_version() < kPeerProtocolDirectoryVersion) {
    answered();
    LogInfo("peer: " + lane.partner_id + " speaks peer protocol " + std::to_string(lane.client->protocol_version()) +
            ", which cannot take a directory from a partner (7 can); its administrator takes " + what +
            " from a file (directory update)");
    return;
  }
  auto answer = lane.client->Request(EncodeDirectoryAnnouncement(region->directory_json));
  auto word = answer.ok() ? ParseDirectoryAnswer(*answer) : Result<std::string_view>(answer.status());
  if (!word.ok()) {
    if (word.status().code() == Code::kUnavailable) return;  // tried again on a witness pass
    answered();
    LogWarn("peer: " + lane.partner_id + " did not take " + what + ": " + word.status().message());
    return;
  }
  answered();
  if (*word == kDirectoryTaken) {
    LogInfo("peer: " + lane.partner_id + " took " + what + " from us");
  } else {
    LogDebug("peer: " + lane.partner_id + " answered " + std::string(*word) + " to " + what);
  }
}

void DeliveryWorker::RunOnce() {
  for (const std::string& partner : DuePartners(core_, 10000)) {
    if (stop_) return;
    std::unique_ptr<Lane>& lane = inline_lanes_[partner];
    if (!lane) {
      lane = std::make_unique<Lane>();
      lane->partner_id = partner;
    }
    Drain(*lane);
  }
}

}  // namespace schakel::peer
