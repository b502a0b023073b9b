#pragma once
// A latency histogram that one thread records into while any other thread
// reads percentiles from it, with no lock: the backend's serving loop records
// each request's device time, DPDK's telemetry threads read p50/p99 whenever
// a client asks. Every bucket is an atomic written only by the recording
// thread (a relaxed load and store, no locked instruction on the serving
// path); a reader sums what it sees, so its percentiles are those of the
// requests counted in that one pass, never of a count read apart from them.
//
// Log-linear like LatencyHistogram (run_summary.hpp): 32 sub-buckets per
// power of two (relative error under 1/64), about 9 KB, for each of the
// backend's frontend slots. A percentile is its bucket's middle, kept within
// the smallest and largest values recorded, so that a device with a fixed
// latency is reported at exactly that latency.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "offload/log_linear_buckets.hpp"

namespace offload {

class SingleWriterHistogram {
public:
  // Values from 2^kTopBit ns (about 18 minutes) up are counted in the last bucket.
  static constexpr unsigned kSubBits = 5;
  static constexpr unsigned kTopBit = 40;
  static constexpr std::size_t kBuckets = std::size_t{kTopBit - kSubBits + 1} << kSubBits;

  // The recording thread only. Inline: the backend records every request
  // (out of line, the calls were 2 % of its core at 1 KiB).
  void record(std::uint64_t ns) noexcept {
    // One writer: a plain load and store, not a locked read-modify-write.
    if (ns < min_ns_.load(std::memory_order_relaxed)) min_ns_.store(ns, std::memory_order_relaxed);
    if (ns > max_ns_.load(std::memory_order_relaxed)) max_ns_.store(ns, std::memory_order_relaxed);
    auto& bucket = buckets_[bucket_of(ns)];
    // Release: a reader that counts this value also sees the min and max it moved.
    bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Zeroes every bucket. Only while no thread records: the backend resets a
  // frontend slot's histogram when the slot is registered again, and the
  // serving loop records only into registered slots.
  void reset() noexcept;

  struct Percentiles {
    std::uint64_t count = 0;  // values counted in the pass that computed the rest
    std::uint64_t p50_ns = 0;
    std::uint64_t p99_ns = 0;
    std::uint64_t min_ns = 0;
    std::uint64_t max_ns = 0;
  };
  // Any thread, at any time. All 0 when nothing was recorded.
  [[nodiscard]] Percentiles percentiles() const noexcept;

  // The bucket of a value and the value a bucket reports (the middle of its
  // range, the exact value below 2^kSubBits): exposed for the tests.
  static std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns >= (1ULL << kTopBit)) return kBuckets - 1;
    return LogLinearBuckets<kSubBits>::bucket_of(ns);
  }
  static std::uint64_t bucket_value(std::size_t bucket) noexcept;

private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> min_ns_{UINT64_MAX};
  std::atomic<std::uint64_t> max_ns_{0};
};

}  // namespace offload
