#include "backend.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

#include "frontend_registry.hpp"
#include "offload/cipher.hpp"
#include "offload/clock.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/dpdk/handles.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/exit_codes.hpp"
#include "offload/logging.hpp"
#include "offload/unique_fd.hpp"

namespace offload::backend {
namespace {

using dpdk::MempoolPtr;
using dpdk::RingPtr;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "written from a signal handler");

extern "C" void request_stop(int /*signo*/) { g_stop.store(true, std::memory_order_relaxed); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

constexpr unsigned kBurst = 32;
// Requests narrated at info level; the rest at debug, so a long run's log
// stays short while the first requests show the whole path.
constexpr std::uint64_t kNarrated = 32;
// Empty polling rounds before the loop starts sleeping.
constexpr unsigned kSpinRounds = 2048;
constexpr std::uint64_t kHousekeepingNs = 1'000'000;
constexpr std::uint64_t kUnattendedSleepNs = 10'000'000;
// How long a stopping backend waits for attached frontends to let go.
constexpr std::uint64_t kStopGraceNs = 1'000'000'000;
// How long everything after the serving loop may take (grace included).
constexpr std::chrono::seconds kCleanupBound{5};

Transform transform_of(proto::Op op) { return op == proto::Op::BitwiseNot ? Transform::BitwiseNot : Transform::Xor0xAA; }

MempoolPtr create_pool(const char* name, std::uint32_t count, std::uint32_t element_size) {
  const auto fail = [&](const char* step) {
    return EnvironmentError(fmt::format("cannot create mempool {} ({} x {} bytes): {} failed: {}; reserve more "
                                        "hugepages (scripts/setup-hugepages.sh --pages N) or lower --pool-size",
                                        name, count, element_size, step, rte_strerror(rte_errno)));
  };
  // No per-lcore cache: a secondary that dies must not take objects with it
  // in a cache nobody can see, and every get/put must be counted exactly.
  MempoolPtr pool(rte_mempool_create_empty(name, count, element_size, 0, 0, static_cast<int>(rte_socket_id()), 0));
  if (!pool) throw fail("rte_mempool_create_empty");
  // Many frontends, often more processes than cores, share these pools. A
  // classic MP/MC ring makes every other process spin while one that was
  // preempted in the middle of a get/put is off the CPU (lock-waiter
  // preemption: with 8 frontends on one core, runs stalled). The RTS ring
  // lets the others go on.
  if (rte_mempool_set_ops_byname(pool.get(), "ring_mt_rts", nullptr) != 0) throw fail("selecting the ring_mt_rts ops");
  if (rte_mempool_populate_default(pool.get()) < 0) throw fail("rte_mempool_populate_default");
  // Objects start zeroed: an untagged request (magic 0) is never reclaimed.
  rte_mempool_obj_iter(
      pool.get(), [](rte_mempool* mp, void*, void* obj, unsigned) { std::memset(obj, 0, mp->elt_size); }, nullptr);
  return pool;
}

RingPtr create_ring(const std::string& name, std::uint32_t count) {
  // One producer and one consumer per ring: the frontend's thread and this loop.
  RingPtr ring(rte_ring_create(name.c_str(), count, static_cast<int>(rte_socket_id()),
                               RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ));
  if (!ring) throw EnvironmentError(fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno)));
  return ring;
}

std::vector<std::uint64_t> pool_elements(rte_mempool* pool) {
  std::vector<std::uint64_t> addrs;
  addrs.reserve(pool->size);
  rte_mempool_obj_iter(
      pool,
      [](rte_mempool*, void* out, void* obj, unsigned) {
        static_cast<std::vector<std::uint64_t>*>(out)->push_back(reinterpret_cast<std::uint64_t>(obj));
      },
      &addrs);
  std::sort(addrs.begin(), addrs.end());
  return addrs;
}

int open_pidfd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

struct InFlight {
  proto::Request* request;
  std::uint16_t frontend_id;
  std::uint32_t generation;
};

