#include "frame_reader.h"

#include <algorithm>

namespace schakel::peer::peer_internal {

PayloadReader::Begin PayloadReader::Start(const std::array<uint8_t, kFrameHeaderBytes>& header, size_t max_payload,
                                          FrameIn& out) {
  const FrameHeader h = DecodeFrameHeader(header);
  out.type = h.type;
  out.announced_size = h.payload_size;
  std::string().swap(out.payload);
  // The limit is checked on the header alone: nothing is allocated or taken
  // for a frame that is too large.
  out.too_large = h.payload_size > max_payload;
  total_ = out.too_large ? 0 : h.payload_size;
  got_ = 0;
  taken_ = false;
  need_ = total_ <= first_chunk_ ? total_ : total_ + total_ / 2;
  if (out.too_large) return Begin::kTooLarge;
  return total_ == 0 ? Begin::kComplete : Begin::kReading;
}

bool PayloadReader::TakeBudget(BudgetHold* hold) {
  if (taken_) return true;
  if (hold != nullptr && !hold->Take(need_)) return false;
  taken_ = true;
  return true;
}

// 64 KiB, then doubling up to half the frame, then the whole frame: the step
// to the whole frame starts from at most half of it. A frame that fits in the
// first chunk is one buffer of its size.
size_t PayloadReader::NextSize() const {
  if (total_ <= first_chunk_) return total_;
  const size_t half = total_ / 2;
  if (got_ >= half) return total_;
  return got_ == 0 ? std::min(first_chunk_, half) : std::min(2 * got_, half);
}

std::span<char> PayloadReader::Room(FrameIn& out) {
  if (got_ == out.payload.size()) {
    const size_t want = NextSize();
    // A fresh string reserves exactly `want` (one grown in place may double
    // its capacity); the old buffer goes as soon as its bytes are copied.
    std::string bigger;
    bigger.reserve(want);
    bigger.append(out.payload);
    bigger.resize(want);
    out.payload.swap(bigger);
  }
  return {out.payload.data() + got_, out.payload.size() - got_};
}

void PayloadReader::Finish(BudgetHold* hold) {
  if (hold != nullptr && taken_) hold->Give(need_ - total_);
  taken_ = false;
}

}  // namespace schakel::peer::peer_internal
