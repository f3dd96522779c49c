// What a region costs on one machine (issue 22, docs/region.md): N nodes
// (default 30) formed from one signed directory, each a real `schakeld`
// process on loopback.
//
// Printed:
//   - forming the region: the keeper's N fingerprint checks and adds, one
//     signing, and `directory trust` at each node (N checks), beside the
//     N(N-1)/2 pairings, each a phone call and two imports, that full pairing
//     needs;
//   - reading the directory: crypto::ParseDirectory of the N-member file,
//     beside raw libsodium Ed25519 verification of the 2N+1 signatures it
//     checks, measured in the same run (ratio);
//   - memory per node: VmRSS of each idle daemon once all N run (mean, max,
//     sum), their PSS (shared pages split between them: mean, sum), and the
//     time from spawn to ready;
//   - converging after a change: the keeper drops one member and adds one,
//     signs; every other node takes the new directory (`directory update`,
//     offline while its daemon runs, which reads its partners from the
//     database): the time until all have it, and the check that each node
//     then has the new member and not the dropped one;
//   - converging by itself: a second joiner, the directory given to one
//     node only; the time until each of the others took it from a partner
//     (peer protocol 7; each daemon logs it).
// Usage: region_bench [nodes]   (default 30, 4..60)
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "schakel/crypto/directory.h"

