#pragma once
// The shortest time the device has recently taken for a request (its
// latency, without queueing): what an event loop can expect of it, so
// that it sleeps only until just before a completion is due instead of
// sleeping through it (see JobDriver::set_expected_completion).

#include <algorithm>
#include <cstdint>
#include <limits>

namespace offload {

// A windowed minimum: the smaller of the last full window's minimum and the
// current window's so far. A device that becomes faster lowers it at once; a
// slower one raises it within two windows. 0 (no expectation) until a first
// window is full.
class CompletionFloor {
public:
  explicit CompletionFloor(std::uint32_t window = 256) : window_(std::max<std::uint32_t>(window, 1)) {}

  void record(std::uint64_t device_ns) noexcept {
    current_min_ = std::min(current_min_, device_ns);
    if (++samples_ < window_) return;
    last_min_ = current_min_;
    current_min_ = kNone;
    samples_ = 0;
  }

  [[nodiscard]] std::uint64_t floor_ns() const noexcept {
    return last_min_ == kNone ? 0 : std::min(last_min_, current_min_);
  }

private:
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  std::uint32_t window_;
  std::uint32_t samples_ = 0;
  std::uint64_t current_min_ = kNone;
  std::uint64_t last_min_ = kNone;
};

}  // namespace offload
