#pragma once
// The application side of the ASYNC pattern, shared by every program here:
// start a job per slot, and when ASYNC_start_job reports a pause, watch the
// fds the job published in its ASYNC_WAIT_CTX; resume the job when one is
// readable (the job itself decides whether the resume was spurious); retry
// a start that found the ASYNC pool empty; report each finished job.

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

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
  std::string start_error;  // set when ASYNC_start_job itself failed
};

// Inside a job function started by JobDriver: the slot it runs for.
template <class Slot>
Slot& job_slot(void* args) {
  return static_cast<Slot&>(job_self<JobSlot>(args));
}

class JobDriver {
public:
  using JobFn = int (*)(void*);
  using SlotFn = std::function<void(JobSlot&)>;

  // `on_finish` runs when a slot's job has finished (ret holds its result);
  // it may start the next job in the same slot.
  JobDriver(JobFn job_fn, SlotFn on_finish);

  // Called after each pause, e.g. to inject a spurious resume.
  void set_on_pause(SlotFn on_pause) { on_pause_ = std::move(on_pause); }

  // Starts a job in an idle slot.
  void start(JobSlot& slot);
  // Resumes (or retries) the job in a busy slot.
  void step(JobSlot& slot);

  // One turn of the event loop: retries starved starts, then waits up to
  // wait_ms (0 if a start is waiting for a pool job) and resumes every job
  // whose wait fd became readable.
  void poll(int wait_ms);

  [[nodiscard]] std::size_t active() const noexcept { return active_; }
  JobEpoll& epoll() noexcept { return epoll_; }

private:
  void finished(JobSlot& slot);

  JobFn job_fn_;
  SlotFn on_finish_;
  SlotFn on_pause_;
  JobEpoll epoll_;
  std::deque<JobSlot*> starved_;
  std::size_t active_ = 0;
};

}  // namespace offload
