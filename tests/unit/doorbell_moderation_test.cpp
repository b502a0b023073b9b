#include "offload/doorbell_moderation.hpp"

#include <gtest/gtest.h>

namespace offload {
namespace {

constexpr auto kMore = [] { return true; };
constexpr auto kNoMore = [] { return false; };

TEST(DoorbellModeration, BatchIsThreeQuartersOfTheJobsWithinBounds) {
  EXPECT_EQ(doorbell_batch(0), 1u);
  EXPECT_EQ(doorbell_batch(1), 1u);
  EXPECT_EQ(doorbell_batch(2), 1u);
  EXPECT_EQ(doorbell_batch(4), 3u);
  EXPECT_EQ(doorbell_batch(64), 48u);
  EXPECT_EQ(doorbell_batch(256), kDoorbellBatchMax);
  EXPECT_EQ(doorbell_batch(UINT32_MAX), kDoorbellBatchMax);
}

TEST(DoorbellModeration, NothingWaitingNeverRings) {
  EXPECT_FALSE(doorbell_due(0, 1, kNoMore, 0, 1'000'000));
}

TEST(DoorbellModeration, AFullBatchRingsAtOnce) {
  EXPECT_TRUE(doorbell_due(48, 48, kMore, 1'000, 1'000));
  EXPECT_TRUE(doorbell_due(60, 48, kMore, 1'000, 1'000));
}

// Whether more are coming costs the backend a read of a line the frontend
// writes: not asked when the batch is full anyway.
TEST(DoorbellModeration, AFullBatchDoesNotAskWhetherMoreAreComing) {
  int asked = 0;
  const auto counted = [&] {
    ++asked;
    return true;
  };
  EXPECT_TRUE(doorbell_due(48, 48, counted, 1'000, 1'000));
  EXPECT_EQ(asked, 0);
  EXPECT_FALSE(doorbell_due(47, 48, counted, 1'000, 1'000));
  EXPECT_EQ(asked, 1);
}

TEST(DoorbellModeration, NothingMoreComingRingsAtOnce) {
  EXPECT_TRUE(doorbell_due(1, 48, kNoMore, 1'000, 1'000));
}

TEST(DoorbellModeration, APartialBatchWaitsForMoreUntilTheDelay) {
  const std::uint64_t first = 5'000'000;
  EXPECT_FALSE(doorbell_due(10, 48, kMore, first, first));
  EXPECT_FALSE(doorbell_due(10, 48, kMore, first, first + kDoorbellDelayNs - 1));
  EXPECT_TRUE(doorbell_due(10, 48, kMore, first, first + kDoorbellDelayNs));
}

// The serving loop reads its clock before it completes the turn's requests:
// the first completion's time can be after `now`. That once underflowed to
// "waited for ages", and every partial batch rang at once.
TEST(DoorbellModeration, AFirstCompletionAfterNowHasNotWaited) {
  EXPECT_FALSE(doorbell_due(10, 48, kMore, 2'000, 1'000));
}

}  // namespace
}  // namespace offload
