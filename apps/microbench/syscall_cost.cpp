#include "syscall_cost.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

#include "offload/clock.hpp"

namespace offload::microbench {

double measure_syscall_ns(std::uint64_t iterations) {
  long parent = 0;
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < iterations; ++i) parent |= syscall(SYS_getppid);
  const std::uint64_t elapsed = monotonic_ns() - start;
  if (parent <= 0) throw std::runtime_error("syscall(SYS_getppid) failed");
  return static_cast<double>(elapsed) / static_cast<double>(iterations);
}

}  // namespace offload::microbench
