#pragma once
// A forked peer for the cross-process measurements, owned like a handle: it
// is always reaped, and killed first if it has not exited by then.

#include <sys/types.h>

#include <chrono>
#include <functional>

namespace offload::microbench {

// Exit codes of a child body (beside 0), so the parent can say what went wrong.
inline constexpr int kChildIdleTimeout = 10;  // the parent went quiet for too long
inline constexpr int kChildProtocolError = 11;
inline constexpr int kChildSetupFailed = 12;

class ChildProcess {
public:
  // Forks. The child pins itself to `cpu`, arranges to be killed if the
  // parent dies, runs `body` and _exit()s with its result (never returning
  // into the parent's code, never running its atexit handlers).
  ChildProcess(int cpu, const std::function<int()>& body);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Waits up to `timeout` for the child to exit and reaps it; throws
  // std::runtime_error if it did not exit in time (it is then killed and
  // reaped) or exited with anything but 0.
  void wait_success(std::chrono::milliseconds timeout);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
  void kill_and_reap() noexcept;
  pid_t pid_ = -1;
};

}  // namespace offload::microbench
