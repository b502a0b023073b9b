#include "cpu_affinity.hpp"

#include <sched.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>

#include "offload/exit_codes.hpp"

namespace offload::microbench {

void require_cpu(int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
    throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(static_cast<std::size_t>(cpu), &allowed))
    throw EnvironmentError("CPU " + std::to_string(cpu) + " is not available to this process (" +
                           std::to_string(CPU_COUNT(&allowed)) +
                           " allowed): the cross-process measurements need two CPUs, see --cpus");
}

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::system_error(errno, std::generic_category(), "sched_setaffinity(CPU " + std::to_string(cpu) + ")");
}

}  // namespace offload::microbench
