// Cost of sealing and opening one share, beside the raw libsodium pipeline
// that does the same cryptographic work in the same run:
//   seal: Ed25519 sign, X25519 key generation and agreement, BLAKE2b key
//         derivation, XChaCha20-Poly1305 encryption;
//   open: X25519 agreement, BLAKE2b, XChaCha20-Poly1305 decryption, Ed25519
//         verification.
// The raw pipeline reuses preallocated buffers, copies the body once (into
// sig || body for encryption) and skips everything Schakel adds (header
// encoding and checks, guarded memory, wiping, the output string), so it is
// a lower bound and the printed ratio is the price of those.
//
// On a shared machine, run with
//   --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
// so both sides see the same disturbances; the ratios use the best
// repetition of each.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "schakel/crypto/envelope.h"

namespace schakel::crypto {
namespace {

struct World {
  SigningKeyPair sender = GenerateSigningKeyPair();
  SigningKeyPair recipient = GenerateSigningKeyPair();
  EncryptionKeyPair recipient_enc = GenerateEncryptionKeyPair(recipient);
  EnvelopeHeader header;

  World() {
    header.message_id = "msg-2026-0001";
    header.sender_id = "school-trajectum";
    header.recipient_id = "wijkteam-overvecht";
    header.created = ParseInstant("2026-11-23T10:00:00Z").value();
    header.retain_until = ParseInstant("2027-05-22T10:00:00Z").value();
    header.purpose = "doorverwijzing";
    header.consent_ids = {"c1", "c2"};
    header.content_type = "application/vnd.schakel.case+json";
  }
};

World& TheWorld() {
  static World w;
  return w;
}

std::string Body(size_t size) {
  std::string body(size, '\0');
  randombytes_buf(body.data(), body.size());
  return body;
}

void SetCounters(benchmark::State& state, size_t body_size) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body_size));
}

void BM_SchakelSealOpen(benchmark::State& state) {
  World& w = TheWorld();
  const std::string body = Body(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto env = Seal(w.header, body, w.sender, w.recipient_enc.public_key);
    auto opened = Open(*env, w.recipient_enc, w.sender.public_key, w.header.recipient_id);
    if (!opened.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened->body().data());
  }
  SetCounters(state, body.size());
}

void BM_SchakelSeal(benchmark::State& state) {
  World& w = TheWorld();
  const std::string body = Body(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto env = Seal(w.header, body, w.sender, w.recipient_enc.public_key);
    benchmark::DoNotOptimize(env->data());
  }
  SetCounters(state, body.size());
}

void BM_SchakelOpen(benchmark::State& state) {
  World& w = TheWorld();
  const std::string body = Body(static_cast<size_t>(state.range(0)));
  const std::string env = *Seal(w.header, body, w.sender, w.recipient_enc.public_key);
  for (auto _ : state) {
    auto opened = Open(env, w.recipient_enc, w.sender.public_key, w.header.recipient_id);
    if (!opened.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened->body().data());
  }
  SetCounters(state, body.size());
}

// The same primitives on preallocated buffers. The signed message has the
// length Schakel signs (label, header length, header, body) so both hash the
// same number of bytes.
struct Raw {
  std::vector<uint8_t> message;  // what is signed: prefix || body
  size_t prefix;
  std::vector<uint8_t> plaintext, ciphertext, decrypted, ad;
  uint8_t sender_pk[32], sender_sk[64], rcpt_pk[32], rcpt_sk[32];
  uint8_t eph_pk[32], eph_sk[32], shared[32], key[32], nonce[24], sig[64];

  explicit Raw(size_t body_size) {
    prefix = 25 + 4 + 150;  // label, length, a header of typical size
    message.resize(prefix + body_size);
    randombytes_buf(message.data(), message.size());
    plaintext.resize(64 + body_size);
    ciphertext.resize(plaintext.size() + 16);
    decrypted.resize(plaintext.size());
    ad.resize(9 + 150 + 60);
    randombytes_buf(ad.data(), ad.size());
    crypto_sign_keypair(sender_pk, sender_sk);
    randombytes_buf(rcpt_sk, sizeof rcpt_sk);
    crypto_scalarmult_base(rcpt_pk, rcpt_sk);
  }

