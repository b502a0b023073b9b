#include "offload/device_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using offload::DelayDist;
using offload::DelaySampler;
using offload::DelaySpec;
using offload::DeviceScheduler;

constexpr std::uint64_t kMs = 1'000'000;  // ns

// Pops everything due at `now` and returns it in the order it left.
template <class Item>
std::vector<Item> pop_all_due(DeviceScheduler<Item>& s, std::uint64_t now) {
  std::vector<Item> out;
  s.pop_due(now, [&](Item item) { out.push_back(std::move(item)); });
  return out;
}

TEST(DeviceScheduler, StartsEmpty) {
  DeviceScheduler<int> s(0);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(pop_all_due(s, UINT64_MAX).empty());
}

TEST(DeviceScheduler, CompletesInDueTimeOrder) {
  DeviceScheduler<int> s(0);
  EXPECT_EQ(s.submit(1, 0, 30), 30u);
  EXPECT_EQ(s.submit(2, 0, 10), 10u);
  EXPECT_EQ(s.submit(3, 5, 20), 25u);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.next_due_ns(), 10u);
  EXPECT_EQ(pop_all_due(s, 100), (std::vector<int>{2, 3, 1}));
  EXPECT_TRUE(s.empty());
}

TEST(DeviceScheduler, TiesLeaveInSubmissionOrder) {
  DeviceScheduler<int> s(0);
  // Enough items that a heap which ignores the sequence number would reorder them.
  std::vector<int> expected;
  for (int i = 0; i < 50; ++i) {
    s.submit(i, 0, 7);
    expected.push_back(i);
  }
  EXPECT_EQ(pop_all_due(s, 7), expected);
}

TEST(DeviceScheduler, TiesFromDifferentArrivalsLeaveInSubmissionOrder) {
  DeviceScheduler<int> s(0);
  s.submit(1, 10, 5);  // due 15
  s.submit(2, 0, 15);  // due 15
  s.submit(3, 14, 1);  // due 15
  s.submit(4, 0, 1);   // due 1
  EXPECT_EQ(pop_all_due(s, 15), (std::vector<int>{4, 1, 2, 3}));
}

TEST(DeviceScheduler, UnlimitedEnginesRunEverythingInParallel) {
  DeviceScheduler<int> s(0);
  for (int i = 0; i < 100; ++i) {
    const auto arrival = static_cast<std::uint64_t>(i);
    EXPECT_EQ(s.submit(i, arrival, 20 * kMs), arrival + 20 * kMs) << "request " << i;
  }
  // Nothing is due before the first arrival + service...
  EXPECT_TRUE(pop_all_due(s, 20 * kMs - 1).empty());
  // ...and everything by the last one: J jobs take D, not J*D.
  EXPECT_EQ(pop_all_due(s, 20 * kMs + 99).size(), 100u);
}

TEST(DeviceScheduler, LimitedEnginesQueueTheExtraRequest) {
  constexpr unsigned kEngines = 3;
  DeviceScheduler<int> s(kEngines);
  // E requests at t=0 start at once on the E engines.
  EXPECT_EQ(s.submit(0, 0, 10), 10u);
  EXPECT_EQ(s.submit(1, 0, 30), 30u);
  EXPECT_EQ(s.submit(2, 0, 20), 20u);
  // Request E+1 waits for the first engine to free up (t=10).
  EXPECT_EQ(s.submit(3, 0, 5), 15u);
  // The next one takes the engine that frees at 15 (the one request 3 holds).
  EXPECT_EQ(s.submit(4, 1, 5), 20u);
  // An arrival after every engine is free starts at its arrival.
  EXPECT_EQ(s.submit(5, 100, 5), 105u);
  EXPECT_EQ(pop_all_due(s, 1000), (std::vector<int>{0, 3, 2, 4, 1, 5}));
}

