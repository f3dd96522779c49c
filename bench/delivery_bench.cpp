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
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "schakel/base/time.h"

namespace {

using nlohmann::json;
using schakel_bench::Clock;
using schakel_bench::Die;
using schakel_bench::Node;
using schakel_bench::Seconds;
using schakel_bench::StartNode;

// Runs `schakel ARGS...` in-process.
schakel_bench::CliResult Run(std::vector<std::string> args) { return schakel_bench::RunSchakel(std::move(args)); }

int PortBase() {
  // Ports derived from the process id keep parallel runs apart.
  return 30000 + static_cast<int>(::getpid() % 5000) * 4;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  schakel_bench::BenchName() = "delivery_bench";
  int per_size = argc > 1 ? std::max(10, std::atoi(argv[1])) : 150;
  std::string tmp = std::filesystem::temp_directory_path() / ("schakel-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);

  int base = PortBase();
  Node school{tmp + "/school", nullptr, {}}, lvs{tmp + "/lvs", nullptr, {}};
  // Short retries and no inbound quota at the LVS (bench_support.h InitNode).
  schakel_bench::InitNode(school.dir, "School", "school-a", "school", base);
  schakel_bench::InitNode(lvs.dir, "LVS", "lvs-b", "lvs", base + 4);
  schakel_bench::Pair(school.dir, lvs.dir);
  schakel_bench::LoadStudent(school.dir, tmp, "stu-bench", "2012-05-01");
  // The node's first coordinator is made at once; the staff member who shares
  // waits for a coordinator's confirmation (docs/api.md, "Accounts").
  std::string coordinator_file = tmp + "/token-coordinator";
  schakel_bench::WriteText(coordinator_file, schakel_bench::AddUser(school.dir, "zorgco", "coordinator"));
  std::string token_file = tmp + "/token";
  schakel_bench::WriteText(token_file, schakel_bench::AddUser(school.dir, "mentor", "staff", coordinator_file));
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
    schakel_bench::WriteText(case_file, c.dump());
    if (auto r = Run({"case", "add", "--dir", school.dir, "--token-file", token_file, "--file", case_file});
        r.code != 0)
      Die("case add: " + r.err);
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

  double commits = schakel_bench::RawCommitsPerSecond(tmp, 300);
  std::printf("\nraw SQLCipher durable commits/s: %.1f  -> disk bound for 3 commits per delivery: %.1f shares/s\n",
              commits, commits / 3);
  for (auto [size, rate] : throughput) {
    std::printf("  drain %s: %.1f shares/s = %.2f of the disk bound (aim: >= 0.5)\n", size == 4096 ? "4 KB " : "64 KB",
                rate, rate / (commits / 3));
  }
  std::printf("\nper record, seal + open:\n");
  for (size_t size : {size_t{4096}, size_t{65536}}) {
    double raw = schakel_bench::RawSodiumMicros(size, 300), ours = schakel_bench::OurSealOpenMicros(size, 300);
    std::printf("  %s: schakel %.1f us, raw libsodium %.1f us, ratio %.2f (aim: <= 1.10)\n",
                size == 4096 ? "4 KB " : "64 KB", ours, raw, ours / raw);
  }
  std::filesystem::remove_all(tmp);
  return 0;
}
