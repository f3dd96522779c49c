// End-to-end delivery between two nodes on loopback: a school node queues
// verzuimmeldingen (4 KB and 64 KB summaries) for a leerplicht node; each is
// sealed, committed to the outbox, sent over mutual TLS, opened, committed to
// the recipient's inbox, and its signed receipt committed back at the sender.
//
// Printed beside, measured in the same run on the same disk:
//   - raw SQLCipher: durable single-row commits per second (WAL, synchronous
//     FULL, as the store opens it); a delivery needs 3 such commits (outbox,
//     inbox, receipt), so raw/3 is the disk's bound on shares per second;
//   - raw libsodium: sign + X25519 + XChaCha20-Poly1305 seal and open per
//     record, beside our crypto::Seal + crypto::Open.
// Usage: delivery_bench [shares-per-size]   (default 150)
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "schakel/base/log.h"
#include "schakel/base/time.h"
#include "schakel/cli/cli.h"
#include "schakel/crypto/envelope.h"
#include "schakel/daemon/daemon.h"
#include "schakel/store/database.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Cli {
  int code;
  std::string out, err;
};

Cli Run(std::vector<std::string> args) {
  args.insert(args.begin(), "schakel");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  std::istringstream in;
  std::ostringstream out, err;
  int code = schakel::cli::RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

std::string LastLine(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  auto start = s.find_last_of('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Die(const std::string& what) {
  std::fprintf(stderr, "delivery_bench: %s\n", what.c_str());
  std::exit(1);
}

// Raw SQLCipher durable commits per second.
double RawCommitsPerSecond(const std::string& dir, int n) {
  auto key = schakel::crypto::SecureBuffer::Random(32);
  auto db = schakel::store::Database::Open(dir + "/raw.db", key, schakel::store::OpenMode::kCreate);
  if (!db.ok()) Die(db.status().message());
  if (!(*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);").ok()) Die("raw table");
  std::string blob(4096, 'x');
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto s = (*db)->Prepare("INSERT INTO t (v) VALUES (?);");
    if (!(*db)->Begin().ok()) Die("begin");
    if (!s->BindBlob(1, {reinterpret_cast<const uint8_t*>(blob.data()), blob.size()}).Run().ok()) Die("insert");
    if (!(*db)->Commit().ok()) Die("commit");
  }
  return n / Seconds(Clock::now() - start);
}

// Raw libsodium pipeline per record: sign, X25519 agreement + hash, AEAD
// seal; AEAD open, verify. Microseconds per record.
double RawSodiumMicros(size_t size, int n) {
  std::vector<uint8_t> body(size, 7), sig(64), out(size + 64 + 16), back(size + 64);
  uint8_t spk[32], ssk[64], rpk[32], rsk[32], epk[32], esk[32], shared[32], key[32], nonce[24];
  crypto_sign_keypair(spk, ssk);
  crypto_box_keypair(rpk, rsk);
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    crypto_sign_detached(sig.data(), nullptr, body.data(), body.size(), ssk);
    crypto_box_keypair(epk, esk);
    if (crypto_scalarmult(shared, esk, rpk) != 0) Die("scalarmult");
    crypto_generichash(key, 32, shared, 32, epk, 32);
    randombytes_buf(nonce, sizeof nonce);
    std::copy(sig.begin(), sig.end(), back.begin());
    std::copy(body.begin(), body.end(), back.begin() + 64);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &clen, back.data(), back.size(), nullptr, 0, nullptr, nonce,
                                               key);
    // open
    if (crypto_scalarmult(shared, rsk, epk) != 0) Die("scalarmult");
    crypto_generichash(key, 32, shared, 32, epk, 32);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(back.data(), &mlen, nullptr, out.data(), clen, nullptr, 0, nonce,
                                                   key) != 0) {
      Die("decrypt");
    }
    if (crypto_sign_verify_detached(back.data(), back.data() + 64, mlen - 64, spk) != 0) Die("verify");
  }
  return Seconds(Clock::now() - start) * 1e6 / n;
}

double OurSealOpenMicros(size_t size, int n) {
  using namespace schakel;
  auto sender = crypto::GenerateSigningKeyPair();
  auto recipient_id = crypto::GenerateSigningKeyPair();
  auto recipient = crypto::GenerateEncryptionKeyPair(recipient_id);
  crypto::EnvelopeHeader h;
  h.message_id = "m-1";
  h.sender_id = "school-a";
  h.recipient_id = "lvs-b";
  h.created = NowUtc();
  h.retain_until = h.created + std::chrono::days(180);
  h.purpose = "verzuimmelding";
  h.content_type = "application/vnd.schakel.case+json";
  std::string body(size, 'x');
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto env = crypto::Seal(h, body, sender, recipient.public_key);
    if (!env.ok()) Die(env.status().message());
    auto opened = crypto::Open(*env, recipient, sender.public_key, "lvs-b");
    if (!opened.ok()) Die(opened.status().message());
  }
  return Seconds(Clock::now() - start) * 1e6 / n;
}

