#include "frontend.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rte_eal_memconfig.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <openssl/async.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <vector>

#include "offload/client/backend_link.hpp"
#include "offload/async_wait.hpp"
#include "offload/aes_gcm.hpp"
#include "offload/cipher.hpp"
#include "offload/clock.hpp"
#include "offload/completion_floor.hpp"
#include "offload/device_model.hpp"
#include "offload/dpdk/eal.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/exit_codes.hpp"
#include "offload/job_driver.hpp"
#include "offload/logging.hpp"
#include "offload/openssl_handles.hpp"
#include "offload/progress.hpp"
#include "offload/run_summary.hpp"
#include "offload/stop_signals.hpp"
#include "offload/unique_fd.hpp"
#include "offload_job.hpp"

namespace offload::frontend {

using client::query_backend_stats;
using client::require_live_backend;

namespace {

// How often the event loop checks that the backend still lives: the bound
// on noticing a dead backend.
constexpr std::uint64_t kLivenessCheckMs = 100;
constexpr unsigned kCompletionBurst = 16;
// Coalesced mode: how long one doorbell's drain may keep the event loop
// (Session::on_doorbell), a tenth of its liveness tick.
constexpr std::uint64_t kDoorbellTurnNs = kLivenessCheckMs * 1'000'000 / 10;
// After a stop signal, how long the jobs in flight get to finish before they
// are cancelled.
constexpr std::uint64_t kStopDrainMs = 1'000;
// No outcome yet: the run ends by finishing its jobs.
constexpr int kNoOutcome = -1;
// DPDK's start-up and clean-up take the instance's memory hotplug lock; a
// process killed holding it leaves every later one waiting for good. Both
// normally take well under a second (ASan builds included). The bounds are
// longer than DPDK's own 5 s rte_mp time-outs: a process that gave up while
// DPDK itself waited (holding the lock) would leave the lock held for good.
constexpr std::chrono::milliseconds kEalInitBound{10'000};
// How long a frontend waits for a backend that is still starting (its pools
// and rings are created in well under a second; the hugepage preallocation
// of a large --pool-size takes longer).
constexpr std::chrono::milliseconds kBackendReadyBound{15'000};
constexpr std::chrono::milliseconds kEalCleanupBound{8'000};
// A device faster than this is waited for by the driver's busy poll and a
// plain sleep; a slower one by a timed sleep that ends just before its
// requests are due (JobDriver::set_expected_completion).
constexpr std::uint64_t kExpectFromNs = 2 * JobDriver::kSpinLeadNs;
// --coalesced-wait nap, with a fast device: instead of sleeping until the
// doorbell rings, the frontend naps and then looks at its completion ring
// (the backend spares the eventfd write: Session::nap_ns). The nap adapts
// so that about half the jobs (at most 32, the backend's doorbell batch)
// have completed when it looks.
constexpr std::uint64_t kNapMinNs = 2'000;
constexpr std::uint64_t kNapMaxNs = 100'000;  // the backend's longest doorbell moderation
constexpr std::uint64_t kNapFirstNs = 20'000;

// Callback mode: what the application registers with
// ASYNC_WAIT_CTX_set_callback. The completion poller (the "engine") calls
// it once the request is done; it only schedules the job's resume.
struct CallbackArg {
  JobDriver* driver;
  OffloadSlot* slot;
};
int on_completion_callback(void* arg) {
  auto* a = static_cast<CallbackArg*>(arg);
  a->driver->resume_soon(*a->slot);
  return 1;
}

class Session {
public:
  Session(const FrontendOptions& opts, StopSignals& stop_signals)
      : opts_(opts),
        stop_signals_(stop_signals),
        pool_(opts.inflight, std::min<std::size_t>(opts.inflight, 64)),
        doorbell_(opts.notify == proto::NotifyMode::Coalesced ? make_eventfd() : UniqueFd()),
        link_(opts.instance, opts.inflight, opts.notify, doorbell_.get(), opts.protocol_version),
        driver_(offload_job_main, [this](JobSlot& slot) { finish(static_cast<OffloadSlot&>(slot)); }),
        slots_(opts.inflight),
        callback_args_(opts.inflight),
        progress_("[frontend]", !opts.json && ProgressLine::stderr_is_tty() && opts.total != opts.inflight) {
    prepare_work();
    std::vector<int> fds;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      OffloadSlot& slot = slots_[i];
      slot.link = &link_;
      slot.work = &work_;
      slot.job_id = i;
      slot.notify = opts.notify;
      slot.narrate = walkthrough();
      slot.inject_fault = &opts.inject_fault;
      switch (opts.notify) {
        case proto::NotifyMode::EventFd:
          // Created before any job runs: the backend must hold every job's
          // fd before the first request can reach it.
          slot.eventfd = add_wait_eventfd(slot.wait_ctx.get(), &slot);
          if (slot.eventfd < 0)
            throw EnvironmentError(fmt::format("cannot create job eventfds: {}", std::strerror(errno)));
          fds.push_back(slot.eventfd);
          break;
        case proto::NotifyMode::Callback:
          callback_args_[i] = CallbackArg{&driver_, &slot};
          ASYNC_WAIT_CTX_set_callback(slot.wait_ctx.get(), on_completion_callback, &callback_args_[i]);
          break;
        case proto::NotifyMode::Coalesced: break;
      }
    }
    if (!fds.empty()) link_.sync_job_fds(0, fds);
    if (opts.notify != proto::NotifyMode::EventFd) driver_.set_jobs_without_fds();
    // What the jobs staged goes out right after they ran, before the loop
    // does anything else: a request enqueued only just before epoll_wait
    // made the frontend sleep (a wake costs 10-20 us) where it used to
    // find its completion already there.
    driver_.set_after_poll([this] { send_staged(); });
    // The modes that sleep on an fd sleep only until just before their
    // oldest request could complete (callback mode polls anyway).
    if (opts.notify != proto::NotifyMode::Callback)
      driver_.set_expected_completion([this] { return expected_completion_ns(); });
    if (opts.notify == proto::NotifyMode::Coalesced) {
      driver_.watch_doorbell(doorbell_.get(), [this](bool rang) { on_doorbell(rang); });
      driver_.set_doorbell_probe([this] { return rte_ring_count(link_.completions()) != 0; });
      // The doorbell on request, whichever way it waits: it asks (kRingOnce)
      // just before it sleeps, and while it works it looks at its ring by
      // itself, so the backend writes no eventfd for completions it would
      // have found anyway (at 1 KiB those writes were 4 ns of the backend's
      // 154 per request). Left alone (kRingAlways), the backend would ring
      // for every batch.
      const bool on_request = link_.doorbell_control() != nullptr;
      naps_wanted_ = opts.coalesced_wait == "nap" && on_request;
      if (on_request) {
        proto::ring_ref(*link_.doorbell_control()).store(proto::kRingNever, std::memory_order_relaxed);
        driver_.set_doorbell_on_request([this] { ask_for_doorbell(); }, [this] { return nap_ns(); },
                                        [this] { on_nap(); });
      } else if (opts.coalesced_wait == "nap")
        spdlog::warn("this backend rings the doorbell for every burst of completions: --coalesced-wait nap is not "
                     "possible with it, this frontend waits for the doorbell");
    }
    summary_.program = "frontend";
    summary_.notify = std::string(proto::notify_mode_name(opts.notify));
    summary_.inflight = opts.inflight;
    summary_.op = std::string(operation_name(opts.op));
    if (opts.verify != "all") summary_.verify = opts.verify;
    summary_.requests_per_job = opts.requests_per_job;
    summary_.payload_bytes = opts.payload.payload_bytes;
  }

  int run() {
    use_precise_timers();  // callback mode's naps between polls
    const std::uint64_t started = monotonic_ns();
    // The run's CPU, without DPDK's start-up (about 0.1 s, whatever the run).
    const double cpu_at_start = process_cpu_seconds();
    // A fixed 60 s default timed out every job of a backend with
    // --delay-ms 60000; the backend's timing comes with the register reply.
    const std::uint64_t timeout_ms =
        opts_.timeout_ms != 0 ? opts_.timeout_ms
                              : derived_timeout_ms(link_.latency_bound_ms(), link_.engines(), opts_.inflight,
                                                   opts_.total, opts_.duration_s);
    if (opts_.timeout_ms == 0)
      spdlog::debug("run bounded at {} ms (derived from the backend's device: {} engine(s), up to {} ms a request)",
                    timeout_ms, link_.engines(), link_.latency_bound_ms());
    const std::uint64_t deadline = started + timeout_ms * 1'000'000ULL;
    stop_starting_ns_ = opts_.duration_s > 0 ? started + static_cast<std::uint64_t>(opts_.duration_s * 1e9) : UINT64_MAX;
    std::uint64_t last_check = started;
    // A signal that came during start-up is taken now that DPDK's start-up
    // and the registration are complete: no job starts.
    take_stop_signal(started);
    if (!walkthrough() && !stopping_)
      spdlog::info("load: {} job(s) in flight, {}, notify {}", opts_.inflight,
                   opts_.total != 0 ? fmt::format("{} requests", opts_.total)
                                    : fmt::format("for {} s", opts_.duration_s),
                   proto::notify_mode_name(opts_.notify));

    for (auto& slot : slots_) start_next(slot);
    unsigned idle_rounds = 0;
    while (driver_.active() > 0) {
      const std::uint64_t now = monotonic_ns();
      if (now >= deadline) {
        end_run(kExitTimeout, fmt::format("timed out after {} ms", timeout_ms), false);
        break;
      }
      if (now >= drain_deadline_) {
        end_run(outcome_, fmt::format("stopping on {}", StopSignals::name(stop_signal_)), false);
        break;
      }
      if (now - last_check >= kLivenessCheckMs * 1'000'000) {
        last_check = now;
        if (!link_.backend_alive()) {
          end_run(kExitPeerLost,
                  fmt::format("the backend of instance '{}' died (its DPDK primary is gone)", opts_.instance), true);
          break;
        }
        take_stop_signal(now);
        progress_.update(summary_.ok + summary_.failed, opts_.total, now);
      }
      const std::uint64_t until = std::min(deadline, drain_deadline_);
      const int wait_ms = static_cast<int>(std::min<std::uint64_t>((until - now) / 1'000'000 + 1, kLivenessCheckMs));
      // What the jobs staged since the last turn goes out before any wait.
      send_staged();
      if (opts_.notify == proto::NotifyMode::Callback)
        poll_completions(idle_rounds);
      else
        driver_.poll(wait_ms);
    }
    progress_.finish();
    if (driver_.lost_doorbells() != 0)
      spdlog::warn("{} wait(s) of {} ms or more ran out with completions on the ring: the backend never rang for "
                   "them (lost doorbells)",
                   driver_.lost_doorbells(), JobDriver::kLostDoorbellWaitMs);
    if (answers_after_end_ != 0)
      spdlog::debug("{} answer(s) to the requests of jobs already ended came back after the run ended: ignored",
                    answers_after_end_);
    if (opts_.notify == proto::NotifyMode::Coalesced)
      spdlog::debug("coalesced: asked for the doorbell {} time(s), napped {} time(s) (the last nap {:.1f} us)",
                    doorbell_asks_, summary_.naps, static_cast<double>(nap_ns_) / 1e3);

    summary_.jobs = started_;
    summary_.wall_s = static_cast<double>(monotonic_ns() - started) / 1e9;
    summary_.cpu_s = process_cpu_seconds() - cpu_at_start;
    summary_.pending = summary_.jobs - summary_.ok - summary_.failed;
    std::fputs(opts_.json ? (summary_.to_json() + "\n").c_str() : summary_.to_text().c_str(), stdout);
    std::fflush(stdout);
    if (outcome_ != kNoOutcome) return outcome_;
    return summary_.failed == 0 ? kExitOk : kExitJobsFailed;
  }

private:
  [[nodiscard]] bool walkthrough() const { return opts_.total == opts_.inflight && opts_.duration_s == 0.0; }

  // What every job does, now that the backend said how large its buffers
  // are; AES-GCM's key is registered with it here, once.
  void prepare_work() {
    work_.op = opts_.op;
    work_.capacity = proto::max_message_bytes(static_cast<proto::Op>(opts_.op), link_.buffer_bytes());
    const std::size_t size =
        opts_.payload.payload_bytes != 0 ? opts_.payload.payload_bytes : opts_.payload.message.size();
    if (size > work_.capacity)
      throw UsageError(fmt::format("a message of {} bytes does not fit the backend's {}-byte buffers (at most {} bytes "
                                   "for {}): send less, or start the backend with a larger --buffer-size",
                                   size, link_.buffer_bytes(), work_.capacity, operation_name(opts_.op)));
    work_.verify = opts_.verify == "none"     ? JobWork::Verify::None
                   : opts_.verify == "sample" ? JobWork::Verify::Sample
                                              : JobWork::Verify::All;
    work_.corrupt_tag_job = opts_.corrupt_tag_job;
    work_.requests_per_job = opts_.requests_per_job;
    work_.begin_next = [this](OffloadSlot& slot) { return begin_next_request(slot); };
    work_.unstamped = &unstamped_;
    if (!is_aead(opts_.op)) return;
    work_.key = opts_.key_hex.empty() ? random_gcm_key() : *parse_gcm_key(opts_.key_hex);
    spdlog::debug("AES-256 key of this run: {}", to_hex(work_.key));
    const GcmKey salt = random_gcm_key();
    std::memcpy(&work_.iv_salt, salt.data(), sizeof work_.iv_salt);
    work_.aad_len = opts_.aad_len;
    work_.key_id = link_.add_key(work_.key);
  }

  // When the oldest request on the backend may complete, going by the
  // device's shortest recent times; 0 (sleep until woken) while that is
  // unknown or too short to be worth a timed sleep (the driver's busy poll
  // covers it). The device's time, not submit to completion: at D = 0 with
  // 64 requests of 16 KiB in flight each waits about 0.5 ms behind the
  // others, and a frontend that expected that spun through its waits
  // (twice the CPU, now and then).
  std::uint64_t expected_completion_ns() const {
    const std::uint64_t floor = completion_floor_.floor_ns();
    if (floor < kExpectFromNs) return 0;
    std::uint64_t oldest = UINT64_MAX;
    for (const OffloadSlot& slot : slots_)
      if (slot.busy && slot.on_backend && slot.submitted_ns != 0) oldest = std::min(oldest, slot.submitted_ns);
    return oldest == UINT64_MAX ? 0 : oldest + floor;
  }

  // Whether the run starts another request: not once it is ending (driver_
  // closed: start() would refuse; checked before the request is counted),
  // nor past --total or --duration.
  bool may_start_another() const {
    if (stopping_ || driver_.closed() || link_.backend_stopping()) return false;
    if (opts_.total != 0 && started_ >= opts_.total) return false;
    return stop_starting_ns_ == UINT64_MAX || monotonic_ns() < stop_starting_ns_;
  }

  void start_next(OffloadSlot& slot) {
    if (!may_start_another()) return;
    begin_request(slot);
    driver_.start(slot);
  }

  // The slot's next request, counted.
  void begin_request(OffloadSlot& slot) {
    ++started_;
    slot.begin(opts_.payload.message, opts_.payload.payload_bytes, link_.frontend_id());
  }

  // What the jobs staged goes to the backend, each request stamped with
  // the time it is sent: one clock read per burst, not one per request (at
  // 1 KiB the frontend spent 13 % of its time reading the clock).
  void send_staged() {
    if (!unstamped_.empty()) {
      const std::uint64_t now = monotonic_ns();
      for (OffloadSlot* slot : unstamped_) {
        // Not yet on the ring (link_.flush() below puts it there): still
        // this frontend's to write.
        slot->submitted_ns = now;
        if (slot->request != nullptr) slot->request->submit_ns = now;
      }
      unstamped_.clear();
    }
    link_.flush();
  }

  // The completion ring, drained in a burst: each completed request's job
  // is resumed now (coalesced) or through its wait context's callback.
  unsigned drain_completions() {
    std::array<void*, kCompletionBurst> done{};
    const unsigned n = rte_ring_sc_dequeue_burst(link_.completions(), done.data(), kCompletionBurst, nullptr);
    const std::uint64_t seen = n != 0 ? monotonic_ns() : 0;
    for (unsigned i = 0; i < n; ++i) {
      const auto* r = static_cast<const proto::Request*>(done[i]);
      if (r->job_id >= slots_.size() || !slots_[r->job_id].busy) {
        // Once end_run() has cancelled the jobs still out, the backend's
        // answers to their requests keep coming ("dropped" when it stops):
        // expected, and said once at the end. Before that, news.
        if (driver_.closed())
          ++answers_after_end_;
        else
          spdlog::warn("completion for job {} which is not waiting: ignored", r->job_id);
        continue;
      }
      OffloadSlot& slot = slots_[r->job_id];
      slot.seen_ns = seen;
      if (opts_.notify == proto::NotifyMode::Coalesced) {
        driver_.step(slot);
        continue;
      }
      ASYNC_callback_fn callback = nullptr;
      void* arg = nullptr;
      if (ASYNC_WAIT_CTX_get_callback(slot.wait_ctx.get(), &callback, &arg) == 1 && callback != nullptr) {
        ASYNC_WAIT_CTX_set_status(slot.wait_ctx.get(), ASYNC_STATUS_OK);
        callback(arg);
      }
    }
    return n;
  }

  // Coalesced mode: the doorbell rang. What the resumed jobs staged goes
  // out after each burst, not after the last: at D = 2 ms, J = 64 a whole
  // ring's worth of jobs ran before any new request left (95 % of J/D, 97 %
  // with this). At D = 0 the requests sent meanwhile keep the ring filled,
  // and a drain until it was empty kept the event loop from its deadline,
  // liveness and signal checks for as long as that lasted (a SIGINT at
  // J = 256 with 8-byte requests was taken 0.2-0.6 s late): a turn drains
  // for kDoorbellTurnNs at most, and what is left re-rings the doorbell.
  // (A ring's worth per turn instead cost 3 syscalls per 64 completions:
  // 0.074 against 0.067 s/GB of frontend CPU at 16 KiB, medians of five.)
  void on_doorbell(bool rang) {
    if (rang) drain_eventfd(doorbell_.get());
    const std::uint64_t turn_ends = monotonic_ns() + kDoorbellTurnNs;
    unsigned drained = 0;
    for (unsigned n = 0; (n = drain_completions()) != 0;) {
      drained += n;
      send_staged();
      if (monotonic_ns() < turn_ends) continue;
      if (rte_ring_count(link_.completions()) != 0 && !signal_eventfd(doorbell_.get()))
        spdlog::warn("re-ringing this frontend's own doorbell failed: {}", std::strerror(errno));
      break;
    }
    if (napped_) adapt_nap(drained);
  }

  // Coalesced mode, the doorbell rung on request: this frontend is about
  // to sleep until it rings. A look at the completion ring follows
  // (JobDriver), and the fence orders the two (the backend's side:
  // Backend::ring_doorbells). The flag stays set until the backend rings
  // (it clears it then), and is written only when the backend did: it is
  // a cache line both cores touch.
  void ask_for_doorbell() {
    auto ring = proto::ring_ref(*link_.doorbell_control());
    if (ring.load(std::memory_order_relaxed) == proto::kRingOnce) return;
    ring.store(proto::kRingOnce, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    ++doorbell_asks_;
  }

  // How long to nap instead of sleeping until the doorbell rings
  // (--coalesced-wait nap): only with requests on the backend and a device
  // too fast for a timed sleep until an expected completion (0: no nap).
  std::uint64_t nap_ns() const {
    if (!naps_wanted_ || completion_floor_.floor_ns() >= kExpectFromNs) return 0;
    if (std::none_of(slots_.begin(), slots_.end(), [](const OffloadSlot& s) { return s.busy && s.on_backend; }))
      return 0;
    return nap_ns_;
  }

  void on_nap() {
    if (napped_) adapt_nap(0);  // the last nap found nothing
    napped_ = true;
    ++summary_.naps;
  }

  // After a nap: fewer completions than half the jobs (at most the
  // backend's doorbell batch) waste a wake; many more left the backend
  // without work for a while.
  void adapt_nap(unsigned completions) {
    napped_ = false;
    const std::uint32_t target = std::clamp<std::uint32_t>(opts_.inflight / 2, 1, 32);
    if (completions < target / 2)
      nap_ns_ = std::min(kNapMaxNs, nap_ns_ + nap_ns_ / 4);
    else if (completions > target + target / 2)
      nap_ns_ = std::max(kNapMinNs, nap_ns_ - nap_ns_ / 4);
  }

  // Callback mode has no fd to sleep on: it polls the completion ring, the
  // way an async engine's polling thread does, and naps briefly when idle.
  void poll_completions(unsigned& idle_rounds) {
    const unsigned n = drain_completions();
    driver_.run_retries();
    send_staged();
    if (n != 0) {
      idle_rounds = 0;
      return;
    }
    if (++idle_rounds < 1024) return;
    const timespec nap{0, 20'000};
    ::nanosleep(&nap, nullptr);
  }

  void finish(OffloadSlot& slot) {
    if (!slot.start_error.empty()) slot.failure = slot.start_error;
    if (slot.cancel.load(std::memory_order_acquire)) {
      // Ended by end_run()'s cancel pass, whatever it was waiting for (a
      // grant, a ring slot, the backend), and named in its one line. Counted
      // once: failed, or pending (the jobs neither ok nor failed).
      if (cancelled_as_failed_) ++summary_.failed;
      return;
    }
    if (link_.backend_stopping())
      // The backend answered "dropped": it is stopping. No new requests; the
      // jobs still out are failed now rather than left to time out.
      end_run(kExitPeerLost,
              fmt::format("the backend of instance '{}' is stopping (it answered 'dropped')", opts_.instance), true);
    account(slot);
    start_next(slot);
  }

  // Inside a job that goes on (--requests-per-job): its verified request is
  // accounted for as finish() would, and its next one begun, unless the run
  // starts no more.
  bool begin_next_request(OffloadSlot& slot) {
    if (!may_start_another()) return false;
    slot.ret = 1;
    account(slot);
    begin_request(slot);
    return true;
  }

  // A finished request's latency, the device's time and its outcome.
  void account(OffloadSlot& slot) {
    if (slot.latency_ns != 0) summary_.latency.record(slot.latency_ns);
    if (slot.device_ns != 0) completion_floor_.record(slot.device_ns);
    if (slot.ret == 1) {
      ++summary_.ok;
      if (slot.narrate)
        spdlog::log(slot.job_id < kNarratedJobs ? spdlog::level::info : spdlog::level::debug,
                    "job {}: verified: {} -> {} (device {:.3f} ms, submit to resume {:.3f} ms)", slot.job_id,
                    hex_preview(slot.input),
                    hex_preview(slot.result_preview) +
                        (slot.input.size() > 16 ? fmt::format(" … ({} bytes)", slot.input.size()) : ""),
                    static_cast<double>(slot.device_ns) / 1e6, static_cast<double>(slot.latency_ns) / 1e6);
    } else {
      ++summary_.failed;
      spdlog::error("job {}: FAILED: {}", slot.job_id, slot.failure);
    }
  }

  // A pending SIGINT, SIGTERM or SIGHUP: no new job starts; the jobs in
  // flight get kStopDrainMs to finish, then they are cancelled (pending). A
  // second signal cancels them at once. The run's outcome is the signal's
  // exit code unless it already had one.
  void take_stop_signal(std::uint64_t now) {
    const int signo = stop_signals_.take();
    if (signo == 0) return;
    if (stop_signal_ != 0) {
      spdlog::warn("{} again: cancelling the {} job(s) in flight now", StopSignals::name(signo), driver_.active());
      drain_deadline_ = now;
      return;
    }
    stop_signal_ = signo;
    stopping_ = true;
    if (outcome_ == kNoOutcome) outcome_ = StopSignals::exit_code(signo);
    drain_deadline_ = now + kStopDrainMs * 1'000'000;
    spdlog::warn("{}: stopping: no new jobs; the {} in flight get {} ms to finish", StopSignals::name(signo),
                 driver_.active(), kStopDrainMs);
  }

  // Ends the run for `why`. `exit_code` becomes its outcome unless an
  // earlier cause set one: the first cause wins, so a timeout's cancel pass
  // that meets a "dropped" answer cannot turn exit 4 into 5 afterwards, nor
  // the other way round. Then, once, every job still out is cancelled:
  // resumed with its cancel flag set so that it frees its ASYNC stack, and
  // counted as failed when `jobs_failed` (the backend is gone), else as
  // pending. No job starts after this, whatever path a job finishes by.
  // Requests the backend still holds are reclaimed by the backend when this
  // frontend goes.
  void end_run(int exit_code, const std::string& why, bool jobs_failed) {
    if (outcome_ == kNoOutcome) outcome_ = exit_code;
    stopping_ = true;
    if (driver_.closed()) return;  // a cancel pass ran, or is running (this is a job it ended)
    // Its rings may be unmapped by now: nothing more goes on them.
    if (exit_code == kExitPeerLost) link_.mark_backend_stopping();
    cancelled_as_failed_ = jobs_failed;
    const auto pending = driver_.cancel_busy(slots_);
    spdlog::log(stop_signal_ != 0 && !jobs_failed ? spdlog::level::warn : spdlog::level::err,
                "{}: {} job(s) were outstanding (jobs {}){}", why, pending.size(), id_list(pending),
                jobs_failed ? ": failed them" : ": cancelled them (pending)");
  }

  const FrontendOptions& opts_;
  StopSignals& stop_signals_;
  AsyncThreadPool pool_;
  UniqueFd doorbell_;
  std::vector<OffloadSlot*> unstamped_;  // see JobWork::unstamped
  BackendLink link_;
  JobWork work_;
  JobDriver driver_;
  std::vector<OffloadSlot> slots_;
  std::vector<CallbackArg> callback_args_;
  ProgressLine progress_;
  RunSummary summary_;
  CompletionFloor completion_floor_;
  std::uint64_t started_ = 0;
  std::uint64_t stop_starting_ns_ = UINT64_MAX;
  int outcome_ = kNoOutcome;
  bool stopping_ = false;  // no new job starts: a stop signal came, or the run ended
  bool cancelled_as_failed_ = false;
  int stop_signal_ = 0;
  std::uint64_t drain_deadline_ = UINT64_MAX;
  // Coalesced mode with the doorbell rung on request. (At the end: placed
  // after unstamped_, these made 256 jobs of 8 bytes 10 % slower, every run
  // of six; a layout effect not understood.)
  std::uint64_t nap_ns_ = kNapFirstNs;
  bool naps_wanted_ = false;  // --coalesced-wait nap, and the backend can spare its doorbell
  bool napped_ = false;       // the driver's last wait was a nap
  std::uint64_t doorbell_asks_ = 0;
  std::uint64_t answers_after_end_ = 0;  // see drain_completions
};

// Testing aid (--die-holding-memory-lock).
[[noreturn]] void die_holding_memory_lock() {
  rte_mcfg_mem_read_lock();
  spdlog::warn("testing aid: dying by SIGKILL while holding DPDK's shared memory lock, as a frontend killed during "
               "its DPDK start-up does (pid {})",
               ::getpid());
  std::fflush(nullptr);
  ::raise(SIGKILL);
  std::abort();  // not reached
}

int print_stats(const FrontendOptions& opts) {
  const auto s = query_backend_stats();
  std::printf(
      "{\"instance\":\"%s\",\"mempool_size\":%llu,\"mempool_available\":%llu,\"msg_pool_size\":%llu,"
      "\"msg_pool_available\":%llu,\"frontends\":%u,\"inflight\":%llu,\"served\":%llu,\"rejected\":%llu,"
      "\"uptime_s\":%.3f,\"crypto_sessions\":%llu}\n",
      opts.instance.c_str(), static_cast<unsigned long long>(s.payload_pool_size),
      static_cast<unsigned long long>(s.payload_pool_available), static_cast<unsigned long long>(s.request_pool_size),
      static_cast<unsigned long long>(s.request_pool_available), s.frontends, static_cast<unsigned long long>(s.inflight),
      static_cast<unsigned long long>(s.served), static_cast<unsigned long long>(s.rejected),
      static_cast<double>(s.uptime_ms) / 1000.0, static_cast<unsigned long long>(s.crypto_sessions));
  return kExitOk;
}

}  // namespace

int run(const FrontendOptions& opts) {
  // First, before DPDK creates its threads (they inherit the mask) and
  // before its start-up takes the instance's shared locks: a signal now
  // waits for the event loop instead of killing the process wherever it is.
  StopSignals stop_signals;
  setup_logging("frontend", opts.log_level);
  // A usage error before an environment one: no backend is no reason to hide it.
  dpdk::refuse_reserved_eal_args(opts.eal_args);
  dpdk::refuse_secondary_incompatible_eal_args(opts.eal_args);
  // Checked before the EAL: with no primary, rte_eal_init fails with only
  // EAL's own words and leaves an empty runtime dir behind.
  require_live_backend(opts.instance, kBackendReadyBound);
  {
    std::vector<int> dead;
    if (const int removed = dpdk::sweep_dead_secondaries(opts.instance, dead); removed > 0)
      spdlog::debug("removed {} runtime file(s) left by DPDK secondaries that died (pid {})", removed,
                    fmt::join(dead, ", "));
  }
  ensure_fd_limit(std::size_t{opts.inflight} + 128);
  std::optional<dpdk::EalSession> eal;
  try {
    eal.emplace("offload-frontend", dpdk::EalConfig{dpdk::ProcessRole::Secondary, opts.instance, opts.lcore, "warning",
                                                    opts.eal_args, kEalInitBound, kEalCleanupBound});
  } catch (const EnvironmentError&) {
    // The backend stopped while this process attached: what the attempt
    // re-created of the instance would outlive both.
    if (!dpdk::remove_instance_if_unserved(opts.instance)) throw;
    throw EnvironmentError(fmt::format("the backend of instance '{}' stopped while this frontend was attaching; start "
                                       "it again (offload-backend --instance {})",
                                       opts.instance, opts.instance));
  }
  if (opts.die_holding_memory_lock) die_holding_memory_lock();
  if (opts.stats) return print_stats(opts);
  Session session(opts, stop_signals);
  return session.run();
}

}  // namespace offload::frontend
