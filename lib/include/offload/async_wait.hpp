#pragma once
// The two halves of the ASYNC wait protocol that every program here uses:
// inside a job, an eventfd registered in the job's ASYNC_WAIT_CTX is awaited
// by pausing; outside, an epoll set watches the fds the wait contexts publish.

#include <openssl/async.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include <sys/epoll.h>

#include "offload/unique_fd.hpp"

namespace offload {

// Creates a non-blocking, close-on-exec eventfd and registers it in `ctx`
// under `key` with a cleanup callback that closes it: from then on the wait
// context owns the fd. Returns -1 (errno set) on failure.
int add_wait_eventfd(ASYNC_WAIT_CTX* ctx, const void* key);

// Inside a running ASYNC job: the eventfd registered under `key` in the
// job's wait context, created (non-blocking, close-on-exec) and registered
// with a cleanup callback that closes it on first use. The wait context owns
// the fd from then on, so a reused wait context keeps its fd across jobs.
// Returns -1 (errno set) if it cannot be created or registered.
int job_wait_eventfd(const void* key);

enum class StepResult { Paused, Finished, NoJobs, Error };

// Starts `job` (when *job is null) or resumes it. `self` reaches `fn` as a
// pointer to a copy of the pointer: ASYNC_start_job copies its args, so
// passing the object itself would hand the job a stale copy (seed 000's bug).
//
// Inline, like the frames around it (JobDriver::step, the frontend's
// one_request): a resume and a pause switch stacks by longjmp, and the
// return into each frame that was live across the switch is mispredicted
// (the CPU's return stack holds the other stack's calls). One such frame
// less on each side of the switch was 14 ns of the 152 a coalesced frontend
// spends per request at 1 KiB.
inline StepResult step_job(ASYNC_JOB*& job, ASYNC_WAIT_CTX* ctx, int& ret, int (*fn)(void*), void* self) {
  switch (ASYNC_start_job(&job, ctx, &ret, fn, &self, sizeof self)) {
    case ASYNC_PAUSE: return StepResult::Paused;
    case ASYNC_FINISH: return StepResult::Finished;
    case ASYNC_NO_JOBS: return StepResult::NoJobs;
    default: return StepResult::Error;
  }
}

// Inside `fn`: recovers the `self` passed to step_job.
template <class T>
T& job_self(void* args) {
  return **static_cast<T**>(args);
}

enum class AwaitResult { Signalled, Cancelled, Error };

// Inside a running ASYNC job: pauses until `fd` has been signalled and
// consumes the signal. A resume with nothing to read is spurious and simply
// pauses again; `spurious` (if given) counts those. A set `cancel` flag ends
// the wait at the next resume.
AwaitResult await_eventfd(int fd, const std::atomic<bool>* cancel = nullptr,
                          std::uint64_t* spurious = nullptr);

// An epoll instance that maps each ready fd back to the job that owns it.
class JobEpoll {
public:
  JobEpoll();

  // After ASYNC_start_job returned ASYNC_PAUSE: registers the fds the job
  // added to `ctx` during that run (ASYNC_WAIT_CTX_get_changed_fds), and
  // forgets those it removed. `token` comes back from wait().
  void watch_changed_fds(ASYNC_WAIT_CTX* ctx, void* token);

  // Every fd currently published by `ctx` (ASYNC_WAIT_CTX_get_all_fds).
  void watch_all_fds(ASYNC_WAIT_CTX* ctx, void* token);
  void unwatch_all_fds(ASYNC_WAIT_CTX* ctx);

  void watch(int fd, void* token);
  void unwatch(int fd) noexcept;

  // Waits up to timeout_ms (-1: forever) and returns the tokens of the ready
  // fds. EINTR returns an empty span.
  std::span<void* const> wait(int timeout_ms);
  // The same, until the CLOCK_MONOTONIC time deadline_ns, to the microsecond
  // (epoll_pwait2) where wait()'s milliseconds would overshoot.
  std::span<void* const> wait_until(std::uint64_t deadline_ns);

  [[nodiscard]] int fd() const noexcept { return epfd_.get(); }

private:
  std::span<void* const> ready_tokens(int n, const char* call);

  UniqueFd epfd_;
  std::vector<epoll_event> events_;
  std::vector<void*> ready_;
};

}  // namespace offload
