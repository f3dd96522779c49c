// Moving queued shares and revocations to partners, and
// receiving them (the inbox), on top of the peer transport.
//
// DeliveryWorker: takes due items from the durable queue (store "outgoing"),
// re-checks a share against the consents as they are now (withdrawn while
// queued: cancelled, never sent), sends it over mutual TLS, verifies the
// signed receipt and only then marks it delivered, keeping the receipt.
// Failures are retried with exponential backoff and jitter, across
// restarts, since the queue lives in the database. The database lock is never
// held across network I/O.
//
// A lane per partner (docs/performance.md "Lanes"): a dispatcher thread
// looks for partners with due items (on a wake-up or every poll_interval)
// and hands each to that partner's lane, a thread of its own with its own
// connection and circuit breaker. A partner that does not answer holds up
// only its own lane: after a failure the lane tries nothing for that partner
// until the failed item's backoff has passed, while every other lane goes
// on. A lane with nothing to do for lane_idle ends its thread; at most
// max_lanes run at once (partners beyond wait for a lane to end).
//
// InboxHandler: the PeerHandler behind the peer server. It opens envelopes
// from pinned partners, passes each through the recipient's gate (this
// node's own protocol must have a flow for it, its categories and
// retain-until must fit that flow, the partner must be within its quotas;
// docs/consent.md "The recipient's gate"), stores each accepted message once
// (idempotent by sender and message id), answers with a receipt signed by
// this node's identity, and answers a refused one with a signed refusal
// (nothing of it stored). It carries out revocations (purge, keep a
// tombstone, confirm with a signature).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "schakel/audit/ldv.h"
#include "schakel/consent/vocabulary.h"
#include "schakel/crypto/envelope.h"
#include "schakel/peer/inbound_windows.h"
#include "schakel/peer/peer_client.h"
#include "schakel/peer/peer_server.h"
#include "schakel/service/node_core.h"
#include "schakel/store/directories.h"
#include "schakel/store/partners.h"
#include "schakel/store/records.h"

namespace schakel::peer {

using service::NodeCore;

struct DeliveryOptions {
  // Default: 1 s first retry, doubling to at most 5 minutes, ±20 % jitter.
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{300000};
  // Default: look at the queue at least every 2 s even without a wake-up.
  std::chrono::milliseconds poll_interval{2000};
  // A partner's lane ends its thread after this long without work.
  std::chrono::milliseconds lane_idle{60000};
  // Partners delivered to at once, one thread each.
  size_t max_lanes = 64;
  // A partner that refused the connection at once (its node is down, its
  // port closed) is probed this often while its items wait out their
  // backoff: when it answers, they go at once. One that makes us wait (no
  // answer within 1 s) keeps to the backoff.
  std::chrono::milliseconds probe_interval{250};
  // Partners are asked to witness the latest audit checkpoint after their
  // queue drains; one with nothing to deliver is asked on a pass this often
  // (the first right after start), so every partner witnesses even when
  // nothing is sent to it (docs/audit.md "Witnessing"). 0: after
  // deliveries only. Default: 10 minutes.
  std::chrono::milliseconds witness_interval{600000};
  PeerClientOptions client;
  // Called on a lane's thread after a partner confirmed holding this node's
  // current card (the daemon then checks whether to serve the rotated TLS
  // key). Must be thread-safe. Default: nothing.
  std::function<void()> on_card_acked;
};

class DeliveryWorker {
 public:
  DeliveryWorker(NodeCore& core, DeliveryOptions options);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void Start();
  void Stop();
  // Processes the due items of every partner once, on the caller's thread,
  // one partner after another (tests; not while started).
  void RunOnce();