class Backend {
public:
  Backend(const BackendOptions& opts, FrontendRegistry& registry)
      : opts_(opts),
        registry_(registry),
        payload_pool_(create_pool(proto::kPayloadPoolName, opts.pool_size, proto::kPayloadBufferBytes)),
        request_pool_(create_pool(proto::kRequestPoolName, opts.pool_size, sizeof(proto::Request))),
        payload_buffers_(pool_elements(payload_pool_.get())),
        request_buffers_(pool_elements(request_pool_.get())),
        device_(opts.engines),
        sampler_(opts.delay, opts.delay_dist.seed),
        wakeup_(make_eventfd()),
        started_ns_(monotonic_ns()) {
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      request_rings_[id] = create_ring(proto::request_ring_name(id), opts.queue_depth);
      // Room for every job a frontend may have in flight: a completion is
      // never refused.
      completion_rings_[id] = create_ring(proto::completion_ring_name(id), proto::kMaxJobsPerFrontend);
      registry_.slot(id).requests = request_rings_[id].get();
      registry_.slot(id).completions = completion_rings_[id].get();
    }
    registry_.install(payload_pool_.get(), request_pool_.get(), opts.queue_depth, &counters_, started_ns_,
                      wakeup_.get());
  }

  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  ~Backend() { registry_.uninstall(); }

  void serve() {
    std::array<void*, kBurst> burst{};
    unsigned idle_rounds = 0;
    std::uint16_t first = 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
      std::uint64_t now = monotonic_ns();
      bool worked = false;
      // Round robin with a rotating start and at most one burst per
      // frontend per round: a greedy frontend cannot starve the others.
      for (std::uint16_t k = 0; k < proto::kMaxFrontends; ++k) {
        const auto id = static_cast<std::uint16_t>((first + k) % proto::kMaxFrontends);
        FrontendSlot& slot = registry_.slot(id);
        if (slot.state.load(std::memory_order_acquire) != SlotState::Active) continue;
        const unsigned n = rte_ring_sc_dequeue_burst(slot.requests, burst.data(), kBurst, nullptr);
        for (unsigned i = 0; i < n; ++i) accept(id, slot, burst[i], now);
        worked |= n != 0;
      }
      first = static_cast<std::uint16_t>((first + 1) % proto::kMaxFrontends);

      now = monotonic_ns();
      worked |= device_.pop_due(now, [this](const InFlight& f) { complete(f); }) != 0;
      if (worked) ring_doorbells();
      if (now - last_housekeeping_ns_ >= kHousekeepingNs) housekeeping(now);
      idle(worked, idle_rounds);
    }
  }

  void shutdown() {
    const auto on_device = device_.size();
    // Jobs still waiting hear "dropped" now rather than discovering later
    // that the backend is gone.
    device_.drain([this](const InFlight& f) {
      FrontendSlot& slot = registry_.slot(f.frontend_id);
      if (owner_alive(slot, f)) drop(slot, *f.request);
    });
    ring_doorbells();
    // A grace period in which whatever frontends still send is answered
    // "dropped" too and they unregister: a frontend that hears "dropped"
    // stops using the pools, which are freed only after this. Sweeping a
    // live frontend here would hand its buffers back twice.
    const std::uint64_t grace_end = monotonic_ns() + kStopGraceNs;
    std::array<void*, kBurst> burst{};
    while (registry_.attached_count() != 0 && monotonic_ns() < grace_end) {
      for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
        FrontendSlot& slot = registry_.slot(id);
        if (slot.state.load(std::memory_order_acquire) != SlotState::Active) continue;
        const unsigned n = rte_ring_sc_dequeue_burst(slot.requests, burst.data(), kBurst, nullptr);
        for (unsigned i = 0; i < n; ++i) {
          if (!proto::is_pool_element(request_buffers_, reinterpret_cast<std::uint64_t>(burst[i]))) continue;
          auto* r = static_cast<proto::Request*>(burst[i]);
          const proto::RequestCheck check{id, slot.generation.load(std::memory_order_relaxed), slot.max_jobs,
                                          payload_buffers_};
          if (proto::validate_request(*r, check) == nullptr) drop(slot, *r);
        }
      }
      ring_doorbells();
      housekeeping(monotonic_ns());  // frontends that unregistered or exited
      const timespec nap{0, 1'000'000};
      ::nanosleep(&nap, nullptr);
    }
    registry_.uninstall();
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      FrontendSlot& slot = registry_.slot(id);
      if (slot.state.load(std::memory_order_acquire) == SlotState::Free) continue;
      spdlog::warn("frontend {} is still attached as the backend stops: it will find the backend gone", id);
      registry_.release(slot);
    }
    spdlog::info("stopping: served {} request(s), rejected {}, dropped {} ({} were on the device); uptime {:.1f} s",
                 counters_.served.load(), counters_.rejected.load(), dropped_, on_device,
                 static_cast<double>(monotonic_ns() - started_ns_) / 1e9);
  }

