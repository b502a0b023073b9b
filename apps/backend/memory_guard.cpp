#include "memory_guard.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "offload/protocol.hpp"

namespace offload::backend {
namespace {

constexpr char kGuardName[] = "offload-memory-guard";
constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kHugepageBytes = 2 * kMiB;
// A mempool object carries a 64-byte header and is cache-line aligned; both
// pools' objects, plus slack for the mempools' own rings and alignment, and
// the crypto op and mbuf the crypto device keeps for each request.
constexpr std::size_t kBytesPerPoolObject = sizeof(proto::Request) + 4 * 64 + 128 + 1024;
// The per-frontend rings (16 x 4), EAL's own memzones and tailqs, and the
// crypto device's queue pair, sessions and per-lcore state.
constexpr std::size_t kFixedBytes = 32 * kMiB;

std::atomic<std::uint64_t> g_hotplug_events{0};

// Runs on whichever thread hotplugs (the primary's rte_mp thread when a
// secondary asked): logs, touches nothing else.
void on_memory_event(rte_mem_event type, const void* addr, std::size_t len, void*) {
  g_hotplug_events.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("DPDK memory hotplug while serving: {} {} KB at {} (should not happen: frontends' DPDK start-up and "
               "clean-up wait on it)",
               type == RTE_MEM_EVENT_ALLOC ? "mapped" : "unmapped", len / 1024, addr);
}

// Called before the heap would grow past the limit: refuse.
int refuse_growth(int socket_id, std::size_t cur_limit, std::size_t new_len) {
  spdlog::error("refused to grow the shared heap of socket {} to {} MB (preallocated {} MB): a DPDK process of the "
                "instance ran out of preallocated memory; restart the backend with more (e.g. -- -m {})",
                socket_id, new_len / kMiB, cur_limit / kMiB, 2 * new_len / kMiB);
  return -1;
}

}  // namespace

std::uint32_t preallocated_memory_mb(std::uint32_t pool_size, std::uint32_t buffer_bytes) {
  const std::size_t per_object = kBytesPerPoolObject + (std::size_t{buffer_bytes} + 63) / 64 * 64;
  const std::size_t bytes = std::size_t{pool_size} * per_object + kFixedBytes + kSecondaryHeadroomBytes;
  const std::size_t pages = (bytes + kHugepageBytes - 1) / kHugepageBytes;
  return static_cast<std::uint32_t>(pages * kHugepageBytes / kMiB);
}

MemoryGuard::MemoryGuard() {
  const unsigned sockets = rte_socket_count();
  for (unsigned i = 0; i < sockets; ++i) {
    const int socket = rte_socket_id_by_idx(i);
    rte_malloc_socket_stats stats{};
    if (rte_malloc_get_socket_stats(socket, &stats) != 0) continue;
    if (stats.heap_totalsz_bytes == 0) continue;
    if (stats.greatest_free_size < kSecondaryHeadroomBytes)
      spdlog::warn("the shared heap of socket {} has {} KB free in one piece ({} KB wanted for frontends' own DPDK "
                   "allocations): the EAL arguments after '--' preallocated too little memory",
                   socket, stats.greatest_free_size / 1024, kSecondaryHeadroomBytes / 1024);
    spdlog::info("shared memory on socket {}: {} MB mapped for good, {} MB of it free for frontends' own DPDK "
                 "allocations; no hugepage is mapped or unmapped while serving",
                 socket, stats.heap_totalsz_bytes / kMiB, stats.heap_freesz_bytes / kMiB);
    if (rte_mem_alloc_validator_register(kGuardName, refuse_growth, socket, stats.heap_totalsz_bytes) != 0)
      spdlog::warn("cannot limit the shared heap of socket {}: {}", socket, rte_strerror(rte_errno));
    else
      validator_set_ = true;
  }
  callback_set_ = rte_mem_event_callback_register(kGuardName, on_memory_event, nullptr) == 0;
}

MemoryGuard::~MemoryGuard() {
  // Unregistered before the pools are freed: that shrinks the heap on purpose.
  if (callback_set_) rte_mem_event_callback_unregister(kGuardName, nullptr);
  if (!validator_set_) return;
  const unsigned sockets = rte_socket_count();
  for (unsigned i = 0; i < sockets; ++i) rte_mem_alloc_validator_unregister(kGuardName, rte_socket_id_by_idx(i));
}

std::uint64_t MemoryGuard::hotplug_events() noexcept { return g_hotplug_events.load(std::memory_order_relaxed); }

}  // namespace offload::backend
