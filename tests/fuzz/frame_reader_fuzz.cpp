// The peer frame reader under a memory budget (peer/src/frame_reader.h,
// frame_budget.h): arbitrary bytes as the stream a partner sends, cut into
// reads of arbitrary sizes, against a small node budget part of which
// another partner holds.
//
// Input: byte 0 the first buffer step (1..1021), bytes 1-2 the frame limit
// (little-endian), byte 3 the node budget ((b+1) * 128 bytes), byte 4 what
// the other partner holds (multiples of 64 bytes; low bit: this partner's
// share is half the budget, else all of it), byte 5 the read sizes; the rest
// is the stream. Frames are read one after another as the peer session
// does: DELIVER_MORE frames keep their bytes held until the DELIVER that
// ends the batch.
//
// Properties: every frame read whole is the stream's bytes; a frame over the
// limit takes and allocates nothing; a frame refused by the budget takes
// nothing; the buffer grows only as far as the bytes that arrived (at most
// the first step or twice what arrived); while it grows, old and new buffer
// together stay within what was taken from the budget (plus the string's
// 30-byte minimum); the budget is never passed, and all of it comes back.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "frame_budget.h"
#include "frame_reader.h"
#include "fuzz_support.h"

namespace {

using schakel::peer::FrameType;
using schakel::peer::kFrameHeaderBytes;
using schakel::peer::peer_internal::BudgetHold;
using schakel::peer::peer_internal::FrameBudget;
using schakel::peer::peer_internal::FrameIn;
using schakel::peer::peer_internal::PayloadReader;

// What a std::string of this capacity holds on the heap (15 bytes live in
// the object itself).
size_t HeapBytes(size_t capacity) { return capacity > 15 ? capacity : 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kConfigBytes = 6;
  if (size < kConfigBytes) return 0;
  const size_t first_chunk = 1 + size_t{data[0]} * 4;
  const size_t max_payload = size_t{data[1]} | (size_t{data[2]} << 8);
  const size_t budget_total = (size_t{data[3]} + 1) * 128;
  const size_t other_takes = size_t{data[4]} >> 1;
  const size_t per_peer = (data[4] & 1) != 0 ? budget_total / 2 : budget_total;
  uint32_t read_sizes = data[5];
  const std::string_view stream = schakel::fuzz::AsText(data + kConfigBytes, size - kConfigBytes);

  FrameBudget budget(budget_total, per_peer);
  BudgetHold other(&budget, "other");
  (void)other.Take(other_takes * 64);
  BudgetHold hold(&budget, "partner");
  PayloadReader reader(first_chunk);

  size_t pos = 0;
  while (stream.size() - pos >= kFrameHeaderBytes) {
    std::array<uint8_t, kFrameHeaderBytes> header{};
    std::memcpy(header.data(), stream.data() + pos, header.size());
    pos += header.size();
    FrameIn in;
    const size_t used_before = budget.used();
    const size_t held_before = hold.held();
    const PayloadReader::Begin begin = reader.Start(header, max_payload, in);
    const size_t announced = in.announced_size;
    FUZZ_CHECK(in.type == header[4]);
    if (begin == PayloadReader::Begin::kTooLarge) {
      FUZZ_CHECK(in.too_large && announced > max_payload);
      FUZZ_CHECK(HeapBytes(in.payload.capacity()) == 0);
      FUZZ_CHECK(budget.used() == used_before);
      break;  // the session answers FRAME_TOO_LARGE and closes
    }
    FUZZ_CHECK(!in.too_large);
    if (begin == PayloadReader::Begin::kComplete) {
      FUZZ_CHECK(announced == 0 && reader.complete());
    } else {
      FUZZ_CHECK(announced > 0);
      const size_t need = reader.need();
      FUZZ_CHECK(need == announced || (announced > first_chunk && need == announced + announced / 2));
      if (!reader.TakeBudget(&hold)) {
        // The session waits for budget until its frame deadline; nothing is
        // taken meanwhile.
        FUZZ_CHECK(budget.used() == used_before && hold.held() == held_before);
        FUZZ_CHECK(used_before + need > budget_total || held_before + need > per_peer);
        break;
      }
      FUZZ_CHECK(hold.held() == held_before + need);
      bool truncated = false;
      while (!reader.complete()) {
        if (pos == stream.size()) {
          truncated = true;  // the partner stopped sending mid-frame
          break;
        }
        const size_t old_heap = HeapBytes(in.payload.capacity());
        const char* old_data = in.payload.data();
        const std::span<char> room = reader.Room(in);
        FUZZ_CHECK(!room.empty());
        if (in.payload.data() != old_data) {
          const size_t new_heap = HeapBytes(in.payload.capacity());
          FUZZ_CHECK(old_heap + new_heap <= need + 30);
          FUZZ_CHECK(in.payload.size() <= std::max(first_chunk, 2 * reader.got() + 1));
          FUZZ_CHECK(in.payload.size() <= announced);
        }
        read_sizes = read_sizes * 1103515245u + 12345u;
        const size_t want = 1 + (read_sizes >> 16) % (size_t{data[5]} * 8 + 1);
        const size_t n = std::min({room.size(), want, stream.size() - pos});
        std::memcpy(room.data(), stream.data() + pos, n);
        pos += n;
        reader.Filled(n);
      }
      if (truncated) break;
      FUZZ_CHECK(in.payload.size() == announced);
      FUZZ_CHECK(std::string_view(in.payload) == stream.substr(pos - announced, announced));
      reader.Finish(&hold);
      FUZZ_CHECK(hold.held() == held_before + announced);
    }
    FUZZ_CHECK(budget.used() <= budget_total);
    // A DELIVER ends the batch: answered, its bytes go back.
    if (in.type != static_cast<uint8_t>(FrameType::kDeliverMore)) hold.Release();
  }
  FUZZ_CHECK(budget.peak() <= budget_total);
  hold.Release();
  other.Release();
  FUZZ_CHECK(budget.used() == 0);
  return 0;
}
