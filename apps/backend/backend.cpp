#include "backend.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <optional>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "buffer_grants.hpp"
#include "crypto_device.hpp"
#include "device_description.hpp"
#include "frontend_registry.hpp"
#include "memory_guard.hpp"
#include "offload/cipher.hpp"
#include "offload/clock.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/dpdk/handles.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/doorbell_moderation.hpp"
#include "offload/exit_codes.hpp"
#include "offload/grant_quotas.hpp"
#include "offload/logging.hpp"
#include "offload/stop_signals.hpp"
#include "offload/unique_fd.hpp"
#include "offload/watchdog.hpp"
#include "telemetry.hpp"

namespace offload::backend {
namespace {

using dpdk::MemzonePtr;
using dpdk::RingPtr;

// Requests taken off a frontend's ring at a time.
constexpr unsigned kRequestBurst = 32;
// admit() waits on the first load of each request: lines the frontend's core
// wrote. Asked for this many requests ahead, the transfers overlap with the
// admission of the ones before: 1 KiB with the doorbell 5.46-5.56 -> 5.61-5.67
// GB/s (three runs each; 1 or 2 ahead gave less), 16 KiB and naps the same
// within the noise. The whole burst asked for at once was no faster, and
// only its first lines 13 % slower (measured, not understood).
constexpr unsigned kPrefetchAhead = 4;
// Requests narrated at info level; the rest at debug, so a long run's log
// stays short while the first requests show the whole path.
constexpr std::uint64_t kNarrated = 32;
// Empty polling rounds before the loop starts sleeping.
constexpr unsigned kSpinRounds = 2048;
// How close to a request's due time the loop stops sleeping and spins: a
// nap that ends at the deadline wakes tens of microseconds late (the
// kernel's wake-up and the timer slack), which at D = 2 ms cost 7-12 % of
// Little's law's J/D.
constexpr std::uint64_t kSpinBeforeDueNs = 150'000;
constexpr std::uint64_t kHousekeepingNs = 1'000'000;
constexpr std::uint64_t kFileSweepNs = 1'000'000'000;
constexpr std::uint64_t kUnattendedSleepNs = 10'000'000;
// How long a stopping backend waits for attached frontends to let go.
constexpr std::uint64_t kStopGraceNs = 1'000'000'000;
// How long everything after the serving loop may take (grace included).
constexpr std::chrono::milliseconds kCleanupBound{5000};

Operation operation_of(proto::Op op) { return static_cast<Operation>(op); }

RingPtr create_ring(const std::string& name, std::uint32_t count) {
  // One producer and one consumer per ring: a frontend's thread and this loop.
  RingPtr ring(rte_ring_create(name.c_str(), count, static_cast<int>(rte_socket_id()),
                               RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ));
  if (!ring) throw EnvironmentError(fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno)));
  return ring;
}

// Each frontend slot's proto::DoorbellControl, in shared memory.
MemzonePtr create_doorbells() {
  MemzonePtr zone(rte_memzone_reserve_aligned(proto::kDoorbellsName,
                                              sizeof(proto::DoorbellControl) * proto::kMaxFrontends,
                                              static_cast<int>(rte_socket_id()), 0, alignof(proto::DoorbellControl)));
  if (!zone) throw EnvironmentError(fmt::format("cannot create memzone {}: {}", proto::kDoorbellsName, rte_strerror(rte_errno)));
  return zone;
}

int open_pidfd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// A request the backend accepted: what it needs at completion, copied out of
// shared memory once it was validated, so that a frontend rewriting the
// request meanwhile cannot change what the backend writes or where.
struct InFlight {
  std::uint32_t index;   // in the request pool (BufferGrants)
  std::uint32_t ticket;  // GrantLedger: stale once the object is taken back
  std::uint16_t frontend_id;
  std::uint32_t generation;
  std::uint32_t job_id;
  std::uint32_t payload_len;
  proto::Op op;
};

// An AES-GCM request completes when both its device time has come (the
// latency model) and the cryptodev handed it back, whichever is later.
struct AeadProgress {
  InFlight f{};
  bool due = false;      // the latency model's time has come
  bool done = false;     // the cryptodev handed it back
  proto::Status result = proto::Status::Pending;
};

proto::Status status_of(CryptoResult r) {
  switch (r) {
    case CryptoResult::Ok: return proto::Status::Ok;
    case CryptoResult::AuthFailed: return proto::Status::AuthFailed;
    case CryptoResult::Error: break;
  }
  return proto::Status::DeviceError;
}

std::optional<CryptoDevice> open_crypto_device(const BackendOptions& opts) {
  if (opts.crypto_dev == kNoCryptoDevice) return std::nullopt;
  return std::optional<CryptoDevice>(std::in_place, opts.crypto_dev, opts.pool_size, opts.buffer_bytes);
}

