#pragma once

#include <sys/prctl.h>

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

// The calling thread's timer slack to 1 ns (Linux's default is 50 us): a
// poller's nap or a sleep until a deadline then ends as close to it as the
// kernel can, instead of up to 50 us late.
inline void use_precise_timers() noexcept { ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

inline std::uint64_t ms_to_ns(double ms) noexcept {
  return static_cast<std::uint64_t>(ms * 1e6 + 0.5);
}

}  // namespace offload
