#pragma once
// The bucket arithmetic of the latency histograms (run_summary.hpp's, read
// at the end of a run; single_writer_histogram.hpp's, read live by DPDK
// telemetry): values below 2^SubBits get a bucket each; above, each power
// of two is split into 2^SubBits equal sub-buckets, so a value is known
// within 1 / 2^SubBits of itself whatever its size.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace offload {

template <unsigned SubBits>
struct LogLinearBuckets {
  static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns < (1ULL << SubBits)) return static_cast<std::size_t>(ns);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(ns));
    const unsigned shift = msb - SubBits;
    const std::uint64_t sub = (ns >> shift) & ((1ULL << SubBits) - 1);
    return static_cast<std::size_t>(((shift + 1) << SubBits) + sub);
  }

  // The middle of the bucket's range (the value itself below 2^SubBits).
  static constexpr std::uint64_t bucket_value(std::size_t bucket) noexcept {
    if (bucket < (1ULL << SubBits)) return bucket;
    const std::size_t shift = (bucket >> SubBits) - 1;
    const std::uint64_t sub = bucket & ((1ULL << SubBits) - 1);
    const std::uint64_t low = ((1ULL << SubBits) | sub) << shift;
    return low + ((1ULL << shift) >> 1);
  }
};

}  // namespace offload