 private:
  // One partner's delivery. Its thread (or RunOnce's caller) alone uses
  // client and open_after; the dispatcher and Stop() use mu/pending/done.
  struct Lane {
    Lane();
    ~Lane();
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;
    // Tells a lane that waits for its partner's answers (Drain) to look at
    // its queue: an eventfd it polls beside the connection (-1: none could
    // be made; it then waits for the answers as before).
    void Poke() const;
    std::string partner_id;
    std::unique_ptr<PeerClient> client;  // the kept-open connection, if any
    Instant open_after{};                // the breaker: nothing is tried before this
    bool probe = false;                  // the partner refused at once: look again every probe_interval
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    bool pending = false;                    // GUARDED_BY(mu): the dispatcher saw due items
    bool heard = false;                      // GUARDED_BY(mu): the partner connected to us: it is up
    bool greet = false;                      // GUARDED_BY(mu): connect once even with nothing to send
    bool done = false;                       // GUARDED_BY(mu): the thread ended (idle or stopped)
    bool witness_unsupported_noted = false;  // the partner's protocol is older than 5 (recorded once)
    std::string card_not_sent;               // `created` of our card the partner refused or cannot take (logged once)
    int wake_fd = -1;                        // the eventfd Poke() writes to
  };
  // What to do with a due item, decided under the node lock.
  struct Plan {
    enum Next { kSend, kDone, kRetryLocal, kFailed };
    Next next = kDone;
    Status why;  // for kRetryLocal and kFailed
    store::Partner partner;
    std::optional<store::ShareRecord> share;
    Plan& Then(Next n, Status w) {
      next = n;
      why = std::move(w);
      return *this;
    }
  };

