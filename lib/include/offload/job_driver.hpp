#pragma once
// The application side of the ASYNC pattern, shared by every program here:
// start a job per slot, and when ASYNC_start_job reports a pause, watch the
// fds the job published in its ASYNC_WAIT_CTX; resume the job when one is
// readable (the job itself decides whether the resume was spurious); retry
// a start that found the ASYNC pool empty; report each finished job.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "offload/async_wait.hpp"
#include "offload/openssl_handles.hpp"

namespace offload {

// One in-flight position. Programs derive their per-job state from it. Its
// wait context (and the fds in it) is reused by every job run in the slot,
// the way async engines keep theirs.
struct JobSlot {
  WaitCtxPtr wait_ctx = make_wait_ctx();
  ASYNC_JOB* async_job = nullptr;
  int ret = 0;
  bool busy = false;
  std::uint32_t job_id = 0;
  std::atomic<bool> cancel{false};  // set by cancel_busy, read by the job when resumed: end now
  std::string start_error;          // set when ASYNC_start_job itself failed
};

// Inside a job: asks the event loop to resume this job on its next turn
// and pauses (the async engines' ASYNC_STATUS_EAGAIN pattern: a full ring
// or an empty pool is waited out without blocking the thread). Returns
// false if the pause failed.
bool retry_later();

// Inside a job function started by JobDriver: the slot it runs for.
template <class Slot>
Slot& job_slot(void* args) {
  return static_cast<Slot&>(job_self<JobSlot>(args));
}

class JobDriver {
public:
  using JobFn = int (*)(void*);
  using SlotFn = std::function<void(JobSlot&)>;

  // `on_finish` runs when a slot's job has finished (ret holds its result,
  // the slot's cancel flag says whether cancel_busy ended it); it may start
  // the next job in the same slot.
  JobDriver(JobFn job_fn, SlotFn on_finish);

  // Called after each pause, e.g. to inject a spurious resume.
  void set_on_pause(SlotFn on_pause) { on_pause_ = std::move(on_pause); }
  // The jobs publish no wait fds (a doorbell or a callback resumes them):
  // a pause then does not ask the wait context for changed fds (asked at
  // every pause, 3 ns of a coalesced frontend's 165 per request at 1 KiB).
  void set_jobs_without_fds() noexcept { jobs_have_fds_ = false; }

  // Watches one fd that is no job's (a shared completion doorbell):
  // `on_ready(true)` runs when it is readable, `on_ready(false)` when its
  // completions were seen without it (the probe below).
  void watch_doorbell(int fd, std::function<void(bool rang)> on_ready);
  // Called at the end of every poll(), after the jobs it ran: where the
  // frontend sends what its jobs staged, as soon as possible (its next
  // poll may sleep).
  void set_after_poll(std::function<void()> after_poll) { after_poll_ = std::move(after_poll); }
  // When the next completion is expected (CLOCK_MONOTONIC ns; 0: no
  // expectation), asked whenever poll() is about to sleep: it then sleeps
  // only until kSpinLeadNs before that time and polls from there, at most
  // kSpinPastNs past it, once per expectation. A wake from an idle vCPU
  // costs 50-150 us here, now and then milliseconds: sleeping through a
  // completion due 2 ms after its request made the eventfd and coalesced
  // modes reach 84-90 % of J/D where polling reached 97 %.
  void set_expected_completion(std::function<std::uint64_t()> expected_ns) {
    expected_completion_ = std::move(expected_ns);
  }
  // What shows that the doorbell's completions are there before it rings
  // (the backend moderates it): the busy poll and the poll for an
  // expectation check it (the busy poll instead of the fds: a load, not a
  // system call), on_ready then runs as if it had rung.
  void set_doorbell_probe(std::function<bool()> probe) { doorbell_probe_ = std::move(probe); }
  // A doorbell rung only on request (protocol.hpp, DoorbellControl): the
  // other side rings once per request and no more. Before a sleep that
  // counts on the doorbell, `ask_for_doorbell()`, then the probe once more
  // (no sleep when it finds completions). Instead of such a sleep, a nap of
  // `nap_ns()` (0: none; `on_nap()` as it starts) without asking, after the
  // busy poll (which probes): the driver then probes by itself. That spares
  // the other side its write and, on a VM, the wake of a halted vCPU.
  void set_doorbell_on_request(std::function<void()> ask_for_doorbell, std::function<std::uint64_t()> nap_ns,
                               std::function<void()> on_nap) {
    ask_for_doorbell_ = std::move(ask_for_doorbell);
    nap_ns_ = std::move(nap_ns);
    on_nap_ = std::move(on_nap);
  }
  // Waits of kLostDoorbellWaitMs or more that ran out with completions on
  // the ring (found by the probe): doorbells that were due and never rang.
  [[nodiscard]] std::uint64_t lost_doorbells() const noexcept { return lost_doorbells_; }
  static constexpr int kLostDoorbellWaitMs = 10;
  static constexpr std::uint64_t kSpinLeadNs = 250'000;
  static constexpr std::uint64_t kSpinPastNs = 250'000;