private:
  bool owner_alive(const FrontendSlot& slot, const InFlight& f) const {
    return slot.state.load(std::memory_order_acquire) == SlotState::Active &&
           slot.generation.load(std::memory_order_relaxed) == f.generation;
  }

  void accept(std::uint16_t id, FrontendSlot& slot, void* object, std::uint64_t now) {
    const auto addr = reinterpret_cast<std::uint64_t>(object);
    if (!proto::is_pool_element(request_buffers_, addr)) {
      // Not ours to touch: nothing in it can be trusted, not even its job id.
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("frontend {}: dropped a ring entry that is not a request buffer ({:#x})", id, addr);
      return;
    }
    auto* request = static_cast<proto::Request*>(object);
    const std::uint32_t generation = slot.generation.load(std::memory_order_relaxed);
    const proto::RequestCheck check{id, generation, slot.max_jobs, payload_buffers_};
    if (const char* why = proto::validate_request(*request, check)) {
      reject(id, slot, *request, why);
      return;
    }
    const std::uint64_t service = sampler_.sample_ns();
    const std::uint64_t due = device_.submit(InFlight{request, id, generation}, now, service);
    request->device_start_ns = due - service;
    ++slot.inflight;
    counters_.inflight.fetch_add(1, std::memory_order_relaxed);
  }

  void reject(std::uint16_t id, FrontendSlot& slot, proto::Request& request, const char* why) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("frontend {} job {}: rejected request: {}", id, request.job_id, why);
    if (request.job_id >= slot.max_jobs || request.generation != slot.generation.load(std::memory_order_relaxed))
      return;  // no job of this frontend to tell
    proto::status_ref(request).store(static_cast<std::int32_t>(proto::Status::BadRequest), std::memory_order_release);
    notify(slot, request);
  }

  void complete(const InFlight& f) {
    FrontendSlot& slot = registry_.slot(f.frontend_id);
    counters_.inflight.fetch_sub(1, std::memory_order_relaxed);
    // Its frontend is gone: detach() already swept the object back to the
    // pool, and it may be someone else's by now. Not to be touched.
    if (!owner_alive(slot, f)) return;
    --slot.inflight;
    proto::Request& r = *f.request;
    std::span<std::uint8_t> payload(reinterpret_cast<std::uint8_t*>(r.payload_addr), r.payload_len);
    apply_transform(transform_of(r.op), payload, payload);
    r.complete_ns = monotonic_ns();
    // Release: the frontend that reads Ok (acquire) sees the payload written.
    proto::status_ref(r).store(static_cast<std::int32_t>(proto::Status::Ok), std::memory_order_release);
    notify(slot, r);
    const auto served = counters_.served.fetch_add(1, std::memory_order_relaxed);
    spdlog::log(served < kNarrated ? spdlog::level::info : spdlog::level::debug,
                "frontend {} job {}: served request seq {} ({} bytes, {}) after {:.3f} ms on the device; "
                "notified it ({})",
                f.frontend_id, r.job_id, r.seq, r.payload_len, transform_name(transform_of(r.op)),
                static_cast<double>(r.complete_ns - r.device_start_ns) / 1e6, proto::notify_mode_name(slot.notify));
  }

  void drop(FrontendSlot& slot, proto::Request& r) {
    proto::status_ref(r).store(static_cast<std::int32_t>(proto::Status::Dropped), std::memory_order_release);
    notify(slot, r);
    ++dropped_;
  }

  void notify(FrontendSlot& slot, proto::Request& r) {
    if (slot.notify != proto::NotifyMode::EventFd) {
      // Cannot fail: the ring holds as many entries as the frontend may have
      // jobs, and each job has at most one request out.
      if (rte_ring_sp_enqueue(slot.completions, &r) != 0)
        spdlog::error("frontend {} job {}: completion ring full", r.frontend_id, r.job_id);
      slot.doorbell_due = slot.notify == proto::NotifyMode::Coalesced;
      return;
    }
    const int fd = slot.job_fds[r.job_id].load(std::memory_order_acquire);
    if (fd < 0) {
      spdlog::error("frontend {} job {}: no eventfd registered for this job: it cannot be woken", r.frontend_id,
                    r.job_id);
      return;
    }
    if (!signal_eventfd(fd))
      spdlog::warn("frontend {} job {}: signalling eventfd failed: {}", r.frontend_id, r.job_id, std::strerror(errno));
  }

  // Coalesced mode: one eventfd write per frontend per burst of completions,
  // after they are on its ring, so the frontend never sleeps on a full ring.
  void ring_doorbells() {
    for (auto& slot : registry_.slots()) {
      if (!slot.doorbell_due) continue;
      slot.doorbell_due = false;
      const int fd = slot.doorbell_fd.load(std::memory_order_acquire);
      if (fd >= 0 && !signal_eventfd(fd)) spdlog::warn("signalling a frontend's doorbell failed: {}", std::strerror(errno));
    }
  }

  void return_objects(proto::Request* request) {
    if (proto::is_pool_element(payload_buffers_, request->payload_addr))
      rte_mempool_put(payload_pool_.get(), reinterpret_cast<void*>(request->payload_addr));
    proto::magic_ref(*request).store(0, std::memory_order_release);
    rte_mempool_put(request_pool_.get(), request);
  }

  // Returns every request object (and its payload) tagged with this
  // frontend registration: queued, on the device, completed but not yet
  // consumed, or held by the frontend itself.
  std::size_t sweep(std::uint16_t id, std::uint32_t generation) {
    struct Sweep {
      Backend* self;
      std::uint16_t id;
      std::uint32_t generation;
      std::size_t found;
    } sweep{this, id, generation, 0};
    rte_mempool_obj_iter(
        request_pool_.get(),
        [](rte_mempool*, void* arg, void* obj, unsigned) {
          auto& s = *static_cast<Sweep*>(arg);
          auto& r = *static_cast<proto::Request*>(obj);
          if (proto::magic_ref(r).load(std::memory_order_acquire) != proto::kRequestMagic || r.frontend_id != s.id ||
              r.generation != s.generation)
            return;
          s.self->return_objects(&r);
          ++s.found;
        },
        &sweep);
    return sweep.found;
  }

  void housekeeping(std::uint64_t now) {
    last_housekeeping_ns_ = now;
    std::array<pollfd, proto::kMaxFrontends> fds{};
    std::array<std::uint16_t, proto::kMaxFrontends> ids{};
    nfds_t n = 0;
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      FrontendSlot& slot = registry_.slot(id);
      const SlotState state = slot.state.load(std::memory_order_acquire);
      if (state == SlotState::Closing) {
        detach(id, "it unregistered");
        continue;
      }
      if (state != SlotState::Active) continue;
      if (slot.pidfd < 0) {
        slot.pidfd = open_pidfd(slot.pid);
        if (slot.pidfd < 0) {
          detach(id, "its process is gone");
          continue;
        }
      }
      fds[n] = pollfd{slot.pidfd, POLLIN, 0};
      ids[n++] = id;
    }
    // A pidfd becomes readable when its process exits, however it died.
    if (n != 0 && ::poll(fds.data(), n, 0) > 0)
      for (nfds_t i = 0; i < n; ++i)
        if (fds[i].revents != 0) detach(ids[i], "its process exited");
  }

  // Forgets a frontend: requests still in its ring come back to the pools
  // now, those on the device when they complete (their generation is old).
  void detach(std::uint16_t id, const char* why) {
    FrontendSlot& slot = registry_.slot(id);
    // The rings only hold pointers to tagged objects: emptied here, the
    // objects themselves come back through the sweep (exactly once).
    std::array<void*, kBurst> burst{};
    while (rte_ring_sc_dequeue_burst(slot.requests, burst.data(), kBurst, nullptr) != 0) {
    }
    while (rte_ring_sc_dequeue_burst(slot.completions, burst.data(), kBurst, nullptr) != 0) {
    }
    const auto on_device = slot.inflight;
    const auto reclaimed = sweep(id, slot.generation.load(std::memory_order_relaxed));
    registry_.release(slot);
    spdlog::info("frontend {} detached ({}): {} request buffer(s) it held reclaimed ({} were on the device)", id, why,
                 reclaimed, on_device);
  }

  void idle(bool worked, unsigned& idle_rounds) {
    if (worked) {
      idle_rounds = 0;
      return;
    }
    if (++idle_rounds < kSpinRounds) {
      rte_pause();
      return;
    }
    // Sleep until the next completion is due, at most --idle-sleep-us: an
    // idle backend costs almost no CPU, a busy one never sleeps.
    std::uint64_t sleep_ns = std::uint64_t{opts_.idle_sleep_us} * 1000;
    // Nobody attached: a registration arrives over rte_mp on another
    // thread, so the loop can nap longer without delaying anyone's request.
    if (device_.empty() && registry_.active_count() == 0) sleep_ns = std::max<std::uint64_t>(sleep_ns, kUnattendedSleepNs);
    if (!device_.empty()) {
      const std::uint64_t now = monotonic_ns();
      const std::uint64_t due = device_.next_due_ns();
      sleep_ns = std::min(sleep_ns, due > now ? due - now : 0);
    }
    if (sleep_ns == 0) return;
    timespec ts{static_cast<time_t>(sleep_ns / 1'000'000'000), static_cast<long>(sleep_ns % 1'000'000'000)};
    pollfd wake{wakeup_.get(), POLLIN, 0};
    if (::ppoll(&wake, 1, &ts, nullptr) > 0) drain_eventfd(wakeup_.get());
  }

  const BackendOptions& opts_;
  FrontendRegistry& registry_;
  MempoolPtr payload_pool_;
  MempoolPtr request_pool_;
  std::vector<std::uint64_t> payload_buffers_;
  std::vector<std::uint64_t> request_buffers_;
  std::array<RingPtr, proto::kMaxFrontends> request_rings_;
  std::array<RingPtr, proto::kMaxFrontends> completion_rings_;
  BackendCounters counters_;
  DeviceScheduler<InFlight> device_;
  DelaySampler sampler_;
  UniqueFd wakeup_;  // signalled by the register action: ends an idle nap
  std::uint64_t started_ns_;
  std::uint64_t last_housekeeping_ns_ = 0;
  std::uint64_t dropped_ = 0;
};

