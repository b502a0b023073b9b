#include "offload/grant_ledger.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

using offload::GrantLedger;
using Verdict = GrantLedger::Verdict;

constexpr std::uint16_t kA = 0;
constexpr std::uint16_t kB = 1;
constexpr std::uint32_t kGen = 7;

// Four request objects 64 bytes apart; payload buffers named 1000 + index.
GrantLedger make_ledger() { return GrantLedger({0x1000, 0x1040, 0x1080, 0x10C0}, 2); }

TEST(GrantLedger, IndexOfAcceptsExactlyThePoolObjects) {
  const GrantLedger ledger = make_ledger();
  EXPECT_EQ(ledger.index_of(0x1000), std::uint32_t(0));
  EXPECT_EQ(ledger.index_of(0x10C0), std::uint32_t(3));
  EXPECT_EQ(ledger.index_of(0x1001), GrantLedger::kNoIndex);  // inside an object, not its start
  EXPECT_EQ(ledger.index_of(0x0FC0), GrantLedger::kNoIndex);
  EXPECT_EQ(ledger.index_of(0x1100), GrantLedger::kNoIndex);
}

// Objects in two pieces (a mempool populated in chunks): the lookup falls
// back to a search and stays exact.
TEST(GrantLedger, IndexOfWithoutOneStride) {
  const GrantLedger ledger({0x1000, 0x1040, 0x9000, 0x9040}, 2);
  EXPECT_FALSE(ledger.one_stride());
  EXPECT_EQ(ledger.index_of(0x1040), std::uint32_t(1));
  EXPECT_EQ(ledger.index_of(0x9000), std::uint32_t(2));
  EXPECT_EQ(ledger.index_of(0x1080), GrantLedger::kNoIndex);  // where the stride would put a third
  EXPECT_EQ(ledger.index_of(0x9080), GrantLedger::kNoIndex);
}

// Real pools' strides are not powers of two (a request object with its
// mempool header and padding, e.g. 9 or 257 cache lines): the lookup is
// exact at every address around the pool, compared with a plain division.
TEST(GrantLedger, IndexOfIsExactForStridesWithAnOddPart) {
  for (const std::uint64_t stride : {std::uint64_t{576}, std::uint64_t{16448}, std::uint64_t{24}, std::uint64_t{7}}) {
    constexpr std::uint64_t kFirst = 0x100'0000'0000;  // where DPDK maps hugepages
    constexpr std::uint32_t kCount = 50;
    std::vector<std::uint64_t> objects;
    for (std::uint32_t i = 0; i < kCount; ++i) objects.push_back(kFirst + i * stride);
    const GrantLedger ledger(objects, 1);
    EXPECT_TRUE(ledger.one_stride());
    for (std::uint64_t a = kFirst - 2 * stride; a < kFirst + (kCount + 2) * stride; ++a) {
      const bool named = a >= kFirst && (a - kFirst) % stride == 0 && (a - kFirst) / stride < kCount;
      const auto expected = named ? static_cast<std::uint32_t>((a - kFirst) / stride) : GrantLedger::kNoIndex;
      ASSERT_EQ(ledger.index_of(a), expected) << "stride " << stride << ", address " << a;
    }
    // Offsets that are multiples of the stride's odd part or of its power
    // of two only, far beyond the pool.
    EXPECT_EQ(ledger.index_of(kFirst + (std::uint64_t{1} << 40) * stride), GrantLedger::kNoIndex);
    EXPECT_EQ(ledger.index_of(kFirst - stride * kCount), GrantLedger::kNoIndex);
  }
}

TEST(GrantLedger, IndexOfFarOutsideThePool) {
  const GrantLedger ledger = make_ledger();
  EXPECT_EQ(ledger.index_of(0), GrantLedger::kNoIndex);
  EXPECT_EQ(ledger.index_of(UINT64_MAX), GrantLedger::kNoIndex);
  EXPECT_EQ(ledger.index_of(0x1000 + 64ULL * 4), GrantLedger::kNoIndex);  // one past the last
  EXPECT_EQ(ledger.index_of(0x1000 - 64ULL * 1000), GrantLedger::kNoIndex);  // below: wraps, too large
}

TEST(GrantLedger, GrantCountsWhatEachOwnerHolds) {
  GrantLedger ledger = make_ledger();
  EXPECT_TRUE(ledger.grant(0, kA, kGen, 1000));
  EXPECT_TRUE(ledger.grant(1, kA, kGen, 1001));
  EXPECT_TRUE(ledger.grant(2, kB, 3, 1002));
  EXPECT_EQ(ledger.held(kA), 2u);
  EXPECT_EQ(ledger.held(kB), 1u);
  EXPECT_EQ(ledger.granted_total(), 3u);
  EXPECT_EQ(ledger.entry(1).payload, 1001u);
}