  void Kdf(const uint8_t* their_or_our_eph_pk) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    crypto_generichash_update(&st, shared, 32);
    crypto_generichash_update(&st, their_or_our_eph_pk, 32);
    crypto_generichash_update(&st, rcpt_pk, 32);
    crypto_generichash_final(&st, key, 32);
  }

  void SealOnce() {
    crypto_sign_detached(sig, nullptr, message.data(), message.size(), sender_sk);
    std::memcpy(plaintext.data(), sig, 64);
    std::memcpy(plaintext.data() + 64, message.data() + prefix, message.size() - prefix);
    randombytes_buf(eph_sk, sizeof eph_sk);
    crypto_scalarmult_base(eph_pk, eph_sk);
    if (crypto_scalarmult(shared, eph_sk, rcpt_pk) != 0) std::abort();
    Kdf(eph_pk);
    randombytes_buf(nonce, sizeof nonce);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext.data(), &clen, plaintext.data(), plaintext.size(), ad.data(),
                                               ad.size(), nullptr, nonce, key);
  }

  bool OpenOnce() {
    if (crypto_scalarmult(shared, rcpt_sk, eph_pk) != 0) return false;
    Kdf(eph_pk);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(decrypted.data(), &mlen, nullptr, ciphertext.data(),
                                                   ciphertext.size(), ad.data(), ad.size(), nonce, key) != 0) {
      return false;
    }
    // Verify over prefix || body. `message` holds the same bytes as the
    // decrypted body, so the raw pipeline need not copy it into place.
    if (mlen != decrypted.size()) return false;
    return crypto_sign_verify_detached(decrypted.data(), message.data(), message.size(), sender_pk) == 0;
  }
};

void BM_RawSealOpen(benchmark::State& state) {
  Raw raw(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    raw.SealOnce();
    if (!raw.OpenOnce()) state.SkipWithError("raw open failed");
    benchmark::DoNotOptimize(raw.decrypted.data());
  }
  SetCounters(state, static_cast<size_t>(state.range(0)));
}

void BM_RawSeal(benchmark::State& state) {
  Raw raw(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    raw.SealOnce();
    benchmark::DoNotOptimize(raw.ciphertext.data());
  }
  SetCounters(state, static_cast<size_t>(state.range(0)));
}

void BM_RawOpen(benchmark::State& state) {
  Raw raw(static_cast<size_t>(state.range(0)));
  raw.SealOnce();
  for (auto _ : state) {
    if (!raw.OpenOnce()) state.SkipWithError("raw open failed");
    benchmark::DoNotOptimize(raw.decrypted.data());
  }
  SetCounters(state, static_cast<size_t>(state.range(0)));
}

BENCHMARK(BM_SchakelSealOpen)->Arg(4096)->Arg(65536);
BENCHMARK(BM_RawSealOpen)->Arg(4096)->Arg(65536);
BENCHMARK(BM_SchakelSeal)->Arg(4096)->Arg(65536);
BENCHMARK(BM_RawSeal)->Arg(4096)->Arg(65536);
BENCHMARK(BM_SchakelOpen)->Arg(4096)->Arg(65536);
BENCHMARK(BM_RawOpen)->Arg(4096)->Arg(65536);

// Prints the usual table and keeps, per benchmark, the lowest CPU time per
// iteration over its repetitions (the least disturbed by other processes),
// so the ratios can be printed after the run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      double ns = run.GetAdjustedCPUTime();  // the default unit, ns
      auto [it, fresh] = best_ns_.emplace(run.benchmark_name(), ns);
      if (!fresh && ns < it->second) it->second = ns;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    std::printf("\nSchakel / raw libsodium, CPU time per record, best repetition of this run:\n");
    for (const char* what : {"SealOpen", "Seal", "Open"}) {
      for (const char* size : {"4096", "65536"}) {
        auto s = best_ns_.find(std::string("BM_Schakel") + what + "/" + size);
        auto r = best_ns_.find(std::string("BM_Raw") + what + "/" + size);
        if (s == best_ns_.end() || r == best_ns_.end() || r->second <= 0) continue;
        std::printf("  %-9s %6s B body: %9.1f us vs %9.1f us  ratio %.2f\n", what, size, s->second / 1000.0,
                    r->second / 1000.0, s->second / r->second);
      }
    }
  }

 private:
  std::map<std::string, double> best_ns_;
};

}  // namespace
}  // namespace schakel::crypto

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  schakel::crypto::EnsureInitialised();
  schakel::crypto::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
