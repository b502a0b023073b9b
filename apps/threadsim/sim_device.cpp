#include "sim_device.hpp"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "offload/clock.hpp"
#include "offload/unique_fd.hpp"

namespace offload::threadsim {

SimDevice::SimDevice(unsigned threads, unsigned engines, const DelaySpec& delay, std::uint64_t seed)
    : scheduler_(engines), sampler_(delay, seed) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] { serve(i); });
    const std::string name = "device-" + std::to_string(i);
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
}

SimDevice::~SimDevice() { stop(); }

void SimDevice::submit(const DeviceRequest& request) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    scheduler_.submit(request, monotonic_ns(), sampler_.sample_ns());
  }
  // One thread is enough: it re-reads the earliest deadline, which may now
  // be this request's.
  wakeup_.notify_one();
}

std::size_t SimDevice::stop() {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return 0;
    stopping_ = true;
    scheduler_.drain([&](const DeviceRequest&) { ++dropped; });
  }
  wakeup_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  return dropped;
}

void SimDevice::serve(unsigned thread_index) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (scheduler_.empty()) {
      wakeup_.wait(lock);
      continue;
    }
    const std::uint64_t now = monotonic_ns();
    const std::uint64_t due = scheduler_.next_due_ns();
    if (due > now) {
      wakeup_.wait_for(lock, std::chrono::nanoseconds(due - now));
      continue;
    }
    DeviceRequest request;
    scheduler_.pop_due(now, [&](const DeviceRequest& r) { request = r; }, 1);
    lock.unlock();
    spdlog::debug("device-{}: job {}: request complete, signalling fd {}", thread_index, request.job_id,
                  request.notify_fd);
    complete(request);
    lock.lock();
  }
}

void SimDevice::complete(const DeviceRequest& request) {
  const DeviceStatus status = execute(request);
  // The release store publishes the output to the job; the eventfd write is
  // the device's last touch of the request, so the job may free everything
  // as soon as it has read the signal.
  request.status->store(status, std::memory_order_release);
  if (!signal_eventfd(request.notify_fd))
    spdlog::error("device: job {}: cannot signal its wait fd {}: {}", request.job_id, request.notify_fd,
                  std::strerror(errno));
}

}  // namespace offload::threadsim
