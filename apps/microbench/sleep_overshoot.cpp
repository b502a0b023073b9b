#include "sleep_overshoot.hpp"

#include <cerrno>
#include <ctime>
#include <system_error>

#include "offload/clock.hpp"

namespace offload::microbench {

double measure_nanosleep_us(double requested_us, std::uint64_t count) {
  const auto ns = static_cast<long>(requested_us * 1000.0);
  const timespec nap{ns / 1'000'000'000, ns % 1'000'000'000};
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < count; ++i)
    if (::nanosleep(&nap, nullptr) != 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "nanosleep");
  return static_cast<double>(monotonic_ns() - start) / static_cast<double>(count) / 1000.0;
}

}  // namespace offload::microbench