  // Resumes the slot's job on the next poll() (e.g. its completion was
  // reported through a callback rather than an fd).
  void resume_soon(JobSlot& slot) { retry_.push_back(&slot); }

  // Starts a job in an idle slot. False, and the slot stays idle, once the
  // driver is closed.
  bool start(JobSlot& slot);
  // Resumes (or retries) the job in a busy slot. Inline, and what follows
  // the resume out of line (step_job says why).
  void step(JobSlot& slot) {
    // Readiness reported for an idle slot is stale (e.g. a signal for a job
    // that was cancelled): resuming it would start a new job from a null
    // ASYNC_JOB*. Only start() begins jobs.
    if (!slot.busy) return;
    stepped(slot, step_job(slot.async_job, slot.wait_ctx.get(), slot.ret, job_fn_, &slot));
  }

  // One turn of the event loop: resumes the jobs due for a retry (a start
  // that found no pool job, a job that paused with ASYNC_STATUS_EAGAIN, a
  // resume_soon), then waits up to wait_ms (0 if any of those were waiting)
  // and resumes every job whose wait fd became readable.
  void poll(int wait_ms);
  // The first half of poll(): only the jobs due for a retry.
  void run_retries();

  // No job starts from now on (start() refuses), whatever finishes.
  void close() noexcept { closed_ = true; }
  [[nodiscard]] bool closed() const noexcept { return closed_; }

  // Ends the run: closes the driver, then ends every busy job early: sets
  // its cancel flag and resumes it, so it returns and frees its ASYNC stack
  // (a paused job cannot be freed any other way). The finish callback sees
  // the flag set, whatever path the job ended by, and can start nothing. A
  // slot that never got an ASYNC job (the pool was empty) is finished
  // without running one. Returns the cancelled job ids, sorted. Whatever
  // could still signal those jobs must have been stopped first.
  template <class Slot>
  std::vector<std::uint32_t> cancel_busy(std::vector<Slot>& slots) {
    close();
    std::vector<std::uint32_t> ids;
    // Every flag first: a job that ends in this pass, and its finish
    // callback, see the others cancelled too.
    for (JobSlot& slot : slots) {
      if (!slot.busy) continue;
      ids.push_back(slot.job_id);
      slot.cancel.store(true, std::memory_order_release);
    }
    for (JobSlot& slot : slots) end_cancelled(slot);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  [[nodiscard]] std::size_t active() const noexcept { return active_; }
  JobEpoll& epoll() noexcept { return epoll_; }

private:
  void stepped(JobSlot& slot, StepResult result);
  void finished(JobSlot& slot);
  void end_cancelled(JobSlot& slot);

  JobFn job_fn_;
  SlotFn on_finish_;
  SlotFn on_pause_;
  JobEpoll epoll_;
  std::deque<JobSlot*> retry_;
  std::function<void(bool)> on_doorbell_;
  std::function<void()> after_poll_;
  // Adaptive busy polling before poll() blocks: a completion that comes
  // within a few microseconds is caught without a sleep and a wake (10-20 us
  // across processes here). The budget halves whenever it catches nothing
  // (a device with latency D: no CPU spent spinning for nothing) and is
  // restored whenever it catches something.
  std::uint64_t busy_poll_ns_ = kBusyPollMaxNs;
  std::uint64_t polls_without_busy_ = 0;
  static constexpr std::uint64_t kBusyPollMaxNs = 8'000;
  std::function<std::uint64_t()> expected_completion_;
  std::uint64_t spun_for_ = 0;  // the expectation last polled for
  std::span<void* const> wait_events(int wait_ms);
  std::span<void* const> wait_expecting(std::uint64_t expected_ns, int wait_ms);
  std::span<void* const> nap(std::uint64_t nap_ns, int wait_ms);
  std::span<void* const> probed() const;
  std::function<bool()> doorbell_probe_;
  std::function<void()> ask_for_doorbell_;
  std::function<std::uint64_t()> nap_ns_;
  std::function<void()> on_nap_;
  std::uint64_t lost_doorbells_ = 0;
  std::span<void* const> busy_poll(bool probe);
  char doorbell_token_ = 0;
  char seen_token_ = 0;  // the probe found the doorbell's completions
  void* const seen_ready_[1] = {&seen_token_};
  std::size_t active_ = 0;
  bool closed_ = false;
  bool jobs_have_fds_ = true;
};

}  // namespace offload
