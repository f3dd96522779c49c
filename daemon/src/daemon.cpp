#include "schakel/daemon/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp forgets it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api_server.h"
#include "cert_reload.h"
#include "consent_pages.h"
#include "console_server.h"
#include "directory_fetcher.h"
#include "link_pages.h"
#include "notifier.h"
#include "schakel/audit/repeats.h"
#include "schakel/base/json.h"
#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/config/protocol_file.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/kdf_helper.h"
#include "schakel/peer/delivery.h"
#include "schakel/peer/peer_server.h"
#include "schakel/store/identity_store.h"
#include "schakel/store/node_dir.h"
#include "schakel/store/partners.h"
#include "service_names.h"
#include "sign_in_throttle.h"

namespace schakel::daemon {

void NotifySystemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract socket
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), addr_len);
  ::close(fd);
}

struct Daemon::Impl {
  DaemonOptions options;
  SystemClock system_clock;
  NodeCore core;
  std::unique_ptr<Service> service;
  std::unique_ptr<SignInThrottle> throttle;  // console sign-in waits; cleared over the API
  std::unique_ptr<ApiServer> api;
  std::unique_ptr<ConsoleServer> console;         // [console] listen: the staff console
  std::unique_ptr<Notifier> notifier;             // [notify]: e-mail notices
  std::unique_ptr<DirectoryFetcher> directories;  // [directory]: regions fetched over HTTPS
  std::unique_ptr<http::WebServer> console_web;
  std::optional<crypto::TlsIdentity> generated_web;    // while the web listeners start (WebIdentity)
  std::unique_ptr<LinkService> links;                  // dossier links (API routes and pages)
  std::unique_ptr<LinkPages> link_pages;               // what the link pages show
  std::unique_ptr<service::ConsentRequests> requests;  // permission requests (API routes and pages)
  std::unique_ptr<ConsentPages> consent_pages;         // what the permission pages show
  std::unique_ptr<http::WebServer> links_web;          // [links] listen
  std::unique_ptr<peer::InboxHandler> inbox;
  std::unique_ptr<peer::PeerServer> peer;
  std::unique_ptr<peer::DeliveryWorker> delivery;
  boost::asio::io_context io;
  boost::asio::signal_set signals{io};
  boost::asio::signal_set hangup{io};  // SIGHUP: reload the configured certificates
  CertReloader certs;                  // [links] and [console] cert files, when configured
  boost::asio::steady_timer maintenance{io};
  Instant started{};
  std::mutex tls_switch_mu;        // MaybeServeNewTls runs once at a time
  std::string tls_waiting_logged;  // GUARDED_BY(tls_switch_mu): what it last said it waits for