class Backend {
public:
  Backend(const BackendOptions& opts, FrontendRegistry& registry, StopSignals& stop_signals)
      : opts_(opts),
        stop_signals_(stop_signals),
        registry_(registry),
        buffers_(opts.pool_size, opts.buffer_bytes),
        crypto_(open_crypto_device(opts)),
        aead_(crypto_ ? opts.pool_size : 0),
        device_(opts.engines),
        sampler_(opts.delay, opts.delay_dist.seed),
        no_delay_(opts.delay.latency_bound_ms() <= 0.0),
        wakeup_(make_eventfd()),
        doorbells_(create_doorbells()),
        started_ns_(monotonic_ns()) {
    auto* doorbells = static_cast<proto::DoorbellControl*>(doorbells_->addr);
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      Rings& rings = rings_[id];
      // The grant and return rings have room for every object a frontend
      // may hold, the completion ring for every job it may have: a grant,
      // completion or return is never refused.
      rings.grants = create_ring(proto::grant_ring_name(id), proto::kGrantRingSize);
      rings.requests = create_ring(proto::request_ring_name(id), opts.queue_depth);
      rings.completions = create_ring(proto::completion_ring_name(id), proto::kMaxJobsPerFrontend);
      rings.returns = create_ring(proto::return_ring_name(id), proto::kGrantRingSize);
      FrontendSlot& slot = registry_.slot(id);
      slot.grants = rings.grants.get();
      slot.requests = rings.requests.get();
      slot.completions = rings.completions.get();
      slot.returns = rings.returns.get();
      slot.doorbell_control = &doorbells[id];
      proto::ring_ref(doorbells[id]).store(proto::kRingAlways, std::memory_order_relaxed);
    }
    registry_.install(FrontendRegistry::Params{buffers_.payload_pool(), buffers_.request_pool(), opts.queue_depth,
                                               opts.engines, ms_to_ns(opts.delay.latency_bound_ms()),
                                               opts.buffer_bytes, crypto_.has_value(), &counters_, started_ns_,
                                               wakeup_.get()});
    if (crypto_) {
      spdlog::info("crypto device: {}", crypto_->description());
      for (const auto& line : crypto_->capabilities()) spdlog::debug("crypto device offers {}", line);
    }
  }

  // The device as telemetry's /offload/device reports it.
  DeviceDescription description() const {
    DeviceDescription d = describe_device(opts_);
    if (crypto_) {
      d.crypto_device = crypto_->description();
      d.crypto_capabilities = crypto_->capabilities();
    }
    return d;
  }

  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  ~Backend() { registry_.uninstall(); }

  void serve() {
    use_precise_timers();
    std::array<void*, kRequestBurst> burst{};
    unsigned idle_rounds = 0;
    std::uint16_t first = 0;
    while (stop_signal_ == 0) {
      std::uint64_t now = monotonic_ns();
      bool worked = false;
      refresh_quotas();
      // Round robin with a rotating start and at most one burst per
      // frontend per round: a greedy frontend cannot starve the others,
      // of service or of buffers.
      for (std::uint16_t k = 0; k < proto::kMaxFrontends; ++k) {
        const auto id = static_cast<std::uint16_t>((first + k) % proto::kMaxFrontends);
        FrontendSlot& slot = registry_.slot(id);
        if (slot.state.load(std::memory_order_acquire) != SlotState::Active) continue;
        if (slot.keys_to_forget.load(std::memory_order_acquire) != 0) forget_keys(id, slot);
        worked |= exchange_buffers(id, slot);
        const unsigned n = rte_ring_sc_dequeue_burst(slot.requests, burst.data(), kRequestBurst, nullptr);
        for (unsigned i = 0; i < n && i < kPrefetchAhead; ++i) prefetch_request(burst[i]);
        for (unsigned i = 0; i < n; ++i) {
          if (i + kPrefetchAhead < n) prefetch_request(burst[i + kPrefetchAhead]);
          if (const auto f = admit(id, slot, burst[i])) submit(slot, *f, now);
        }
        worked |= n != 0;
      }
      first = static_cast<std::uint16_t>((first + 1) % proto::kMaxFrontends);

      worked |= poll_crypto() != 0;
      now = monotonic_ns();
      worked |= device_.pop_due(now, [this, now](const InFlight& f) { on_due(f, now); }) != 0;
      // Every turn: it also puts the turn's completions on their rings
      // (callback mode's included, which have no doorbell).
      ring_doorbells(now, false);
      if (now - last_housekeeping_ns_ >= kHousekeepingNs) housekeeping(now);
      idle(worked, idle_rounds);
    }
  }

  void shutdown() {
    // Nothing may stay in the cryptodev: it writes the buffers until it
    // hands an operation back.
    if (crypto_ && !drain_crypto(false))
      spdlog::error("the crypto device still holds operations 1 s into the stop");
    const auto on_device = device_.size() + aead_waiting_;
    for (auto& p : aead_)
      if (p.due && !p.done) p.done = true;  // drained above: not reached
    // Jobs still waiting hear "dropped" now rather than discovering later
    // that the backend is gone.
    device_.drain([this](const InFlight& f) {
      counters_.inflight.sub();
      FrontendSlot& slot = registry_.slot(f.frontend_id);
      if (buffers_.finish(f.index, f.ticket) && owner_alive(slot, f)) drop(slot, f);
    });
    ring_doorbells(0, true);
    // A grace period in which whatever frontends still send is answered
    // "dropped" too and they unregister: a frontend that hears "dropped"
    // stops using the rings, which are freed only after this.
    const std::uint64_t grace_end = monotonic_ns() + kStopGraceNs;
    std::array<void*, kRequestBurst> burst{};
    while (registry_.attached_count() != 0 && monotonic_ns() < grace_end) {
      for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
        FrontendSlot& slot = registry_.slot(id);
        if (slot.state.load(std::memory_order_acquire) != SlotState::Active) continue;
        // Still granted: a frontend whose jobs all wait for a request buffer
        // sends nothing, and hears "dropped" only in answer to a request
        // (without grants it learnt of the stop only when the backend was
        // gone: 1 run in 20 of a Bats test at 1 KiB).
        exchange_buffers(id, slot);
        const unsigned n = rte_ring_sc_dequeue_burst(slot.requests, burst.data(), kRequestBurst, nullptr);
        for (unsigned i = 0; i < n; ++i) {
          if (const auto f = admit(id, slot, burst[i])) {
            buffers_.finish(f->index, f->ticket);
            drop(slot, *f);
          }
        }
      }
      ring_doorbells(0, true);
      housekeeping(monotonic_ns());  // frontends that unregistered or exited
      const timespec nap{0, 1'000'000};
      ::nanosleep(&nap, nullptr);
    }
    registry_.uninstall();
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      FrontendSlot& slot = registry_.slot(id);
      if (slot.state.load(std::memory_order_acquire) == SlotState::Free) continue;
      spdlog::warn("frontend {} is still attached as the backend stops: it will find the backend gone", id);
      release(slot);
    }
    spdlog::info("stopping: served {} request(s), rejected {}, dropped {} ({} were on the device); uptime {:.1f} s",
                 counters_.served.load(), counters_.rejected.load(), dropped_, on_device,
                 static_cast<double>(monotonic_ns() - started_ns_) / 1e9);
    if (doorbells_spared_ != 0)
      spdlog::info("{} coalesced doorbell(s) not rung: their frontend had not asked (it looked at its ring by itself)",
                   doorbells_spared_);
  }

