// PayloadReader (peer/src/frame_reader.h): how a frame's buffer grows with
// its bytes and what it takes from the node's budget (issue 25 (3)).
#include "frame_reader.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>

#include <gtest/gtest.h>

namespace schakel::peer::peer_internal {
namespace {

std::array<uint8_t, kFrameHeaderBytes> Header(FrameType type, uint32_t size) { return EncodeFrameHeader(type, size); }

// Reads a `size`-byte frame `step` bytes at a time; returns the largest
// old + new buffer seen during a growth step.
size_t ReadInSteps(PayloadReader& reader, FrameIn& in, size_t size, size_t step) {
  size_t peak = 0;
  char next = 0;
  while (!reader.complete()) {
    const size_t old_capacity = in.payload.capacity();
    const char* old_data = in.payload.data();
    std::span<char> room = reader.Room(in);
    if (in.payload.data() != old_data) peak = std::max(peak, old_capacity + in.payload.capacity());
    const size_t n = std::min(room.size(), step);
    for (size_t i = 0; i < n; ++i) room[i] = next++;
    reader.Filled(n);
  }
  EXPECT_EQ(in.payload.size(), size);
  for (size_t i = 0; i < size; ++i) {
    if (in.payload[i] != static_cast<char>(i)) {
      ADD_FAILURE() << "byte " << i << " differs";
      break;
    }
  }
  return peak;
}

TEST(PayloadReader, AFrameTooLargeTakesAndAllocatesNothing) {
  FrameBudget budget(1 << 20, 1 << 20);
  BudgetHold hold(&budget, "partner");
  PayloadReader reader;
  FrameIn in;
  in.payload.assign(1000, 'x');
  EXPECT_EQ(reader.Start(Header(FrameType::kDeliver, 16 << 20), 1 << 20, in), PayloadReader::Begin::kTooLarge);
  EXPECT_TRUE(in.too_large);
  EXPECT_EQ(in.announced_size, 16u << 20);
  EXPECT_EQ(in.payload.capacity(), std::string().capacity());
  EXPECT_EQ(budget.used(), 0u);
}

TEST(PayloadReader, AnEmptyFrameIsCompleteAtOnce) {
  PayloadReader reader;
  FrameIn in;
  EXPECT_EQ(reader.Start(Header(FrameType::kDeliver, 0), 100, in), PayloadReader::Begin::kComplete);
  EXPECT_TRUE(reader.complete());
}

TEST(PayloadReader, ASmallFrameIsOneBufferOfItsSize) {
  FrameBudget budget(1 << 20, 1 << 20);
  BudgetHold hold(&budget, "partner");
  PayloadReader reader;
  FrameIn in;
  ASSERT_EQ(reader.Start(Header(FrameType::kDeliver, 3000), 1 << 20, in), PayloadReader::Begin::kReading);
  EXPECT_EQ(reader.need(), 3000u);
  ASSERT_TRUE(reader.TakeBudget(&hold));
  ReadInSteps(reader, in, 3000, 700);
  EXPECT_EQ(in.payload.capacity(), 3000u);
  reader.Finish(&hold);
  EXPECT_EQ(budget.used(), 3000u);
  hold.Release();
  EXPECT_EQ(budget.used(), 0u);
}

// The case the first version got wrong: 64 KiB of a 100 KiB frame, then the
// whole frame, is 1.64 times the frame while only 1.5 times was taken.
TEST(PayloadReader, GrowingNeverHoldsMoreThanWasTaken) {
  for (size_t size : {size_t{65537}, size_t{100 * 1024}, size_t{131071}, size_t{131072}, size_t{131073},
                      size_t{1000001}, size_t{16 * 1024 * 1024 + 64 * 1024}}) {
    FrameBudget budget(64 << 20, 64 << 20);
    BudgetHold hold(&budget, "partner");
    PayloadReader reader;
    FrameIn in;
    ASSERT_EQ(reader.Start(Header(FrameType::kDeliver, static_cast<uint32_t>(size)), 32 << 20, in),
              PayloadReader::Begin::kReading);
    EXPECT_EQ(reader.need(), size + size / 2) << size;
    ASSERT_TRUE(reader.TakeBudget(&hold));
    const size_t peak = ReadInSteps(reader, in, size, 4096);
    EXPECT_LE(peak, reader.need()) << size;
    EXPECT_EQ(in.payload.capacity(), size) << size;
    reader.Finish(&hold);
    EXPECT_EQ(hold.held(), size);
  }
}

TEST(PayloadReader, TheBufferStaysNearTheBytesThatArrived) {
  PayloadReader reader(1024);
  FrameIn in;
  ASSERT_EQ(reader.Start(Header(FrameType::kDeliver, 1 << 20), 1 << 20, in), PayloadReader::Begin::kReading);
  ASSERT_TRUE(reader.TakeBudget(nullptr));
  for (int i = 0; i < 100 && reader.got() < 4000; ++i) {
    std::span<char> room = reader.Room(in);
    EXPECT_LE(in.payload.capacity(), std::max<size_t>(1024, 2 * reader.got() + 1));
    reader.Filled(std::min<size_t>({room.size(), 100, 4000 - reader.got()}));
  }
  EXPECT_EQ(reader.got(), 4000u);
  EXPECT_LE(in.payload.capacity(), 8000u);
}

TEST(PayloadReader, NoBudgetMeansNothingTaken) {
  FrameBudget budget(200 * 1024, 100 * 1024);
  BudgetHold hold(&budget, "partner");
  PayloadReader reader;
  FrameIn in;
  // 1.5 times 80 KiB is more than the partner's 100 KiB.
  ASSERT_EQ(reader.Start(Header(FrameType::kDeliver, 80 * 1024), 1 << 20, in), PayloadReader::Begin::kReading);
  EXPECT_FALSE(reader.TakeBudget(&hold));
  EXPECT_EQ(hold.held(), 0u);
  EXPECT_EQ(budget.used(), 0u);
  // Within the share it is taken whole.
  ASSERT_EQ(reader.Start(Header(FrameType::kDeliver, 60 * 1024), 1 << 20, in), PayloadReader::Begin::kReading);
  EXPECT_TRUE(reader.TakeBudget(&hold));
  EXPECT_EQ(budget.used(), 60u * 1024);
}

}  // namespace
}  // namespace schakel::peer::peer_internal
