#pragma once
// The backend's DPDK telemetry commands, on the instance's standard telemetry
// socket (/var/run/dpdk/<instance>/dpdk_telemetry.v2), so that DPDK's own
// client shows a live instance: `dpdk-telemetry.py -f <instance>`.
//   /offload/stats      counters and pool levels (what offload-frontend --stats prints)
//   /offload/frontends  per attached frontend: identity, buffers held, served,
//                       rejected, in flight, device time p50/p99
//   /offload/device     the device: latency model, engines, queue depth, pool
// DPDK's own commands (/eal/params, /mempool/list, ...) are served beside them.
//
// DPDK runs each client's commands on a thread of its own, at any moment: the
// callbacks read only atomics (the registry's slots and counters, each
// slot's FrontendStats) and data fixed before serving starts (the device
// description), and never take a lock the serving loop holds.

#include <string>

#include "device_description.hpp"
#include "frontend_registry.hpp"

namespace offload::backend {

class BackendTelemetry {
public:
  // Registers the commands (once per process: DPDK cannot unregister them)
  // and answers them from `registry` and `device` from now on. `registry`
  // must be installed for as long as this object lives.
  BackendTelemetry(const FrontendRegistry& registry, DeviceDescription device, std::string instance);
  // From here on the commands answer that the backend is stopping; waits
  // for those already running, then ends DPDK's telemetry service (its own
  // commands read the pools that are freed next).
  ~BackendTelemetry();
  BackendTelemetry(const BackendTelemetry&) = delete;
  BackendTelemetry& operator=(const BackendTelemetry&) = delete;

  // The command that connects DPDK's client to this instance, or why it
  // cannot (telemetry switched off with `-- --no-telemetry`).
  [[nodiscard]] std::string how_to_connect() const;

private:
  std::string instance_;
};

}  // namespace offload::backend