private:
  // SIGINT, SIGTERM or SIGHUP (a closed terminal) ask for a clean stop:
  // taken once per housekeeping period (an idle nap ends when one arrives).
  void take_stop_signal() {
    if (stop_signal_ != 0) return;
    stop_signal_ = stop_signals_.take();
    if (stop_signal_ != 0) spdlog::info("{}: stopping", StopSignals::name(stop_signal_));
  }

  struct Rings {
    RingPtr grants;
    RingPtr requests;
    RingPtr completions;
    RingPtr returns;
  };

  bool owner_alive(const FrontendSlot& slot, const InFlight& f) const {
    return slot.state.load(std::memory_order_acquire) == SlotState::Active &&
           slot.generation.load(std::memory_order_relaxed) == f.generation;
  }

  // The keys a forget-key action handed over (requests naming them are
  // refused already): the cryptodev is drained of whatever it holds, their
  // sessions freed, and their ids given back; the action then answers.
  void forget_keys(std::uint16_t id, FrontendSlot& slot) {
    const std::uint64_t bits = slot.keys_to_forget.load(std::memory_order_acquire);
    if (crypto_) {
      if (!drain_crypto(true)) {
        // Their ids stay used (the action says so): a session may still be
        // in use. They go when the frontend detaches.
        spdlog::error("frontend {}: the crypto device still holds operations after 1 s: its keys are kept", id);
        slot.keys_to_forget.fetch_and(~bits, std::memory_order_acq_rel);
        return;
      }
      for (unsigned k = 0; k < proto::kMaxKeysPerFrontend; ++k)
        if ((bits >> k & 1u) != 0) crypto_->forget_key(id, static_cast<std::uint16_t>(k));
      counters_.crypto_sessions.set(crypto_->sessions());
    }
    for (unsigned k = 0; k < proto::kMaxKeysPerFrontend; ++k)
      if ((bits >> k & 1u) != 0) slot.keys[k].bytes.fill(0);
    slot.keys_used.fetch_and(~bits, std::memory_order_acq_rel);
    slot.keys_to_forget.fetch_and(~bits, std::memory_order_acq_rel);
  }

  // Takes back what the frontend returned and grants what it lacks of its
  // quota. A frontend over its quota (the quotas shrank when another one
  // attached) gets nothing back until it holds less: what it returns goes
  // to the others.
  bool exchange_buffers(std::uint16_t id, FrontendSlot& slot) {
    const std::uint32_t generation = slot.generation.load(std::memory_order_relaxed);
    const auto returned = buffers_.take_returns(id, generation, slot.returns);
    if (returned.refused != 0) count_rejected(slot, returned.refused);
    const unsigned granted = buffers_.top_up(id, generation, quotas_[id], slot.grants);
    return returned.taken + returned.refused + granted != 0;
  }

  // The grant quotas (grant_quotas.hpp), recomputed whenever a frontend
  // attaches or goes: a fair share of the pool each when the pool cannot
  // cover every frontend's jobs + kGrantSlack.
  void refresh_quotas() {
    bool changed = false;
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      const FrontendSlot& slot = registry_.slot(id);
      const std::uint64_t key = slot.state.load(std::memory_order_acquire) == SlotState::Active
                                    ? (std::uint64_t{1} << 32) | slot.generation.load(std::memory_order_relaxed)
                                    : 0;
      changed |= key != quota_keys_[id];
      quota_keys_[id] = key;
    }
    if (!changed) return;
    std::array<std::uint32_t, proto::kMaxFrontends> jobs{};
    std::uint64_t wanted = 0;
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
      if (quota_keys_[id] == 0) continue;
      jobs[id] = registry_.slot(id).max_jobs;
      wanted += jobs[id] + proto::kGrantSlack;
    }
    fair_grant_quotas(jobs, proto::kGrantSlack, opts_.pool_size, quotas_);
    if (wanted <= opts_.pool_size) return;
    std::vector<std::string> shares;
    for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id)
      if (jobs[id] != 0) shares.push_back(fmt::format("frontend {} ({} jobs) {}", id, jobs[id], quotas_[id]));
    spdlog::info("the pool ({} request buffers) cannot cover every frontend's jobs + {}: fair shares {}",
                 opts_.pool_size, proto::kGrantSlack, fmt::join(shares, ", "));
  }

  // A hint only: an entry that is not a request buffer is harmless to
  // prefetch (admit() checks it before it reads anything).
  static void prefetch_request(const void* object) noexcept {
    rte_prefetch0(object);
    rte_prefetch0(static_cast<const std::uint8_t*>(object) + proto::kRequestHeadBytes);
  }

  // Checks one ring entry from frontend `id`. nullopt when it is refused:
  // dropped untouched if it is not this frontend's to send, else answered
  // "bad request".
  std::optional<InFlight> admit(std::uint16_t id, FrontendSlot& slot, void* object) {
    const std::uint32_t index = buffers_.index_of(object);
    if (index == GrantLedger::kNoIndex) {
      // Not ours to touch: nothing in it can be trusted, not even its job id.
      count_rejected(slot);
      spdlog::warn("frontend {}: dropped a ring entry that is not a request buffer ({})", id, object);
      return std::nullopt;
    }
    const std::uint32_t generation = slot.generation.load(std::memory_order_relaxed);
    std::uint32_t ticket = 0;
    switch (buffers_.accept(index, id, generation, ticket)) {
      case GrantLedger::Verdict::Ok: break;
      case GrantLedger::Verdict::NotGranted:
        // Another frontend's, or in the pool: not to be touched either.
        count_rejected(slot);
        spdlog::warn("frontend {}: dropped a request buffer that is not granted to it ({})", id, object);
        return std::nullopt;
      case GrantLedger::Verdict::OnDevice:
        count_rejected(slot);
        spdlog::warn("frontend {}: dropped a request it sent again while the device holds it ({})", id, object);
        return std::nullopt;
    }
    // One copy, validated and then used: the frontend may rewrite the shared
    // object at any time.
    proto::Request r{};
    std::memcpy(&r, object, proto::kRequestHeadBytes);
    if (proto::is_aead(r.op)) {
      std::memcpy(reinterpret_cast<std::uint8_t*>(&r) + proto::kRequestHeadBytes,
                  static_cast<const std::uint8_t*>(object) + proto::kRequestHeadBytes,
                  offsetof(proto::Request, aad) - proto::kRequestHeadBytes);
      // The AAD's whole room, whatever its length (validate_request checks
      // that): a fixed size is four vector moves, where a copy of aad_len
      // bytes compiled to `rep movsq`, whose start-up was 8 % of this core
      // at 1 KiB. (Not zeroing `r` first, to spare a `rep stosq`, was 4 %
      // slower, alternating four runs each: kept as it is.)
      std::memcpy(r.aad, static_cast<const proto::Request*>(object)->aad, sizeof r.aad);
    }
    // The one payload buffer this request may name: the one granted with
    // its object (a pool buffer, from the backend's own record). Checked
    // against it alone rather than searched for among the pool's thousands:
    // the search was 2 % of this core at 1 KiB.
    const std::uint64_t granted_payload = buffers_.granted_payload(index);
    const proto::RequestCheck check{id, generation, slot.max_jobs, opts_.buffer_bytes,
                                    std::span<const std::uint64_t>(&granted_payload, 1)};
    const char* why = proto::validate_request(r, check);
    const InFlight f{index, ticket, id, generation, r.job_id, r.payload_len, r.op};
    if (why == nullptr && proto::is_aead(r.op)) why = submit_crypto(slot, f, r);
    if (why != nullptr) {
      buffers_.finish(index, ticket);
      reject(slot, f, r, why);
      return std::nullopt;
    }
    return f;
  }

  // Hands an AES-GCM request to the cryptodev, with the IV and AAD of the
  // validated copy `r`; the reason when it cannot be.
  const char* submit_crypto(FrontendSlot& slot, const InFlight& f, const proto::Request& r) {
    if (!crypto_) return "AES-GCM needs a crypto device: this backend runs with --crypto-dev none";
    const RegisteredKey& key = slot.keys[r.key_id];
    if (key.generation.load(std::memory_order_acquire) != f.generation) return "key id not registered";
    const bool encrypt = r.op == proto::Op::AesGcmEncrypt;
    const char* why = nullptr;
    void* session = crypto_->session(f.frontend_id, f.generation, r.key_id, key.bytes, encrypt, r.aad_len, why);
    if (session == nullptr) return why;
    counters_.crypto_sessions.set(crypto_->sessions());
    crypto_->submit(CryptoSubmission{f.index, encrypt, session, reinterpret_cast<void*>(buffers_.granted_payload(f.index)),
                                     f.payload_len, std::span<const std::uint8_t>(r.iv, proto::kIvBytes),
                                     std::span<const std::uint8_t>(r.aad, r.aad_len)});
    aead_[f.index] = AeadProgress{f, false, false, proto::Status::Pending};
    return nullptr;
  }

  void submit(FrontendSlot& slot, const InFlight& f, std::uint64_t now) {
    ++slot.inflight;
    counters_.inflight.add();
    if (no_delay_ && proto::is_aead(f.op)) {
      // D = 0: due as it arrives, so it completes when the cryptodev hands
      // it back, without a trip through the scheduler.
      buffers_.request(f.index).device_start_ns = now;
      aead_[f.index].due = true;
      ++aead_waiting_;
      return;
    }
    const std::uint64_t service = sampler_.sample_ns();
    const std::uint64_t due = device_.submit(f, now, service);
    buffers_.request(f.index).device_start_ns = due - service;
  }

  // Hands the queued operations to the cryptodev and takes back what it
  // finished. The clock is read once per burst the device hands back, not
  // per operation: at 1 KiB a read per request was 10 % of this core.
  unsigned poll_crypto() {
    if (!crypto_) return 0;
    crypto_->flush();
    unsigned n = 0;
    for (unsigned got = 1; got != 0; n += got) {
      std::uint64_t now = 0;
      got = crypto_->poll([this, &now](std::uint32_t index, CryptoResult r) {
        if (now == 0) now = monotonic_ns();
        on_crypto_done(index, r, true, now);
      });
    }
    return n;
  }

  // Everything in the cryptodev, back (before buffers are taken back, or
  // the backend stops); `complete_now` as for on_crypto_done.
  bool drain_crypto(bool complete_now) {
    return crypto_->drain(
        [this, complete_now](std::uint32_t index, CryptoResult r) { on_crypto_done(index, r, complete_now, monotonic_ns()); });
  }

  // The latency model's time for `f` has come (`now`).
  void on_due(const InFlight& f, std::uint64_t now) {
    if (!proto::is_aead(f.op)) return complete(f, proto::Status::Ok, now);
    AeadProgress& p = aead_[f.index];
    if (p.done) return complete(f, p.result, now);
    p.due = true;  // the cryptodev is slower than the model: completes when it is done
    ++aead_waiting_;
  }

  // The cryptodev finished the request of `index`; it completes now if its
  // time has come. `complete_now` false: only recorded (a drain before the
  // buffers are taken back or the backend stops).
  void on_crypto_done(std::uint32_t index, CryptoResult result, bool complete_now, std::uint64_t now) {
    AeadProgress& p = aead_[index];
    p.done = true;
    p.result = status_of(result);
    if (!p.due) return;
    --aead_waiting_;
    if (complete_now) {
      complete(p.f, p.result, now);
    } else {
      counters_.inflight.sub();
      FrontendSlot& slot = registry_.slot(p.f.frontend_id);
      if (buffers_.finish(p.f.index, p.f.ticket) && owner_alive(slot, p.f)) drop(slot, p.f);
    }
  }

  void reject(FrontendSlot& slot, const InFlight& f, const proto::Request& copy, const char* why) {
    count_rejected(slot);
    spdlog::warn("frontend {} job {}: rejected request: {}", f.frontend_id, copy.job_id, why);
    if (copy.job_id >= slot.max_jobs || copy.generation != f.generation) return;  // no job of this frontend to tell
    proto::status_ref(buffers_.request(f.index))
        .store(static_cast<std::int32_t>(proto::Status::BadRequest), std::memory_order_release);
    notify(slot, f);
  }

  // Completes `f` with `status` (Ok: xor/not are applied here; AES-GCM's
  // result is already in the buffer).
  void complete(const InFlight& f, proto::Status status, std::uint64_t now) {
    counters_.inflight.sub();
    // Taken back meanwhile (its frontend is gone): it may be someone else's
    // by now. Not to be touched.
    if (!buffers_.finish(f.index, f.ticket)) return;
    FrontendSlot& slot = registry_.slot(f.frontend_id);
    // Unregistered, not yet detached: detach() takes it back.
    if (!owner_alive(slot, f)) return;
    --slot.inflight;
    proto::Request& r = buffers_.request(f.index);
    if (!proto::is_aead(f.op)) {
      std::span<std::uint8_t> payload(reinterpret_cast<std::uint8_t*>(buffers_.granted_payload(f.index)),
                                      f.payload_len);
      apply_transform(transform_of(operation_of(f.op)), payload, payload);
    }
    r.complete_ns = now;
    // Release: the frontend that reads Ok (acquire) sees the payload written.
    proto::status_ref(r).store(static_cast<std::int32_t>(status), std::memory_order_release);
    notify(slot, f);
    slot.stats.record_served(r.complete_ns - r.device_start_ns);
    const auto served = counters_.served.add();
    const auto level = served < kNarrated ? spdlog::level::info : spdlog::level::debug;
    if (level == spdlog::level::debug ? !logs_debug() : !spdlog::should_log(level)) return;
    spdlog::log(level,
                "frontend {} job {}: served request seq {} ({} bytes, {}{}) after {:.3f} ms on the device; "
                "notified it ({})",
                f.frontend_id, f.job_id, r.seq, f.payload_len, operation_name(operation_of(f.op)),
                status == proto::Status::Ok ? "" : fmt::format(", {}", proto::status_name(status)),
                static_cast<double>(r.complete_ns - r.device_start_ns) / 1e6, proto::notify_mode_name(slot.notify));
  }

  // Counted for the backend (--stats) and for the frontend that sent them
  // (telemetry's /offload/frontends).
  void count_rejected(FrontendSlot& slot, std::uint64_t n = 1) {
    counters_.rejected.add(n);
    slot.stats.record_rejected(n);
  }

  void drop(FrontendSlot& slot, const InFlight& f) {
    proto::status_ref(buffers_.request(f.index))
        .store(static_cast<std::int32_t>(proto::Status::Dropped), std::memory_order_release);
    notify(slot, f);
    ++dropped_;
  }

  // `f.job_id` was validated against the slot's max_jobs.
  void notify(FrontendSlot& slot, const InFlight& f) {
    if (slot.notify != proto::NotifyMode::EventFd) {
      // On the ring at the end of this turn (enqueue_completed).
      if (slot.completed.empty()) slots_completed_ |= 1U << f.frontend_id;
      slot.completed.push_back(&buffers_.request(f.index));
      if (slot.notify == proto::NotifyMode::Coalesced && slot.unsignalled++ == 0) {
        slot.first_unsignalled_ns = monotonic_ns();
        ++unsignalled_slots_;
      }
      return;
    }
    const int fd = slot.job_fds[f.job_id].load(std::memory_order_acquire);
    if (fd < 0) {
      spdlog::error("frontend {} job {}: no eventfd registered for this job: it cannot be woken", f.frontend_id,
                    f.job_id);
      return;
    }
    if (!signal_eventfd(fd))
      spdlog::warn("frontend {} job {}: signalling eventfd failed: {}", f.frontend_id, f.job_id, std::strerror(errno));
  }

  // Coalesced mode: one eventfd write per frontend per burst of completions,
  // after they are on its ring, so the frontend never sleeps on a full ring.
  // Frees the slot (FrontendRegistry::release), its doorbell no longer due.
  void release(FrontendSlot& slot) {
    if (slot.unsignalled != 0) --unsignalled_slots_;
    // Not for the next frontend in this slot.
    slot.completed.clear();
    slots_completed_ &= ~(1U << (&slot - registry_.slots().data()));
    registry_.release(slot);
  }

  // The turn's completions onto their frontends' rings, one burst each: an
  // enqueue reads the frontend's consumer index, a line its core writes,
  // so one enqueue per completion cost a miss each (notify() was 3 % of
  // the core at 1 KiB). Cannot fail: a ring holds as many entries as its
  // frontend may hold objects, and each is on it at most once.
  void enqueue_completed() {
    for (std::uint32_t pending = slots_completed_; pending != 0; pending &= pending - 1) {
      FrontendSlot& slot = registry_.slot(static_cast<std::uint16_t>(std::countr_zero(pending)));
      const auto n = static_cast<unsigned>(slot.completed.size());
      if (rte_ring_sp_enqueue_bulk(slot.completions, slot.completed.data(), n, nullptr) != n)
        spdlog::error("frontend {}: completion ring full: {} completion(s) lost", std::countr_zero(pending), n);
      slot.completed.clear();
    }
    slots_completed_ = 0;
  }

  // `all`: every waiting completion now (the backend stops).
  void ring_doorbells(std::uint64_t now, bool all) {
    enqueue_completed();  // before any doorbell (and before the word is read)
    if (unsignalled_slots_ == 0) return;
    const bool more_soon = (crypto_ && crypto_->outstanding() != 0) ||
                           (!device_.empty() && device_.next_due_ns() <= now + kDoorbellSoonNs);
    for (auto& slot : registry_.slots()) {
      if (slot.unsignalled == 0) continue;
      // Requests it sent that this loop has not taken yet complete soon too.
      const auto more_coming = [&] {
        return (more_soon && slot.inflight != 0) || rte_ring_count(slot.requests) != 0;
      };
      if (!all && !doorbell_due(slot.unsignalled, doorbell_batch(slot.max_jobs), more_coming,
                                slot.first_unsignalled_ns, now))
        continue;
      slot.unsignalled = 0;
      --unsignalled_slots_;
      const bool rung = all || doorbell_wanted(slot);
      slot.stats.record_doorbell(rung);
      if (!rung) {
        ++doorbells_spared_;
        continue;
      }
      const int fd = slot.doorbell_fd.load(std::memory_order_acquire);
      if (fd >= 0 && !signal_eventfd(fd)) spdlog::warn("signalling a frontend's doorbell failed: {}", std::strerror(errno));
    }
  }

  // Whether the frontend wants its doorbell rung now (proto::kRingAlways,
  // kRingOnce, kRingNever). The completions are on its ring before the
  // flag is read, and it sets kRingOnce before it looks at the ring
  // (Dekker): it sees them, or the backend sees that it asked.
  static bool doorbell_wanted(FrontendSlot& slot) {
    if (slot.doorbell_control == nullptr) return true;
    auto ring = proto::ring_ref(*slot.doorbell_control);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint32_t wanted = ring.load(std::memory_order_relaxed);
    if (wanted == proto::kRingAlways) return true;
    return wanted == proto::kRingOnce && ring.exchange(proto::kRingNever, std::memory_order_relaxed) == proto::kRingOnce;
  }

  void housekeeping(std::uint64_t now) {
    last_housekeeping_ns_ = now;
    take_stop_signal();
    if (now - last_file_sweep_ns_ >= kFileSweepNs) sweep_dead_secondaries_files(now);
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
      slot.stats.publish_occupancy(buffers_.held(id), slot.inflight);
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

  // A secondary that was killed (before or after registering) leaves its
  // own runtime files behind; they would pile up in /var/run for as long as
  // the instance lives.
  void sweep_dead_secondaries_files(std::uint64_t now) {
    last_file_sweep_ns_ = now;
    std::vector<int> pids;
    const int removed = dpdk::sweep_dead_secondaries(opts_.instance, pids);
    if (removed > 0)
      spdlog::info("removed {} runtime file(s) left by DPDK secondaries that died (pid {})", removed,
                   fmt::join(pids, ", "));
  }

  // Forgets a frontend and takes back every object granted to it, wherever
  // it is: on its rings, in its jobs, on the device (that completion is
  // stale now and will not touch it).
  void detach(std::uint16_t id, const char* why) {
    FrontendSlot& slot = registry_.slot(id);
    // The ledger knows what the rings held. A frontend killed in the middle
    // of a ring operation may have left a ring's head and tail apart: the
    // next frontend in this slot starts with clean ones.
    for (rte_ring* ring : {slot.grants, slot.requests, slot.completions, slot.returns}) rte_ring_reset(ring);
    const auto on_device = slot.inflight;
    if (crypto_) {
      // The cryptodev writes a buffer until it hands the operation back:
      // everything in it comes back before any buffer is reclaimed, and the
      // frontend's sessions go with it.
      if (!drain_crypto(true))
        spdlog::error("frontend {}: the crypto device still holds operations after 1 s", id);
      crypto_->forget_frontend(id);
      counters_.crypto_sessions.set(crypto_->sessions());
    }
    const auto reclaimed = buffers_.reclaim(id);
    release(slot);
    spdlog::info("frontend {} detached ({}): {} request buffer(s) it held reclaimed ({} were on the device)", id, why,
                 reclaimed, on_device);
  }

  void idle(bool worked, unsigned& idle_rounds) {
    // Operations in the cryptodev are finished by polling it; a moderated
    // doorbell is due within microseconds.
    if (worked || unsignalled_slots_ != 0 || (crypto_ && crypto_->outstanding() != 0)) {
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
      if (due <= now + kSpinBeforeDueNs) {
        rte_pause();
        return;
      }
      sleep_ns = std::min(sleep_ns, due - now - kSpinBeforeDueNs);
    }
    if (sleep_ns == 0) return;
    timespec ts{static_cast<time_t>(sleep_ns / 1'000'000'000), static_cast<long>(sleep_ns % 1'000'000'000)};
    std::array<pollfd, 2> wake{pollfd{wakeup_.get(), POLLIN, 0}, pollfd{stop_signals_.fd(), POLLIN, 0}};
    if (::ppoll(wake.data(), wake.size(), &ts, nullptr) <= 0) return;
    if (wake[0].revents != 0) drain_eventfd(wakeup_.get());
    if (wake[1].revents != 0) take_stop_signal();
  }

  const BackendOptions& opts_;
  StopSignals& stop_signals_;
  int stop_signal_ = 0;
  FrontendRegistry& registry_;
  BufferGrants buffers_;
  std::optional<CryptoDevice> crypto_;
  std::vector<AeadProgress> aead_;  // by request index
  std::size_t aead_waiting_ = 0;    // due, the cryptodev not done yet
  std::array<Rings, proto::kMaxFrontends> rings_;
  BackendCounters counters_;
  DeviceScheduler<InFlight> device_;
  DelaySampler sampler_;
  // Every service time is 0 (no sample exceeds the model's bound: --delay-ms
  // 0, whatever the distribution): no engine is ever busy.
  const bool no_delay_;
  UniqueFd wakeup_;  // signalled by the register action: ends an idle nap
  MemzonePtr doorbells_;  // proto::DoorbellControl per frontend slot
  std::uint64_t started_ns_;
  std::uint64_t last_housekeeping_ns_ = 0;
  std::uint64_t last_file_sweep_ns_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint32_t unsignalled_slots_ = 0;  // slots whose doorbell is due (coalesced mode)
  std::uint32_t slots_completed_ = 0;    // bit i: slot i has completions to enqueue
  static_assert(proto::kMaxFrontends <= 32, "slots_completed_ has a bit per slot");
  std::uint64_t doorbells_spared_ = 0;   // not rung: the frontend was to look by itself
  // Per frontend slot: (1 << 32 | generation) while Active, else 0; and the
  // grant quota computed for it.
  std::array<std::uint64_t, proto::kMaxFrontends> quota_keys_{};
  std::array<std::uint32_t, proto::kMaxFrontends> quotas_{};
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

// Removes the instance's runtime dir and hugepage files when it goes out of
// scope: the EAL leaves them behind, on success and on every failure after
// the instance became this backend's.
class InstanceFilesRemover {
public:
  explicit InstanceFilesRemover(std::string instance) : instance_(std::move(instance)) {}
  InstanceFilesRemover(const InstanceFilesRemover&) = delete;
  InstanceFilesRemover& operator=(const InstanceFilesRemover&) = delete;
  ~InstanceFilesRemover() {
    dpdk::remove_runtime_dir(instance_);
    dpdk::remove_hugepage_files(instance_);
  }

private:
  std::string instance_;
};

// The preallocation must fit in the free hugepages: said before the EAL
// would fail with only "Cannot allocate memory".
void require_hugepage_memory(const BackendOptions& opts, std::uint32_t needed_mb) {
  const long free_mb = dpdk::free_hugepage_mb();
  if (free_mb < 0 || needed_mb <= static_cast<std::uint64_t>(free_mb)) return;
  if (dpdk::eal_args_choose_memory(opts.eal_args)) return;  // they decide, and the EAL says
  throw EnvironmentError(fmt::format(
      "--pool-size {} needs {} MB of hugepage memory (pools, rings and room for frontends) but {} MB are free: "
      "lower --pool-size or reserve more hugepages (scripts/setup-hugepages.sh --pages {})",
      opts.pool_size, needed_mb, free_mb, (needed_mb + 1) / 2 + 64));
}

}  // namespace

