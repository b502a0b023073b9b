#include "offload/device_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "offload/clock.hpp"

namespace offload {

std::string DelaySpec::describe() const {
  switch (dist) {
    case DelayDist::Fixed: return fmt::format("fixed {} ms", mean_ms);
    case DelayDist::Uniform: return fmt::format("uniform {}-{} ms", min_ms, max_ms);
    case DelayDist::Exponential: return fmt::format("exponential, mean {} ms", mean_ms);
  }
  return "unknown";
}

double DelaySpec::latency_bound_ms() const {
  switch (dist) {
    case DelayDist::Fixed: return mean_ms;
    case DelayDist::Uniform: return max_ms;
    case DelayDist::Exponential: return mean_ms * 20.0;
  }
  return mean_ms;
}

std::uint64_t derived_timeout_ms(double latency_bound_ms, std::uint32_t engines, std::uint32_t inflight,
                                 std::uint64_t requests, double duration_s) {
  constexpr double kStartupMs = 30'000.0;
  constexpr double kMaxMs = 1e12;  // keeps a deadline in ns far from overflowing
  const double parallel = std::max(1.0, engines == 0 ? double(inflight) : std::min<double>(inflight, engines));
  const double in_waves = requests != 0 ? static_cast<double>(requests) : static_cast<double>(inflight);
  const double waves = std::ceil(in_waves / parallel);
  const double ms = kStartupMs + duration_s * 1000.0 + 2.0 * waves * std::max(latency_bound_ms, 0.0);
  return static_cast<std::uint64_t>(std::min(ms, kMaxMs));
}

DelaySampler::DelaySampler(DelaySpec spec, std::uint64_t seed) : spec_(spec), rng_(seed) {}

std::uint64_t DelaySampler::sample_ns() {
  switch (spec_.dist) {
    case DelayDist::Fixed: return ms_to_ns(spec_.mean_ms);
    case DelayDist::Uniform: {
      std::uniform_real_distribution<double> d(spec_.min_ms, spec_.max_ms);
      return ms_to_ns(d(rng_));
    }
    case DelayDist::Exponential: {
      if (spec_.mean_ms <= 0.0) return 0;
      std::exponential_distribution<double> d(1.0 / spec_.mean_ms);
      return ms_to_ns(d(rng_));
    }
  }
  return 0;
}

}  // namespace offload