  void ScheduleMaintenance() {
    maintenance.expires_after(options.maintenance_interval);
    core.next_maintenance_ms = (core.clock->Now() + options.maintenance_interval).time_since_epoch().count();
    maintenance.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      RunMaintenance();
      ScheduleMaintenance();
    });
  }

  // Each SIGHUP reloads the configured certificates (a renewal's deploy hook).
  void WaitForHangup() {
    hangup.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      LogInfo("received SIGHUP: reloading the configured certificates");
      certs.Check(true);
      WaitForHangup();
    });
  }

  void RunMaintenance() {
    certs.Check(false);
    MaybeServeNewTls();
    if (links) {
      auto expired = links->ExpireDue();
      if (!expired.ok()) LogError("links: " + expired.status().message());
    }
    if (requests) {
      auto expired = requests->ExpireDue();
      if (!expired.ok()) LogError("permission requests: " + expired.status().message());
    }
    auto purged = service->PurgeExpired();
    if (!purged.ok()) {
      LogError("retention: " + purged.status().message());
    } else if (*purged > 0) {
      LogInfo("retention: purged " + std::to_string(*purged) + " received share(s) past their retain-until");
    }
    NodeCore::Held held(core);
    auto repeats = audit::FlushRepeats(held.db(), held.audit(), core.clock->Now());
    if (!repeats.ok()) LogError("audit: counted repeats: " + repeats.status().message());
    Status st = held.audit().MaybeCheckpoint();
    if (!st.ok()) LogError("audit checkpoint: " + st.message());
    auto retained = held.audit().ApplyRetention(
        std::chrono::duration_cast<std::chrono::hours>(std::chrono::years(core.config.audit_retention_years)));
    if (!retained.ok()) {
      LogError(retained.status().message());
    } else if (retained->through_seq > 0) {
      LogInfo("audit retention: deleted entries " + std::to_string(retained->from_seq) + " to " +
              std::to_string(retained->through_seq) + ", older than " +
              std::to_string(core.config.audit_retention_years) + " years");
    }
    WipeRetiredKeys(held);
  }

  // After `schakel node rotate-keys`: serves the rotated TLS key, without a
  // restart, once every partner has confirmed holding the card that names
  // it (store::Partner::card_acked; the delivery lanes send the card, peer
  // protocol 6). Until then the old key is served, which partners that
  // took the new card still accept (their previous pin). New connections
  // use the new key; open ones finish with the old. Called by the
  // maintenance timer and by a lane after a partner took the card.
  void MaybeServeNewTls() {
    std::lock_guard<std::mutex> lock(tls_switch_mu);
    if (!peer) return;
    std::optional<crypto::TlsIdentity> next;
    std::string waiting_for;
    {
      NodeCore::Reading reading(core);
      auto current = store::LoadCurrentTls(reading.db());
      if (!current.ok() || current->spki_sha256 == core.keys.tls()->spki_sha256) return;
      auto card = store::GetMeta(reading.db(), "node_card");
      if (!card.ok() || !*card) return;
      auto parsed = crypto::ParseNodeCard(**card);
      if (!parsed.ok() || parsed->tls_spki_sha256 != current->spki_sha256) return;
      auto partners = store::ListPartners(reading.db());
      if (!partners.ok()) return;
      for (const auto& p : *partners) {
        if (p.card_acked != parsed->created) waiting_for += (waiting_for.empty() ? "" : ", ") + p.card.node_id;
      }
      if (waiting_for.empty()) next = std::move(current).value();
    }
    if (!next) {
      if (waiting_for != tls_waiting_logged) {
        LogInfo("peer: the rotated TLS key is served once these partners hold our new card: " + waiting_for);
        tls_waiting_logged = waiting_for;
      }
      return;
    }
    std::string pin = crypto::PinHex(next->spki_sha256);
    Status st = peer->ReplaceIdentity(*next);
    if (!st.ok()) {
      LogError("peer: cannot serve the rotated TLS key: " + st.message());
      return;
    }
    core.keys.ReplaceTls(std::move(*next));
    NodeCore::Held held(core);
    st = AuditOrFail(held, SystemEvent({"node.tls_served", "", "tls:" + pin.substr(0, 16), "", "", "ok",
                                        "every partner holds the rotated card"},
                                       "maintenance"));
    if (!st.ok()) LogError("peer: audit of the TLS switch: " + st.message());
    LogInfo("peer: serving the rotated TLS key " + pin.substr(0, 16) + "...: every partner holds our new card");
  }

  void WipeRetiredKeys(NodeCore::Held& held) {
    Instant now = core.clock->Now();
    std::string at = FormatInstantMs(now);
    store::Transaction tx(held.db());
    Status st = tx.Begin();
    auto wiped = st.ok()
                     ? store::WipeRetiredEncKeys(held.db(), now - std::chrono::days(core.config.retired_key_days), at)
                     : Result<std::vector<int64_t>>(st);
    if (!wiped.ok()) {
      LogError("key wipe: " + wiped.status().message());
      return;
    }
    for (int64_t id : *wiped) {
      st = AuditOrFail(
          held, SystemEvent({"key.wiped", "", "enc_key:" + std::to_string(id), "", "", "ok", "retired_key_grace_ended"},
                            "maintenance"));
      if (!st.ok()) break;
    }
    if (st.ok()) st = tx.Commit();
    if (!st.ok()) {
      LogError("key wipe: " + st.message());
      return;
    }
    if (!wiped->empty()) {
      auto keys = store::LoadUsableEncKeys(held.db(), core.keys.identity());
      if (keys.ok()) core.keys.ReplaceEncKeys(std::move(keys).value());
      LogInfo("wiped " + std::to_string(wiped->size()) + " retired encryption key(s) after their grace period");
    }
  }

  // The peer listener with the inbox behind it. Partners may be added or
  // removed by offline commands while we run: the pin lookup asks the
  // database each time.
  Status StartPeer() {
    inbox = std::make_unique<peer::InboxHandler>(core);
    // A directory a partner passed along goes on to the partners it brought.
    inbox->on_directory_taken = [this] { core.WakeDelivery(); };
    // A partner that connects is up: its queue need not wait out its backoff.
    inbox->on_partner_connected = [this](const std::string& partner) { core.PartnerConnected(partner); };
    peer::PeerServerOptions peer_options = options.peer;
    peer_options.listen = core.config.peer_listen;
    peer_options.max_buffered_bytes = static_cast<size_t>(core.config.peer_max_buffered_mib) << 20;
    peer::PinLookup partners = [this](const peer::SpkiPin& pin) -> std::optional<std::string> {
      NodeCore::Held held(core);
      auto list = store::ListPartners(held.db());
      if (!list.ok()) return std::nullopt;
      // A partner's previous pin still gets in for a while after its newer
      // card came over the peer channel (it serves the old certificate until
      // it restarts); the current pin of another partner wins over it.
      std::string now = FormatInstant(core.clock->Now());
      for (const auto& p : *list) {
        if (p.card.tls_spki_sha256 == pin) return p.card.node_id;
      }
      for (const auto& p : *list) {
        if (p.AcceptsPin(pin, now)) return p.card.node_id;
      }
      return std::nullopt;
    };
    SCHAKEL_ASSIGN_OR_RETURN(
        peer, peer::PeerServer::Start(core.config.node_id, *core.keys.tls(), partners, *inbox, peer_options));
    return Status::Ok();
  }

  // The hosts the generated web certificate names: the console's and the
  // link pages' (listen host and public host) of those without cert files.
  // One certificate covers them all; each asking for only its own made the
  // two replace each other's certificate at every start when their hosts
  // differ.
  std::vector<std::string> GeneratedWebHosts() const {
    std::vector<std::string> hosts;
    auto add = [&hosts](const std::string& host) {
      if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
    };
    if (core.config.console_listen && !core.config.console_cert.configured()) add(core.config.console_listen->host);
    if (core.config.links_listen && !core.config.links_cert.configured()) {
      add(core.config.links_listen->host);
      auto public_host = config::PublicUrlHost(core.config.links_public_url);
      if (public_host.ok()) add(*public_host);
    }
    return hosts;
  }

  // The identity a web listener serves: its cert files loaded into `own`, or
  // the generated one, loaded (or made) once and shared by both listeners.
  Result<const crypto::TlsIdentity*> WebIdentity(const config::WebCertFiles& files, crypto::TlsIdentity& own) {
    if (files.configured()) {
      SCHAKEL_ASSIGN_OR_RETURN(own, http::LoadWebIdentityFiles(core.dir, files));
      return &own;
    }
    if (!generated_web) {
      NodeCore::Held held(core);
      SCHAKEL_ASSIGN_OR_RETURN(generated_web,
                               http::LoadOrCreateWebIdentity(held.db(), core.dir, {}, core.config.node_id,
                                                             GeneratedWebHosts(), FormatInstant(core.clock->Now())));
    }
    return &*generated_web;
  }

  // The staff console: HTTPS pages over the same Service as the API.
  Status StartConsole() {
    crypto::TlsIdentity own;
    SCHAKEL_ASSIGN_OR_RETURN(const crypto::TlsIdentity* web_identity, WebIdentity(core.config.console_cert, own));
    ConsoleOptions console_options;
    console_options.node_id = core.config.node_id;
    console_options.node_name = core.config.name;
    console_options.started = started;
    console =
        std::make_unique<ConsoleServer>(*service, *core.clock, console_options, *throttle, links.get(), requests.get());
    http::WebServerOptions web_options;
    web_options.name = "console";
    console_web = std::make_unique<http::WebServer>(
        *web_identity, [c = console.get()](const http::WebRequest& r) { return c->Handle(r); }, web_options);
    SCHAKEL_RETURN_IF_ERROR(console_web->Start(*core.config.console_listen));
    if (core.config.console_cert.configured()) {
      certs.Watch("console", core.dir, core.config.console_cert, console_web.get());
    }
    LogInfo("staff console on https://" + core.config.console_listen->host + ":" + std::to_string(console_web->port()));
    return Status::Ok();
  }

  // The dossier link pages: HTTPS with the web identity.
  Status StartLinkPages() {
    crypto::TlsIdentity own;
    SCHAKEL_ASSIGN_OR_RETURN(const crypto::TlsIdentity* web_identity, WebIdentity(core.config.links_cert, own));
    http::WebServerOptions web_options;
    web_options.name = "links";
    link_pages = std::make_unique<LinkPages>(*links, *core.clock);
    consent_pages = std::make_unique<ConsentPages>(*requests, link_pages->per_ip());
    // /t/... and /i/...: permission and inzage pages; the rest: dossier links.
    links_web = std::make_unique<http::WebServer>(
        *web_identity,
        [pages = link_pages.get(), permission = consent_pages.get()](const http::WebRequest& r) {
          const bool ours = r.path.rfind("/t/", 0) == 0 || r.path.rfind("/i/", 0) == 0;
          return ours ? permission->Handle(r) : pages->Handle(r);
        },
        web_options);
    SCHAKEL_RETURN_IF_ERROR(links_web->Start(*core.config.links_listen));
    if (core.config.links_cert.configured()) certs.Watch("links", core.dir, core.config.links_cert, links_web.get());
    LogInfo("link pages on https://" + core.config.links_listen->host + ":" + std::to_string(links_web->port()));
    return Status::Ok();
  }

  // Stop taking work, then finish what must be durable.
  void Shutdown() {
    if (notifier) notifier->Stop();
    if (directories) directories->Stop();
    api->Stop();
    if (console_web) console_web->Stop();
    if (links_web) links_web->Stop();
    peer->Stop();
    delivery->Stop();
    NodeCore::Held held(core);
    Status st = AuditOrFail(held, SystemEvent({"node.stop", "", "", "", "", "ok", ""}, "daemon"));
    if (st.ok()) st = held.audit().Close();
    if (!st.ok()) LogError("audit at shutdown: " + st.message());
  }
};

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() {
  if (impl_->notifier) impl_->notifier->Stop();
  if (impl_->directories) impl_->directories->Stop();
  if (impl_->delivery) impl_->delivery->Stop();
  if (impl_->peer) impl_->peer->Stop();
  if (impl_->api) impl_->api->Stop();
  if (impl_->console_web) impl_->console_web->Stop();
}

