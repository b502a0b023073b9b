#include "telemetry.hpp"

#include "callback_fence.hpp"

#include <rte_telemetry.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "offload/dpdk/telemetry_shutdown.hpp"

namespace offload::backend {
namespace {

// DPDK's callbacks are plain function pointers: they reach what they report
// through this, set before the fence opens and left alone while it is open.
struct Published {
  const FrontendRegistry* registry = nullptr;
  DeviceDescription device;
  std::string instance;
};
Published g_published;

// Telemetry commands run on DPDK's telemetry threads: the fence
// (callback_fence.hpp) keeps the backend's stop from freeing what one reads.
CallbackFence g_fence;
// DPDK's client threads end within microseconds of their sockets being shut
// down, unless one is stuck writing to a client that reads nothing.
constexpr std::chrono::milliseconds kShutdownBound{1000};


// The reply while the backend does not serve (it is stopping): a string
// rather than DPDK's bare null, so that a person watching sees why the
// numbers are gone.
int reply_not_serving(rte_tel_data* d) {
  rte_tel_data_string(d, "the backend is not serving (it is stopping): nothing to report");
  return 0;
}

// None of the commands takes parameters: a command given some gets DPDK's
// error reply ({"<command>": null}) rather than an answer to another
// question ("/offload/frontends,3" does not get every frontend back).
bool has_params(const char* params) { return params != nullptr && *params != '\0'; }

void add_u64(rte_tel_data* d, const char* name, std::uint64_t value) { rte_tel_data_add_dict_u64(d, name, value); }

int on_stats(const char*, const char* params, rte_tel_data* d) {
  if (has_params(params)) return -EINVAL;
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return reply_not_serving(d);
  const proto::StatsReply s = g_published.registry->stats();
  // The names and numbers of offload-frontend --stats, but the uptime:
  // DPDK 22.11's telemetry has no floating-point values.
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "instance", g_published.instance.c_str());
  add_u64(d, "mempool_size", s.payload_pool_size);
  add_u64(d, "mempool_available", s.payload_pool_available);
  add_u64(d, "msg_pool_size", s.request_pool_size);
  add_u64(d, "msg_pool_available", s.request_pool_available);
  add_u64(d, "frontends", s.frontends);
  add_u64(d, "inflight", s.inflight);
  add_u64(d, "served", s.served);
  add_u64(d, "rejected", s.rejected);
  add_u64(d, "uptime_ms", s.uptime_ms);
  add_u64(d, "crypto_sessions", s.crypto_sessions);
  return 0;
}

// One attached frontend's entry, or nullptr when it is not attached (or
// went, or was replaced, while it was being read).
rte_tel_data* describe_frontend(std::uint16_t id, const FrontendSlot& slot) {
  // Read like a seqlock: a slot's generation changes whenever it is
  // registered or released, so an unchanged generation around the reads
  // means they all belong to the one registration.
  const std::uint32_t generation = slot.generation.load(std::memory_order_acquire);
  if (slot.state.load(std::memory_order_acquire) != SlotState::Active) return nullptr;
  const FrontendStats::Snapshot s = slot.stats.snapshot();
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.generation.load(std::memory_order_relaxed) != generation ||
      slot.state.load(std::memory_order_relaxed) != SlotState::Active)
    return nullptr;
  rte_tel_data* f = rte_tel_data_alloc();
  if (f == nullptr) return nullptr;
  rte_tel_data_start_dict(f);
  add_u64(f, "id", id);
  rte_tel_data_add_dict_int(f, "pid", s.pid);
  rte_tel_data_add_dict_string(f, "notify", std::string(proto::notify_mode_name(s.notify)).c_str());
  add_u64(f, "jobs", s.jobs);
  add_u64(f, "held_buffers", s.held_buffers);
  add_u64(f, "served", s.served);
  add_u64(f, "rejected", s.rejected);
  add_u64(f, "doorbells_rung", s.doorbells_rung);
  add_u64(f, "doorbells_spared", s.doorbells_spared);
  add_u64(f, "in_flight", s.in_flight);
  add_u64(f, "device_p50_ns", s.device_time.p50_ns);
  add_u64(f, "device_p99_ns", s.device_time.p99_ns);
  add_u64(f, "device_max_ns", s.device_time.max_ns);
  return f;
}

