#include "offload/completion_floor.hpp"

#include <gtest/gtest.h>

namespace {

using offload::CompletionFloor;

TEST(CompletionFloor, NoExpectationUntilAWindowIsFull) {
  CompletionFloor floor(4);
  for (int i = 0; i < 3; ++i) {
    floor.record(2'000'000);
    EXPECT_EQ(floor.floor_ns(), 0U) << "after " << i + 1 << " of 4 samples";
  }
  floor.record(2'100'000);
  EXPECT_EQ(floor.floor_ns(), 2'000'000U);
}

TEST(CompletionFloor, AFasterCompletionLowersItAtOnce) {
  CompletionFloor floor(4);
  for (int i = 0; i < 4; ++i) floor.record(2'000'000);
  floor.record(500'000);
  EXPECT_EQ(floor.floor_ns(), 500'000U);
}

TEST(CompletionFloor, ASlowerDeviceRaisesItWithinTwoWindows) {
  CompletionFloor floor(4);
  for (int i = 0; i < 4; ++i) floor.record(100'000);
  for (int i = 0; i < 4; ++i) floor.record(3'000'000);
  EXPECT_EQ(floor.floor_ns(), 3'000'000U) << "the window of fast samples is forgotten";
  for (int i = 0; i < 4; ++i) floor.record(5'000'000);
  EXPECT_EQ(floor.floor_ns(), 5'000'000U);
}

}  // namespace
