#include "offload/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

using offload::proto::copy_payload;
using offload::proto::kPayloadBufferBytes;

// A granted payload buffer followed by the next mempool object, which a
// message longer than the buffer used to overwrite.
struct BufferAndNeighbour {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(2 * kPayloadBufferBytes, 0x5A);
  std::uint8_t* buffer() { return bytes.data(); }
  bool neighbour_untouched() const {
    return std::all_of(bytes.begin() + kPayloadBufferBytes, bytes.end(), [](std::uint8_t b) { return b == 0x5A; });
  }
};

TEST(CopyPayload, AFullBufferIsCopied) {
  BufferAndNeighbour mem;
  const std::vector<std::uint8_t> input(kPayloadBufferBytes, 0x41);
  ASSERT_TRUE(copy_payload(mem.buffer(), input));
  EXPECT_TRUE(std::equal(input.begin(), input.end(), mem.buffer()));
  EXPECT_TRUE(mem.neighbour_untouched());
}

TEST(CopyPayload, OneByteTooManyWritesNothing) {
  BufferAndNeighbour mem;
  const std::vector<std::uint8_t> input(kPayloadBufferBytes + 1, 0x41);
  EXPECT_FALSE(copy_payload(mem.buffer(), input));
  EXPECT_EQ(mem.bytes.front(), 0x5A);
  EXPECT_TRUE(mem.neighbour_untouched());
}

TEST(CopyPayload, EmptyInputOrNoBufferIsRefused) {
  BufferAndNeighbour mem;
  EXPECT_FALSE(copy_payload(mem.buffer(), {}));
  const std::vector<std::uint8_t> input(8, 0x41);
  EXPECT_FALSE(copy_payload(nullptr, input));
}

}  // namespace