TEST(DeviceScheduler, OneEngineSerialises) {
  DeviceScheduler<int> s(1);
  EXPECT_EQ(s.submit(0, 0, 10), 10u);
  EXPECT_EQ(s.submit(1, 0, 10), 20u);
  EXPECT_EQ(s.submit(2, 0, 10), 30u);
  EXPECT_EQ(s.submit(3, 25, 10), 40u);
  EXPECT_EQ(s.submit(4, 50, 10), 60u);  // idle engine: starts on arrival
}

TEST(DeviceScheduler, PopDueRespectsNow) {
  DeviceScheduler<int> s(0);
  s.submit(1, 0, 10);
  s.submit(2, 0, 20);
  s.submit(3, 0, 30);
  EXPECT_TRUE(pop_all_due(s, 9).empty());
  EXPECT_EQ(pop_all_due(s, 10), (std::vector<int>{1}));  // due == now counts as due
  EXPECT_EQ(pop_all_due(s, 29), (std::vector<int>{2}));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.next_due_ns(), 30u);
}

TEST(DeviceScheduler, PopDueRespectsMax) {
  DeviceScheduler<int> s(0);
  for (int i = 0; i < 5; ++i) s.submit(i, 0, 1);
  std::vector<int> got;
  auto sink = [&](int v) { got.push_back(v); };
  EXPECT_EQ(s.pop_due(100, sink, 2), 2u);
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.pop_due(100, sink, 0), 0u);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.pop_due(100, sink, 10), 3u);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(s.empty());
}

TEST(DeviceScheduler, DrainHandsOverEverythingInOrder) {
  DeviceScheduler<int> s(2);
  s.submit(1, 0, 1000);
  s.submit(2, 0, 10);
  s.submit(3, 0, 10);  // waits for an engine: due 20
  std::vector<int> got;
  s.drain([&](int v) { got.push_back(v); });
  EXPECT_EQ(got, (std::vector<int>{2, 3, 1}));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
}