  // The dispatcher: hands partners with due items to their lanes.
  void Loop();
  void Dispatch();
  // Signals the partner's lane, or starts one (false: no lane free).
  // `greet`: the lane connects even when it has nothing to send.
  bool Wake(const std::string& partner, bool greet = false);
  // Right after start, once: connects to each partner (while at most half
  // of max_lanes are taken),
  // so that one holding a queue for this node, which was down, sends it
  // now instead of after its backoff (its server sees us: OnIdentified).
  void GreetPass();
  // Partners that connected to us (NodeCore::connected_partners): each is
  // up, so what waits for it is made due and its lane's breaker closed. At
  // most once a second per partner.
  void ExpediteConnected(const std::set<std::string>& partners);
  // Every witness_interval: wakes the lane of each partner that has not
  // countersigned the latest checkpoint (its Drain finds nothing due and
  // asks it to witness).
  void WitnessPass();
  // Tells the lane it has work; false when its thread has ended.
  static bool Signal(Lane& lane, bool greet = false);
  // The greeting: the lane's connection opened, if it is not open yet.
  // Failures are only logged at debug level (a partner may well be down).
  void Greet(Lane& lane);
  void LaneLoop(Lane& lane);
  // Whether the lane's partner, which refused the connection, is back:
  // true (its waiting items made due, the breaker closed) when it answers;
  // false, and no more probing, when nothing waits for it any more.
  bool Probe(Lane& lane);
  // The lane's partner's due items, up to 100 rounds of kMaxBatchEnvelopes;
  // returns early once the breaker is open. Rounds are pipelined: the next
  // one is planned and sent while the partner works on those before, whose
  // answers are recorded once they are here (docs/performance.md
  // "Pipelining"). With nothing due and rounds in flight the lane waits for
  // either their answers or a Poke(): what becomes due meanwhile goes out
  // without waiting for the partner.
  void Drain(Lane& lane);
  // After a drained round, on the connection still open: when the partner
  // speaks protocol 5 and has not countersigned this node's latest audit
  // checkpoint, sends it (one request) and keeps the verified
  // countersignature (audit/witness.h). A partner on an older protocol is
  // recorded as not witnessing. Failures are logged, never retried here,
  // and never touch the delivery queue.
  void Witness(Lane& lane);
  // After a drained round: when the partner has not confirmed holding this
  // node's current card (after `schakel node rotate-keys`) and speaks
  // protocol 6, sends it (card_announce.h) and records the confirmation
  // (store::SetCardAcked), audited node.card_announced. A refusal or an older
  // protocol is logged once per card; the partner then needs the card by
  // hand (partner add).
  void AnnounceCard(Lane& lane);
  // After a drained round: when the partner was brought by a regional
  // directory and has not answered for the serial this node holds, and
  // speaks protocol 7, passes the directory along (directory_announce.h).
  // Every answer (taken, held, unknown) and every refusal is remembered per
  // partner, region and serial until the daemon restarts; a partner on an
  // older protocol is noted once per serial. docs/region.md "Passed along".
  void PassDirectory(Lane& lane);
  // Every poll: wakes the partners a region brought once this node holds a
  // newer directory of it than the last pass saw.
  void DirectoryPass();
  // The serial of `region` the partner last answered for (0: none).
  int64_t DirectoryAnswered(const std::string& partner, const std::string& region);
  // Whether a region brought `p` and it has not answered for the serial held
  // (`serials`: what this node holds, read once per witness pass).
  bool DirectoryBehind(const std::vector<store::RegionSerial>& serials, const store::Partner& p);
  // Reads the partner and the share; drops an item no longer queued; cancels
  // (still queued) or revokes (sending) a share the consents no longer allow
  // (audited). Takes the node lock.
  Plan Prepare(const store::OutgoingItem& item);
  // An item of a round that goes out, with its plan.
  struct InFlight {
    const store::OutgoingItem* item = nullptr;
    Plan plan;
  };
  // An answer that verified, to be recorded.
  struct Answered {
    enum Kind { kReceipt, kRefusal, kPurge, kAdopted };
    const store::OutgoingItem* item = nullptr;
    const Plan* plan = nullptr;
    Kind kind = kReceipt;
    std::vector<uint8_t> receipt;  // kReceipt: the signed receipt
    std::string code;              // kRefusal: the refusal's code
    bool held_nothing = false;     // kPurge: the partner held nothing
    std::string purged_at;         // kPurge
    std::string adopted_basis;     // kAdopted: the recipient's legal basis
    bool late = false;             // kReceipt: the share was ended meanwhile (set by Apply)
    bool recorded = false;         // committed (set by Record)
  };
  // One round of the lane's partner's due items (all to that partner),
  // from its planning until its answers are recorded.
  struct Round {
    std::vector<store::OutgoingItem> due;  // what the InFlights point into
    std::vector<InFlight> go;              // planned to go, in order
    PeerClient::Sent sent;                 // pipelined: the answers to collect
    size_t bytes = 0;                      // of the payloads sent
    // When its stages ended (NodeCore::delivery_stages): the due items
    // read (also on the system clock, against their queueing), planned,
    // marked sending, written, answered.
    std::chrono::system_clock::time_point read_wall{};
    std::chrono::steady_clock::time_point read{}, planned{}, marked{}, sent_at{}, answered{};
  };
  // Rounds on their way to the lane's partner, oldest first.
  using Flying = std::deque<Round>;
  // A round (`round.due` as Drain read it): planned one by one, then sent
  // together over the kept-open connection (batches, protocol version 3).
  // To a partner that takes batches it is sent with PeerClient::Send and
  // returned, to be Landed once its answers are here; the rounds in
  // `flying`, sent before, are Landed here first unless this one can follow
  // them on the same connection (at most kMaxRoundsInFlight rounds and
  // kMaxFlyingBytes). To an older partner the round is answered and
  // recorded here and nothing is returned.
  std::optional<Round> Launch(Lane& lane, Round round, Flying& flying);
  // Launch's steps: each due item planned (Prepare) into round.go; whether
  // the round may follow `flying` on its connection; the connection opened
  // for it (nullptr: it failed, the first item's failure recorded); the
  // payloads as sent (`wrapped` holds those given a trace context).
  void PlanRound(Lane& lane, Round& round);
  bool CanFollow(const Lane& lane, const Round& round, const Flying& flying) const;
  PeerClient* ConnectFor(Lane& lane, const Round& round);
  std::vector<std::string_view> Payloads(Round& round, bool traced, std::vector<std::string>& wrapped) const;
  // A pipelined round's answers collected, verified without the lock and
  // recorded in one transaction.
  void Land(Lane& lane, Round& round);
  // The oldest of `flying` landed, and taken off it.
  void LandOldest(Lane& lane, Flying& flying);
  // Every round of `flying` landed, oldest first.
  void LandAll(Lane& lane, Flying& flying);
  // The answers of a round verified and recorded (Launch and Land); the
  // stages of each one recorded go to NodeCore::delivery_stages.
  void Conclude(Lane& lane, const Round& round, std::vector<Result<std::string>>& answers);
  // Adds the stages of the answered items of `round` to the histograms.
  void ObserveStages(const Round& round, const std::vector<Answered>& answered) const;
  // Rounds in flight are followed by the next only while there are fewer
  // than kMaxRoundsInFlight and their payloads are at most kMaxFlyingBytes:
  // what waits for answers stays bounded, and so do the answers the partner
  // writes before this side reads them (at most 2 x 32 short frames, well
  // within a socket's buffer: docs/performance.md "Pipelining").
  static constexpr size_t kMaxRoundsInFlight = 2;
  static constexpr size_t kMaxFlyingBytes = 8 * 1024 * 1024;
  // With nothing due, a lane waits for answers (or a poke) only while at
  // most kMaxItemsAwaited items are in flight and its oldest round went out
  // less than kAnswerWait ago; otherwise it reads that round's answers
  // come what may (Collect, bounded by the request timeout). Answers that
  // Asio's TLS stream took off the socket and has not given OpenSSL yet
  // are invisible to AwaitAnswers; they can be there only when more than
  // its 17 KiB buffer of answers came at once, which 32 receipts (about
  // 200 bytes each) do not fill. The time bounds what a longer answer (a
  // FAILURE's message) could cost.
  static constexpr size_t kMaxItemsAwaited = kMaxBatchEnvelopes;
  static constexpr std::chrono::milliseconds kAnswerWait{5000};
  // Right before the shares' bytes go out, under the node lock: each share
  // still queued goes on the wire (service::PutOnTheWire: from now on a
  // withdrawal revokes it). Drops from `go` a share ended while the
  // connection was opened (it is not sent). No commit, except the marker
  // once per process.
  Status PutOnTheWire(std::vector<InFlight>& go);
  // The partner's answer checked against its signing key: a receipt for
  // this very envelope, a signed refusal of it, or a purge confirmation of
  // a revocation. An answer that does not verify is a failed delivery.
  Result<Answered> Verify(const InFlight& f, const std::string& response);
  // Records verified answers in one transaction (group commit); when that
  // fails, each on its own; one that cannot be recorded stays queued.
  void Record(std::vector<Answered>& answered);
  // One answer's writes and audit entries, in the caller's transaction:
  // delivered (and, when the share was ended meanwhile, a revocation
  // queued), refused, or purged; the item leaves the queue.
  Status Apply(NodeCore::Held& held, Answered& a, Instant now);
  // After the commit: the log line, and a wake-up for a revocation queued.
  void Done(const Answered& a);
  // Reschedules the item after its backoff and opens the lane's breaker
  // until then.
  void Failed(Lane& lane, const store::OutgoingItem& item, const Status& why);

