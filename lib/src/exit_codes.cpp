#include "offload/exit_codes.hpp"

#include <sys/resource.h>

#include <string>

namespace offload {

void ensure_fd_limit(std::size_t needed) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= needed) return;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < needed)
    throw EnvironmentError("this run needs " + std::to_string(needed) + " file descriptors but the hard limit is " +
                           std::to_string(lim.rlim_max) + "; raise it (e.g. 'ulimit -Hn " + std::to_string(needed) +
                           "' as root) or run fewer jobs in flight");
  lim.rlim_cur = needed;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
    throw EnvironmentError("cannot raise the open-file limit to " + std::to_string(needed));
}

}  // namespace offload
