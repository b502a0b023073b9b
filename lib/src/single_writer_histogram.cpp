#include "offload/single_writer_histogram.hpp"

#include "offload/log_linear_buckets.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace offload {

std::uint64_t SingleWriterHistogram::bucket_value(std::size_t bucket) noexcept {
  return LogLinearBuckets<kSubBits>::bucket_value(bucket);
}

void SingleWriterHistogram::reset() noexcept {
  for (auto& bucket : buckets_) bucket.store(0, std::memory_order_relaxed);
  min_ns_.store(UINT64_MAX, std::memory_order_relaxed);
  max_ns_.store(0, std::memory_order_relaxed);
}

SingleWriterHistogram::Percentiles SingleWriterHistogram::percentiles() const noexcept {
  // One pass over the buckets: the counts it saw are the population, so the
  // percentiles agree with `count` however the writer moves on meanwhile.
  std::array<std::uint64_t, kBuckets> seen{};
  Percentiles out;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen[b] = buckets_[b].load(std::memory_order_acquire);
    out.count += seen[b];
  }
  if (out.count == 0) return out;
  out.min_ns = min_ns_.load(std::memory_order_relaxed);
  out.max_ns = max_ns_.load(std::memory_order_relaxed);
  const auto at = [&](double q) {
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(out.count))));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      cumulative += seen[b];
      if (cumulative >= rank) return std::clamp(bucket_value(b), out.min_ns, out.max_ns);
    }
    return out.max_ns;
  };
  out.p50_ns = at(0.50);
  out.p99_ns = at(0.99);
  return out;
}

}  // namespace offload
