// Argon2id in a process of its own (issue 19, "Nothing slow under a lock";
// docs/performance.md "Argon2id in a process of its own").
//
// A dossier link's code and a console password are stretched with Argon2id
// over 64 MiB. Run on a thread of the daemon, even at the lowest priority,
// that stalls the daemon's other threads for up to 20-30 ms once per
// derivation on a 2-core VM (measured: a hand-off between two threads of the
// same process waits 17-30 ms at worst while libsodium's Argon2id runs on a
// third, 5 ms while it runs in another process; a thread that only streams
// 64 MiB, or maps, touches and unmaps it, stalls no one). The daemon
// therefore runs each derivation in `schakel-kdf`, a small helper it starts
// for the one derivation (posix_spawn; no fork of the daemon, whose other
// threads may hold locks): the request goes in on its stdin, the answer comes
// back on its stdout, and it ends.
//
// The helper gets no environment, no file descriptor but the two pipes, and
// turns core dumps off before it reads. When no helper is set, or it cannot
// be started, or it does not answer in time or answers nonsense, the
// derivation runs on a thread at nice 19 as before (RunAtLowPriority): the
// user's request never fails for want of the helper; HelperFailures counts
// the answers that were not had (the daemon logs it).
//
// The request and the answer (version 1, integers little-endian):
//   request:  "SKDF" | version u8 = 1 | op u8 | ops_limit u64 | mem_limit u64
//             | out_len u16 | salt_len u16 | password_len u16 | stored_len u16
//             | salt | password | stored
//   answer:   status u8 | len u16 | bytes
// op 1 derives out_len bytes from password and salt (crypto_pwhash, raw), op 2
// hashes password into a crypto_pwhash_str string, op 3 verifies password
// against the string `stored`. Status 0: done (op 3: it matches); 1: failed
// (out of memory; op 3: no match); 2: the request was refused.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schakel/base/status.h"
#include "schakel/crypto/secure_buffer.h"

namespace schakel::crypto {

enum class KdfOp : uint8_t { kDerive = 1, kHash = 2, kVerify = 3 };

inline constexpr uint8_t kKdfRequestVersion = 1;
inline constexpr size_t kKdfHeaderBytes = 30;
inline constexpr size_t kKdfMaxOut = 64;
inline constexpr size_t kKdfSaltBytes = 16;  // crypto_pwhash_SALTBYTES
inline constexpr size_t kKdfMaxPassword = 1024;
inline constexpr size_t kKdfMaxStored = 127;  // crypto_pwhash_STRBYTES - 1
inline constexpr uint64_t kKdfMaxMemLimit = uint64_t{1} << 30;
inline constexpr size_t kKdfMaxRequest = kKdfHeaderBytes + kKdfSaltBytes + kKdfMaxPassword + kKdfMaxStored;

struct KdfRequest {
  KdfOp op = KdfOp::kDerive;
  uint64_t ops_limit = 0;
  uint64_t mem_limit = 0;
  uint16_t out_len = 0;       // kDerive only
  std::vector<uint8_t> salt;  // kDerive only: kKdfSaltBytes
  SecureBuffer password;
  std::string stored;  // kVerify only
};

enum class KdfStatus : uint8_t { kDone = 0, kFailed = 1, kRefused = 2 };

// The request's bytes, in guarded memory (they hold the password).
SecureBuffer EncodeKdfRequest(const KdfRequest& request);
// Checks every length and limit; kInvalidInput with what is wrong.
Result<KdfRequest> ParseKdfRequest(std::span<const uint8_t> bytes);

// What the helper does with a parsed request: the status and the bytes of
// its answer (op 1: the key; op 2: the string; op 3: nothing).
struct KdfOutcome {
  KdfStatus status = KdfStatus::kFailed;
  SecureBuffer bytes;
};
KdfOutcome RunKdf(const KdfRequest& request);

// The helper's whole life (schakel-kdf's main): reads one request from `in`
// (at most kKdfMaxRequest bytes), writes its answer to `out`. Returns the
// process's exit code.
int KdfHelperMain(int in, int out);

// Where the helper is ("" for none: derivations run on a thread). Set once
// at start-up by the daemon (FindKdfHelper), or by a test.
void SetKdfHelper(std::string path);
std::string KdfHelper();
// `schakel-kdf` beside this process's executable, or in
// ../libexec/schakel/ from it (the installed layout); "" when neither is an
// executable file.
std::string FindKdfHelper();
// How many derivations fell back to a thread because the helper was set
// but gave no answer (could not start, timed out, answered nonsense).
uint64_t KdfHelperFailures();

// Runs the request in the helper when one is set, else (or when it fails)
// on a thread at nice 19. What RunKdf returns.
KdfOutcome RunKdfApart(const KdfRequest& request);

}  // namespace schakel::crypto
