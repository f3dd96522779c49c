// audit::VerifyExport on arbitrary bytes, against a fixed card: the node
// "school-trajectum" whose identity key comes from the seed 00 01 .. 1f, the
// key that signed tests/interop/audit/export_v1.jsonl and _v2.jsonl (entry
// formats 1 and 2; corpus seeds of both). The export is
// verified once from memory and once as a stream; both must give the same
// report, and a report must be consistent with itself.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

#include <sodium.h>

#include "fuzz_support.h"
#include "schakel/audit/verify.h"
#include "schakel/crypto/identity.h"
#include "schakel/crypto/node_card.h"
#include "schakel/crypto/secure_buffer.h"

namespace {

namespace crypto = schakel::crypto;

const crypto::NodeCard& TestCard() {
  static const crypto::NodeCard* card = [] {
    FUZZ_CHECK(sodium_init() >= 0);
    uint8_t seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof seed; ++i) seed[i] = static_cast<uint8_t>(i);
    crypto::PublicKey pk{};
    crypto::SecureBuffer sk(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed);
    auto identity = crypto::SigningKeyPairFromSecret(sk.span());
    FUZZ_CHECK(identity.ok());
    auto* c = new crypto::NodeCard;
    c->node_id = "school-trajectum";
    c->name = "Trajectum College";
    c->org_type = "school";
    c->address = "127.0.0.1:7401";
    const crypto::EncryptionKeyPair enc = crypto::GenerateEncryptionKeyPair(*identity);
    c->enc_pk = enc.public_key;
    c->enc_pk_sig = enc.signature;
    c->tls_spki_sha256 = crypto::Sha256(identity->public_key);
    c->created = "2026-11-01T09:00:00Z";
    crypto::SignNodeCard(*c, *identity);
    return c;
  }();
  return *card;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using schakel::audit::VerifyExport;
  using schakel::audit::VerifyOptions;
  using schakel::audit::VerifyProblem;
  const std::string_view jsonl = schakel::fuzz::AsText(data, size);
  // A short line limit so the limit path is reached; the KAT lines are < 1 KiB.
  const VerifyOptions options{.max_line_bytes = 2048, .max_total_bytes = 1 << 20, .anchor = {}};
  auto report = VerifyExport(jsonl, TestCard(), options);
  std::istringstream in{std::string(jsonl)};
  auto streamed = VerifyExport(in, TestCard(), options);
  FUZZ_CHECK(report.ok() == streamed.ok());
  if (!report.ok()) return 0;
  FUZZ_CHECK(report->ok == streamed->ok);
  FUZZ_CHECK(report->problem == streamed->problem);
  FUZZ_CHECK(report->bad_line == streamed->bad_line);
  FUZZ_CHECK(report->Describe() == streamed->Describe());
  FUZZ_CHECK(report->ok == (report->problem == VerifyProblem::kNone));
  FUZZ_CHECK(report->checkpoints <= report->entries + (report->starts_after_seq > 0 ? 1 : 0));
  FUZZ_CHECK(report->last_checkpoint_seq <= report->last_seq);
  return 0;
}
