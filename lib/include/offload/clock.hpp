#pragma once

#include <cstdint>
#include <ctime>

namespace offload {

// CLOCK_MONOTONIC in nanoseconds: comparable across processes on one host,
// which is what cross-process latency stamps need.
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t ms_to_ns(double ms) noexcept {
  return static_cast<std::uint64_t>(ms * 1e6 + 0.5);
}

}  // namespace offload
