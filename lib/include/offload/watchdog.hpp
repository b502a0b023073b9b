#pragma once
// A bound on a step that might never return because of something another
// process left behind (e.g. a DPDK lock held by a process that was killed):
// if the watchdog is still armed when `bound` has passed, it calls `explain`
// (say why and what to do; tidy up what must not be left) on its own thread
// and ends the process with `exit_code`. Destroying it disarms it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace offload {

class Watchdog {
public:
  Watchdog(std::chrono::milliseconds bound, int exit_code, std::function<void()> explain);
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog();

private:
  void watch(std::chrono::milliseconds bound);

  int exit_code_;
  std::function<void()> explain_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace offload
