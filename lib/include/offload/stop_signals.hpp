#pragma once
// SIGINT, SIGTERM and SIGHUP as requests to stop, read when the program is
// ready for them rather than acted on wherever the program happens to be.
// A frontend killed by Ctrl-C inside DPDK's start-up or clean-up can leave
// the instance's shared memory lock held for good; one killed mid-run loses
// its summary. So the signals are blocked from the start (and every thread
// created afterwards, DPDK's included, inherits the mask, so none of them
// takes the signal either): they stay pending until the event loop takes
// them, between jobs.

#include <signal.h>

namespace offload {

class StopSignals {
public:
  // Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, for the rest of
  // the process's life. Call it before any thread is created. A signal the
  // process inherited as ignored (nohup's SIGHUP, SIGINT in a background
  // job) stays ignored.
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The number of a pending stop signal, which is consumed, or 0. Never blocks.
  int take() noexcept;

  // Whether `signo` is one this object watches (not inherited as ignored).
  [[nodiscard]] bool watches(int signo) const noexcept;

  // The exit code of a program stopped by `signo`, as a shell reports a
  // process killed by it: 128 + signo (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
  static constexpr int exit_code(int signo) noexcept { return 128 + signo; }
  // "SIGINT", "SIGTERM", "SIGHUP", or "signal" for another.
  static const char* name(int signo) noexcept;

private:
  sigset_t set_{};
};

}  // namespace offload
