#include "offload/device_model.hpp"

#include <fmt/format.h>

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