// Bounds the backend's teardown. A frontend killed in the middle of a
// mempool get/put leaves the shared ring's head and tail apart for good;
// freeing that pool then never returns. Rather than hang, the watchdog says
// why, removes the instance's files and ends the process.
class CleanupWatchdog {
public:
  CleanupWatchdog(std::string instance, std::chrono::seconds bound)
      : instance_(std::move(instance)), thread_([this, bound] { watch(bound); }) {}
  CleanupWatchdog(const CleanupWatchdog&) = delete;
  CleanupWatchdog& operator=(const CleanupWatchdog&) = delete;
  ~CleanupWatchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

private:
  void watch(std::chrono::seconds bound) {
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, bound, [this] { return done_; })) return;
    spdlog::error("stopping did not finish within {} s: a frontend that died inside a mempool get/put has left a "
                  "shared ring inconsistent; exiting without freeing it",
                  bound.count());
    dpdk::remove_runtime_dir(instance_);
    dpdk::remove_hugepage_files(instance_);
    std::_Exit(kExitInternal);
  }

  std::string instance_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

void write_ready_file(const std::string& instance) {
  const std::string path = dpdk::ready_file(instance);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "pid=" << ::getpid() << "\n";
  }
  // Like the rest of the runtime dir (0700): for this user only.
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);  // atomic: a poller never sees half a file
}

