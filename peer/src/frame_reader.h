// Private to peer/: the rules for reading one frame's payload, apart from the
// socket (issue 25 (3) and (7); docs/peer-protocol.md "Memory that follows
// the bytes"). The coroutines of peer_io.cpp move the bytes; this class says
// where they go, how far the buffer may grow and what is taken from the
// node's budget, so the tests and the `frame_reader` fuzz target check those
// rules without a connection.
//
// The buffer grows as the bytes arrive: `first_chunk` (64 KiB), then
// doubling, but never to more than half the frame unless it becomes the
// whole frame. So while it grows, the old buffer and the new one together
// hold at most 1.5 times the frame, which is what need() takes from the
// budget before any payload is read. A frame that fits in the first chunk is
// one allocation of its size.
//
// Not thread-safe: one reader per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "frame_budget.h"
#include "schakel/peer/peer_protocol.h"

namespace schakel::peer::peer_internal {

struct FrameIn {
  uint8_t type = 0;
  uint32_t announced_size = 0;  // from the header
  bool too_large = false;       // announced_size > limit; payload not read
  std::string payload;
};

// The first step of a payload buffer's growth.
inline constexpr size_t kFirstPayloadChunk = 64 * 1024;

class PayloadReader {
 public:
  enum class Begin {
    kTooLarge,  // the header announces more than the limit: nothing allocated, nothing taken
    kComplete,  // an empty payload: the frame is whole
    kReading,   // take the budget, then fill Room() until complete()
  };

  // REQUIRES: first_chunk > 0.
  explicit PayloadReader(size_t first_chunk = kFirstPayloadChunk) : first_chunk_(first_chunk) {}

  // Starts a frame from its header: sets out's type, announced size and
  // too_large, and empties its payload (releasing any old buffer).
  Begin Start(const std::array<uint8_t, kFrameHeaderBytes>& header, size_t max_payload, FrameIn& out);

  // What the frame takes from the budget before its payload is read: its
  // size, or 1.5 times it when the buffer has to grow.
  size_t need() const { return need_; }

  // Takes need() from `hold` (nullptr: no budget, nothing to take). false
  // when the budget cannot give it now; nothing is taken then.
  bool TakeBudget(BudgetHold* hold);

  // The room for the next bytes: the unfilled end of out.payload, grown
  // first when it is full. REQUIRES: Start gave kReading, the budget was
  // taken, !complete(), and `out` is the frame Start was given.
  std::span<char> Room(FrameIn& out);

  // `n` bytes were written to the start of the last Room(). REQUIRES: n is
  // at most its size.
  void Filled(size_t n) { got_ += n; }

  size_t got() const { return got_; }
  bool complete() const { return got_ == total_; }

  // Once complete: what growth needed beyond the frame goes back to `hold`;
  // the frame's own size stays held until its request is answered.
  void Finish(BudgetHold* hold);

 private:
  size_t NextSize() const;

  const size_t first_chunk_;
  size_t total_ = 0;
  size_t need_ = 0;
  size_t got_ = 0;
  bool taken_ = false;
};

}  // namespace schakel::peer::peer_internal