int on_frontends(const char*, const char* params, rte_tel_data* d) {
  if (has_params(params)) return -EINVAL;
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return reply_not_serving(d);
  // Keyed by frontend id: DPDK 22.11 nests dicts in a dict, not in an array.
  rte_tel_data_start_dict(d);
  for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id)
    if (rte_tel_data* f = describe_frontend(id, g_published.registry->slot(id)))
      rte_tel_data_add_dict_container(d, std::to_string(id).c_str(), f, 0);
  return 0;
}

int on_device(const char*, const char* params, rte_tel_data* d) {
  if (has_params(params)) return -EINVAL;
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return reply_not_serving(d);
  const DeviceDescription& device = g_published.device;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "latency_model", device.latency_model.c_str());
  add_u64(d, "latency_bound_ns", device.latency_bound_ns);
  add_u64(d, "engines", device.engines);
  add_u64(d, "queue_depth", device.queue_depth);
  add_u64(d, "pool_size", device.pool_size);
  add_u64(d, "buffer_bytes", device.buffer_bytes);
  if (!device.crypto_device.empty())
    rte_tel_data_add_dict_string(d, "crypto_device", device.crypto_device.c_str());
  if (!device.crypto_capabilities.empty()) {
    if (rte_tel_data* caps = rte_tel_data_alloc()) {
      rte_tel_data_start_array(caps, RTE_TEL_STRING_VAL);
      for (const auto& cap : device.crypto_capabilities) rte_tel_data_add_array_string(caps, cap.c_str());
      rte_tel_data_add_dict_container(d, "crypto_capabilities", caps, 0);
    }
  }
  return 0;
}

struct Command {
  const char* name;
  telemetry_cb callback;
  const char* help;
};
constexpr Command kCommands[] = {
    {"/offload/stats", on_stats,
     "The backend's counters and pool levels (what offload-frontend --stats prints). No parameters"},
    {"/offload/frontends", on_frontends,
     "Attached frontends by id: pid, notify, jobs, buffers held, served, rejected, doorbells, in flight, device time. "
     "No parameters"},
    {"/offload/device", on_device, "The device: latency model, engines, queue depth, pool and buffer size. No parameters"},
};
// rte_telemetry_register_cmd refuses a help text that does not fit (EINVAL
// at start-up, the backend exits 70): caught here instead.
constexpr bool helps_fit() {
  for (const Command& c : kCommands)
    if (std::char_traits<char>::length(c.help) >= RTE_TEL_MAX_STRING_LEN) return false;
  return true;
}
static_assert(helps_fit(), "a telemetry command's help text is longer than DPDK accepts (RTE_TEL_MAX_STRING_LEN)");

void register_commands_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& c : kCommands)
      if (const int rc = rte_telemetry_register_cmd(c.name, c.callback, c.help); rc != 0)
        throw std::runtime_error(fmt::format("cannot register the telemetry command {}: error {}", c.name, rc));
  });
}

}  // namespace

BackendTelemetry::BackendTelemetry(const FrontendRegistry& registry, DeviceDescription device, std::string instance)
    : instance_(instance) {
  g_published = Published{&registry, std::move(device), std::move(instance)};
  register_commands_once();
  g_fence.open();
}

BackendTelemetry::~BackendTelemetry() {
  if (!g_fence.close()) spdlog::error("a telemetry command is still running 2 s into the stop: continuing without it");
  if (!dpdk::shut_down_telemetry(dpdk::telemetry_socket_path(instance_), kShutdownBound))
    spdlog::warn("DPDK telemetry still serves a client {} ms into the stop (one that reads no replies?)",
                 kShutdownBound.count());
}

std::string BackendTelemetry::how_to_connect() const {
  const std::string socket = dpdk::telemetry_socket_path(instance_);
  if (!std::filesystem::exists(socket)) return "no DPDK telemetry (no socket " + socket + ")";
  return "DPDK telemetry: dpdk-telemetry.py -f " + instance_;
}

}  // namespace offload::backend