TEST(DeviceScheduler, HoldsMoveOnlyItems) {
  DeviceScheduler<std::unique_ptr<int>> s(0);
  s.submit(std::make_unique<int>(2), 0, 20);
  s.submit(std::make_unique<int>(1), 0, 10);
  std::vector<int> got;
  s.pop_due(100, [&](std::unique_ptr<int> p) {
    ASSERT_NE(p, nullptr);
    got.push_back(*p);
  });
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

// The scheduler keeps items whose due times never decrease in a queue and
// the rest in a heap: whatever the mix, they leave by due time, then in
// submission order, as one sorted list would (interleaved submits and pops,
// several engine counts, ties on purpose).
TEST(DeviceScheduler, TwoLanesLeaveAsOneSortedList) {
  std::mt19937_64 rng(7);
  for (const unsigned engines : {0U, 1U, 3U}) {
    DeviceScheduler<int> s(engines);
    struct Due {
      std::uint64_t due;
      int id;
    };
    std::vector<Due> waiting;
    std::vector<int> got;
    std::vector<int> expected;
    std::uint64_t now = 0;
    for (int id = 0; id < 3000; ++id) {
      now += rng() % 3;
      // Mostly one fixed delay (the in-order lane), sometimes a short or
      // long one (the heap), a tie now and then.
      const std::uint64_t service = rng() % 4 == 0 ? rng() % 40 : 20;
      waiting.push_back({s.submit(id, now, service), id});
      if (rng() % 8 == 0) {
        std::stable_sort(waiting.begin(), waiting.end(), [](const Due& a, const Due& b) { return a.due < b.due; });
        const auto due_now = std::partition_point(waiting.begin(), waiting.end(),
                                                  [now](const Due& d) { return d.due <= now; });
        for (auto it = waiting.begin(); it != due_now; ++it) expected.push_back(it->id);
        waiting.erase(waiting.begin(), due_now);
        const auto popped = pop_all_due(s, now);
        got.insert(got.end(), popped.begin(), popped.end());
        ASSERT_EQ(got, expected) << "engines " << engines << ", at " << now;
        ASSERT_EQ(s.size(), waiting.size());
        if (!waiting.empty()) {
          ASSERT_EQ(s.next_due_ns(), waiting.front().due);
        }
      }
    }
    std::stable_sort(waiting.begin(), waiting.end(), [](const Due& a, const Due& b) { return a.due < b.due; });
    for (const Due& d : waiting) expected.push_back(d.id);
    s.drain([&](int v) { got.push_back(v); });
    EXPECT_EQ(got, expected) << "engines " << engines;
    EXPECT_TRUE(s.empty());
  }
}

TEST(DelaySampler, FixedIsExact) {
  DelaySampler s(DelaySpec{DelayDist::Fixed, 20.0, 0.0, 0.0}, 1);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(s.sample_ns(), 20 * kMs);
  DelaySampler frac(DelaySpec{DelayDist::Fixed, 0.05, 0.0, 0.0}, 1);
  EXPECT_EQ(frac.sample_ns(), 50'000u);
  DelaySampler zero(DelaySpec{DelayDist::Fixed, 0.0, 0.0, 0.0}, 1);
  EXPECT_EQ(zero.sample_ns(), 0u);
}

TEST(DelaySampler, UniformStaysInRange) {
  DelaySampler s(DelaySpec{DelayDist::Uniform, 0.0, 2.0, 5.0}, 42);
  std::uint64_t lo = UINT64_MAX;
  std::uint64_t hi = 0;
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t v = s.sample_ns();
    ASSERT_GE(v, 2 * kMs);
    ASSERT_LE(v, 5 * kMs);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // It spreads over the range instead of sitting on one value.
  EXPECT_LT(lo, 2 * kMs + kMs / 10);
  EXPECT_GT(hi, 5 * kMs - kMs / 10);
}

TEST(DelaySampler, ExponentialHasTheRequestedMean) {
  constexpr double kMeanMs = 2.0;
  constexpr int kSamples = 200'000;
  DelaySampler s(DelaySpec{DelayDist::Exponential, kMeanMs, 0.0, 0.0}, 12345);
  double sum_ns = 0.0;
  std::uint64_t above_mean = 0;
  for (int i = 0; i < kSamples; ++i) {
    const std::uint64_t v = s.sample_ns();
    sum_ns += static_cast<double>(v);
    if (v > 2 * kMs) ++above_mean;
  }
  const double mean_ms = sum_ns / kSamples / 1e6;
  EXPECT_NEAR(mean_ms, kMeanMs, 0.05 * kMeanMs);
  // Exponential, not e.g. uniform around the mean: P(X > mean) = 1/e.
  EXPECT_NEAR(static_cast<double>(above_mean) / kSamples, 0.3679, 0.01);
}

TEST(DelaySampler, ExponentialWithZeroMeanIsZero) {
  DelaySampler s(DelaySpec{DelayDist::Exponential, 0.0, 0.0, 0.0}, 1);
  EXPECT_EQ(s.sample_ns(), 0u);
}

TEST(DelaySampler, SameSeedSameSequence) {
  for (const DelayDist dist : {DelayDist::Uniform, DelayDist::Exponential}) {
    const DelaySpec spec{dist, 3.0, 1.0, 9.0};
    DelaySampler a(spec, 7);
    DelaySampler b(spec, 7);
    DelaySampler c(spec, 8);
    bool differs_from_other_seed = false;
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t va = a.sample_ns();
      ASSERT_EQ(va, b.sample_ns()) << "sample " << i;
      if (va != c.sample_ns()) differs_from_other_seed = true;
    }
    EXPECT_TRUE(differs_from_other_seed);
  }
}

TEST(DelaySampler, KeepsItsSpec) {
  const DelaySpec spec{DelayDist::Uniform, 0.0, 1.5, 2.5};
  const DelaySampler s(spec, 1);
  EXPECT_EQ(s.spec().dist, DelayDist::Uniform);
  EXPECT_EQ(s.spec().min_ms, 1.5);
  EXPECT_EQ(s.spec().max_ms, 2.5);
}

TEST(DelaySpec, DescribeFixed) {
  EXPECT_EQ((DelaySpec{DelayDist::Fixed, 20.0, 0.0, 0.0}.describe()), "fixed 20 ms");
  EXPECT_EQ((DelaySpec{DelayDist::Fixed, 0.05, 0.0, 0.0}.describe()), "fixed 0.05 ms");
}

TEST(DelaySpec, DescribeUniform) {
  EXPECT_EQ((DelaySpec{DelayDist::Uniform, 0.0, 0.0, 900.0}.describe()), "uniform 0-900 ms");
  EXPECT_EQ((DelaySpec{DelayDist::Uniform, 0.0, 1.5, 2.0}.describe()), "uniform 1.5-2 ms");
}

TEST(DelaySpec, DescribeExponential) {
  const std::string text = DelaySpec{DelayDist::Exponential, 2.0, 0.0, 0.0}.describe();
  // device_model.hpp documents "exponential mean 2 ms"; the implementation
  // writes "exponential, mean 2 ms". Either names the distribution and mean.
  EXPECT_EQ(text.rfind("exponential", 0), 0u) << text;
  EXPECT_NE(text.find("mean 2 ms"), std::string::npos) << text;
}

// The frontend's default --timeout-ms was a fixed 60 s: with the backend's
// --delay-ms 60000 (its documented maximum) every job timed out.
TEST(DerivedTimeout, OneRequestAtTheMaximumDelayFits) {
  DelaySpec fixed;
  fixed.mean_ms = 60000.0;
  EXPECT_GT(offload::derived_timeout_ms(fixed.latency_bound_ms(), 0, 1, 1), 2 * 60'000u);
}

TEST(DerivedTimeout, GrowsWithTheWavesEnginesForce) {
  // 8 requests on one engine: 8 waves of 60 s, twice over, plus start-up.
  EXPECT_EQ(offload::derived_timeout_ms(60000.0, 1, 8, 8), 30'000u + 2 * 8 * 60'000u);
  // Unlimited engines: the 8 jobs in flight are one wave.
  EXPECT_EQ(offload::derived_timeout_ms(60000.0, 0, 8, 8), 30'000u + 2 * 60'000u);
  // 1000 requests through 10 jobs: 100 waves.
  EXPECT_EQ(offload::derived_timeout_ms(10.0, 0, 10, 1000), 30'000u + 2 * 100 * 10u);
}

TEST(DerivedTimeout, ADurationRunGetsItsDurationPlusTheWavesInFlight) {
  EXPECT_EQ(offload::derived_timeout_ms(100.0, 2, 8, 0, 5.0), 30'000u + 5'000u + 2 * 4 * 100u);
}

TEST(DerivedTimeout, LatencyBoundCoversEachDistribution) {
  DelaySpec uniform;
  uniform.dist = DelayDist::Uniform;
  uniform.min_ms = 1.0;
  uniform.max_ms = 900.0;
  EXPECT_EQ(uniform.latency_bound_ms(), 900.0);
  DelaySpec exp;
  exp.dist = DelayDist::Exponential;
  exp.mean_ms = 2.0;
  EXPECT_EQ(exp.latency_bound_ms(), 40.0);
}

TEST(DerivedTimeout, SaturatesInsteadOfOverflowing) {
  // 2^40 requests, one at a time, of 20 x 60 s each: far beyond any run.
  const std::uint64_t ms = offload::derived_timeout_ms(1'200'000.0, 1, 1, std::uint64_t{1} << 40);
  EXPECT_EQ(ms, 1'000'000'000'000u);
  EXPECT_LT(ms, UINT64_MAX / 1'000'000 / 2);  // a deadline in ns still fits
}

}  // namespace
