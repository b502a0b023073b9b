#include "offload/single_writer_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using offload::SingleWriterHistogram;

TEST(SingleWriterHistogram, EmptyReportsZeros) {
  const auto h = std::make_unique<SingleWriterHistogram>();
  const auto p = h->percentiles();
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(p.p50_ns, 0u);
  EXPECT_EQ(p.p99_ns, 0u);
  EXPECT_EQ(p.max_ns, 0u);
}

TEST(SingleWriterHistogram, SmallValuesAreExact) {
  for (std::uint64_t ns = 0; ns < 16; ++ns)
    EXPECT_EQ(SingleWriterHistogram::bucket_value(SingleWriterHistogram::bucket_of(ns)), ns);
}

TEST(SingleWriterHistogram, BucketsAreOrderedAndWithinOneSixtyFourth) {
  std::size_t last = 0;
  for (std::uint64_t ns = 1; ns < (1ULL << 40); ns = ns * 33 / 32 + 1) {
    const auto b = SingleWriterHistogram::bucket_of(ns);
    ASSERT_LT(b, SingleWriterHistogram::kBuckets);
    ASSERT_GE(b, last) << ns;
    last = b;
    const auto v = static_cast<double>(SingleWriterHistogram::bucket_value(b));
    EXPECT_LE(std::abs(v - static_cast<double>(ns)) / static_cast<double>(ns), 1.0 / 64) << ns;
  }
}

TEST(SingleWriterHistogram, HugeValuesLandInTheLastBucket) {
  EXPECT_EQ(SingleWriterHistogram::bucket_of(1ULL << 40), SingleWriterHistogram::kBuckets - 1);
  EXPECT_EQ(SingleWriterHistogram::bucket_of(UINT64_MAX), SingleWriterHistogram::kBuckets - 1);
}

TEST(SingleWriterHistogram, PercentilesOfAKnownPopulation) {
  const auto h = std::make_unique<SingleWriterHistogram>();
  // 1..1000 us: p50 is 500 us, p99 990 us, max 1000 us.
  for (std::uint64_t us = 1; us <= 1000; ++us) h->record(us * 1000);
  const auto p = h->percentiles();
  EXPECT_EQ(p.count, 1000u);
  EXPECT_NEAR(static_cast<double>(p.p50_ns), 500'000.0, 500'000.0 / 64);
  EXPECT_NEAR(static_cast<double>(p.p99_ns), 990'000.0, 990'000.0 / 64);
  EXPECT_EQ(p.min_ns, 1'000u);
  EXPECT_EQ(p.max_ns, 1'000'000u);
  EXPECT_LE(p.p99_ns, p.max_ns);
}

// A device with a fixed latency is reported at exactly that latency, on
// either side of its bucket's middle.
TEST(SingleWriterHistogram, AConstantIsReportedExactly) {
  for (const std::uint64_t ns : {2'000'000ULL, 2'040'000ULL, 20'000'000ULL, 50'000ULL}) {
    const auto h = std::make_unique<SingleWriterHistogram>();
    for (int i = 0; i < 100; ++i) h->record(ns);
    const auto p = h->percentiles();
    EXPECT_EQ(p.p50_ns, ns);
    EXPECT_EQ(p.p99_ns, ns);
    EXPECT_EQ(p.min_ns, ns);
    EXPECT_EQ(p.max_ns, ns);
  }
}

TEST(SingleWriterHistogram, ResetForgetsEverything) {
  const auto h = std::make_unique<SingleWriterHistogram>();
  h->record(123'456);
  h->reset();
  EXPECT_EQ(h->percentiles().count, 0u);
  EXPECT_EQ(h->percentiles().min_ns, 0u);
  EXPECT_EQ(h->percentiles().max_ns, 0u);
  h->record(7);
  EXPECT_EQ(h->percentiles().p50_ns, 7u);
}

// The reader never sees a percentile outside the min and max it reports, a count that
// goes down, or a value the writer never recorded.
TEST(SingleWriterHistogram, ReadersRunningBesideTheWriterSeeConsistentSnapshots) {
  const auto h = std::make_unique<SingleWriterHistogram>();
  constexpr std::uint64_t kValues = 400'000;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      std::uint64_t last_count = 0;
      while (!done.load(std::memory_order_acquire)) {
        const auto p = h->percentiles();
        if (p.count < last_count || p.p50_ns > p.p99_ns || p.p99_ns > p.max_ns || p.p50_ns < p.min_ns ||
            (p.count != 0 && (p.p50_ns < 1000 || p.max_ns > 1'000'000)))
          bad.fetch_add(1);
        last_count = p.count;
      }
    });
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> dist(1000, 1'000'000);
  for (std::uint64_t i = 0; i < kValues; ++i) h->record(dist(rng));
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(h->percentiles().count, kValues);
}

}  // namespace
