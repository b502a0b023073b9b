#pragma once
// Keeps the instance's hugepage memory fixed while frontends come and go.
//
// DPDK grows and shrinks its shared heap by hotplugging hugepages, and a
// secondary's rte_malloc/rte_free can make it happen: every DPDK start-up
// allocates ~90 KB (rte_service_init) and every clean-up frees it. When that
// crossed a page boundary, the secondary held the instance's memory hotplug
// lock (and the heap lock) while it asked the primary over rte_mp to map or
// unmap the page, and the primary answered only once every other secondary
// had acknowledged a sync request, each with a 5 s time-out. Secondaries
// starting and stopping at the same moment then waited seconds on each other
// inside rte_eal_init/rte_eal_cleanup (docs/LIFECYCLE.md has the evidence).
//
// So the backend preallocates all the memory the instance will use (EAL
// -m: such pages are never freed, so a free never shrinks the heap), leaves
// room in it for the secondaries' own allocations, and once it serves it
// refuses any further growth (rte_mem_alloc_validator): from then on no
// process of the instance hotplugs memory. Any hotplug that happens anyway
// is logged.

#include <cstddef>
#include <cstdint>

namespace offload::backend {

// Heap room left for DPDK secondaries' own allocations (about 90 KB each):
// enough for many more processes than the 16 frontends that may register.
inline constexpr std::size_t kSecondaryHeadroomBytes = std::size_t{16} << 20;

// Hugepage memory (MB) the backend preallocates for `pool_size` request and
// payload objects (payload buffers of `buffer_bytes`), its rings, its crypto
// device and kSecondaryHeadroomBytes.
std::uint32_t preallocated_memory_mb(std::uint32_t pool_size, std::uint32_t buffer_bytes);

// After the backend has created its pools and rings: refuses heap growth
// beyond what is mapped now and logs every hotplug event. Checks that the
// heap has kSecondaryHeadroomBytes free (a warning otherwise: EAL arguments
// after '--' chose less memory). Undone on destruction.
class MemoryGuard {
public:
  MemoryGuard();
  MemoryGuard(const MemoryGuard&) = delete;
  MemoryGuard& operator=(const MemoryGuard&) = delete;
  ~MemoryGuard();

  // Hotplug events seen since the guard was set (0 is the design).
  static std::uint64_t hotplug_events() noexcept;

private:
  bool validator_set_ = false;
  bool callback_set_ = false;
};

}  // namespace offload::backend