const config::NodeConfig& Daemon::config() const { return impl_->core.config; }

uint16_t Daemon::api_port() const { return impl_->api ? impl_->api->port() : 0; }
uint16_t Daemon::console_port() const { return impl_->console_web ? impl_->console_web->port() : 0; }
uint16_t Daemon::peer_port() const { return impl_->peer ? impl_->peer->local_address().port : 0; }

Result<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.passphrase = nullptr;  // used below only; the caller wipes it
  NodeCore& core = impl->core;
  core.dir = options.dir;
  core.clock = options.clock != nullptr ? options.clock : &impl->system_clock;
  core.maintenance_interval = options.maintenance_interval;
  core.audit_options = options.audit;
  SCHAKEL_ASSIGN_OR_RETURN(core.config, config::LoadNodeConfig(options.dir));
  LogLevel level = LogLevel::kInfo;
  if (ParseLogLevel(core.config.log_level, &level)) SetLogLevel(level);
  SCHAKEL_ASSIGN_OR_RETURN(core.protocol, config::LoadProtocolInForce(core.config, options.dir));
  // Argon2id in a process of its own when schakel-kdf is installed beside
  // this executable (crypto/kdf_helper.h); one a test or a bench set stays.
  if (crypto::KdfHelper().empty()) crypto::SetKdfHelper(crypto::FindKdfHelper());
  if (crypto::KdfHelper().empty()) {
    LogInfo("key derivations (link codes, passwords) run on a thread at nice 19: no schakel-kdf beside this program");
  } else {
    LogInfo("key derivations (link codes, passwords) run in " + crypto::KdfHelper());
  }
  store::NodePaths paths(options.dir, core.config.key_file);
  store::KeySource source{paths.key_file, core.config.passphrase_env, {}, options.passphrase};
  SCHAKEL_ASSIGN_OR_RETURN(store::NodeDatabases dbs, store::OpenNodeDatabases(paths, source, 1));
  std::unique_ptr<store::Database> db = std::move(dbs.writer);
  SCHAKEL_ASSIGN_OR_RETURN(crypto::SigningKeyPair identity, store::LoadIdentity(*db));
  SCHAKEL_ASSIGN_OR_RETURN(std::vector<store::EncKey> enc_keys, store::LoadUsableEncKeys(*db, identity));
  SCHAKEL_ASSIGN_OR_RETURN(crypto::TlsIdentity tls, store::LoadCurrentTls(*db));
  SCHAKEL_ASSIGN_OR_RETURN(std::optional<std::string> stored_id, store::GetMeta(*db, "node_id"));
  if (!stored_id || *stored_id != core.config.node_id) {
    return Status::InvalidInput(paths.config + ": node.id \"" + core.config.node_id +
                                "\" does not match the database's node");
  }
  core.keys.Load(std::move(identity), std::move(enc_keys), std::move(tls));
  SCHAKEL_ASSIGN_OR_RETURN(
      std::unique_ptr<audit::AuditLog> log,
      audit::AuditLog::Create(*db, core.config.node_id, core.keys.identity(), *core.clock, core.audit_options));
  core.Open(std::move(db), std::move(dbs.readers), std::move(log), service::ReaderPool::kReaders,
            std::move(dbs.open_reader));
  impl->service = std::make_unique<Service>(core);
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