  // The kept-open connection to the partner, opened when needed (TLS and
  // HELLO done); nothing of the item has been sent yet.
  Result<PeerClient*> Connected(Lane& lane, const store::Partner& partner) const;

  NodeCore& core_;
  DeliveryOptions options_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // the dispatcher
  // The dispatcher's lanes (only the dispatcher thread, and Stop() after
  // joining it, touch the map), and RunOnce's, which have no thread.
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::map<std::string, std::unique_ptr<Lane>> inline_lanes_;
  bool greeted_ = false;  // GreetPass has run (dispatcher only)
  // When each partner that connected to us was last expedited (dispatcher only).
  std::map<std::string, std::chrono::steady_clock::time_point> connected_at_;
  // When the dispatcher next looks for partners to ask to witness.
  std::chrono::steady_clock::time_point next_witness_pass_{};
  // Per region the serial whose partners DirectoryPass woke (dispatcher only).
  std::map<std::string, int64_t> directory_passed_;
  std::mutex directory_mu_;
  // partner -> region -> serial it answered for (GUARDED_BY(directory_mu_)).
  std::map<std::string, std::map<std::string, int64_t>> directory_answered_;
};

// How long a partner's previous TLS pin stays accepted after its newer card
// came over the peer channel: its connections made with the old certificate
// (it serves that until it restarts) still get in.
inline constexpr int kPreviousPinDays = 30;

class InboxHandler final : public PeerHandler {
 public:
  explicit InboxHandler(NodeCore& core) : core_(core) {}
  // Called after a partner's directory was taken (the daemon wakes the
  // delivery worker, which passes it along). Must be thread-safe.
  std::function<void()> on_directory_taken;
  // Called when a partner connected and identified itself (the daemon tells
  // the delivery, which then sends what waits for it without waiting out
  // its backoff: NodeCore::PartnerConnected). Must be thread-safe and quick.
  std::function<void(const std::string&)> on_partner_connected;
  void OnIdentified(const std::string& peer_node_id) noexcept override;
  Result<std::string> OnDeliver(const std::string& peer_node_id, uint16_t protocol_version,
                                std::string_view payload) override;
  // Shares of a batch that pass the gate are stored in one transaction and
  // answered once it has committed; when it fails, each is stored on its own.
  std::vector<Result<std::string>> OnDeliverBatch(const std::string& peer_node_id, uint16_t protocol_version,
                                                  const std::vector<std::string>& payloads) override;

