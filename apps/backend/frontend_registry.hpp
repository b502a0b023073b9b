#pragma once
// The backend's table of attached frontends and the rte_mp actions that fill
// it. Actions run on DPDK's rte_mp_handle thread; the serving loop reads the
// table. They meet only through atomics: an action never allocates, never
// blocks on the loop, and never closes an fd the loop may be writing to
// (a slot being torn down goes to Closing and the loop finishes the job).

#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

#include "frontend_stats.hpp"
#include "single_writer_counter.hpp"
#include "offload/protocol.hpp"

namespace offload::backend {

enum class SlotState : std::uint32_t { Free, Registering, Active, Closing };

// An AES-256 key a frontend registered (rte_mp "ofl_add_key"). The action
// writes the bytes, then publishes them by storing the registration's
// generation (release); the serving loop uses a key only when its tag is
// the frontend's current generation (acquire), so a key of a previous
// registration of the slot is never used.
struct RegisteredKey {
  std::atomic<std::uint32_t> generation{0};  // 0: none
  std::array<std::uint8_t, proto::kKeyBytes> bytes{};
};

struct FrontendSlot {
  std::atomic<SlotState> state{SlotState::Free};
  std::atomic<std::uint32_t> generation{0};
  // Written by the register action before state becomes Active.
  int pid = 0;
  std::uint32_t max_jobs = 0;
  proto::NotifyMode notify = proto::NotifyMode::EventFd;
  std::array<std::atomic<int>, proto::kMaxJobsPerFrontend> job_fds{};
  std::atomic<std::uint32_t> fds_registered{0};
  std::atomic<int> doorbell_fd{-1};  // coalesced mode: the frontend's one eventfd
  // Coalesced mode: whether the frontend asks to be rung (proto::DoorbellControl,
  // in shared memory; set for each new frontend in the slot).
  proto::DoorbellControl* doorbell_control = nullptr;
  std::array<RegisteredKey, proto::kMaxKeysPerFrontend> keys;
  // Key ids in use (bit i: keys[i]), claimed by the add-key action; and
  // those a forget-key action handed to the serving loop, which clears both
  // bits once nothing of the key is left in the device (then the action
  // answers).
  std::atomic<std::uint64_t> keys_used{0};
  std::atomic<std::uint64_t> keys_to_forget{0};
  // Fixed for the backend's life (see protocol.hpp for who uses which).
  rte_ring* grants = nullptr;
  rte_ring* requests = nullptr;
  rte_ring* completions = nullptr;
  rte_ring* returns = nullptr;
  // Owned by the serving loop.
  int pidfd = -1;
  std::uint64_t inflight = 0;
  // Coalesced mode: completions enqueued since the doorbell last rang, and
  // when the first of them was.
  std::uint32_t unsignalled = 0;
  std::uint64_t first_unsignalled_ns = 0;
  // Coalesced and callback modes: completions not yet on the completion
  // ring (the serving loop enqueues them in one burst per turn).
  std::vector<void*> completed;
  // For DPDK telemetry (/offload/frontends): other threads read it.
  FrontendStats stats;
};

// The backend's own counters: the serving loop writes them, the rte_mp
// thread (--stats) and telemetry read them.
struct BackendCounters {
  SingleWriterCounter served;
  SingleWriterCounter rejected;
  SingleWriterCounter inflight;
  SingleWriterCounter crypto_sessions;
};

class FrontendRegistry {
public:
  FrontendRegistry();

  FrontendSlot& slot(std::uint16_t id) noexcept { return slots_[id]; }
  const FrontendSlot& slot(std::uint16_t id) const noexcept { return slots_[id]; }
  std::array<FrontendSlot, proto::kMaxFrontends>& slots() noexcept { return slots_; }

  // Registers the rte_mp actions (only one registry may be installed).
  // `wakeup_fd` (an eventfd) is signalled when a frontend registers, so an
  // idle serving loop sleeping on it starts polling at once.
  // `engines` and `latency_bound_ns` go to each frontend in its register
  // reply (its default --timeout-ms derives from them).
  // `buffer_bytes` (the payload buffers' size) goes in the register reply
  // too; `crypto_device` says whether keys may be registered.
  struct Params {
    rte_mempool* payload_pool;
    rte_mempool* request_pool;
    std::uint32_t queue_depth;
    std::uint32_t engines;
    std::uint64_t latency_bound_ns;
    std::uint32_t buffer_bytes;
    bool crypto_device;
    BackendCounters* counters;
    std::uint64_t started_ns;
    int wakeup_fd;
  };
  void install(const Params& params);
  void uninstall() noexcept;

  // Serving loop: closes the slot's fds and makes it Free again.
  void release(FrontendSlot& slot) noexcept;

  // The backend's counters and pool levels: the reply to --stats (ofl_stats)
  // and DPDK telemetry's /offload/stats, so both report the same numbers.
  // Any thread, while installed.
  proto::StatsReply stats() const noexcept;

  std::uint32_t active_count() const noexcept;
  // Slots not Free: registering, active or closing.
  std::uint32_t attached_count() const noexcept;

private:
  std::array<FrontendSlot, proto::kMaxFrontends> slots_;
};

// The pid in a peer's rte_mp socket path (".../mp_socket_<pid>_<n>"), or 0
// when there is none (the primary's own socket): dpdk::runtime_file_pid.
int peer_pid(std::string_view peer) noexcept;

}  // namespace offload::backend
