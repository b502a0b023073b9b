#pragma once
// Exit codes shared by all three programs, so scripts can tell failures apart.

namespace offload {

enum ExitCode : int {
  kExitOk = 0,
  kExitJobsFailed = 1,   // the run completed but some job failed or did not verify
  kExitUsage = 2,        // bad flags (CLI11 parse errors land here too)
  kExitEnvironment = 3,  // missing backend, hugepages, permissions, resources
  kExitTimeout = 4,      // --timeout-ms expired with jobs still pending
  kExitPeerLost = 5,     // the other process died or stopped answering mid-run
  kExitInternal = 70,    // an unexpected error (a bug), or a stop that overran its watchdog: EX_SOFTWARE
};

}  // namespace offload

#include <cstddef>
#include <stdexcept>

namespace offload {

// Something outside the program is missing or refused (no backend, no
// hugepages, too few file descriptors): main() maps it to kExitEnvironment.
class EnvironmentError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A request the user can fix by changing the command line, found only after
// parsing (e.g. raw EAL arguments after "--" that DPDK rejects): run_guarded
// maps it to kExitUsage, like a flag CLI11 refused.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Raises RLIMIT_NOFILE's soft limit to at least `needed` descriptors, up to
// the hard limit; throws EnvironmentError (saying what to run) if the hard
// limit is lower.
void ensure_fd_limit(std::size_t needed);

}  // namespace offload
