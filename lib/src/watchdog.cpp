#include "offload/watchdog.hpp"

#include <cstdio>
#include <cstdlib>

namespace offload {

Watchdog::Watchdog(std::chrono::milliseconds bound, int exit_code, std::function<void()> explain)
    : exit_code_(exit_code), explain_(std::move(explain)), thread_([this, bound] { watch(bound); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    disarmed_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Watchdog::watch(std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  if (cv_.wait_for(lock, bound, [this] { return disarmed_; })) return;
  if (explain_) explain_();
  std::fflush(nullptr);
  // The stuck step may hold locks a normal exit would need (atexit
  // handlers, static destructors): leave at once.
  std::_Exit(exit_code_);
}

}  // namespace offload