TEST(GrantLedger, GrantingAnObjectTwiceIsRefused) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  EXPECT_FALSE(ledger.grant(0, kB, kGen, 1000));
  EXPECT_EQ(ledger.entry(0).owner, kA);
  EXPECT_EQ(ledger.held(kB), 0u);
}

TEST(GrantLedger, OnlyItsOwnerOfThatGenerationMaySendIt) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  std::uint32_t ticket = 0;
  EXPECT_EQ(ledger.accept(0, kB, kGen, ticket), Verdict::NotGranted);
  EXPECT_EQ(ledger.accept(0, kA, kGen + 1, ticket), Verdict::NotGranted);  // an older or newer registration
  EXPECT_EQ(ledger.accept(1, kA, kGen, ticket), Verdict::NotGranted);      // still in the pool
  EXPECT_EQ(ledger.accept(0, kA, kGen, ticket), Verdict::Ok);
  EXPECT_TRUE(ledger.entry(0).on_device);
}

TEST(GrantLedger, AnObjectOnTheDeviceCannotBeSentOrReturnedAgain) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  std::uint32_t ticket = 0;
  ASSERT_EQ(ledger.accept(0, kA, kGen, ticket), Verdict::Ok);
  std::uint32_t again = 0;
  EXPECT_EQ(ledger.accept(0, kA, kGen, again), Verdict::OnDevice);
  std::uint64_t payload = 0;
  EXPECT_EQ(ledger.give_back(0, kA, kGen, payload), Verdict::OnDevice);
  EXPECT_EQ(ledger.held(kA), 1u);

  EXPECT_TRUE(ledger.finish(0, ticket));
  EXPECT_FALSE(ledger.entry(0).on_device);
  EXPECT_FALSE(ledger.finish(0, ticket));  // finished once only
  EXPECT_EQ(ledger.give_back(0, kA, kGen, payload), Verdict::Ok);
  EXPECT_EQ(payload, 1000u);
  EXPECT_EQ(ledger.held(kA), 0u);
  EXPECT_EQ(ledger.entry(0).owner, GrantLedger::kNoOwner);
}

TEST(GrantLedger, ReturningWhatIsNotYoursIsRefused) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  std::uint64_t payload = 0;
  EXPECT_EQ(ledger.give_back(0, kB, kGen, payload), Verdict::NotGranted);
  EXPECT_EQ(ledger.give_back(1, kA, kGen, payload), Verdict::NotGranted);
  ASSERT_EQ(ledger.give_back(0, kA, kGen, payload), Verdict::Ok);
  EXPECT_EQ(ledger.give_back(0, kA, kGen, payload), Verdict::NotGranted);  // no double put
  EXPECT_EQ(ledger.granted_total(), 0u);
}

TEST(GrantLedger, ReclaimTakesBackEverythingOfOneOwnerOnce) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  ASSERT_TRUE(ledger.grant(1, kB, kGen, 1001));
  ASSERT_TRUE(ledger.grant(2, kA, kGen, 1002));
  std::uint32_t ticket = 0;
  ASSERT_EQ(ledger.accept(2, kA, kGen, ticket), Verdict::Ok);  // on the device when its owner dies

  std::vector<std::uint64_t> put_back;
  const auto n = ledger.reclaim(kA, [&](std::uint32_t index, std::uint64_t payload) {
    EXPECT_EQ(payload, 1000u + index);
    put_back.push_back(index);
  });
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(put_back, (std::vector<std::uint64_t>{0, 2}));
  EXPECT_EQ(ledger.held(kA), 0u);
  EXPECT_EQ(ledger.held(kB), 1u);
  EXPECT_EQ(ledger.reclaim(kA, [](std::uint32_t, std::uint64_t) { FAIL() << "reclaimed twice"; }), 0u);
  // The device's completion of the reclaimed object is stale: not to be touched.
  EXPECT_FALSE(ledger.finish(2, ticket));
}

TEST(GrantLedger, AStaleCompletionStaysStaleAfterTheObjectIsGrantedAgain) {
  GrantLedger ledger = make_ledger();
  ASSERT_TRUE(ledger.grant(0, kA, kGen, 1000));
  std::uint32_t old_ticket = 0;
  ASSERT_EQ(ledger.accept(0, kA, kGen, old_ticket), Verdict::Ok);
  ledger.reclaim(kA, [](std::uint32_t, std::uint64_t) {});
  ASSERT_TRUE(ledger.grant(0, kB, kGen, 1000));
  std::uint32_t new_ticket = 0;
  ASSERT_EQ(ledger.accept(0, kB, kGen, new_ticket), Verdict::Ok);
  EXPECT_FALSE(ledger.finish(0, old_ticket));
  EXPECT_TRUE(ledger.entry(0).on_device);
  EXPECT_TRUE(ledger.finish(0, new_ticket));
}

}  // namespace