struct Node {
  std::string dir;
  std::unique_ptr<schakel::daemon::Daemon> daemon;
  std::thread thread;
};

void StartNode(Node& n) {
  schakel::daemon::DaemonOptions options;
  options.dir = n.dir;
  std::promise<void> ready;
  options.on_ready = [&](schakel::daemon::Daemon&) { ready.set_value(); };
  auto d = schakel::daemon::Daemon::Create(options);
  if (!d.ok()) Die(d.status().message());
  n.daemon = std::move(d).value();
  n.thread = std::thread([&n] {
    schakel::Status st = n.daemon->Run();
    if (!st.ok()) std::fprintf(stderr, "delivery_bench: node %s: %s\n", n.dir.c_str(), st.message().c_str());
  });
  if (ready.get_future().wait_for(std::chrono::seconds(20)) != std::future_status::ready) Die("daemon not ready");
}

int PortBase() {
  // Ports derived from the process id keep parallel runs apart.
  return 30000 + static_cast<int>(::getpid() % 5000) * 4;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  int per_size = argc > 1 ? std::max(10, std::atoi(argv[1])) : 150;
  std::string tmp = std::filesystem::temp_directory_path() / ("schakel-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);

  int base = PortBase();
  Node school{tmp + "/school", nullptr, {}}, lvs{tmp + "/lvs", nullptr, {}};
  if (Run({"init", "--dir", school.dir, "--name", "School", "--org-id", "school-a", "--org-type", "school", "--listen",
           "127.0.0.1:" + std::to_string(base)})
              .code != 0 ||
      Run({"init", "--dir", lvs.dir, "--name", "LVS", "--org-id", "lvs-b", "--org-type", "lvs", "--listen",
           "127.0.0.1:" + std::to_string(base + 4)})
              .code != 0) {
    Die("init failed (ports taken?)");
  }
  // Short retries, as an operator would set for a LAN, so the drain measures
  // the pipeline rather than the backoff; no inbound share quota at the LVS.
  for (const auto& dir : {school.dir, lvs.dir}) {
    std::FILE* f = std::fopen((dir + "/schakel.toml").c_str(), "r");
    std::string cfg(1 << 16, '\0');
    cfg.resize(std::fread(cfg.data(), 1, cfg.size(), f));
    std::fclose(f);
    auto pos = cfg.find("retry_base_ms = 1000");
    if (pos != std::string::npos) cfg.replace(pos, 20, "retry_base_ms = 50");
    // A bench is a flood by design: above the recipient's per-partner quotas.
    auto qpos = cfg.find("inbound_shares_per_minute = 120");
    if (qpos != std::string::npos) cfg.replace(qpos, 31, "inbound_shares_per_minute = 1000000");
    auto bpos = cfg.find("inbound_bytes_per_day = 268435456");
    if (bpos != std::string::npos) cfg.replace(bpos, 33, "inbound_bytes_per_day = 1099511627776");
    auto lpos = cfg.find("level = 'info'");
    if (lpos != std::string::npos) cfg.replace(lpos, 14, "level = 'warn'");
    f = std::fopen((dir + "/schakel.toml").c_str(), "w");
    std::fputs(cfg.c_str(), f);
    std::fclose(f);
  }
  auto fp = [](const std::string& dir) { return LastLine(Run({"node", "fingerprint", "--dir", dir}).out); };
  Run({"partner", "add", "--dir", school.dir, "--card", lvs.dir + "/node-card.json", "--fingerprint", fp(lvs.dir)});
  Run({"partner", "add", "--dir", lvs.dir, "--card", school.dir + "/node-card.json", "--fingerprint", fp(school.dir)});
  {
    // Cases are made only for registered students (docs/students.md).
    std::string roster = tmp + "/roster.csv";
    std::FILE* f = std::fopen(roster.c_str(), "w");
    std::fputs("student_id,name,birth_date\nstu-bench,Bench Leerling,2012-05-01\n", f);
    std::fclose(f);
    if (Run({"student", "load", "--dir", school.dir, "--file", roster}).code != 0) Die("student load");
  }
  std::string token = LastLine(Run({"user", "add", "--dir", school.dir, "--name", "mentor", "--role", "staff"}).out);
  std::string token_file = tmp + "/token";
  {
    std::FILE* f = std::fopen(token_file.c_str(), "w");
    std::fputs(token.c_str(), f);
    std::fclose(f);
  }
  StartNode(school);
  StartNode(lvs);

  std::printf("Schakel end-to-end delivery on loopback (%d shares per size)\n\n", per_size);
  std::printf(
      "live: shares queued one by one through the API while both nodes run (latency = queued to receipt)\n"
      "drain: shares queued while the recipient is down, then delivered when it returns\n\n");
  std::printf("%-8s %-6s %12s %12s %12s %12s\n", "summary", "mode", "shares/s", "p50 ms", "p99 ms", "queue ms/op");
  std::vector<std::pair<size_t, double>> throughput;
  for (size_t size : {size_t{4096}, size_t{65536}}) {
    std::string case_id = "casus-bench-" + std::to_string(size);
    json c = {{"case_id", case_id},         {"student_id", "stu-bench"},
              {"birth_date", "2012-05-01"}, {"identificatie", {{"name", "Bench Leerling"}}},
              {"bsn", "111222333"},         {"verzuim", {{"notes", std::string(size - 200, 'v')}}}};
    std::string case_file = tmp + "/case-" + std::to_string(size) + ".json";
    {
      std::FILE* f = std::fopen(case_file.c_str(), "w");
      std::fputs(c.dump().c_str(), f);
      std::fclose(f);
    }
    if (Run({"case", "add", "--dir", school.dir, "--token-file", token_file, "--file", case_file}).code != 0)
      Die("case add");
    for (bool drain : {false, true}) {
      // Drain: queue everything while the recipient is down, then time how fast
      // the queue empties once it is back (the delivery pipeline alone).
      if (drain) {
        lvs.daemon->Stop();
        lvs.thread.join();
      }
      auto t0 = Clock::now();
      schakel::Instant round_start = schakel::NowUtc();
      for (int i = 0; i < per_size; ++i) {
        auto r = Run({"share", case_id, "--dir", school.dir, "--token-file", token_file, "--to", "lvs-b", "--purpose",
                      "verzuimmelding"});
        if (r.code != 0) Die("share: " + r.err);
      }
      double queue_ms = Seconds(Clock::now() - t0) * 1000 / per_size;
      schakel::Instant drain_start = schakel::NowUtc();
      if (drain) {
        StartNode(lvs);
        drain_start = schakel::NowUtc();
      }
      // Wait (bounded) for every share to be delivered.
      json shares;
      auto deadline = Clock::now() + std::chrono::minutes(5);
      while (Clock::now() < deadline) {
        auto r = Run({"shares", "--dir", school.dir, "--token-file", token_file, "--json"});
        shares = json::parse(r.out);
        int done = 0, total = 0;
        for (const auto& s : shares["shares"]) {
          if (s["case_id"] != case_id || s["created"].get<std::string>() < schakel::FormatInstantMs(round_start))
            continue;
          ++total;
          done += s["state"] == "delivered";
        }
        if (total == per_size && done == total) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      std::vector<double> latency;
      schakel::Instant first_created = schakel::Instant::max(), last_delivered = schakel::Instant::min();
      for (const auto& s : shares["shares"]) {
        if (s["case_id"] != case_id || s["delivered_at"].is_null()) continue;
        auto created = *schakel::ParseInstant(s["created"].get<std::string>());
        if (created < round_start) continue;
        if (drain) created = std::max(created, drain_start);
        auto delivered = *schakel::ParseInstant(s["delivered_at"].get<std::string>());
        latency.push_back(static_cast<double>((delivered - created).count()));
        first_created = std::min(first_created, created);
        last_delivered = std::max(last_delivered, delivered);
      }
      if (static_cast<int>(latency.size()) != per_size) Die("not every share was delivered in time");
      std::sort(latency.begin(), latency.end());
      double span = std::chrono::duration<double>(last_delivered - first_created).count();
      double rate = per_size / span;
      if (drain) throughput.emplace_back(size, rate);
      std::printf("%-8s %-6s %12.1f %12.1f %12.1f %12.2f\n", size == 4096 ? "4 KB" : "64 KB", drain ? "drain" : "live",
                  rate, drain ? 0.0 : latency[latency.size() / 2],
                  drain ? 0.0 : latency[std::min(latency.size() - 1, latency.size() * 99 / 100)], queue_ms);
    }
  }
  school.daemon->Stop();
  lvs.daemon->Stop();
  school.thread.join();
  lvs.thread.join();

  double commits = RawCommitsPerSecond(tmp, 300);
  std::printf("\nraw SQLCipher durable commits/s: %.1f  -> disk bound for 3 commits per delivery: %.1f shares/s\n",
              commits, commits / 3);
  for (auto [size, rate] : throughput) {
    std::printf("  drain %s: %.1f shares/s = %.2f of the disk bound (aim: >= 0.5)\n", size == 4096 ? "4 KB " : "64 KB",
                rate, rate / (commits / 3));
  }
  std::printf("\nper record, seal + open:\n");
  for (size_t size : {size_t{4096}, size_t{65536}}) {
    double raw = RawSodiumMicros(size, 300), ours = OurSealOpenMicros(size, 300);
    std::printf("  %s: schakel %.1f us, raw libsodium %.1f us, ratio %.2f (aim: <= 1.10)\n",
                size == 4096 ? "4 KB " : "64 KB", ours, raw, ours / raw);
  }
  std::filesystem::remove_all(tmp);
  return 0;
}
