// Shared by the end-to-end benchmarks (delivery_bench, lanes_bench): nodes
// made with `schakel init` through schakel::cli::RunCli and run in-process
// as schakel::daemon::Daemon, their config tuned for a bench, users with
// tokens, and the raw baselines printed beside the figures (SQLCipher
// durable commits per second; libsodium seal + open per record, beside
// crypto::Seal + crypto::Open). Every wait is bounded.
#pragma once

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "schakel/base/time.h"
#include "schakel/cli/cli.h"
#include "schakel/crypto/envelope.h"
#include "schakel/daemon/daemon.h"
#include "schakel/store/database.h"

namespace schakel_bench {

using Clock = std::chrono::steady_clock;

// The program's name, for messages ("delivery_bench: ...").
inline std::string& BenchName() {
  static std::string name = "bench";
  return name;
}

// Where Die() writes: stderr, unless the bench moved the daemons' log onto
// fd 2 and kept the terminal's stderr elsewhere.
inline int& DieFd() {
  static int fd = 2;
  return fd;
}

// Called before exiting on Die() (e.g. to say where the work folder is kept).
inline std::function<void()>& OnDie() {
  static std::function<void()> f;
  return f;
}

[[noreturn]] inline void Die(const std::string& what) {
  std::string line = BenchName() + ": " + what + "\n";
  std::fflush(stdout);
  if (::write(DieFd(), line.data(), line.size()) < 0) {
    // Nothing more to do: we are exiting anyway.
  }
  if (OnDie()) OnDie()();
  std::_Exit(1);
}

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct CliResult {
  int code;
  std::string out, err;
};

// Runs `schakel ARGS...` in-process.
inline CliResult RunSchakel(std::vector<std::string> args) {
  args.insert(args.begin(), "schakel");
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (auto& a : args) argv.push_back(a.c_str());
  std::istringstream in;
  std::ostringstream out, err;
  int code = schakel::cli::RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

inline std::string LastLine(const std::string& s) {
  auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto start = s.find_last_of('\n', end);
  size_t from = start == std::string::npos ? 0 : start + 1;
  return s.substr(from, end - from + 1);
}

inline std::string ReadText(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) Die("cannot read " + path);
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) Die("cannot write " + path);
  if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) Die("cannot write " + path);
  std::fclose(f);
}

// Replaces the first `from` in `text` by `to`; false if it is not there.
inline bool ReplaceOnce(std::string& text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  if (pos == std::string::npos) return false;
  text.replace(pos, from.size(), to);
  return true;
}

// Creates a node directory (`schakel init`) and tunes its config for a bench:
// short retries (retry_base_ms = 50), as an operator would set for a LAN, so
// a drain measures the pipeline rather than the backoff; inbound quotas far
// above any flood a bench makes; log level warn.
inline void InitNode(const std::string& dir, const std::string& name, const std::string& org_id,
                     const std::string& org_type, int port) {
  auto r = RunSchakel({"init", "--dir", dir, "--name", name, "--org-id", org_id, "--org-type", org_type, "--listen",
                       "127.0.0.1:" + std::to_string(port)});
  if (r.code != 0) Die("init " + org_id + ": " + r.err);
  std::string cfg = ReadText(dir + "/schakel.toml");
  ReplaceOnce(cfg, "retry_base_ms = 1000", "retry_base_ms = 50");
  ReplaceOnce(cfg, "inbound_shares_per_minute = 120", "inbound_shares_per_minute = 1000000");
  ReplaceOnce(cfg, "inbound_bytes_per_day = 268435456", "inbound_bytes_per_day = 1099511627776");
  ReplaceOnce(cfg, "level = 'info'", "level = 'warn'");
  WriteText(dir + "/schakel.toml", cfg);
}

inline std::string Fingerprint(const std::string& dir) {
  auto r = RunSchakel({"node", "fingerprint", "--dir", dir});
  if (r.code != 0) Die("node fingerprint: " + r.err);
  return LastLine(r.out);
}

// Each imports the other's card (offline). Every node of a bench is on this
// machine, so the cards name loopback addresses.
inline void Pair(const std::string& a, const std::string& b) {
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    auto r = RunSchakel({"partner", "add", "--dir", x, "--card", y + "/node-card.json", "--fingerprint", Fingerprint(y),
                         "--allow-local-address"});
    if (r.code != 0) Die("partner add: " + r.err);
  }
}

// Adds a user (offline) and returns its token. A staff or coordinator account
// after the first coordinator waits for a coordinator's confirmation: the
// coordinator whose token is in `confirm_token_file` confirms it offline.
inline std::string AddUser(const std::string& dir, const std::string& name, const std::string& role,
                           const std::string& confirm_token_file = "") {
  auto r = RunSchakel({"user", "add", "--dir", dir, "--name", name, "--role", role});
  if (r.code != 0) Die("user add " + name + ": " + r.err);
  std::string token = LastLine(r.out);
  if (r.out.find("cannot sign in until") != std::string::npos) {
    if (confirm_token_file.empty()) Die("user " + name + " waits for a coordinator's confirmation");
    auto c = RunSchakel({"user", "confirm", name, "--offline", "--dir", dir, "--token-file", confirm_token_file});
    if (c.code != 0) Die("user confirm " + name + ": " + c.err);
  }
  return token;
}

// Fills the student register (admin, offline): cases are made only for
// registered students (docs/students.md).
inline void LoadStudent(const std::string& dir, const std::string& tmp, const std::string& id,
                        const std::string& birth_date) {
  std::string roster = tmp + "/roster-" + id + ".csv";
  WriteText(roster, "student_id,name,birth_date\n" + id + ",Bench Leerling," + birth_date + "\n");
  auto r = RunSchakel({"student", "load", "--dir", dir, "--file", roster});
  if (r.code != 0) Die("student load: " + r.err);
}

struct Node {
  std::string dir;
  std::unique_ptr<schakel::daemon::Daemon> daemon;
  std::thread thread;
};

inline void StartNode(Node& n) {
  schakel::daemon::DaemonOptions options;
  options.dir = n.dir;
  auto ready = std::make_shared<std::promise<void>>();
  options.on_ready = [ready](schakel::daemon::Daemon&) { ready->set_value(); };
  auto d = schakel::daemon::Daemon::Create(options);
  if (!d.ok()) Die(d.status().message());
  n.daemon = std::move(d).value();
  auto failed = std::make_shared<std::promise<std::string>>();
  auto fut_failed = failed->get_future();
  n.thread = std::thread([&n, failed] {
    schakel::Status st = n.daemon->Run();
    failed->set_value(st.ok() ? "stopped" : st.message());
  });
  auto fut_ready = ready->get_future();
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (fut_ready.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (fut_failed.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      Die("node " + n.dir + " did not start: " + fut_failed.get());
    }
    if (Clock::now() > deadline) Die("node " + n.dir + " not ready after 20 s");
  }
}

inline void StopNode(Node& n) {
  if (!n.daemon) return;
  n.daemon->Stop();
  n.thread.join();
  n.daemon.reset();
}

// Raw SQLCipher durable single-row commits per second (WAL, synchronous FULL,
// as the store opens it).
inline double RawCommitsPerSecond(const std::string& dir, int n) {
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
inline double RawSodiumMicros(size_t size, int n) {
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

// crypto::Seal + crypto::Open per record, microseconds.
inline double OurSealOpenMicros(size_t size, int n) {
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

// The value at fraction q (0..1) of sorted values; 0 for none.
inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, i)];
}

}  // namespace schakel_bench
