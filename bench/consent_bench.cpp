// Consent engine benchmarks: decisions per second for a 15-year-old with 20
// consents on record, scenario parsing, and loading the protocol from TOML.
//
// As every Schakel benchmark, it measures a raw libsodium operation in the
// same run (BLAKE2b of 64 bytes, crypto_generichash) and reports each figure
// also as a multiple of it (counter x_hash64), so runs on different machines
// compare.
#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sodium.h>

#include "schakel/base/time.h"
#include "schakel/config/protocol_file.h"
#include "schakel/consent/engine.h"
#include "schakel/consent/protocol.h"

namespace schakel::consent {
namespace {

// ns per crypto_generichash of 64 bytes: from BM_RawGenericHash64 when it
// runs, else from a calibration loop in main().
double g_hash64_ns = 0;

double MeasureHash64Ns() {
  unsigned char in[64] = {1};
  unsigned char out[32];
  constexpr int kRounds = 500000;
  for (int i = 0; i < kRounds / 10; ++i) {  // warm up
    crypto_generichash(out, sizeof out, in, sizeof in, nullptr, 0);
  }
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    crypto_generichash(out, sizeof out, in, sizeof in, nullptr, 0);
    benchmark::DoNotOptimize(out);
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  benchmark::DoNotOptimize(out);
  return ns.count() / kRounds;
}

// Runs `op` in the benchmark loop and adds x_hash64: time per op divided by
// the time of one crypto_generichash of 64 bytes.
template <typename F>
void Loop(benchmark::State& state, F op) {
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) op();
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.iterations() > 0 && g_hash64_ns > 0) {
    state.counters["x_hash64"] = ns.count() / static_cast<double>(state.iterations()) / g_hash64_ns;
  }
}

CategorySet Cats(std::initializer_list<Category> cs) {
  CategorySet s;
  for (Category c : cs) s.Add(c);
  return s;
}

Date D(const char* s) { return ParseDate(s).value(); }

// A 15-year-old (both grantors needed) asked for in a kernteamoverleg with a
// GGD. Twenty consents as a school would hold them over a few years: the two
// that cover this share, and others for other purposes, other recipients,
// expired, withdrawn, not yet valid, or about a sibling.
Request FifteenYearOld(bool all_matching) {
  Request r;
  r.now = ParseInstant("2026-11-23T10:00:00Z").value();
  r.subject_id = "stu-4711";
  r.birth_date = D("2011-03-14");
  r.sender = Party{"school-trajectum", OrgType::kSchool};
  r.recipient = Party{"ggd-regio-utrecht", OrgType::kGgd};
  r.purpose = "kernteamoverleg";
  r.categories = {Category::kIdentificatie, Category::kOnderwijs,      Category::kVerzuim,
                  Category::kHulpvraag,     Category::kGezinssituatie, Category::kGezondheid};
  const CategorySet wide = Cats({Category::kIdentificatie, Category::kContact, Category::kOnderwijs, Category::kVerzuim,
                                 Category::kHulpvraag, Category::kGezinssituatie, Category::kAfspraken});
  const char* purposes[] = {"kernteamoverleg", "doorverwijzing", "overdracht_rmc", "terugkoppeling"};
  const char* recipients[] = {"ggd", "wijkteam", "ggd-regio-utrecht", "swv", "lvs"};
  for (int i = 0; i < 20; ++i) {
    Consent c;
    c.id = "consent-2026-" + std::to_string(1000 + i);
    c.subject_id = r.subject_id;
    c.grantor_role = i % 2 == 0 ? GrantorRole::kOuder : GrantorRole::kJongere;
    c.purposes = {all_matching ? "kernteamoverleg" : purposes[i % 4]};
    c.recipients = {all_matching ? "ggd" : recipients[i % 5], "wijkteam"};
    c.categories = wide;
    c.valid_from = D("2025-09-01");
    c.valid_until = D("2027-07-31");
    if (!all_matching) {
      if (i % 7 == 3) c.valid_until = D("2026-07-31");
      if (i % 7 == 5) c.withdrawn_at = ParseInstant("2026-10-01T12:00:00Z").value();
      if (i % 9 == 8) c.subject_id = "stu-4712";
    }
    r.consents.push_back(std::move(c));
  }
  // The two consents that cover this share, placed at the end.
  r.consents[18].purposes = {"kernteamoverleg"};
  r.consents[18].recipients = {"ggd"};
  r.consents[18].valid_until.reset();
  r.consents[18].withdrawn_at.reset();
  r.consents[18].subject_id = r.subject_id;
  r.consents[18].categories.Add(Category::kGezondheid);
  r.consents[19] = r.consents[18];
  r.consents[19].id = "consent-2026-1019";
  r.consents[19].grantor_role = GrantorRole::kJongere;
  return r;
}

// The reference, run first: its time per hash becomes the unit of x_hash64.
void BM_RawGenericHash64(benchmark::State& state) {
  unsigned char in[64] = {1};
  unsigned char out[32];
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    crypto_generichash(out, sizeof out, in, sizeof in, nullptr, 0);
    benchmark::DoNotOptimize(out);
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (state.iterations() > 1000) g_hash64_ns = ns.count() / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RawGenericHash64);

void BM_Decide15yo20Consents(benchmark::State& state) {
  const Request r = FifteenYearOld(false);
  const Protocol& p = DefaultProtocol();
  Decision check = Decide(p, r);
  if (!check.permit || !check.reasons.empty() || check.consents_used.size() < 2) {
    std::string why = "benchmark scenario does not decide as intended:";
    for (const auto& id : check.consents_used) why += " " + id;
    for (const auto& reason : check.reasons) why += " " + reason.code;
    state.SkipWithError(why.c_str());
    return;
  }
  Loop(state, [&] {
    Decision d = Decide(p, r);
    benchmark::DoNotOptimize(d);
  });
}
BENCHMARK(BM_Decide15yo20Consents);

// Worst case: all 20 consents cover the share (every one is checked twice).
void BM_Decide15yo20ConsentsAllMatching(benchmark::State& state) {
  const Request r = FifteenYearOld(true);
  const Protocol& p = DefaultProtocol();
  Loop(state, [&] {
    Decision d = Decide(p, r);
    benchmark::DoNotOptimize(d);
  });
}
BENCHMARK(BM_Decide15yo20ConsentsAllMatching);

// A deny with reasons (messages are built): the consent of the young person
// was withdrawn.
void BM_Decide15yoDenyWithReasons(benchmark::State& state) {
  Request r = FifteenYearOld(false);
  r.consents[19].withdrawn_at = ParseInstant("2026-11-01T09:00:00Z").value();
  const Protocol& p = DefaultProtocol();
  Loop(state, [&] {
    Decision d = Decide(p, r);
    benchmark::DoNotOptimize(d);
  });
}
BENCHMARK(BM_Decide15yoDenyWithReasons);

void BM_LoadDefaultProtocolToml(benchmark::State& state) {
  const std::string toml = config::ProtocolToToml(DefaultProtocol());
  Loop(state, [&] {
    auto p = config::ParseProtocolToml(toml, "default.toml");
    benchmark::DoNotOptimize(p);
  });
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(toml.size()));
}
BENCHMARK(BM_LoadDefaultProtocolToml);

}  // namespace
}  // namespace schakel::consent

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  schakel::consent::g_hash64_ns = schakel::consent::MeasureHash64Ns();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
