#pragma once
// A bound on a busy-poll loop that costs almost nothing per turn: the clock
// is read once every kCheckEvery turns, so a measurement never hangs on a
// peer that died or stopped answering.

#include <cstdint>

#include "offload/clock.hpp"

namespace offload::microbench {

class SpinDeadline {
public:
  explicit SpinDeadline(std::uint64_t limit_ns) noexcept : limit_ns_(limit_ns) {}

  // Starts a new wait (call when progress was made).
  void reset() noexcept {
    turns_ = 0;
    start_ns_ = 0;
  }

  // One turn of a poll loop that found nothing; true once limit_ns has passed
  // since the first empty turn after reset().
  [[nodiscard]] bool expired() noexcept {
    if ((++turns_ & (kCheckEvery - 1)) != 0) return false;
    const std::uint64_t now = monotonic_ns();
    if (start_ns_ == 0) start_ns_ = now;
    return now - start_ns_ >= limit_ns_;
  }

private:
  static constexpr std::uint64_t kCheckEvery = 4096;
  std::uint64_t limit_ns_;
  std::uint64_t start_ns_ = 0;
  std::uint64_t turns_ = 0;
};

}  // namespace offload::microbench
