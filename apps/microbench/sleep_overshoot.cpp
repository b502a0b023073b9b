#include "sleep_overshoot.hpp"

#include <cerrno>
#include <ctime>
#include <system_error>

#include "offload/clock.hpp"
#include "offload/run_summary.hpp"

namespace offload::microbench {

NapCost measure_nanosleep(double requested_us, std::uint64_t count) {
  const auto ns = static_cast<long>(requested_us * 1000.0);
  const timespec nap{ns / 1'000'000'000, ns % 1'000'000'000};
  const double cpu_before = process_cpu_seconds();
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < count; ++i)
    if (::nanosleep(&nap, nullptr) != 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "nanosleep");
  const auto n = static_cast<double>(count);
  return NapCost{static_cast<double>(monotonic_ns() - start) / n / 1000.0,
                 (process_cpu_seconds() - cpu_before) / n * 1e6};
}

}  // namespace offload::microbench
