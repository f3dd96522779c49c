// schakel-kdf: one Argon2id derivation for schakeld, in a process of its own
// (crypto/kdf_helper.h, docs/performance.md "Argon2id in a process of its
// own"). Not for people: schakeld starts it with a socket as its stdin and
// stdout, writes one request and reads the answer; then it ends.
#include <unistd.h>

#include <cstdio>

#include "schakel/crypto/kdf_helper.h"

int main(int argc, char** /*argv*/) {
  if (argc > 1 || ::isatty(STDIN_FILENO) == 1) {
    std::fputs("schakel-kdf: started by schakeld for one key derivation; it takes no arguments\n", stderr);
    return 2;
  }
  return schakel::crypto::KdfHelperMain(STDIN_FILENO, STDOUT_FILENO);
}
