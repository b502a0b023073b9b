#pragma once
// The pthread "accelerator" of seed 000: a pool of device threads serving a
// timer queue. Submitting never blocks and never starts a thread; each
// request completes at arrival + its sampled latency (later if every engine
// is busy), so requests overlap like on a pipelined device.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "offload/cipher.hpp"
#include "offload/device_model.hpp"

namespace offload::threadsim {

enum class DeviceStatus : int { Pending = 0, Done = 1, Error = 2 };

struct DeviceRequest {
  std::uint32_t job_id = 0;
  Transform transform = Transform::Xor0xAA;
  std::span<const std::uint8_t> input;
  std::span<std::uint8_t> output;
  bool inject_error = false;              // --fail-job: the device reports an error
  std::atomic<DeviceStatus>* status = nullptr;  // written (release) before notify_fd
  int notify_fd = -1;                     // eventfd signalled last; the device keeps no reference after
};

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
