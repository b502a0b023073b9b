#pragma once
// SIGINT, SIGTERM and SIGHUP as a request to stop, taken when the program is
// ready for it rather than whenever they arrive.
//
// Constructed first thing in a program (before any thread exists), it blocks
// the three signals in that thread, so every thread created afterwards (DPDK's
// among them) inherits the mask. They then stay pending, even while DPDK's
// start-up or clean-up holds the instance's shared locks, until the program
// reads them from the signalfd: a signal can no longer end the process inside
// rte_eal_init holding a lock that nothing could release. Destruction
// consumes what is still pending (the program is ending anyway) and restores
// the previous mask.

#include <signal.h>

#include "offload/unique_fd.hpp"

namespace offload {

class StopSignals {
public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  // The first stop signal received so far (consumed), else 0. Never blocks.
  int take();
  // Readable when a stop signal is pending (for poll/epoll).
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

  // The shell's exit status for a process ended by `signo`: 128 + signo.
  static int exit_status(int signo) noexcept { return 128 + signo; }

private:
  sigset_t previous_{};
  UniqueFd fd_;
  int received_ = 0;
};

}  // namespace offload