int run(const BackendOptions& opts) {
  // First, while this is the only thread: every thread started later (DPDK's
  // too) inherits the blocked mask, so a stop signal waits for serve().
  StopSignals stop_signals;
  setup_logging("backend", opts.log_level);
  dpdk::refuse_reserved_eal_args(opts.eal_args);
  // Every job of every frontend hands the backend its eventfd.
  constexpr std::size_t kFdsNeeded = std::size_t{proto::kMaxFrontends} * (proto::kMaxJobsPerFrontend + 2) + 256;
  try {
    ensure_fd_limit(kFdsNeeded);
  } catch (const EnvironmentError& e) {
    spdlog::warn("{}: frontends with many jobs may be refused", e.what());
  }
  dpdk::require_hugepages();
  dpdk::EalConfig eal_config{dpdk::ProcessRole::Primary, opts.instance, opts.lcore, "warning", opts.eal_args};
  eal_config.preallocate_mb = preallocated_memory_mb(opts.pool_size, opts.buffer_bytes);
  require_hugepage_memory(opts, eal_config.preallocate_mb);
  std::optional<Watchdog> watchdog;
  {
    // The registry outlives the EAL: rte_mp actions may still be running on
    // DPDK's mp thread until rte_eal_cleanup() has stopped it.
    static FrontendRegistry registry;
    std::optional<dpdk::InstanceStartLock> start_lock(std::in_place, opts.instance);
    clean_stale_instance(opts.instance);
    // From here the instance is this backend's: whichever way run() ends,
    // after the EAL's clean-up, nothing of it remains.
    const InstanceFilesRemover remover(opts.instance);
    dpdk::EalSession eal("offload-backend", eal_config);
    start_lock.reset();  // the instance's own config lock now says it is served
    {
      Backend backend(opts, registry, stop_signals);
      // From here on the instance's memory is fixed (memory_guard.hpp says why).
      const MemoryGuard memory_guard;
      // Destroyed before the backend: no telemetry command reads it once it is freed.
      const BackendTelemetry telemetry(registry, backend.description(), opts.instance);
      write_ready_file(opts.instance);
      spdlog::info("ready: instance '{}', pid {}, lcore {}; device latency {}, {} engine(s), queue depth {}, pool {} x {} "
                   "bytes; crypto device {}. Start a frontend with: offload-frontend --instance {}; {}",
                   opts.instance, ::getpid(), opts.lcore, opts.delay.describe(),
                   opts.engines == 0 ? std::string("unlimited") : std::to_string(opts.engines), opts.queue_depth,
                   opts.pool_size, opts.buffer_bytes, opts.crypto_dev, opts.instance, telemetry.how_to_connect());
      backend.serve();
      // No longer serving, before anything is freed: a secondary that finds
      // no ready file skips DPDK's clean-up, which would read the crypto
      // device's data (dpdk::EalSession).
      dpdk::remove_ready_file(opts.instance);
      // Freeing shared memory takes DPDK's memory lock, which a frontend
      // killed during its own DPDK start-up can leave held for good (DPDK
      // records no owner to undo it). Rather than hang, say what is seen,
      // remove the instance's files and exit.
      watchdog.emplace(kCleanupBound, kExitInternal, [&instance = opts.instance] {
        spdlog::error("{} Exiting without freeing the pools; the instance's files are removed.",
                      dpdk::explain_overrun("the backend's stop", kCleanupBound.count(), instance,
                                            dpdk::observe_instance(instance)));
        dpdk::remove_runtime_dir(instance);
        dpdk::remove_hugepage_files(instance);
      });
      backend.shutdown();
    }
  }
  watchdog.reset();
  spdlog::info("stopped cleanly: {} and the instance's hugepage files removed", dpdk::runtime_dir(opts.instance));
  return kExitOk;
}

}  // namespace offload::backend
