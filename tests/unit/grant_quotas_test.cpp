#include "offload/grant_quotas.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace {

constexpr std::uint32_t kSlack = 32;

std::vector<std::uint32_t> quotas(const std::vector<std::uint32_t>& jobs, std::uint32_t pool,
                                  std::uint32_t slack = kSlack) {
  std::vector<std::uint32_t> out(jobs.size(), 99);
  offload::fair_grant_quotas(jobs, slack, pool, out);
  return out;
}

std::uint64_t sum(const std::vector<std::uint32_t>& v) { return std::accumulate(v.begin(), v.end(), std::uint64_t{0}); }

using Q = std::vector<std::uint32_t>;

TEST(GrantQuotas, APoolThatCoversEveryoneGivesJobsPlusSlack) {
  EXPECT_EQ(quotas({64, 0, 1}, 8191), (Q{96, 0, 33}));
  // The greedy frontend of reliability.bats' fairness test and a small one.
  EXPECT_EQ(quotas({1024, 4}, 8191), (Q{1056, 36}));
}

TEST(GrantQuotas, FreeSlotsGetNothing) { EXPECT_EQ(quotas({0, 0, 0}, 64), (Q{0, 0, 0})); }

TEST(GrantQuotas, ALoneFrontendGetsThePoolItsJobsCanUse) {
  EXPECT_EQ(quotas({256}, 64), (Q{64}));
  EXPECT_EQ(quotas({64}, 64), (Q{64}));
  EXPECT_EQ(quotas({40}, 64), (Q{64}));  // its 40 jobs, then 24 of its slack
}

// The starvation of issue 13: A (--inflight 64) held the whole 64-object
// pool and each object it returned was granted straight back to it.
TEST(GrantQuotas, ASmallFrontendGetsWhatItNeedsWhenTheJobsExhaustThePool) {
  EXPECT_EQ(quotas({64, 1}, 64), (Q{63, 1}));
  EXPECT_EQ(quotas({1, 64}, 64), (Q{1, 63}));
}

TEST(GrantQuotas, SlackIsSharedOnlyFromWhatTheJobsLeave) {
  // Jobs 40 + 8 = 48 of 64: the 16 left are split as slack, 8 each.
  EXPECT_EQ(quotas({40, 8}, 64), (Q{48, 16}));
  // A slack smaller than the equal share: all of it, the rest to the other.
  EXPECT_EQ(quotas({40, 8}, 64, 4), (Q{44, 12}));
}

TEST(GrantQuotas, EqualDemandsSplitThePoolEquallyTheRemainderOneEach) {
  // 8 frontends at --inflight 1024 exhaust the default pool (8191).
  const Q q = quotas(Q(8, 1024), 8191);
  EXPECT_EQ(sum(q), 8191u);
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], i < 7 ? 1024u : 1023u) << "frontend " << i;
  EXPECT_EQ(quotas({100, 100, 100}, 64), (Q{22, 21, 21}));
}

TEST(GrantQuotas, MaxMinFair) {
  // 10 is under the equal share (30) and gets it all; the other two split
  // the 80 left.
  EXPECT_EQ(quotas({10, 500, 1000}, 90), (Q{10, 40, 40}));
  // 3, 7, 50 and 200 are under the equal share of what is left when their
  // turn comes; 1000 and 1024 split the 740 left.
  EXPECT_EQ(quotas({3, 7, 200, 1000, 1024, 0, 50}, 1000), (Q{3, 7, 200, 370, 370, 0, 50}));
}

TEST(GrantQuotas, EveryFrontendGetsAtLeastOneEvenWhenThePoolIsSmaller) {
  EXPECT_EQ(quotas({5, 5, 5}, 2), (Q{1, 1, 1}));
  EXPECT_EQ(quotas({5, 0, 5}, 0), (Q{1, 0, 1}));
}

TEST(GrantQuotas, NeverMoreThanThePoolWhenEachGetsOne) {
  for (std::uint32_t pool : {16u, 63u, 64u, 65u, 1000u, 8191u})
    for (std::uint32_t n = 1; n <= 16; ++n) {
      Q jobs(n);
      for (std::uint32_t i = 0; i < n; ++i) jobs[i] = 1 + (i * 97) % 1024;
      const Q q = quotas(jobs, pool);
      if (pool >= n) {
        EXPECT_LE(sum(q), pool) << "pool " << pool << ", " << n << " frontends";
      }
      for (std::uint32_t i = 0; i < n; ++i) {
        EXPECT_GE(q[i], 1u);
        EXPECT_LE(q[i], jobs[i] + kSlack);
      }
    }
}

}  // namespace