// A backend that was SIGKILLed leaves its runtime dir and hugepage files:
// they are removed here, before the EAL would trip over them.
void clean_stale_instance(const std::string& instance) {
  if (dpdk::primary_alive(instance)) {
    const int pid = dpdk::ready_backend_pid(instance);
    throw EnvironmentError(fmt::format("instance '{}' already has a running backend{}: stop it (kill -TERM <pid>) "
                                       "or choose another --instance",
                                       instance, pid ? fmt::format(" (pid {})", pid) : ""));
  }
  const bool stale_dir = std::filesystem::exists(dpdk::runtime_dir(instance));
  const int stale_pages = dpdk::count_hugepage_files(instance);
  if (!stale_dir && stale_pages == 0) return;
  dpdk::remove_runtime_dir(instance);
  dpdk::remove_hugepage_files(instance);
  spdlog::warn("instance '{}': removed what a backend that did not stop cleanly left behind ({}{} hugepage file(s))",
               instance, stale_dir ? "runtime dir " + dpdk::runtime_dir(instance) + ", " : "", stale_pages);
}

}  // namespace

int run(const BackendOptions& opts) {
  setup_logging("backend", opts.log_level);
  // Every job of every frontend hands the backend its eventfd.
  constexpr std::size_t kFdsNeeded = std::size_t{proto::kMaxFrontends} * (proto::kMaxJobsPerFrontend + 2) + 256;
  try {
    ensure_fd_limit(kFdsNeeded);
  } catch (const EnvironmentError& e) {
    spdlog::warn("{}: frontends with many jobs may be refused", e.what());
  }
  clean_stale_instance(opts.instance);
  dpdk::require_hugepages();
  std::optional<CleanupWatchdog> watchdog;
  {
    // The registry outlives the EAL: rte_mp actions may still be running on
    // DPDK's mp thread until rte_eal_cleanup() has stopped it.
    static FrontendRegistry registry;
    dpdk::EalSession eal("offload-backend",
                         dpdk::EalConfig{dpdk::ProcessRole::Primary, opts.instance, opts.lcore, "warning", opts.eal_args});
    {
      Backend backend(opts, registry);
      install_signal_handlers();
      write_ready_file(opts.instance);
      spdlog::info("ready: instance '{}', pid {}, lcore {}; device latency {}, {} engine(s), queue depth {}, pool {} x {} "
                   "bytes. Start a frontend with: offload-frontend --instance {}",
                   opts.instance, ::getpid(), opts.lcore, opts.delay.describe(),
                   opts.engines == 0 ? std::string("unlimited") : std::to_string(opts.engines), opts.queue_depth,
                   opts.pool_size, proto::kPayloadBufferBytes, opts.instance);
      backend.serve();
      watchdog.emplace(opts.instance, kCleanupBound);
      backend.shutdown();
    }
  }
  // The EAL leaves its runtime files behind; nothing of the instance should.
  const int files = dpdk::remove_runtime_dir(opts.instance);
  const int pages = dpdk::remove_hugepage_files(opts.instance);
  watchdog.reset();
  spdlog::info("stopped cleanly: removed {} ({} entries) and {} leftover hugepage file(s)", dpdk::runtime_dir(opts.instance),
               files, pages);
  return kExitOk;
}

}  // namespace offload::backend
