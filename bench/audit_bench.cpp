// The audit log's two costs, each beside the raw operation underneath it,
// measured in the same run:
//   append: AuditLog::Append, each in its own durable transaction (WAL,
//           synchronous=FULL as the store sets it), against a plain
//           single-row INSERT into a table of the same columns and index in
//           its own durable transaction on an equally opened database; and
//           the same two inside one open transaction (1000 rows per commit),
//           which shows the CPU cost without the fsync;
//   verify: VerifyExport of an export of 1e5 (in memory) and 1e6 (streamed
//           from a file) entries with a signed checkpoint every 1000, against
//           libsodium's SHA-256 over as many inputs of the entries' average
//           canonical size -- the hashing no verifier can skip.
// Ratios are printed after the table (wall time per item, best repetition).
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "schakel/audit/audit_log.h"
#include "schakel/audit/format.h"
#include "schakel/audit/verify.h"
#include "schakel/base/clock.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/store/database.h"

namespace schakel::audit {
namespace {

const char* kBase = "2026-11-23T10:00:00Z";

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/schakel-audit-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

void RemoveTemp() {
  const char* tmp = std::getenv("TMPDIR");
  std::error_code ec;
  std::filesystem::remove_all(
      std::string(tmp && *tmp ? tmp : "/tmp") + "/schakel-audit-bench-" + std::to_string(::getpid()), ec);
}

AuditEvent Event(int64_t i) {
  AuditEvent e;
  e.actor_user = "u-" + std::to_string(i % 97);
  e.actor_role = "staff";
  e.actor_org = "school-trajectum";
  e.action = "case.read";
  e.subject = "stu-" + std::to_string(i % 5000);
  e.object = "casus-2026-" + std::to_string(i % 20000);
  e.purpose = "kernteamoverleg";
  e.legal_basis = "consent";
  e.outcome = "permit";
  e.reason = "";
  e.source = "api";
  return e;
}

std::unique_ptr<store::Database> OpenFresh(const std::string& name) {
  std::string path = TempPath(name);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto db = store::Database::Open(path, crypto::SecureBuffer::Random(32), store::OpenMode::kCreate);
  if (!db.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), db.status().message().c_str());
    std::abort();
  }
  return std::move(db).value();
}

// The raw side: the audit_log's columns and index, no triggers, no chain.
std::unique_ptr<store::Database> OpenRaw(const std::string& name, store::Statement** insert,
                                         std::unique_ptr<store::Statement>* holder) {
  auto db = OpenFresh(name);
  Status st = db->Exec(
      "CREATE TABLE raw_log (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, actor_user TEXT NOT NULL,"
      " actor_role TEXT NOT NULL, actor_org TEXT NOT NULL, action TEXT NOT NULL,"
      " subject TEXT NOT NULL, object TEXT NOT NULL, purpose TEXT NOT NULL,"
      " legal_basis TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,"
      " source TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
      "CREATE INDEX raw_subject ON raw_log (subject);");
  if (!st.ok()) std::abort();
  auto q = db->Prepare(
      "INSERT INTO raw_log (seq, ts, actor_user, actor_role, actor_org, action, subject, object,"
      " purpose, legal_basis, outcome, reason, source, prev_hash, hash)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);");
  if (!q.ok()) std::abort();
  *holder = std::make_unique<store::Statement>(std::move(q).value());
  *insert = holder->get();
  return db;
}

Status RawInsert(store::Statement& q, int64_t seq, const AuditEvent& e, const std::string& ts) {
  static const Hash kHash{};
  q.Bind(1, seq).Bind(2, ts).Bind(3, e.actor_user).Bind(4, e.actor_role).Bind(5, e.actor_org);
  q.Bind(6, e.action).Bind(7, e.subject).Bind(8, e.object).Bind(9, e.purpose);
  q.Bind(10, e.legal_basis).Bind(11, e.outcome).Bind(12, e.reason).Bind(13, e.source);
  q.BindBlob(14, kHash).BindBlob(15, kHash);
  Status st = q.Run();
  (void)q.Reset();
  return st;
}