  // Allowance for the partner's clock on retain-until: 1 day.
  static constexpr std::chrono::hours kRetentionSlack{24};

 private:
  // A share opened and checked: either answered already (seen before,
  // refused, invalid) or a record and its receipt to store.
  struct Arrival {
    std::optional<Result<std::string>> answer;
    store::InboxRecord record;  // its summary is wiped by Finish
    std::string receipt;
    crypto::EnvelopeHeader header;
    Instant now{};
    bool over_quota = false;
    // "traceparent=00-..." when the sender carried its trace context
    // (peer protocol 5, trace_context.h): the inbox.received entry's reason.
    std::string trace_reason;
  };
  // `trace`: the sender's trace context when the payload carried one.
  Result<std::string> Share(const std::string& peer, uint16_t version, std::string_view envelope,
                            const audit::TraceContext* trace = nullptr);
  // A share payload: a bare envelope, or one wrapped with the sender's trace
  // context (refused on a connection older than kPeerProtocolTraceVersion).
  Result<std::string> TracedShare(const std::string& peer, uint16_t version, std::string_view payload);
  // A partner's audit checkpoint to witness (protocol 5): verified with its
  // card, recorded in our log, answered with our countersignature.
  Result<std::string> WitnessFor(const std::string& peer, uint16_t version, std::string_view request);
  // A partner's own newer card (protocol 6, card_announce.h): taken when the
  // identity key is the pinned one, it is newer and keeps org type and
  // address; its previous TLS pin stays accepted for kPreviousPinDays.
  Result<std::string> CardUpdate(const std::string& peer, uint16_t version, std::string_view payload);
  // A regional directory a partner passes along (protocol 7,
  // directory_announce.h): its region and serial are read first, so one held
  // already, an older one or one of a region not trusted here costs no
  // signature check; a newer one is verified and taken as from a file
  // (service::TakeDirectory), with the partner as actor. A refusal (a bad
  // signature, or a signed one that is audited) is answered again without
  // any check when the same partner passes the same bytes again (the last
  // 1024 kept).
  Result<std::string> DirectoryUpdate(const std::string& peer, uint16_t version, std::string_view payload);
  // The arrivals of `to_store` stored in one transaction (when that fails,
  // each on its own) and answered in `answers`; empties `to_store`.
  void StoreTogether(const std::string& peer, uint16_t version, std::vector<Arrival>& arrivals,
                     std::vector<size_t>& to_store, std::vector<Result<std::string>>& answers);
  // Everything before storing, without the node lock but for two short reads.
  Arrival Receive(const std::string& peer, uint16_t version, std::string_view envelope,
                  const audit::TraceContext* trace = nullptr);
  // After storing: wipes the summary, answers a share over the quota with
  // a refusal, notes that the partner was heard from.
  Result<std::string> Finish(const std::string& peer, uint16_t version, Arrival& a, Result<std::string> answer);
  // Answers with a purge confirmation of the version the session allows,
  // or, for a share adopted into the dossier, with KeepAdopted's answer.
  Result<std::string> Revoke(const std::string& peer, uint16_t protocol_version, std::string_view revocation);
  // A revocation of a share adopted into the dossier: nothing is purged;
  // audited as inbox.revocation_kept; answered with a signed adoption
  // notice (protocol 4), or to an older sender with a failure saying so.
  Result<std::string> KeepAdopted(NodeCore::Held& held, const std::string& peer, uint16_t version,
                                  const crypto::Revocation& rev, const store::InboxRecord& known, Instant now);
  // The gate's checks that need no database (inbox_gate.cpp): a flow in this
  // node's protocol from the partner's org type to this node for the purpose,
  // the categories present within it, retain-until within its retention.
  // nullopt: accepted so far.
  std::optional<crypto::RefusalCode> CheckFlow(const store::Partner& partner, const crypto::EnvelopeHeader& h,
                                               consent::CategorySet present, Instant now) const;
  // Whether storing `bytes` more from `peer` now would exceed its quotas
  // (node lock held; counted from the inbox, kept between receipts in
  // inbound_).
  Result<bool> OverQuota(NodeCore::Held& held, const std::string& peer, size_t bytes, Instant now);
  // Audits `inbox.refused` (node lock), then answers: a signed refusal to a
  // sender that speaks kPeerProtocolRefusalVersion, else kDenied
  // "refused: <code>" (a FAILURE frame).
  Result<std::string> Refuse(const std::string& peer, uint16_t version, const crypto::EnvelopeHeader& h,
                             const std::string& student_id, crypto::RefusalCode code, Instant now);
  // Stores an opened share once, with its audit entry (node lock); answers
  // its receipt, or the stored one when the message arrived meanwhile. Sets
  // *over_quota (and stores nothing) when the partner is over its quotas.
  Result<std::string> StoreReceived(const std::string& peer, const store::InboxRecord& r,
                                    const std::string& receipt_bytes, Instant now, bool* over_quota,
                                    std::string_view trace_reason = {});
  // StoreReceived's writes inside a transaction the caller opened and commits.
  Result<std::string> StoreOne(NodeCore::Held& held, const std::string& peer, const store::InboxRecord& r,
                               const std::string& receipt_bytes, Instant now, bool* over_quota,
                               std::string_view trace_reason = {});
  NodeCore& core_;
  // GUARDED_BY(the node lock): used only under NodeCore::Held, in the
  // transaction that stores; a partner is forgotten when it did not commit.
  InboundWindows inbound_;
  std::mutex refused_mu_;
  std::set<std::string> refused_;  // GUARDED_BY(refused_mu_): "peer region hash" of directories refused
};

}  // namespace schakel::peer