namespace {

using nlohmann::json;
using schakel_bench::Clock;
using schakel_bench::Die;
using schakel_bench::ReadText;
using schakel_bench::RunSchakel;
using schakel_bench::Seconds;

constexpr const char* kTypes[] = {"school", "school", "school", "wijkteam", "lvs", "ggd", "rmc", "swv"};
constexpr const char* kAllTypes = "school,wijkteam,lvs,ggd,rmc,swv";

struct Member {
  std::string id;
  std::string dir;
  pid_t pid = -1;
  double start_s = 0;
  long rss_kib = 0;
};

std::string Must(const std::vector<std::string>& args) {
  auto r = RunSchakel(args);
  if (r.code != 0) Die(args[0] + " " + args[1] + ": " + r.err);
  return r.out;
}

// The daemon next to this binary (build/bench/region_bench -> build/schakeld).
std::string DaemonPath() {
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  std::filesystem::path p = self.parent_path().parent_path() / "schakeld";
  if (!std::filesystem::exists(p)) Die("no schakeld at " + p.string());
  return p.string();
}

pid_t Spawn(const std::string& daemon, const std::string& dir) {
  std::ofstream(dir + "/daemon.log", std::ios::app).flush();  // there before the child writes
  pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    std::string log = dir + "/daemon.log";
    FILE* f = std::fopen(log.c_str(), "a");
    if (f != nullptr) {
      ::dup2(::fileno(f), 1);
      ::dup2(::fileno(f), 2);
    }
    ::execl(daemon.c_str(), daemon.c_str(), "--dir", dir.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

// A "Name:   123 kB" line of a /proc file, in KiB; -1 when absent.
long ProcKib(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) return std::atol(line.c_str() + name.size());
  }
  return -1;
}

// Resident memory, with the program's and libraries' file pages counted in
// full in every daemon.
long RssKib(pid_t pid) { return ProcKib("/proc/" + std::to_string(pid) + "/status", "VmRSS:"); }

// Proportional set size: each page shared by k processes counts 1/k in each,
// so the sum over the daemons is what they take together.
long PssKib(pid_t pid) { return ProcKib("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss:"); }

// Raw libsodium: Ed25519 verifications per second of a card-sized message.
double RawVerifySeconds(int n) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
  crypto_sign_keypair(pk, sk);
  std::string msg(600, 'c');
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), sk);
  auto t0 = Clock::now();
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    ok += crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), pk) == 0;
  }
  double s = Seconds(Clock::now() - t0);
  if (ok != n) Die("raw verify failed");
  return s / n;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  schakel_bench::BenchName() = "region_bench";
  int n = argc > 1 ? std::clamp(std::atoi(argv[1]), 4, 60) : 30;
  std::string tmp = std::filesystem::temp_directory_path() / ("schakel-region-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string daemon = DaemonPath();
  // Four ports a node, below the ephemeral range, apart per process.
  int base = 20000 + static_cast<int>(::getpid() % 40) * 250;

  std::vector<Member> members;
  for (int i = 0; i <= n + 1; ++i) {  // the last two join with the changes
    Member m;
    m.id = std::string(kTypes[i % 8]) + "-" + std::to_string(i);
    m.dir = tmp + "/" + m.id;
    Must({"init", "--dir", m.dir, "--name", "Org " + m.id, "--org-id", m.id, "--org-type", kTypes[i % 8], "--listen",
          "127.0.0.1:" + std::to_string(base + 4 * i)});
    members.push_back(std::move(m));
  }
  Member second_joiner = members.back();
  members.pop_back();
  Member joiner = members.back();
  members.pop_back();

  // Forming the region.
  const std::string file = tmp + "/region.json", key = tmp + "/region.key";
  auto t0 = Clock::now();
  json init = json::parse(Must({"directory", "init", "--file", file, "--key", key, "--region", "bench-region", "--name",
                                "Bench region", "--json"}));
  std::string keeper_fp = init["fingerprint"];
  for (const auto& m : members) {
    std::string fp = schakel_bench::Fingerprint(m.dir);
    Must({"directory", "add", "--file", file, "--card", m.dir + "/node-card.json", "--fingerprint", fp});
  }
  Must({"directory", "sign", "--file", file, "--key", key});
  double keeper_s = Seconds(Clock::now() - t0);
  auto t1 = Clock::now();
  for (const auto& m : members) {
    Must({"directory", "trust", "--dir", m.dir, "--file", file, "--fingerprint", keeper_fp, "--accept-types", kAllTypes,
          "--allow-local-address"});
  }
  double trust_s = Seconds(Clock::now() - t1);

  // Reading the directory beside raw verification.
  std::string text = ReadText(file);
  int reps = 50;
  auto t2 = Clock::now();
  for (int i = 0; i < reps; ++i) {
    if (!schakel::crypto::ParseDirectory(text).ok()) Die("the directory does not parse");
  }
  double parse_s = Seconds(Clock::now() - t2) / reps;
  double raw_s = RawVerifySeconds(2000) * (2 * n + 1);

  // Memory per node: all N daemons running, idle.
  for (auto& m : members) {
    auto s = Clock::now();
    m.pid = Spawn(daemon, m.dir);
    auto deadline = s + std::chrono::seconds(30);
    while (ReadText(m.dir + "/daemon.log").find(" ready") == std::string::npos) {
      if (Clock::now() > deadline) Die(m.id + " did not start: " + ReadText(m.dir + "/daemon.log"));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    m.start_s = Seconds(Clock::now() - s);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  long rss_sum = 0, rss_max = 0, pss_sum = 0;
  double start_max = 0, start_sum = 0;
  for (auto& m : members) {
    m.rss_kib = RssKib(m.pid);
    pss_sum += PssKib(m.pid);
    rss_sum += m.rss_kib;
    rss_max = std::max(rss_max, m.rss_kib);
    start_sum += m.start_s;
    start_max = std::max(start_max, m.start_s);
  }

  // A change: the last member leaves, a new one joins.
  const Member& leaver = members.back();
  auto t3 = Clock::now();
  Must({"directory", "remove", "--file", file, "--node-id", leaver.id});
  Must({"directory", "add", "--file", file, "--card", joiner.dir + "/node-card.json", "--fingerprint",
        schakel_bench::Fingerprint(joiner.dir)});
  Must({"directory", "sign", "--file", file, "--key", key});
  double max_update = 0;
  for (const auto& m : members) {
    if (m.id == leaver.id) continue;
    auto s = Clock::now();
    Must({"directory", "update", "--dir", m.dir, "--file", file, "--allow-local-address"});
    max_update = std::max(max_update, Seconds(Clock::now() - s));
  }
  double converge_s = Seconds(Clock::now() - t3);
  int converged = 0;
  for (const auto& m : members) {
    if (m.id == leaver.id) continue;
    std::string list = Must({"partner", "list", "--dir", m.dir, "--json"});
    json partners = json::parse(list)["partners"];
    bool has_joiner = false, has_leaver = false;
    for (const auto& p : partners) {
      has_joiner = has_joiner || p["node_id"] == joiner.id;
      has_leaver = has_leaver || p["node_id"] == leaver.id;
    }
    converged += has_joiner && !has_leaver && partners.size() == static_cast<size_t>(n - 1);
  }

  // Passed along: a second joiner, and the new directory given to one node
  // only; the others take it from their partners (peer protocol 7). Each
  // daemon logs "took directory bench-region serial 3" when it does.
  Must({"directory", "add", "--file", file, "--card", second_joiner.dir + "/node-card.json", "--fingerprint",
        schakel_bench::Fingerprint(second_joiner.dir)});
  Must({"directory", "sign", "--file", file, "--key", key});
  const std::string took = "took directory bench-region serial 3";
  auto t4 = Clock::now();
  Must({"directory", "update", "--dir", members.front().dir, "--file", file, "--allow-local-address"});
  std::vector<double> reached;
  std::vector<bool> seen(members.size(), false);
  auto pass_deadline = t4 + std::chrono::seconds(120);
  while (Clock::now() < pass_deadline && reached.size() < members.size() - 2) {
    for (size_t i = 1; i < members.size(); ++i) {
      if (seen[i] || members[i].id == leaver.id) continue;
      if (ReadText(members[i].dir + "/daemon.log").find(took) != std::string::npos) {
        seen[i] = true;
        reached.push_back(Seconds(Clock::now() - t4));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::sort(reached.begin(), reached.end());
  auto at = [&](double q) {
    if (reached.empty()) return -1.0;
    auto i = static_cast<size_t>(q * static_cast<double>(reached.size()));
    return reached[std::min(reached.size() - 1, i)];
  };

  for (auto& m : members) ::kill(m.pid, SIGTERM);
  for (auto& m : members) ::waitpid(m.pid, nullptr, 0);
  std::filesystem::remove_all(tmp);

  std::printf("region of %d nodes, one machine, each a schakeld process on loopback\n\n", n);
  std::printf("forming the region\n");
  std::printf("  fingerprint checks: %d (keeper %d, members %d); full pairing needs %d pairings (%d imports)\n", 2 * n,
              n, n, n * (n - 1) / 2, n * (n - 1));
  std::printf("  keeper: init, %d adds, sign: %.2f s; trust at %d nodes: %.2f s (%.1f ms a node)\n", n, keeper_s, n,
              trust_s, 1000 * trust_s / n);
  std::printf("reading the directory (%zu bytes, %d members)\n", text.size(), n);
  std::printf("  ParseDirectory: %.2f ms; raw libsodium, %d Ed25519 verifications: %.2f ms; ratio %.2f\n",
              1000 * parse_s, 2 * n + 1, 1000 * raw_s, parse_s / raw_s);
  std::printf("memory per node (VmRSS of an idle daemon with %d partners)\n", n - 1);
  std::printf("  mean %.1f MiB, max %.1f MiB, all %d: %.1f MiB; spawn to ready: mean %.0f ms, max %.0f ms\n",
              static_cast<double>(rss_sum) / 1024.0 / n, static_cast<double>(rss_max) / 1024.0, n,
              static_cast<double>(rss_sum) / 1024.0, 1000 * start_sum / n, 1000 * start_max);
  std::printf("  PSS (shared pages split between the daemons): mean %.1f MiB, all %d: %.1f MiB\n",
              static_cast<double>(pss_sum) / 1024.0 / n, n, static_cast<double>(pss_sum) / 1024.0);
  std::printf("converging after a change (one member leaves, one joins)\n");
  std::printf("  keeper remove + add + sign, then directory update at %d nodes: %.2f s (slowest node %.0f ms)\n", n - 1,
              converge_s, 1000 * max_update);
  std::printf("  nodes that have the new member and not the one that left: %d of %d\n", converged, n - 1);
  std::printf("converging by itself (peer protocol 7): directory update at one node, passed along to the other %d\n",
              n - 2);
  std::printf("  reached %zu of %d; after %.2f s (median), %.2f s (90 %%), %.2f s (last)\n", reached.size(), n - 2,
              at(0.5), at(0.9), at(1.0));
  return converged == n - 1 && reached.size() == static_cast<size_t>(n - 2) ? 0 : 1;
}
