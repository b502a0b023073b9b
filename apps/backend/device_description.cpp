#include "device_description.hpp"

#include "offload/clock.hpp"
#include "offload/protocol.hpp"

namespace offload::backend {

DeviceDescription describe_device(const BackendOptions& opts) {
  DeviceDescription d;
  d.latency_model = opts.delay.describe();
  d.latency_bound_ns = ms_to_ns(opts.delay.latency_bound_ms());
  d.engines = opts.engines;
  d.queue_depth = opts.queue_depth;
  d.pool_size = opts.pool_size;
  d.buffer_bytes = opts.buffer_bytes;
  return d;
}

}  // namespace offload::backend
