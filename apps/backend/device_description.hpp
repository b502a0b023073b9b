#pragma once
// What the backend's device is, as DPDK telemetry's /offload/device reports
// it. Filled once before the backend serves and never changed after, so
// that DPDK's telemetry threads may read it without a lock.

#include <cstdint>
#include <string>
#include <vector>

#include "backend_options.hpp"

namespace offload::backend {

struct DeviceDescription {
  std::string latency_model;           // DelaySpec::describe(): "fixed 20 ms", "exponential, mean 2 ms"
  std::uint64_t latency_bound_ns = 0;  // DelaySpec::latency_bound_ms(), what frontends' timeouts derive from
  unsigned engines = 0;                // 0: unlimited
  std::uint32_t queue_depth = 0;       // each frontend's request ring
  std::uint32_t pool_size = 0;         // request objects (and payload buffers)
  std::uint32_t buffer_bytes = 0;      // one payload buffer
  // A real DPDK cryptodev, once the device is one: its name and what it can
  // do ("aes-256-gcm", ...). Empty for the simulated device (and then not
  // reported).
  std::string crypto_device;
  std::vector<std::string> crypto_capabilities;
};

// The device configured by `opts`, without its crypto device (the backend
// adds what its opened cryptodev says).
DeviceDescription describe_device(const BackendOptions& opts);

}  // namespace offload::backend