Status Daemon::Run() {
  Impl& d = *impl_;
  NodeCore& core = d.core;
  d.started = core.clock->Now();
  {
    NodeCore::Held held(core);
    // Before anyone can withdraw or recall: what the last run may have left
    // on the wire is `sending` (service/on_the_wire.h).
    SCHAKEL_RETURN_IF_ERROR(service::SettleAfterUncleanStop(held, core.clock->Now()).status());
    std::string protocol = core.config.policy_file.empty() ? "default_protocol" : "protocol_file";
    SCHAKEL_RETURN_IF_ERROR(AuditOrFail(held, SystemEvent({"node.start", "", "", "", "", "ok", protocol}, "daemon")));
  }
  SCHAKEL_RETURN_IF_ERROR(d.StartPeer());
  d.links = std::make_unique<LinkService>(core, *d.service);
  d.requests = std::make_unique<service::ConsentRequests>(core, *d.service);
  d.throttle = std::make_unique<SignInThrottle>(
      *core.clock, SignInThrottleOptions{},
      [&core](const std::string& user, const std::string& address, std::chrono::milliseconds wait) {
        AuditThrottled(core, user, address, wait);
      });
  d.api =
      std::make_unique<ApiServer>(*d.service, d.options.api, &core, d.links.get(), d.throttle.get(), d.requests.get());
  SCHAKEL_RETURN_IF_ERROR(d.api->Start(core.config.api_listen, d.started));
  if (core.config.console_listen) SCHAKEL_RETURN_IF_ERROR(d.StartConsole());
  if (core.config.links_listen) SCHAKEL_RETURN_IF_ERROR(d.StartLinkPages());
  d.generated_web.reset();  // each listener holds its own TLS context now
  DeliveryOptions delivery = d.options.delivery;
  delivery.on_card_acked = [impl = &d] { impl->MaybeServeNewTls(); };
  delivery.client.allowed_networks = core.config.peer_allowed_networks;
  delivery.backoff_base = std::chrono::milliseconds(core.config.retry_base_ms);
  delivery.backoff_max = std::chrono::milliseconds(core.config.retry_max_ms);
  d.delivery = std::make_unique<peer::DeliveryWorker>(core, delivery);
  d.delivery->Start();
  d.directories = std::make_unique<DirectoryFetcher>(core);
  d.directories->Start();
  if (core.config.notify.enabled()) {
    SCHAKEL_ASSIGN_OR_RETURN(d.notifier, Notifier::Create(*d.service, core.config.notify, core.dir));
    d.notifier->Start();
    LogInfo("e-mail notices through " + core.config.notify.smtp_host + ":" +
            std::to_string(core.config.notify.smtp_port) + " (STARTTLS), checked every " +
            std::to_string(core.config.notify.check_seconds) + " s");
  }

  d.signals.add(SIGTERM);
  d.signals.add(SIGINT);
  d.signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    LogInfo(std::string("received ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    Stop();
  });
  d.hangup.add(SIGHUP);
  d.WaitForHangup();
  d.ScheduleMaintenance();
  LogInfo("node " + core.config.node_id + " ready: peers on " + core.config.peer_listen.ToString() + ", API on " +
          core.config.api_listen.ToString() + " (fingerprint " + crypto::Fingerprint(core.keys.identity().public_key) +
          ")");
  NotifySystemd("READY=1\nSTATUS=serving");
  if (d.options.on_ready) d.options.on_ready(*this);
  auto work = boost::asio::make_work_guard(d.io);
  d.io.run();

  NotifySystemd("STOPPING=1");
  d.Shutdown();
  LogInfo("node " + core.config.node_id + " stopped");
  return Status::Ok();
}

void Daemon::Stop() {
  boost::asio::post(impl_->io, [this] {
    impl_->signals.cancel();
    impl_->hangup.cancel();
    impl_->maintenance.cancel();
    impl_->io.stop();
  });
}

void Daemon::RunMaintenanceNow() { impl_->RunMaintenance(); }

void Daemon::WithNodeLockHeld(const std::function<void()>& f) {
  NodeCore::Held held(impl_->core);
  f();
}

void Daemon::DeliverNow() {
  if (impl_->delivery) impl_->delivery->RunOnce();
}

}  // namespace schakel::daemon
