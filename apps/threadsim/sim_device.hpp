#pragma once
// The pthread "accelerator" of seed 000: a pool of device threads serving a
// timer queue. Submitting never blocks and never starts a thread; each
// request completes at arrival + its sampled latency (later if every engine
// is busy), so requests overlap like on a pipelined device. What a request
// asks for, and how the device does it: device_request.hpp.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "device_request.hpp"
#include "offload/device_model.hpp"

namespace offload::threadsim {

class SimDevice {
public:
  SimDevice(unsigned threads, unsigned engines, const DelaySpec& delay, std::uint64_t seed);
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;
  ~SimDevice();

  void submit(const DeviceRequest& request);

  // Stops the device threads and joins them; requests not yet completed are
  // dropped and never signalled. After stop() no request is touched again.
  // Returns how many were dropped.
  std::size_t stop();

private:
  void serve(unsigned thread_index);
  static void complete(const DeviceRequest& request);

  std::mutex mutex_;
  std::condition_variable wakeup_;
  DeviceScheduler<DeviceRequest> scheduler_;
  DelaySampler sampler_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace offload::threadsim