void BM_AuditAppendDurable(benchmark::State& state) {
  auto db = OpenFresh("append.db");
  crypto::SigningKeyPair key = crypto::GenerateSigningKeyPair();
  ManualClock clock(ParseInstant(kBase).value());
  auto log = AuditLog::Create(*db, "school-trajectum", key, clock).value();
  int64_t i = 0;
  for (auto _ : state) {
    clock.Advance(std::chrono::milliseconds(7));
    auto seq = log->Append(Event(i++));
    if (!seq.ok()) state.SkipWithError(seq.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["entries"] = 1;
}

void BM_RawInsertDurable(benchmark::State& state) {
  store::Statement* insert = nullptr;
  std::unique_ptr<store::Statement> holder;
  auto db = OpenRaw("raw.db", &insert, &holder);
  int64_t i = 0;
  std::string ts = FormatInstantMs(ParseInstant(kBase).value());
  for (auto _ : state) {
    ++i;
    store::Transaction tx(*db);
    if (!tx.Begin().ok() || !RawInsert(*insert, i, Event(i), ts).ok() || !tx.Commit().ok()) {
      state.SkipWithError("raw insert failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["entries"] = 1;
}

constexpr int kBatch = 1000;

void BM_AuditAppendBatched(benchmark::State& state) {
  auto db = OpenFresh("append-batch.db");
  crypto::SigningKeyPair key = crypto::GenerateSigningKeyPair();
  ManualClock clock(ParseInstant(kBase).value());
  auto log = AuditLog::Create(*db, "school-trajectum", key, clock).value();
  int64_t i = 0;
  for (auto _ : state) {
    store::Transaction tx(*db);
    if (!tx.Begin().ok()) state.SkipWithError("begin");
    for (int k = 0; k < kBatch; ++k) {
      clock.Advance(std::chrono::milliseconds(7));
      if (!log->Append(Event(i++)).ok()) state.SkipWithError("append");
    }
    if (!tx.Commit().ok()) state.SkipWithError("commit");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["entries"] = kBatch;
}

void BM_RawInsertBatched(benchmark::State& state) {
  store::Statement* insert = nullptr;
  std::unique_ptr<store::Statement> holder;
  auto db = OpenRaw("raw-batch.db", &insert, &holder);
  int64_t i = 0;
  std::string ts = FormatInstantMs(ParseInstant(kBase).value());
  for (auto _ : state) {
    store::Transaction tx(*db);
    if (!tx.Begin().ok()) state.SkipWithError("begin");
    for (int k = 0; k < kBatch; ++k) {
      ++i;
      if (!RawInsert(*insert, i, Event(i), ts).ok()) state.SkipWithError("insert");
    }
    if (!tx.Commit().ok()) state.SkipWithError("commit");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["entries"] = kBatch;
}

// --- verification ---------------------------------------------------------

struct ExportFixture {
  crypto::SigningKeyPair key = crypto::GenerateSigningKeyPair();
  crypto::NodeCard card;
  std::map<int64_t, std::string> in_memory;  // by entry count
  std::map<int64_t, std::string> files;
  double avg_preimage = 0;

  ExportFixture() {
    card.node_id = "school-trajectum";
    card.sign_pk = key.public_key;
  }

  // Writes n entries, a checkpoint after every 1000th and after the last.
  template <typename Sink>
  void Build(int64_t n, Sink&& sink) {
    Instant t = ParseInstant(kBase).value();
    Hash prev{};
    std::string buf;
    size_t preimage_total = 0;
    for (int64_t seq = 1; seq <= n; ++seq) {
      AuditEvent e = Event(seq);
      std::string ts = FormatInstantMs(t + std::chrono::milliseconds(seq * 7));
      EntryText text = TextOf(e, ts);
      Hash h = ComputeEntryHash(kCurrentEntryFormat, seq, text, prev);
      size_t pre = kEntryLabel.size() + 1 + 8 + 32;
      for (auto v : text) pre += 2 + v.size();
      preimage_total += pre;
      AppendEntryLine(kCurrentEntryFormat, seq, text, prev, h, &buf);
      if (seq % 1000 == 0 || seq == n) {
        auto sig = crypto::Sign(key, CheckpointMessage(card.node_id, seq, h, ts));
        AppendCheckpointLine(card.node_id, seq, ts, h, sig, &buf);
      }
      prev = h;
      if (buf.size() > (1 << 20)) {
        sink(buf);
        buf.clear();
      }
    }
    sink(buf);
    avg_preimage = static_cast<double>(preimage_total) / static_cast<double>(n);
  }

  const std::string& Memory(int64_t n) {
    auto it = in_memory.find(n);
    if (it != in_memory.end()) return it->second;
    std::string all;
    Build(n, [&](const std::string& b) { all += b; });
    return in_memory[n] = std::move(all);
  }

  const std::string& File(int64_t n) {
    auto it = files.find(n);
    if (it != files.end()) return it->second;
    std::string path = TempPath("export-" + std::to_string(n) + ".jsonl");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    Build(n, [&](const std::string& b) { out.write(b.data(), static_cast<std::streamsize>(b.size())); });
    return files[n] = path;
  }
};

ExportFixture& Fixture() {
  static ExportFixture f;
  return f;
}

void BM_VerifyExportMemory(benchmark::State& state) {
  int64_t n = state.range(0);
  const std::string& jsonl = Fixture().Memory(n);
  for (auto _ : state) {
    auto r = VerifyExport(jsonl, Fixture().card);
    if (!r.ok() || !r->ok || r->entries != n) state.SkipWithError("verification failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["entries"] = static_cast<double>(n);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(jsonl.size()));
}

void BM_VerifyExportFile(benchmark::State& state) {
  int64_t n = state.range(0);
  const std::string& path = Fixture().File(n);
  for (auto _ : state) {
    std::ifstream in(path, std::ios::binary);
    auto r = VerifyExport(in, Fixture().card);
    if (!r.ok() || !r->ok || r->entries != n) state.SkipWithError("verification failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["entries"] = static_cast<double>(n);
}

void BM_RawSha256(benchmark::State& state) {
  int64_t n = state.range(0);
  Fixture().Memory(100000);  // sets the average size
  auto size = static_cast<size_t>(Fixture().avg_preimage + 0.5);
  // 256 distinct inputs of that size, cycled, so the data is not one cache line.
  std::vector<uint8_t> inputs(256 * size);
  randombytes_buf(inputs.data(), inputs.size());
  uint8_t out[32];
  for (auto _ : state) {
    for (int64_t i = 0; i < n; ++i) {
      crypto_hash_sha256(out, inputs.data() + static_cast<size_t>(i & 255) * size, size);
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["entries"] = static_cast<double>(n);
  state.counters["input_bytes"] = static_cast<double>(size);
}

BENCHMARK(BM_AuditAppendDurable)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_RawInsertDurable)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AuditAppendBatched)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawInsertBatched)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VerifyExportMemory)->Arg(100000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VerifyExportFile)->Arg(1000000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawSha256)->Arg(100000)->Arg(1000000)->UseRealTime()->Unit(benchmark::kMillisecond);

// Prints the table and keeps, per benchmark, the lowest wall and CPU time
// per entry over its repetitions, for the ratios after the run. Each
// benchmark states its entries per iteration in the counter "entries".
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      auto n = run.counters.find("entries");
      if (n == run.counters.end() || n->second.value <= 0) continue;
      double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      double real = run.GetAdjustedRealTime() * to_ns / n->second.value;
      double cpu = run.GetAdjustedCPUTime() * to_ns / n->second.value;
      auto [it, fresh] = best_.emplace(run.benchmark_name(), std::make_pair(real, cpu));
      if (!fresh) {
        it->second.first = std::min(it->second.first, real);
        it->second.second = std::min(it->second.second, cpu);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    std::printf(
        "\nAudit log / raw operation per entry, best repetition of this run "
        "(wall time; CPU time in brackets):\n");
    Ratio("append, durable commit each", "BM_AuditAppendDurable/min_time:2.000/real_time",
          "BM_RawInsertDurable/min_time:2.000/real_time");
    Ratio("append, 1000 per commit", "BM_AuditAppendBatched/real_time", "BM_RawInsertBatched/real_time");
    Ratio("verify 1e5 (memory) / SHA-256", "BM_VerifyExportMemory/100000/real_time", "BM_RawSha256/100000/real_time");
    Ratio("verify 1e6 (file) / SHA-256", "BM_VerifyExportFile/1000000/real_time", "BM_RawSha256/1000000/real_time");
  }

 private:
  void Ratio(const char* what, const std::string& ours, const std::string& raw) const {
    auto s = best_.find(ours);
    auto r = best_.find(raw);
    if (s == best_.end() || r == best_.end() || r->second.first <= 0 || r->second.second <= 0) {
      return;
    }
    auto [sr, sc] = s->second;
    auto [rr, rc] = r->second;
    std::printf(
        "  %-31s %9.2f us vs %9.2f us  ratio %5.2f  [%8.2f us vs %8.2f us  ratio %5.2f]"
        "  %.0f vs %.0f entries/s\n",
        what, sr / 1000.0, rr / 1000.0, sr / rr, sc / 1000.0, rc / 1000.0, sc / rc, 1e9 / sr, 1e9 / rr);
  }
  std::map<std::string, std::pair<double, double>> best_;
};

}  // namespace
}  // namespace schakel::audit

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  schakel::crypto::EnsureInitialised();
  schakel::audit::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  schakel::audit::RemoveTemp();
  return 0;
}
